//! The default model embedded in the library, so the main job runs with no setup.
//!
//! `models/default.nesf` (the LCS6Å model, trained by `nesf-train`; see
//! `training/runs/lcs6/TRAINING.md`) is compiled into the library when the `default-model`
//! feature is on (the default). Embedders that always load their own bundle can build with
//! `--no-default-features` and save its size.

#[cfg(feature = "default-model")]
static DEFAULT_MODEL: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/default.nesf"));

/// The embedded default bundle's bytes, or None in a build without the `default-model` feature.
pub fn default_model_bytes() -> Option<&'static [u8]> {
    #[cfg(feature = "default-model")]
    {
        Some(DEFAULT_MODEL)
    }
    #[cfg(not(feature = "default-model"))]
    {
        None
    }
}
