//! The cif reader on arbitrary bytes: it returns structures or an error, never panics, hangs
//! or exhausts memory (replayed by tests/fuzz_corpus.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    nesf::fuzzing::parse(data, nesf::io::Format::Cif);
});
