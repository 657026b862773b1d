//! Cross-validation folds of YBCO13 (`nesf-train split`).

use std::collections::HashSet;
use std::path::Path;

use nesf_train::split::{select_fold, write_fold};

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
}

#[test]
fn every_ybco13_fold_splits_into_disjoint_parts_with_the_listed_ids() {
    let structures = nesf::io::read(data("ybco13.extxyz")).unwrap();
    let text = std::fs::read_to_string(data("ybco13-folds.json")).unwrap();
    let folds: serde_json::Value = serde_json::from_str(&text).unwrap();
    let names: Vec<String> = folds.as_object().unwrap().keys().cloned().collect();
    assert_eq!(names.len(), 20);
    for name in &names {
        let parts = select_fold(&structures, &folds, name).unwrap();
        assert_eq!(parts.each_ref().map(Vec::len), [90, 5, 5], "{name}");
        let mut seen = HashSet::new();
        for (k, part) in ["train", "val", "test"].iter().zip(&parts) {
            let listed = folds[name][k].as_array().unwrap();
            for (s, id) in part.iter().zip(listed) {
                assert_eq!(s.id(), id.as_str());
                assert!(seen.insert(s.id().unwrap().to_string()), "{name}: id twice");
            }
        }
    }
}

#[test]
fn written_fold_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let counts = write_fold(
        &data("ybco13.extxyz"),
        &data("ybco13-folds.json"),
        "fold3",
        dir.path(),
    )
    .unwrap();
    assert_eq!(counts, [90, 5, 5]);
    let test = nesf::io::read(dir.path().join("test.extxyz")).unwrap();
    assert_eq!(test.len(), 5);
    assert!(test.iter().all(|s| s.len() == 13 && s.id().is_some()));
}

#[test]
fn unknown_fold_and_unknown_id_are_named() {
    let structures = nesf::io::read(data("ybco13.extxyz")).unwrap();
    let folds = serde_json::json!({"a": {"train": ["nope"], "val": [], "test": []}});
    let e = select_fold(&structures, &folds, "b")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no fold named \"b\"") && e.contains("a"), "{e}");
    let e = select_fold(&structures, &folds, "a")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no structure has id nope"), "{e}");
    let folds = serde_json::json!({"a": {"train": [], "val": []}});
    let e = select_fold(&structures, &folds, "a")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no list \"test\""), "{e}");
}
