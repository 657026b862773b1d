//! The default model embedded in the library, so the main job runs with no setup.

/// The embedded default bundle's bytes, or None in a build that embeds no model.
pub fn default_model_bytes() -> Option<&'static [u8]> {
    None
}
