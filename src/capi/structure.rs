//! Structures (`nesf_structure_t`) and lists of structures (`nesf_structures_t`): made from
//! caller arrays, decoded, or read from files; read back into caller buffers.

use crate::crystal::{Lattice, Structure, Vec3};
use crate::decode::{DecodedStructure, PredictedLattice};

use std::ffi::{c_char, CStr, CString};

use super::status::nesf_status_t;
use super::status::{
    checked_product, fill, guard, guard_value, input_slice, output_slice, owned_c_string,
    reference, reference_mut, write_out, CResult, CapiError,
};

/// A crystal structure owned by the caller (free it with `nesf_structure_free()`): a lattice,
/// atomic numbers and Cartesian positions, an optional id (a frame's `material_id`, a CIF
/// block name), plus the decoder's per-atom confidence when it was decoded. A decoded
/// structure may hold no atom (decoding found none). Safe to read from many threads at once;
/// only `nesf_structure_set_id()` changes it.
#[derive(Debug, Clone)]
pub struct nesf_structure_t {
    kind: Kind,
    /// The id as C reads it (the Rust value's id, NUL-terminated).
    id: Option<CString>,
    /// Why decoding this structure failed, as C reads it (a decoded structure's `failure`).
    failure: Option<CString>,
}

/// What a structure handle wraps: the library's own types.
#[derive(Debug, Clone)]
enum Kind {
    /// A validated structure (made by the caller or read from a file); it holds the id.
    Structure(Structure),
    /// A decoder result (may hold no atom or no cell); the id lives beside it.
    Decoded(DecodedStructure),
}

/// An ordered list of structures owned by the caller (free it with `nesf_structures_free()`).
/// Not safe to modify from one thread while another uses it.
#[derive(Debug, Clone, Default)]
pub struct nesf_structures_t {
    items: Vec<nesf_structure_t>,
}

impl nesf_structure_t {
    pub(crate) fn from_structure(s: &Structure) -> Self {
        nesf_structure_t {
            id: s.id().map(owned_c_string),
            kind: Kind::Structure(s.clone()),
            failure: None,
        }
    }

    pub(crate) fn from_decoded(d: DecodedStructure) -> Self {
        nesf_structure_t {
            failure: d.failure.as_deref().map(owned_c_string),
            kind: Kind::Decoded(d),
            id: None,
        }
    }

    fn numbers(&self) -> &[u8] {
        match &self.kind {
            Kind::Structure(s) => s.numbers(),
            Kind::Decoded(d) => &d.numbers,
        }
    }

    fn positions(&self) -> &[Vec3] {
        match &self.kind {
            Kind::Structure(s) => s.positions(),
            Kind::Decoded(d) => &d.positions,
        }
    }

    fn confidence(&self) -> Option<&[f32]> {
        match &self.kind {
            Kind::Structure(_) => None,
            Kind::Decoded(d) => Some(&d.confidence),
        }
    }

    fn lattice(&self) -> PredictedLattice {
        match &self.kind {
            Kind::Structure(s) => PredictedLattice::exact(*s.lattice()),
            Kind::Decoded(d) => d.lattice,
        }
    }

    fn set_id(&mut self, id: Option<String>) {
        self.id = id.as_deref().map(owned_c_string);
        if let Kind::Structure(s) = &mut self.kind {
            s.set_id(id);
        }
    }

    /// The structure as the library's validated type, with its id; fails for a structure
    /// without atoms or whose predicted lattice forms no cell.
    pub(crate) fn to_structure(&self) -> CResult<Structure> {
        match &self.kind {
            Kind::Structure(s) => Ok(s.clone()),
            Kind::Decoded(d) => {
                let s = d.to_structure()?;
                Ok(match &self.id {
                    Some(id) => s.with_id(id.to_string_lossy()),
                    None => s,
                })
            }
        }
    }
}

impl nesf_structures_t {
    pub(crate) fn new(items: Vec<nesf_structure_t>) -> Self {
        nesf_structures_t { items }
    }

    /// Every structure as the library's validated type, naming the first that is not valid.
    pub(crate) fn to_structures(&self) -> CResult<Vec<Structure>> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.to_structure().map_err(|e| CapiError {
                    status: e.status,
                    message: format!("structure {i}: {}", e.message),
                })
            })
            .collect()
    }
}

/// Hands a new object to the caller through an output pointer.
///
/// # Safety
/// `out` is valid for writes (checked non-NULL by the caller).
pub(crate) unsafe fn hand_out<T>(out: *mut *mut T, value: T) {
    // SAFETY: the caller's contract.
    unsafe { out.write(Box::into_raw(Box::new(value))) };
}

/// Sets an output handle pointer to NULL (so it is NULL on failure).
///
/// # Safety
/// `out` is NULL or valid for writes.
pub(crate) unsafe fn clear_out<T>(out: *mut *mut T, name: &str) -> CResult {
    // SAFETY: the caller's contract.
    unsafe { write_out(out, name, std::ptr::null_mut()) }
}

/// Creates a structure from a lattice (9 values: rows a, b, c in Å), `n_atoms` Cartesian
/// positions (`positions[n_atoms][3]`, Å) and atomic numbers (1 to 118). Fails on zero atoms,
/// non-finite numbers, a degenerate cell or an unknown element. `*structure` receives the new
/// structure, or NULL on failure.
///
/// # Safety
/// `lattice` is NULL or points to 9 readable doubles, `positions` to `n_atoms` x 3 readable
/// doubles and `numbers` to `n_atoms` readable `int32_t`; `structure` is NULL or points to a
/// writable `nesf_structure_t *`. NULL (except for a buffer of length 0) is reported as
/// `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers and too short buffers cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structure_new(
    lattice: *const f64,
    positions: *const f64,
    numbers: *const i32,
    n_atoms: usize,
    structure: *mut *mut nesf_structure_t,
) -> nesf_status_t {
    guard("nesf_structure_new", || {
        // SAFETY (all blocks): pointer validity is the caller's contract; the helpers check NULL.
        unsafe { clear_out(structure, "structure") }?;
        let cell = unsafe { input_slice(lattice, 9, "lattice") }?;
        let n3 = checked_product(n_atoms, 3, "n_atoms x 3 positions")?;
        let flat = unsafe { input_slice(positions, n3, "positions") }?;
        let numbers = unsafe { input_slice(numbers, n_atoms, "numbers") }?;
        let lattice = Lattice::new([
            [cell[0], cell[1], cell[2]],
            [cell[3], cell[4], cell[5]],
            [cell[6], cell[7], cell[8]],
        ])?;
        let numbers = numbers
            .iter()
            .enumerate()
            .map(|(i, &z)| {
                u8::try_from(z).map_err(|_| {
                    crate::error::Error::UnknownElement(format!("atomic number {z} of atom {i}"))
                })
            })
            .collect::<Result<Vec<u8>, _>>()?;
        let positions = flat.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
        let s = Structure::new(lattice, numbers, positions)?;
        unsafe { hand_out(structure, nesf_structure_t::from_structure(&s)) };
        Ok(())
    })
}

/// Frees a structure. NULL is accepted and ignored.
///
/// # Safety
/// `structure` is NULL or a live `nesf_structure_t` handle that no other thread is using; after
/// the call it, and the id string it handed out, is invalid. Dangling pointers and handles
/// already freed (double free) or of another type cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structure_free(structure: *mut nesf_structure_t) {
    guard_value("nesf_structure_free", (), || {
        if !structure.is_null() {
            // SAFETY: the caller's contract: a live handle from Box::into_raw.
            drop(unsafe { Box::from_raw(structure) });
        }
    })
}

/// Number of atoms (0 for a decoded structure in which no atom was found).
///
/// # Safety
/// `structure` is NULL or a live `nesf_structure_t` handle, not freed or changed by another
/// thread during the call; `n_atoms` is NULL or points to a writable `size_t`. NULL is reported
/// as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers and freed or wrongly typed handles
/// cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structure_atom_count(
    structure: *const nesf_structure_t,
    n_atoms: *mut usize,
) -> nesf_status_t {
    guard("nesf_structure_atom_count", || {
        // SAFETY: the caller's contract.
        let s = unsafe { reference(structure, "structure") }?;
        unsafe { write_out(n_atoms, "n_atoms", s.numbers().len()) }
    })
}

/// Copies the lattice vectors into `lattice` (9 values: rows a, b, c, Å). Fails with
/// `NESF_ERROR_INVALID_STRUCTURE` for a decoded structure whose predicted lattice parameters
/// form no cell (`nesf_structure_lattice_parameters()` still gives them).
///
/// # Safety
/// `structure` is NULL or a live `nesf_structure_t` handle, not freed or changed by another
/// thread during the call; `lattice` is NULL or points to 9 writable doubles. NULL is reported
/// as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers, freed or wrongly typed handles and too
/// short buffers cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structure_lattice(
    structure: *const nesf_structure_t,
    lattice: *mut f64,
) -> nesf_status_t {
    guard("nesf_structure_lattice", || {
        // SAFETY: the caller's contract.
        let s = unsafe { reference(structure, "structure") }?;
        let out = unsafe { output_slice(lattice, 9, "lattice") }?;
        out.copy_from_slice(s.lattice().cell()?.matrix().as_flattened());
        Ok(())
    })
}

/// Copies the lattice parameters: `lengths` a, b, c (3 values, Å) and `angles` alpha, beta,
/// gamma (3 values, degrees); for a decoded structure, as the lattice heads predicted them.
///
/// # Safety
/// `structure` is NULL or a live `nesf_structure_t` handle, not freed or changed by another
/// thread during the call; `lengths` and `angles` are NULL or point to 3 writable doubles each,
/// not overlapping. NULL is reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers, freed
/// or wrongly typed handles and too short buffers cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structure_lattice_parameters(
    structure: *const nesf_structure_t,
    lengths: *mut f64,
    angles: *mut f64,
) -> nesf_status_t {
    guard("nesf_structure_lattice_parameters", || {
        // SAFETY: the caller's contract.
        let s = unsafe { reference(structure, "structure") }?;
        let lengths = unsafe { output_slice(lengths, 3, "lengths") }?;
        let angles = unsafe { output_slice(angles, 3, "angles") }?;
        let p = s.lattice().parameters;
        lengths.copy_from_slice(&p.lengths());
        angles.copy_from_slice(&p.angles());
        Ok(())
    })
}

/// Copies the Cartesian positions (Å) into `positions[n_atoms][3]`; `positions_len` is the
/// number of doubles it holds (at least 3 x n_atoms, else `NESF_ERROR_BUFFER_TOO_SMALL`).
///
/// # Safety
/// `structure` is NULL or a live `nesf_structure_t` handle, not freed or changed by another
/// thread during the call; `positions` is NULL or points to `positions_len` writable doubles.
/// NULL (except for a buffer of length 0) is reported as `NESF_ERROR_INVALID_ARGUMENT`;
/// dangling pointers, freed or wrongly typed handles and too short buffers cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structure_positions(
    structure: *const nesf_structure_t,
    positions: *mut f64,
    positions_len: usize,
) -> nesf_status_t {
    guard("nesf_structure_positions", || {
        // SAFETY: the caller's contract.
        let s = unsafe { reference(structure, "structure") }?;
        let out = unsafe { output_slice(positions, positions_len, "positions") }?;
        fill(
            "positions",
            out,
            s.positions().as_flattened().iter().copied(),
        )
    })
}

/// Copies the fractional positions into `positions[n_atoms][3]`; `positions_len` is the number
/// of doubles it holds (at least 3 x n_atoms). Fails like `nesf_structure_lattice()` when the
/// predicted lattice forms no cell.
///
/// # Safety
/// `structure` is NULL or a live `nesf_structure_t` handle, not freed or changed by another
/// thread during the call; `positions` is NULL or points to `positions_len` writable doubles.
/// NULL (except for a buffer of length 0) is reported as `NESF_ERROR_INVALID_ARGUMENT`;
/// dangling pointers, freed or wrongly typed handles and too short buffers cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structure_fractional_positions(
    structure: *const nesf_structure_t,
    positions: *mut f64,
    positions_len: usize,
) -> nesf_status_t {
    guard("nesf_structure_fractional_positions", || {
        // SAFETY: the caller's contract.
        let s = unsafe { reference(structure, "structure") }?;
        let out = unsafe { output_slice(positions, positions_len, "positions") }?;
        let lattice = s.lattice();
        let cell = lattice.cell()?;
        let fractional: Vec<Vec3> = s
            .positions()
            .iter()
            .map(|&p| cell.to_fractional(p))
            .collect();
        fill("positions", out, fractional.as_flattened().iter().copied())
    })
}

/// Copies the atomic numbers into `numbers`; `numbers_len` is its length (at least n_atoms).
///
/// # Safety
/// `structure` is NULL or a live `nesf_structure_t` handle, not freed or changed by another
/// thread during the call; `numbers` is NULL or points to `numbers_len` writable `int32_t`.
/// NULL (except for a buffer of length 0) is reported as `NESF_ERROR_INVALID_ARGUMENT`;
/// dangling pointers, freed or wrongly typed handles and too short buffers cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structure_numbers(
    structure: *const nesf_structure_t,
    numbers: *mut i32,
    numbers_len: usize,
) -> nesf_status_t {
    guard("nesf_structure_numbers", || {
        // SAFETY: the caller's contract.
        let s = unsafe { reference(structure, "structure") }?;
        let out = unsafe { output_slice(numbers, numbers_len, "numbers") }?;
        fill("numbers", out, s.numbers().iter().map(|&z| i32::from(z)))
    })
}

/// The structure's id (a frame's `material_id`, a CIF block name; set by
/// `nesf_structure_set_id()`), or NULL when it has none. `*id` points into the structure: it
/// stays valid until the structure is freed or its id is set again.
///
/// # Safety
/// `structure` is NULL or a live `nesf_structure_t` handle, not freed or changed by another
/// thread during the call; `id` is NULL or points to a writable `const char *`. NULL is
/// reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers and freed or wrongly typed
/// handles cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structure_id(
    structure: *const nesf_structure_t,
    id: *mut *const c_char,
) -> nesf_status_t {
    guard("nesf_structure_id", || {
        // SAFETY (all blocks): the caller's contract; the helpers check NULL.
        unsafe { write_out(id, "id", std::ptr::null()) }?;
        let s = unsafe { reference(structure, "structure") }?;
        let p = s.id.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        unsafe { write_out(id, "id", p) }
    })
}

/// Sets the structure's id (UTF-8, NUL-terminated, copied), or removes it with NULL. Written
/// to files as the extended XYZ `material_id` and the CIF block name. Not while another thread
/// reads the same structure.
///
/// # Safety
/// `structure` is NULL or a live `nesf_structure_t` handle that no other thread uses during the
/// call; `id` is NULL (no id) or a NUL-terminated string. A NULL `structure` is reported as
/// `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers, freed or wrongly typed handles and strings
/// without their NUL cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structure_set_id(
    structure: *mut nesf_structure_t,
    id: *const c_char,
) -> nesf_status_t {
    guard("nesf_structure_set_id", || {
        // the new id is copied first, so `id` may point into this structure's current id
        let id = if id.is_null() {
            None
        } else {
            // SAFETY: a NUL-terminated string, by the caller's contract.
            let text = unsafe { CStr::from_ptr(id) }
                .to_str()
                .map_err(|_| CapiError::invalid("id is not valid UTF-8"))?;
            Some(text.to_string())
        };
        // SAFETY: the caller's contract; the helper checks NULL.
        let s = unsafe { reference_mut(structure, "structure") }?;
        s.set_id(id);
        Ok(())
    })
}

/// Why decoding this structure failed, or NULL when it did not fail (and for structures that
/// were not decoded). A failed structure holds no atom: the model's position field, species
/// field or lattice heads returned a non-finite value for it, and the message names which and
/// where; the other structures of the same decode are not affected. `*message` points into the
/// structure and stays valid until the structure is freed.
///
/// # Safety
/// `structure` is NULL or a live `nesf_structure_t` handle, not freed by another thread during
/// the call; `message` is NULL or points to a writable `const char *`. NULL is reported as
/// `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers and freed or wrongly typed handles cannot
/// be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structure_failure(
    structure: *const nesf_structure_t,
    message: *mut *const c_char,
) -> nesf_status_t {
    guard("nesf_structure_failure", || {
        // SAFETY (all blocks): the caller's contract; the helpers check NULL.
        unsafe { write_out(message, "message", std::ptr::null()) }?;
        let s = unsafe { reference(structure, "structure") }?;
        let p = s.failure.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        unsafe { write_out(message, "message", p) }
    })
}

/// Whether the structure has a per-atom confidence (true for decoded structures).
///
/// # Safety
/// `structure` is NULL or a live `nesf_structure_t` handle, not freed or changed by another
/// thread during the call; `has_confidence` is NULL or points to a writable `bool`. NULL is
/// reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers and freed or wrongly typed
/// handles cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structure_has_confidence(
    structure: *const nesf_structure_t,
    has_confidence: *mut bool,
) -> nesf_status_t {
    guard("nesf_structure_has_confidence", || {
        // SAFETY: the caller's contract.
        let s = unsafe { reference(structure, "structure") }?;
        unsafe { write_out(has_confidence, "has_confidence", s.confidence().is_some()) }
    })
}

/// Copies the decoder's per-atom confidence (the fraction of species-vote points that agreed
/// with the atom's species, 0 to 1) into `confidence`; `confidence_len` is its length (at
/// least n_atoms). Fails with `NESF_ERROR_INVALID_ARGUMENT` for a structure that was not
/// decoded.
///
/// # Safety
/// `structure` is NULL or a live `nesf_structure_t` handle, not freed or changed by another
/// thread during the call; `confidence` is NULL or points to `confidence_len` writable floats.
/// NULL (except for a buffer of length 0) is reported as `NESF_ERROR_INVALID_ARGUMENT`;
/// dangling pointers, freed or wrongly typed handles and too short buffers cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structure_confidence(
    structure: *const nesf_structure_t,
    confidence: *mut f32,
    confidence_len: usize,
) -> nesf_status_t {
    guard("nesf_structure_confidence", || {
        // SAFETY: the caller's contract.
        let s = unsafe { reference(structure, "structure") }?;
        let out = unsafe { output_slice(confidence, confidence_len, "confidence") }?;
        let values = s.confidence().ok_or_else(|| {
            CapiError::invalid(
                "the structure was not decoded, so it has no confidence \
                 (see nesf_structure_has_confidence)",
            )
        })?;
        fill("confidence", out, values.iter().copied())
    })
}

/// Creates an empty list of structures.
///
/// # Safety
/// `structures` is NULL or points to a writable `nesf_structures_t *`. NULL is reported as
/// `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structures_new(
    structures: *mut *mut nesf_structures_t,
) -> nesf_status_t {
    guard("nesf_structures_new", || {
        // SAFETY: the caller's contract.
        unsafe { clear_out(structures, "structures") }?;
        unsafe { hand_out(structures, nesf_structures_t::default()) };
        Ok(())
    })
}

/// Frees a list and every structure in it. NULL is accepted and ignored.
///
/// # Safety
/// `structures` is NULL or a live `nesf_structures_t` handle that no other thread is using;
/// after the call it is invalid (structures taken from it with `nesf_structures_get()` are
/// copies and stay valid). Dangling pointers and handles already freed (double free) or of
/// another type cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structures_free(structures: *mut nesf_structures_t) {
    guard_value("nesf_structures_free", (), || {
        if !structures.is_null() {
            // SAFETY: the caller's contract: a live handle from Box::into_raw.
            drop(unsafe { Box::from_raw(structures) });
        }
    })
}

/// Number of structures in the list.
///
/// # Safety
/// `structures` is NULL or a live `nesf_structures_t` handle, not freed or changed by another
/// thread during the call; `count` is NULL or points to a writable `size_t`. NULL is reported
/// as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers and freed or wrongly typed handles
/// cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structures_count(
    structures: *const nesf_structures_t,
    count: *mut usize,
) -> nesf_status_t {
    guard("nesf_structures_count", || {
        // SAFETY: the caller's contract.
        let list = unsafe { reference(structures, "structures") }?;
        unsafe { write_out(count, "count", list.items.len()) }
    })
}

/// A copy of structure `index` (0-based) of the list, owned by the caller (free it with
/// `nesf_structure_free()`); NULL on failure.
///
/// # Safety
/// `structures` is NULL or a live `nesf_structures_t` handle, not freed or changed by another
/// thread during the call; `structure` is NULL or points to a writable `nesf_structure_t *`.
/// NULL is reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers and freed or wrongly
/// typed handles cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structures_get(
    structures: *const nesf_structures_t,
    index: usize,
    structure: *mut *mut nesf_structure_t,
) -> nesf_status_t {
    guard("nesf_structures_get", || {
        // SAFETY: the caller's contract.
        unsafe { clear_out(structure, "structure") }?;
        let list = unsafe { reference(structures, "structures") }?;
        let item = list.items.get(index).ok_or_else(|| {
            CapiError::invalid(format!(
                "index {index} is out of range for a list of {} structures",
                list.items.len()
            ))
        })?;
        unsafe { hand_out(structure, item.clone()) };
        Ok(())
    })
}

/// Appends a copy of `structure` to the list (the caller keeps ownership of `structure`).
///
/// # Safety
/// `structures` is NULL or a live `nesf_structures_t` handle that no other thread uses during
/// the call; `structure` is NULL or a live `nesf_structure_t` handle, not freed or changed by
/// another thread during the call. NULL is reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling
/// pointers and freed or wrongly typed handles cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_structures_push(
    structures: *mut nesf_structures_t,
    structure: *const nesf_structure_t,
) -> nesf_status_t {
    guard("nesf_structures_push", || {
        // SAFETY: the caller's contract.
        let s = unsafe { reference(structure, "structure") }?.clone();
        let list = unsafe { reference_mut(structures, "structures") }?;
        list.items.push(s);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crystal::LatticeParameters;

    #[test]
    fn a_failed_decode_reports_its_reason() {
        let lattice = PredictedLattice::from_parameters(LatticeParameters {
            a: 3.0,
            b: 3.0,
            c: 3.0,
            alpha: 90.0,
            beta: 90.0,
            gamma: 90.0,
        });
        let failed = DecodedStructure {
            lattice,
            numbers: Vec::new(),
            positions: Vec::new(),
            confidence: Vec::new(),
            particles: Vec::new(),
            failure: Some("the species field returned a non-finite logit".into()),
        };
        let fine = DecodedStructure {
            failure: None,
            ..failed.clone()
        };
        let read = |s: &nesf_structure_t| {
            let mut p: *const c_char = c"stale".as_ptr();
            // SAFETY: a live handle and a writable pointer
            let status = unsafe { nesf_structure_failure(s, &mut p) };
            assert_eq!(status, nesf_status_t::NESF_SUCCESS);
            // SAFETY: NULL or a NUL-terminated string owned by `s`
            (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string())
        };
        let f = nesf_structure_t::from_decoded(failed);
        assert_eq!(
            read(&f).as_deref(),
            Some("the species field returned a non-finite logit")
        );
        assert!(f
            .to_structure()
            .unwrap_err()
            .message
            .contains("species field"));
        assert_eq!(read(&nesf_structure_t::from_decoded(fine)), None);
    }
}
