//! The C entry point that takes a path (nesf_structures_read) and the writer behind
//! nesf_structures_write, on arbitrary file contents under each format's name (replayed by
//! tests/fuzz_corpus.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    nesf::fuzzing::capi_read(data);
});
