//! ONNX Runtime: loading the shared library explicitly and reporting which file runs.

use std::ffi::{c_char, CString};

use once_cell::sync::OnceCell;

use crate::model::runtime;

use super::status::nesf_status_t;
use super::status::{c_path, guard, owned_c_string, write_out};

/// The loaded library's path and version as C strings (they never change once loaded).
static LOADED: OnceCell<(CString, CString)> = OnceCell::new();

/// Loads the ONNX Runtime shared library (once per process) and reports which file was
/// loaded. With `path` NULL the library is searched: the `NESF_ONNXRUNTIME` (or
/// `ORT_DYLIB_PATH`) environment variable, then the folder of libnesf.so (or of the program
/// nesf is linked into), then the system's library path. With a `path`, only that file is
/// tried; asking for another file than the one already loaded fails. Loading a model calls this
/// with NULL when no library is loaded yet. `*loaded_path` and `*version` (e.g. "1.31.1")
/// receive static strings.
///
/// # Safety
/// `path` is NULL (search) or a NUL-terminated string; `loaded_path` and `version` are NULL or
/// point to a writable `const char *` each. A NULL `loaded_path` or `version` is reported as
/// `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers and strings without their NUL cannot be
/// detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_runtime_load(
    path: *const c_char,
    loaded_path: *mut *const c_char,
    version: *mut *const c_char,
) -> nesf_status_t {
    guard("nesf_runtime_load", || {
        // SAFETY (all blocks): the caller's contract; the helpers check NULL.
        unsafe { write_out(loaded_path, "loaded_path", std::ptr::null()) }?;
        unsafe { write_out(version, "version", std::ptr::null()) }?;
        let explicit = if path.is_null() {
            None
        } else {
            Some(unsafe { c_path(path, "path") }?)
        };
        let info = runtime::load(explicit.as_deref())?;
        let (p, v) = LOADED.get_or_init(|| {
            (
                owned_c_string(&info.path.display().to_string()),
                owned_c_string(&info.version),
            )
        });
        unsafe { write_out(loaded_path, "loaded_path", p.as_ptr()) }?;
        unsafe { write_out(version, "version", v.as_ptr()) }
    })
}
