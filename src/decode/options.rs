//! Settings of the NeSF decoder; the defaults are the reference configuration's.

use crate::error::{Error, Result};

/// Every setting of the decoder. `DecodeOptions::default()` reproduces the paper.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DecodeOptions {
    /// Spacing (Å) of the initial particle grid over the model's bounding box (padded by one
    /// step on every side). Default 0.5.
    pub grid_step: f64,
    /// Number of moves p <- p + f_r(p, z) of every particle. Default 64.
    pub steps: usize,
    /// Particles whose last move is longer than this (Å) are discarded. Default 0.9.
    pub max_last_step: f64,
    /// Non-maximum-suppression radius (Å). Default 0.5.
    pub nms_radius: f64,
    /// A cluster needs at least this many particles to become an atom. Default 10.
    pub min_particles: usize,
    /// Offsets (Å) along each axis of the species-vote grid around every detected atom.
    /// Default -0.3, -0.2, ..., 0.2 (6 per axis, 216 points).
    pub species_offsets: Vec<f64>,
    /// Structures whose particles go to the field in one call. Default 32.
    pub batch_size: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            grid_step: 0.5,
            steps: 64,
            max_last_step: 0.9,
            nms_radius: 0.5,
            min_particles: 10,
            species_offsets: vec![-0.3, -0.2, -0.1, 0.0, 0.1, 0.2],
            batch_size: 32,
        }
    }
}

impl DecodeOptions {
    /// Checks every setting, naming the first one out of range.
    pub fn validate(&self) -> Result<()> {
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::InvalidArgument(format!(
                    "decode option {name} must be a positive number, got {v}"
                )))
            }
        };
        positive("grid_step", self.grid_step)?;
        positive("max_last_step", self.max_last_step)?;
        positive("nms_radius", self.nms_radius)?;
        if self.steps == 0 {
            return Err(Error::InvalidArgument(
                "decode option steps must be at least 1".into(),
            ));
        }
        if self.min_particles == 0 {
            return Err(Error::InvalidArgument(
                "decode option min_particles must be at least 1".into(),
            ));
        }
        if self.batch_size == 0 {
            return Err(Error::InvalidArgument(
                "decode option batch_size must be at least 1".into(),
            ));
        }
        if self.species_offsets.is_empty() || self.species_offsets.iter().any(|x| !x.is_finite()) {
            return Err(Error::InvalidArgument(
                "decode option species_offsets must hold at least one finite offset".into(),
            ));
        }
        Ok(())
    }

    /// The species-vote points around the origin (every combination of offsets), x slowest.
    pub fn species_stencil(&self) -> Vec<[f64; 3]> {
        let o = &self.species_offsets;
        let mut out = Vec::with_capacity(o.len().pow(3));
        for &x in o {
            for &y in o {
                for &z in o {
                    out.push([x, y, z]);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_reference() {
        let o = DecodeOptions::default();
        o.validate().unwrap();
        assert_eq!(o.species_stencil().len(), 216);
        assert!((o.species_offsets[5] - 0.2).abs() < 1e-12);
        let bad = DecodeOptions {
            nms_radius: f64::NAN,
            ..Default::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("nms_radius"));
    }
}
