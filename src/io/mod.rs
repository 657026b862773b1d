//! Reading and writing structure files: extended XYZ, CIF and VASP POSCAR.
//!
//! The format is chosen from the file name: `.cif`; `.xyz` / `.extxyz`; `POSCAR*`, `CONTCAR*`
//! or `.vasp` / `.poscar`.

pub mod atomic;
pub mod cif;
pub mod extxyz;
pub mod npy;
pub mod poscar;
pub mod writer;

pub use npy::{read_latents, write_latents, LatentReader, LatentWriter};
pub use writer::StructureWriter;

use std::path::Path;

use crate::crystal::Structure;
use crate::error::{Error, Result};

/// A structure file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Extended XYZ, many frames per file.
    ExtXyz,
    /// Crystallographic Information File, one data block per structure.
    Cif,
    /// VASP POSCAR / CONTCAR (VASP 5), one structure per file.
    Poscar,
}

impl Format {
    /// The format of a file, from its name.
    pub fn from_path(path: &Path) -> Result<Format> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".cif") {
            Ok(Format::Cif)
        } else if lower.ends_with(".xyz") || lower.ends_with(".extxyz") {
            Ok(Format::ExtXyz)
        } else if lower.starts_with("poscar")
            || lower.starts_with("contcar")
            || lower.ends_with(".vasp")
            || lower.ends_with(".poscar")
        {
            Ok(Format::Poscar)
        } else {
            Err(Error::UnknownFormat(path.display().to_string()))
        }
    }
}

/// Parses `text` in `format`; `source_name` appears in error messages.
pub fn parse(text: &str, format: Format, source_name: &str) -> Result<Vec<Structure>> {
    match format {
        Format::ExtXyz => extxyz::parse(text, source_name),
        Format::Cif => cif::parse(text, source_name),
        Format::Poscar => poscar::parse(text, source_name).map(|s| vec![s]),
    }
}

/// Writes `structures` in `format` to a string. POSCAR holds exactly one structure.
pub fn to_string(structures: &[Structure], format: Format) -> Result<String> {
    if structures.is_empty() {
        return Err(Error::InvalidArgument(
            "no structure to write (no file format nesf reads holds none)".into(),
        ));
    }
    match format {
        Format::ExtXyz => Ok(extxyz::write(structures)),
        Format::Cif => {
            cif::check_writable(structures)?;
            Ok(cif::write(structures))
        }
        Format::Poscar => match structures {
            [one] => Ok(poscar::write(one)),
            _ => Err(Error::InvalidArgument(format!(
                "a POSCAR file holds exactly one structure, got {}",
                structures.len()
            ))),
        },
    }
}

/// Reads every structure of a file, choosing the format from its name.
pub fn read(path: impl AsRef<Path>) -> Result<Vec<Structure>> {
    let path = path.as_ref();
    let format = Format::from_path(path)?;
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::parse(
            &path.display().to_string(),
            0,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    let structures = parse(&text, format, &path.display().to_string())?;
    if structures.is_empty() {
        return Err(Error::parse(
            &path.display().to_string(),
            0,
            "the file holds no structure",
        ));
    }
    Ok(structures)
}

/// Writes structures to a file, choosing the format from its name. The file is replaced
/// atomically: on any error the previous file (or none) stays under the name.
pub fn write(path: impl AsRef<Path>, structures: &[Structure]) -> Result<()> {
    let path = path.as_ref();
    let text = to_string(structures, Format::from_path(path)?)?;
    atomic::write(path, text.as_bytes())
}

/// Parses a floating-point number as crystallographic files write it: plain, with a standard
/// uncertainty in parentheses ("0.1234(5)"), or with a Fortran exponent ("1.0D-3").
/// Rejects NaN and infinities.
pub(crate) fn parse_number(token: &str) -> Option<f64> {
    let t = match token.find('(') {
        Some(i) if token.ends_with(')') => &token[..i],
        Some(_) => return None,
        None => token,
    };
    let value: f64 = if t.contains(['d', 'D']) {
        t.replace(['d', 'D'], "e").parse().ok()?
    } else {
        t.parse().ok()?
    };
    value.is_finite().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("0.1234(5)"), Some(0.1234));
        assert_eq!(parse_number("1.5D-1"), Some(0.15));
        assert_eq!(parse_number("-2"), Some(-2.0));
        assert_eq!(parse_number("nan"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("0.1(2"), None);
        assert_eq!(parse_number("abc"), None);
    }

    #[test]
    fn formats_from_names() {
        assert_eq!(
            Format::from_path(Path::new("a/b.CIF")).unwrap(),
            Format::Cif
        );
        assert_eq!(
            Format::from_path(Path::new("x.extxyz")).unwrap(),
            Format::ExtXyz
        );
        assert_eq!(
            Format::from_path(Path::new("POSCAR")).unwrap(),
            Format::Poscar
        );
        assert_eq!(
            Format::from_path(Path::new("CONTCAR_3")).unwrap(),
            Format::Poscar
        );
        assert_eq!(
            Format::from_path(Path::new("si.vasp")).unwrap(),
            Format::Poscar
        );
        assert!(Format::from_path(Path::new("x.pdb")).is_err());
    }
}
