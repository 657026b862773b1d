//! The library's version at run time; the header carries the same version as macros.

use std::ffi::c_char;

use super::status::guard_value;

const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The SONAME of libnesf.so ("libnesf.so.0.Y" for 0.x releases, then "libnesf.so.X"): the
/// versions that share it are ABI-compatible. Set by build.rs.
pub const SONAME: &str = env!("NESF_SONAME");

/// The version of the loaded library, e.g. "0.1.0". Compare it with the header's
/// `NESF_VERSION` to detect a program running against another library than it was built
/// with. The string is static.
#[no_mangle]
pub extern "C" fn nesf_version() -> *const c_char {
    guard_value("nesf_version", VERSION.as_ptr().cast(), || {
        VERSION.as_ptr().cast()
    })
}
