//! The model bundle loader on arbitrary bytes (tar archive, manifest, ONNX graphs): a bundle
//! or an error naming the problem, never a panic (replayed by tests/fuzz_corpus.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    nesf::fuzzing::bundle(data);
});
