//! Replays the fuzz corpus (fuzz/corpus/<target>/, minimised by cargo-fuzz, with every input
//! that once crashed a target) through the same checks as the fuzz targets, so that each stays
//! fixed under an ordinary `cargo test`.

use std::path::Path;

use nesf::fuzzing;
use nesf::io::Format;

fn replay(target: &str, check: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{target}: {} fails again", path.display());
        n += 1;
    }
    assert!(n > 0, "no corpus for {target} in {}", dir.display());
}

#[test]
fn extxyz_corpus() {
    replay("extxyz", |d| fuzzing::parse(d, Format::ExtXyz));
}

#[test]
fn cif_corpus() {
    replay("cif", |d| fuzzing::parse(d, Format::Cif));
}

#[test]
fn poscar_corpus() {
    replay("poscar", |d| fuzzing::parse(d, Format::Poscar));
}

#[test]
fn bundle_corpus() {
    replay("bundle", fuzzing::bundle);
}

#[test]
fn capi_read_corpus() {
    replay("capi_read", fuzzing::capi_read);
}

#[test]
fn capi_model_corpus() {
    replay("capi_model", fuzzing::capi_model);
    // the bundle loader's inputs, through the C entry point and ONNX Runtime
    replay("bundle", fuzzing::capi_model);
}

/// The target's success path: a real bundle loads, answers and decodes through the C API.
#[test]
fn capi_model_loads_and_decodes_the_default_model() {
    let bytes = nesf::model::default_model_bytes().expect("built with the default model");
    fuzzing::capi_model(bytes);
}
