//! Models (`nesf_model_t`): loading a bundle, its facts, encoding structures to latents and
//! decoding latents to structures.

use std::ffi::{c_char, c_void, CString};

use crate::model::{default_model_bytes, Latents, Model, ModelOptions, Provider};

use super::options::{
    decode_options, model_options, nesf_decode_options_t, nesf_model_options_t,
    write_decode_options, NESF_PROVIDER_CPU, NESF_PROVIDER_CUDA,
};
use super::status::nesf_status_t;
use super::status::{
    c_path, check_capacity, checked_product, fill, guard, guard_value, input_slice, output_slice,
    owned_c_string, reference, write_out, CResult, CapiError,
};
use super::structure::{clear_out, hand_out, nesf_structure_t, nesf_structures_t};

/// A loaded model, owned by the caller (free it with `nesf_model_free()`). Immutable: one
/// handle may be used from many threads at once (encode, decode, queries); free it only after
/// every thread is done with it.
pub struct nesf_model_t {
    model: Model,
    provider: CString,
    manifest: CString,
}

const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<nesf_model_t>();
};

fn provider_description(model: &Model) -> String {
    model.provider().describe()
}

fn wrap(model: Model) -> CResult<nesf_model_t> {
    let manifest = serde_json::to_string_pretty(model.manifest())
        .map_err(|e| CapiError::invalid(format!("cannot serialise the manifest: {e}")))?;
    Ok(nesf_model_t {
        provider: owned_c_string(&provider_description(&model)),
        manifest: owned_c_string(&manifest),
        model,
    })
}

/// Loads the body of a model-loading function.
///
/// # Safety
/// `out` and `options` are NULL or valid.
unsafe fn load_with(
    out: *mut *mut nesf_model_t,
    options: *const nesf_model_options_t,
    load: impl FnOnce(&ModelOptions) -> CResult<Model>,
) -> CResult {
    // SAFETY (all blocks): the caller's contract; the helpers check NULL.
    unsafe { clear_out(out, "model") }?;
    let options = unsafe { model_options(options) }?;
    let handle = wrap(load(&options)?)?;
    unsafe { hand_out(out, handle) };
    Ok(())
}

/// Loads a model bundle (a `*.nesf` file or a bundle folder) from `path`. `options` may be
/// NULL for the defaults (CPU). ONNX Runtime is loaded first if it is not yet (see
/// `nesf_runtime_load()`). `*model` receives the new model, or NULL on failure.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `options` is NULL (defaults) or points to an
/// initialised `nesf_model_options_t` readable for `options->struct_size` bytes; `model` is
/// NULL or points to a writable `nesf_model_t *`. A NULL `path` or `model` is reported as
/// `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers, strings without their NUL and structs
/// shorter than their `struct_size` cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_load(
    path: *const c_char,
    options: *const nesf_model_options_t,
    model: *mut *mut nesf_model_t,
) -> nesf_status_t {
    guard("nesf_model_load", || {
        // SAFETY (all blocks): the caller's contract; the helpers check NULL.
        unsafe { clear_out(model, "model") }?;
        let path = unsafe { c_path(path, "path") }?;
        unsafe { load_with(model, options, |o| Ok(Model::load(&path, o)?)) }
    })
}

/// Loads a model bundle file from the `size` bytes at `data` (the library copies what it
/// needs). `options` may be NULL for the defaults. `*model` receives the new model, or NULL.
///
/// # Safety
/// `data` is NULL or points to `size` readable bytes, not changed during the call; `options` is
/// NULL (defaults) or points to an initialised `nesf_model_options_t` readable for
/// `options->struct_size` bytes; `model` is NULL or points to a writable `nesf_model_t *`. A
/// NULL `data` or `model` is reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers, too
/// short buffers and structs shorter than their `struct_size` cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_load_from_memory(
    data: *const u8,
    size: usize,
    options: *const nesf_model_options_t,
    model: *mut *mut nesf_model_t,
) -> nesf_status_t {
    guard("nesf_model_load_from_memory", || {
        // SAFETY (all blocks): the caller's contract; the helpers check NULL.
        unsafe { clear_out(model, "model") }?;
        if data.is_null() {
            return Err(CapiError::null("data"));
        }
        let bytes = unsafe { input_slice(data, size, "data") }?;
        unsafe { load_with(model, options, |o| Ok(Model::from_bytes(bytes, o)?)) }
    })
}

/// Loads the model embedded in the library (the LCS6Å model). Fails with
/// `NESF_ERROR_NO_DEFAULT_MODEL` in a build without the `default-model` feature. `options` may
/// be NULL.
///
/// # Safety
/// `options` is NULL (defaults) or points to an initialised `nesf_model_options_t` readable for
/// `options->struct_size` bytes; `model` is NULL or points to a writable `nesf_model_t *`. A
/// NULL `model` is reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers and structs
/// shorter than their `struct_size` cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_load_default(
    options: *const nesf_model_options_t,
    model: *mut *mut nesf_model_t,
) -> nesf_status_t {
    guard("nesf_model_load_default", || {
        // SAFETY (all blocks): the caller's contract; the helpers check NULL.
        unsafe { clear_out(model, "model") }?;
        let bytes = default_model_bytes().ok_or_else(|| {
            CapiError::new(
                nesf_status_t::NESF_ERROR_NO_DEFAULT_MODEL,
                "no default model is embedded in this build; load a model bundle with \
                 nesf_model_load() or nesf_model_load_from_memory()",
            )
        })?;
        unsafe { load_with(model, options, |o| Ok(Model::from_bytes(bytes, o)?)) }
    })
}

/// Frees a model. NULL is accepted and ignored.
///
/// # Safety
/// `model` is NULL or a live `nesf_model_t` handle that no other thread is using; after the
/// call it, and every string it handed out, is invalid. Dangling pointers and handles already
/// freed (double free) or of another type cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_free(model: *mut nesf_model_t) {
    guard_value("nesf_model_free", (), || {
        if !model.is_null() {
            // SAFETY: the caller's contract: a live handle from Box::into_raw.
            drop(unsafe { Box::from_raw(model) });
        }
    })
}

/// The size of the model's latent vectors.
///
/// # Safety
/// `model` is NULL or a live `nesf_model_t` handle, not freed during the call; `latent_size` is
/// NULL or points to a writable `size_t`. NULL is reported as `NESF_ERROR_INVALID_ARGUMENT`;
/// dangling pointers and freed or wrongly typed handles cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_latent_size(
    model: *const nesf_model_t,
    latent_size: *mut usize,
) -> nesf_status_t {
    guard("nesf_model_latent_size", || {
        // SAFETY: the caller's contract.
        let m = unsafe { reference(model, "model") }?;
        unsafe { write_out(latent_size, "latent_size", m.model.latent_size()) }
    })
}

/// The number of species (elements) the model knows.
///
/// # Safety
/// `model` is NULL or a live `nesf_model_t` handle, not freed during the call; `count` is NULL
/// or points to a writable `size_t`. NULL is reported as `NESF_ERROR_INVALID_ARGUMENT`;
/// dangling pointers and freed or wrongly typed handles cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_species_count(
    model: *const nesf_model_t,
    count: *mut usize,
) -> nesf_status_t {
    guard("nesf_model_species_count", || {
        // SAFETY: the caller's contract.
        let m = unsafe { reference(model, "model") }?;
        unsafe { write_out(count, "count", m.model.vocabulary().len()) }
    })
}

/// Copies the model's species vocabulary (atomic numbers, ascending) into `numbers`;
/// `numbers_len` is its length (at least `nesf_model_species_count()`).
///
/// # Safety
/// `model` is NULL or a live `nesf_model_t` handle, not freed during the call; `numbers` is
/// NULL or points to `numbers_len` writable `int32_t`. NULL (except for a buffer of length 0)
/// is reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers, freed or wrongly typed
/// handles and too short buffers cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_species(
    model: *const nesf_model_t,
    numbers: *mut i32,
    numbers_len: usize,
) -> nesf_status_t {
    guard("nesf_model_species", || {
        // SAFETY: the caller's contract.
        let m = unsafe { reference(model, "model") }?;
        let out = unsafe { output_slice(numbers, numbers_len, "numbers") }?;
        let vocabulary = m.model.vocabulary().numbers();
        fill("numbers", out, vocabulary.iter().map(|&z| i32::from(z)))
    })
}

/// The execution provider that runs the model: `*provider` is `NESF_PROVIDER_CPU` or
/// `NESF_PROVIDER_CUDA`, `*device_id` the CUDA device (0 on the CPU), `*description` a
/// sentence such as "CPU" or "CPU (CUDA (device 0) was requested but cannot run: ...)". The
/// string is owned by the model and valid until it is freed.
///
/// # Safety
/// `model` is NULL or a live `nesf_model_t` handle, not freed during the call; `provider` and
/// `device_id` are NULL or point to a writable `int32_t` each; `description` is NULL or points
/// to a writable `const char *`. NULL is reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling
/// pointers and freed or wrongly typed handles cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_provider(
    model: *const nesf_model_t,
    provider: *mut i32,
    device_id: *mut i32,
    description: *mut *const c_char,
) -> nesf_status_t {
    guard("nesf_model_provider", || {
        // SAFETY (all blocks): the caller's contract; the helpers check NULL.
        let m = unsafe { reference(model, "model") }?;
        let (kind, device) = match m.model.provider().active {
            Provider::Cpu => (NESF_PROVIDER_CPU, 0),
            Provider::Cuda { device_id } => (NESF_PROVIDER_CUDA, device_id),
        };
        if provider.is_null() {
            return Err(CapiError::null("provider"));
        }
        if device_id.is_null() {
            return Err(CapiError::null("device_id"));
        }
        unsafe { write_out(description, "description", m.provider.as_ptr()) }?;
        unsafe { write_out(provider, "provider", kind) }?;
        unsafe { write_out(device_id, "device_id", device) }
    })
}

/// The model's manifest as JSON (format version, species vocabulary, latent size, bounding
/// box, decoder defaults, provenance). The string is owned by the model and valid until it is
/// freed.
///
/// # Safety
/// `model` is NULL or a live `nesf_model_t` handle, not freed during the call; `json` is NULL
/// or points to a writable `const char *`. NULL is reported as `NESF_ERROR_INVALID_ARGUMENT`;
/// dangling pointers and freed or wrongly typed handles cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_manifest(
    model: *const nesf_model_t,
    json: *mut *const c_char,
) -> nesf_status_t {
    guard("nesf_model_manifest", || {
        // SAFETY: the caller's contract.
        let m = unsafe { reference(model, "model") }?;
        unsafe { write_out(json, "json", m.manifest.as_ptr()) }
    })
}

/// Fills `options` with the model's decoder defaults (from its manifest).
/// `options->struct_size` must be set first.
///
/// # Safety
/// `model` is NULL or a live `nesf_model_t` handle, not freed during the call; `options` is
/// NULL or points to a `nesf_decode_options_t` whose `struct_size` is set, readable and
/// writable for `struct_size` bytes. NULL is reported as `NESF_ERROR_INVALID_ARGUMENT`;
/// dangling pointers, freed or wrongly typed handles and structs shorter than their
/// `struct_size` cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_decode_options(
    model: *const nesf_model_t,
    options: *mut nesf_decode_options_t,
) -> nesf_status_t {
    guard("nesf_model_decode_options", || {
        // SAFETY: the caller's contract.
        let m = unsafe { reference(model, "model") }?;
        unsafe { write_decode_options(options, m.model.decode_options()) }
    })
}

/// Encodes every structure of the list into `latents[count][latent_size]` (row-major);
/// `latents_len` is the number of floats it holds (at least count x latent_size). Fails for a
/// structure without atoms or with an element outside the model's vocabulary.
///
/// # Safety
/// `model` is NULL or a live `nesf_model_t` handle, not freed during the call; `structures` is
/// NULL or a live `nesf_structures_t` handle, not freed or changed by another thread during the
/// call; `latents` is NULL or points to `latents_len` writable floats. NULL (except for a
/// buffer of length 0) is reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers, freed
/// or wrongly typed handles and too short buffers cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_encode(
    model: *const nesf_model_t,
    structures: *const nesf_structures_t,
    latents: *mut f32,
    latents_len: usize,
) -> nesf_status_t {
    guard("nesf_model_encode", || {
        // SAFETY (all blocks): the caller's contract; the helpers check NULL.
        let m = unsafe { reference(model, "model") }?;
        let list = unsafe { reference(structures, "structures") }?;
        let out = unsafe { output_slice(latents, latents_len, "latents") }?;
        let structures = list.to_structures()?;
        let needed = checked_product(structures.len(), m.model.latent_size(), "latents")?;
        check_capacity("latents", out.len(), needed)?;
        if structures.is_empty() {
            return Ok(());
        }
        let encoded = m.model.encode(&structures)?;
        out[..needed].copy_from_slice(encoded.as_flat());
        Ok(())
    })
}

/// Decodes `n_latents` latent vectors (`latents[n_latents][latent_size]`, row-major;
/// `latent_size` must be the model's) into a new list of structures owned by the caller, in
/// the same order. `options` may be NULL for the model's defaults. A latent in which no atom
/// is found gives a structure with 0 atoms. `*structures` is NULL on failure.
///
/// # Safety
/// `model` is NULL or a live `nesf_model_t` handle, not freed during the call; `latents` is
/// NULL or points to `n_latents` x `latent_size` readable floats; `options` is NULL (defaults)
/// or points to an initialised `nesf_decode_options_t` readable for `options->struct_size`
/// bytes; `structures` is NULL or points to a writable `nesf_structures_t *`. A NULL `model` or
/// `structures`, or a NULL `latents` of nonzero length, is reported as
/// `NESF_ERROR_INVALID_ARGUMENT`; dangling pointers, freed or wrongly typed handles and too
/// short buffers or structs cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_decode(
    model: *const nesf_model_t,
    latents: *const f32,
    n_latents: usize,
    latent_size: usize,
    options: *const nesf_decode_options_t,
    structures: *mut *mut nesf_structures_t,
) -> nesf_status_t {
    guard("nesf_model_decode", || {
        // SAFETY: the caller's contract.
        unsafe {
            decode_into(
                model,
                latents,
                n_latents,
                latent_size,
                options,
                &|_| true,
                structures,
            )
        }
    })
}

/// The work of `nesf_model_decode()` and `nesf_model_decode_monitored()`.
///
/// # Safety
/// As `nesf_model_decode()`.
unsafe fn decode_into(
    model: *const nesf_model_t,
    latents: *const f32,
    n_latents: usize,
    latent_size: usize,
    options: *const nesf_decode_options_t,
    proceed: &(dyn Fn(usize) -> bool + Sync),
    structures: *mut *mut nesf_structures_t,
) -> CResult {
    // SAFETY (all blocks): the caller's contract; the helpers check NULL.
    unsafe { clear_out(structures, "structures") }?;
    let m = unsafe { reference(model, "model") }?;
    if latent_size != m.model.latent_size() {
        return Err(CapiError::invalid(format!(
            "latent_size is {latent_size}, but the model's latent vectors have size {}",
            m.model.latent_size()
        )));
    }
    let n = checked_product(n_latents, latent_size, "n_latents x latent_size")?;
    let values = unsafe { input_slice(latents, n, "latents") }?;
    let options = unsafe { decode_options(options, m.model.decode_options()) }?;
    let latents = Latents::from_flat(latent_size, values.to_vec())?;
    let decoded = m.model.decode_monitored(&latents, &options, proceed)?;
    let list = nesf_structures_t::new(
        decoded
            .into_iter()
            .map(nesf_structure_t::from_decoded)
            .collect(),
    );
    unsafe { hand_out(structures, list) };
    Ok(())
}

/// Called by `nesf_model_decode_monitored()` on the calling thread after every flow step and
/// every batch with the structures finished so far (`done` of `total`) and the caller's
/// `user_data`; returning nonzero stops the decode, which then fails with
/// `NESF_ERROR_CANCELLED` within one flow step. It must not call back into nesf with the same
/// model's decode, and must return normally (no longjmp or exception through nesf).
pub type nesf_progress_callback_t =
    Option<unsafe extern "C" fn(done: usize, total: usize, user_data: *mut c_void) -> i32>;

/// As `nesf_model_decode()`, reporting progress to `callback` (NULL: none), which can also
/// cancel the decode (see `nesf_progress_callback_t`).
///
/// # Safety
/// As `nesf_model_decode()`; `callback` is NULL or a function that can be called with
/// `user_data` (passed through untouched, may be NULL) on the calling thread during the call.
#[no_mangle]
pub unsafe extern "C" fn nesf_model_decode_monitored(
    model: *const nesf_model_t,
    latents: *const f32,
    n_latents: usize,
    latent_size: usize,
    options: *const nesf_decode_options_t,
    callback: nesf_progress_callback_t,
    user_data: *mut c_void,
    structures: *mut *mut nesf_structures_t,
) -> nesf_status_t {
    guard("nesf_model_decode_monitored", || {
        // the user data travels as an address: the callback runs on this thread only
        let data = user_data as usize;
        let proceed = |done: usize| -> bool {
            let Some(f) = callback else {
                return true;
            };
            // SAFETY: the caller's contract for the callback and its user data.
            let stop = unsafe { f(done, n_latents, data as *mut c_void) };
            stop == 0
        };
        // SAFETY: the caller's contract.
        unsafe {
            decode_into(
                model,
                latents,
                n_latents,
                latent_size,
                options,
                &proceed,
                structures,
            )
        }
    })
}
