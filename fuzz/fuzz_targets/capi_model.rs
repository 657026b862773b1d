//! The C entry point that loads a model from bytes (nesf_model_load_from_memory: the bundle
//! loader, then ONNX Runtime's sessions) and a cheap decode with what it loads (replayed by
//! tests/fuzz_corpus.rs). Seed it with a real bundle (models/default.nesf) and
//! `-max_len=4000000` to reach ONNX Runtime.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    nesf::fuzzing::capi_model(data);
});
