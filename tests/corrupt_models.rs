//! Corrupt and mismatched model bundles are refused at load, naming the part.

mod common;

use common::{data, random_bundle, with_manifest};
use nesf::model::Bundle;

#[test]
fn every_flipped_byte_in_a_graph_is_refused_by_its_checksum() {
    let s = data("ybco13.extxyz");
    let (bundle, _) = random_bundle(&s, 5);
    let sums = bundle
        .manifest()
        .checksums
        .clone()
        .expect("bundles carry checksums");
    assert_eq!(sums.encoder.len(), 64);
    let bytes = bundle.to_bytes().unwrap();
    assert_eq!(
        Bundle::from_bytes(&bytes).unwrap().manifest(),
        bundle.manifest()
    );
    // 40 positions spread over the archive, past the manifest (the first member)
    let start = bytes.len() / 10;
    let mut refused = 0;
    for k in 0..40 {
        let at = start + k * (bytes.len() - start - 1024) / 40;
        let mut bad = bytes.clone();
        bad[at] ^= 0x10;
        match Bundle::from_bytes(&bad) {
            Err(e) => {
                refused += 1;
                let e = e.to_string();
                assert!(!e.is_empty());
            }
            Ok(b) => panic!("a flipped byte at {at} loaded: {:?}", b.manifest().graphs),
        }
    }
    assert_eq!(refused, 40);
    // the message names the graph and the checksums when the archive itself is intact
    let names = [
        ("encoder.onnx", &sums.encoder),
        ("position_field.onnx", &sums.position_field),
    ];
    for (name, _) in names {
        let e = flip_in_member(&bytes, name).to_string();
        assert!(e.contains(name) && e.contains("SHA-256"), "{e}");
    }
}

/// Loads `bytes` with one byte flipped in the middle of archive member `name`.
fn flip_in_member(bytes: &[u8], name: &str) -> nesf::Error {
    let mut archive = tar::Archive::new(bytes);
    let mut offset = None;
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        if entry.path().unwrap().to_string_lossy() == name {
            offset = Some(entry.raw_file_position() as usize + entry.size() as usize / 2);
        }
    }
    let mut bad = bytes.to_vec();
    bad[offset.expect("member in the archive")] ^= 0x01;
    Bundle::from_bytes(&bad).expect_err("refused")
}

#[test]
fn bundles_without_checksums_still_load() {
    let s = data("ybco13.extxyz");
    let (bundle, _) = random_bundle(&s, 6);
    let text = serde_json::to_string(bundle.manifest()).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    manifest.as_object_mut().unwrap().remove("checksums");
    let old = with_manifest(&bundle, |_| manifest.to_string());
    let loaded = Bundle::from_bytes(&old).unwrap();
    assert!(loaded.manifest().checksums.is_some(), "computed on load");
}
