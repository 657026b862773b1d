//! The stable C ABI of nesf, declared in `include/nesf.h` (generated from this module by
//! cbindgen in build.rs; see the header for the data conventions).
//!
//! Every exported function is `nesf_`-prefixed, runs behind a panic boundary, checks its
//! pointers (naming the parameter that is NULL), and reports failures as a `nesf_status_t`
//! plus a thread-local message (`nesf_last_error`). Objects handed to the caller (models,
//! structures, lists) are released with the matching `_free`, which accepts NULL. The module is
//! a thin layer: it converts and validates arguments, then calls the Rust API.
//!
//! The functions are `unsafe`: they trust the caller (C, C++, Fortran, Julia) to pass pointers
//! valid for the lengths the header documents, as any C library does.
#![allow(non_camel_case_types)]

pub mod io;
pub mod latents;
pub mod model;
pub mod options;
pub mod runtime;
pub mod status;
pub mod structure;
pub mod version;

pub use io::*;
pub use latents::*;
pub use model::*;
pub use options::*;
pub use runtime::*;
pub use status::{nesf_last_error, nesf_status_t};
pub use structure::*;
pub use version::*;
