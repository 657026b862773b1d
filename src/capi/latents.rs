//! Latent vectors: straight-line interpolation between two of them.

use crate::model::Latents;

use super::status::nesf_status_t;
use super::status::{check_capacity, checked_product, guard, input_slice, output_slice, CapiError};

/// Writes `steps` latent vectors evenly spaced on the straight line from `start` to `end`
/// (both included) into `latents[steps][latent_size]`; `latents_len` is the number of floats
/// it holds (at least steps x latent_size). `steps` must be at least 2; values must be finite.
///
/// # Safety
/// `start` and `end` are NULL or point to `latent_size` readable floats each; `latents` is NULL
/// or points to `latents_len` writable floats, overlapping neither `start` nor `end`. NULL
/// (except for a buffer of length 0) is reported as `NESF_ERROR_INVALID_ARGUMENT`; dangling
/// pointers and too short buffers cannot be detected.
#[no_mangle]
pub unsafe extern "C" fn nesf_latents_interpolate(
    start: *const f32,
    end: *const f32,
    latent_size: usize,
    steps: usize,
    latents: *mut f32,
    latents_len: usize,
) -> nesf_status_t {
    guard("nesf_latents_interpolate", || {
        if latent_size == 0 {
            return Err(CapiError::invalid("latent_size is 0"));
        }
        // SAFETY (all blocks): the caller's contract; the helpers check NULL.
        let a = unsafe { input_slice(start, latent_size, "start") }?;
        let b = unsafe { input_slice(end, latent_size, "end") }?;
        let out = unsafe { output_slice(latents, latents_len, "latents") }?;
        let needed = checked_product(steps, latent_size, "steps x latent_size")?;
        check_capacity("latents", out.len(), needed)?;
        let line = Latents::interpolate(a, b, steps)?;
        out[..needed].copy_from_slice(line.as_flat());
        Ok(())
    })
}
