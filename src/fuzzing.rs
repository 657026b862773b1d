//! The checks the fuzz targets (`fuzz/`, run with cargo-fuzz) make of arbitrary bytes, shared
//! with the replay of their corpus (`tests/fuzz_corpus.rs`), so that every input found stays
//! checked by `cargo test`. Each function panics only when a property every input must have is
//! broken; errors for bad input are the expected outcome.

use std::ffi::CString;
use std::path::PathBuf;

use once_cell::sync::Lazy;

use crate::capi;
use crate::io::{self, Format};
use crate::model::Bundle;

/// One format's reader: it returns structures or an error; what it returns can be written in
/// that format and read back to as many structures.
pub fn parse(data: &[u8], format: Format) {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // io::read refuses non-UTF-8 before any reader sees it
    };
    let Ok(structures) = io::parse(text, format, "fuzz") else {
        return;
    };
    if let Ok(written) = io::to_string(&structures, format) {
        let again = io::parse(&written, format, "fuzz")
            .unwrap_or_else(|e| panic!("nesf wrote a file it cannot read: {e}\n{written}"));
        assert_eq!(again.len(), structures.len());
    }
}

/// The bundle loader: a bundle or an error; a bundle it accepts survives writing and loading.
pub fn bundle(data: &[u8]) {
    if let Ok(b) = Bundle::from_bytes(data) {
        let bytes = b.to_bytes().expect("an accepted bundle can be written");
        Bundle::from_bytes(&bytes).expect("a written bundle loads");
    }
}

/// A scratch folder for [`capi_read`]'s files, one per process.
static SCRATCH: Lazy<PathBuf> = Lazy::new(|| {
    let dir = std::env::temp_dir().join(format!("nesf-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
});

/// `nesf_structures_read` on a file holding `data[1..]`, named for the format `data[0]`
/// chooses; a list it returns can be counted, read and freed.
pub fn capi_read(data: &[u8]) {
    let Some((&choice, content)) = data.split_first() else {
        return;
    };
    let name = ["fuzz.extxyz", "fuzz.cif", "POSCAR"][usize::from(choice % 3)];
    let path = SCRATCH.join(name);
    if std::fs::write(&path, content).is_err() {
        return;
    }
    let c_path = CString::new(path.to_string_lossy().as_bytes()).expect("no NUL in the path");
    let mut list = std::ptr::null_mut();
    // SAFETY: a NUL-terminated path and a valid out-pointer; the list is freed below.
    let status = unsafe { capi::nesf_structures_read(c_path.as_ptr(), &mut list) };
    // a panic inside the call comes back as an internal error, not as a crash
    assert_ne!(
        status,
        capi::nesf_status_t::NESF_ERROR_INTERNAL,
        "nesf_structures_read panicked"
    );
    if status != capi::nesf_status_t::NESF_SUCCESS {
        assert!(list.is_null(), "a failed read handed out a list");
        return;
    }
    let mut count = 0;
    // SAFETY: `list` is the live list just returned, `count` and `n` are writable, each `s` is
    // a live structure until freed, and `positions` holds the 3 x n doubles asked for.
    unsafe {
        assert_eq!(
            capi::nesf_structures_count(list, &mut count),
            capi::nesf_status_t::NESF_SUCCESS
        );
        for i in 0..count {
            let mut s = std::ptr::null_mut();
            assert_eq!(
                capi::nesf_structures_get(list, i, &mut s),
                capi::nesf_status_t::NESF_SUCCESS
            );
            let mut n = 0;
            assert_eq!(
                capi::nesf_structure_atom_count(s, &mut n),
                capi::nesf_status_t::NESF_SUCCESS
            );
            let mut positions = vec![0.0; 3 * n];
            assert_eq!(
                capi::nesf_structure_positions(s, positions.as_mut_ptr(), positions.len()),
                capi::nesf_status_t::NESF_SUCCESS
            );
            capi::nesf_structure_free(s);
        }
        capi::nesf_structures_free(list);
    }
}

/// `nesf_model_load_from_memory` on arbitrary bytes (the bundle loader, then ONNX Runtime's
/// sessions of the graphs it accepts): a model or an error, never an internal error; a model it
/// loads answers its latent size and decodes a zero latent with cheap settings to a list or an
/// error.
pub fn capi_model(data: &[u8]) {
    use capi::nesf_status_t::{NESF_ERROR_INTERNAL, NESF_SUCCESS};
    let mut model = std::ptr::null_mut();
    // SAFETY: `data` is readable for its length, NULL options are the defaults, and `model` is
    // a writable out-pointer; the model is freed below.
    let status = unsafe {
        capi::nesf_model_load_from_memory(data.as_ptr(), data.len(), std::ptr::null(), &mut model)
    };
    assert_ne!(
        status, NESF_ERROR_INTERNAL,
        "nesf_model_load_from_memory panicked"
    );
    if status != NESF_SUCCESS {
        assert!(model.is_null(), "a failed load handed out a model");
        return;
    }
    // SAFETY: `model` is the live handle just loaded; every out-pointer is writable, the
    // options are initialised by nesf_decode_options_init, `z` holds one latent of `size`
    // values, and the list and the model are freed once.
    unsafe {
        let mut size = 0;
        assert_eq!(capi::nesf_model_latent_size(model, &mut size), NESF_SUCCESS);
        let mut options = std::mem::zeroed::<capi::nesf_decode_options_t>();
        options.struct_size = std::mem::size_of::<capi::nesf_decode_options_t>();
        assert_eq!(capi::nesf_decode_options_init(&mut options), NESF_SUCCESS);
        options.grid_step = 4.0;
        options.steps = 2;
        let z = vec![0f32; size];
        let mut list = std::ptr::null_mut();
        let status = capi::nesf_model_decode(model, z.as_ptr(), 1, size, &options, &mut list);
        assert_ne!(status, NESF_ERROR_INTERNAL, "nesf_model_decode panicked");
        if status == NESF_SUCCESS {
            capi::nesf_structures_free(list);
        } else {
            assert!(list.is_null(), "a failed decode handed out a list");
        }
        capi::nesf_model_free(model);
    }
}
