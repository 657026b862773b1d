//! Cross-validation folds: a JSON file names, for each fold, the material ids of its train,
//! val and test parts (e.g. `data/ybco13-folds.json`); [`write_fold`] writes those parts of a
//! data set as three extended XYZ files.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use nesf::Structure;

/// The parts of a fold, in the order they are written.
pub const PARTS: [&str; 3] = ["train", "val", "test"];

/// The structures of `fold`'s parts (train, val, test), each in the order the fold file lists
/// its ids. Every id must name exactly one structure of `data`.
pub fn select_fold(
    data: &[Structure],
    folds: &serde_json::Value,
    fold: &str,
) -> Result<[Vec<Structure>; 3]> {
    let mut by_id: HashMap<&str, &Structure> = HashMap::new();
    for (i, s) in data.iter().enumerate() {
        let Some(id) = s.id() else {
            bail!("structure {} has no material_id", i + 1);
        };
        if by_id.insert(id, s).is_some() {
            bail!("material_id {id} occurs more than once in the data");
        }
    }
    let Some(entry) = folds.get(fold) else {
        let names: Vec<&str> = folds
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        bail!(
            "no fold named {fold:?} (the file has: {})",
            names.join(", ")
        );
    };
    let part = |name: &str| -> Result<Vec<Structure>> {
        let ids = entry
            .get(name)
            .and_then(|v| v.as_array())
            .with_context(|| format!("fold {fold:?} has no list {name:?}"))?;
        ids.iter()
            .map(|v| {
                let id = v
                    .as_str()
                    .with_context(|| format!("fold {fold:?} {name}: {v} is not a string"))?;
                by_id
                    .get(id)
                    .map(|s| (*s).clone())
                    .with_context(|| format!("fold {fold:?} {name}: no structure has id {id}"))
            })
            .collect()
    };
    Ok([part(PARTS[0])?, part(PARTS[1])?, part(PARTS[2])?])
}

/// Reads `data` and the fold file, and writes `out/{train,val,test}.extxyz` for `fold`.
/// Returns the number of structures in each part.
pub fn write_fold(data: &Path, folds: &Path, fold: &str, out: &Path) -> Result<[usize; 3]> {
    let structures = nesf::io::read(data)?;
    let text = std::fs::read_to_string(folds)
        .with_context(|| format!("cannot read {}", folds.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", folds.display()))?;
    let parts = select_fold(&structures, &json, fold)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for (name, part) in PARTS.iter().zip(&parts) {
        nesf::io::write(out.join(format!("{name}.extxyz")), part)?;
    }
    Ok(parts.map(|p| p.len()))
}
