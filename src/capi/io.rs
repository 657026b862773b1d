//! Reading and writing structure files. The format is chosen from the file name: `.cif`;
//! `.xyz` / `.extxyz`; `POSCAR*`, `CONTCAR*`, `.vasp` / `.poscar`.

use std::ffi::c_char;

use super::status::nesf_status_t;
use super::status::{c_path, guard, reference};
use super::structure::{clear_out, hand_out, nesf_structure_t, nesf_structures_t};

/// Reads every structure of the file at `path` (extended XYZ and CIF may hold many) into a new
/// list owned by the caller; NULL on failure.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `structures` is NULL or points to a writable
/// `nesf_structures_t *`. NULL is reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers
/// and strings without their NUL cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structures_read(
    path: *const c_char,
    structures: *mut *mut nesf_structures_t,
) -> nesf_status_t {
    guard("nesf_structures_read", || {
        // SAFETY (all blocks): the caller's contract; the helpers check NULL.
        unsafe { clear_out(structures, "structures") }?;
        let path = unsafe { c_path(path, "path") }?;
        let read = crate::io::read(&path)?;
        let list =
            nesf_structures_t::new(read.iter().map(nesf_structure_t::from_structure).collect());
        unsafe { hand_out(structures, list) };
        Ok(())
    })
}

/// Writes every structure of the list to the file at `path` (a POSCAR holds exactly one).
/// Fails for a structure without atoms.
///
/// # Safety
/// `structures` is NULL or a live `nesf_structures_t` handle, not freed or changed by another
/// thread during the call; `path` is NULL or a NUL-terminated string. NULL is reported as
/// `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers, freed or wrongly typed handles and strings
/// without their NUL cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structures_write(
    structures: *const nesf_structures_t,
    path: *const c_char,
) -> nesf_status_t {
    guard("nesf_structures_write", || {
        // SAFETY (all blocks): the caller's contract; the helpers check NULL.
        let list = unsafe { reference(structures, "structures") }?;
        let path = unsafe { c_path(path, "path") }?;
        crate::io::write(&path, &list.to_structures()?)?;
        Ok(())
    })
}
