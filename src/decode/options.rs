//! Settings of the NeSF decoder. The defaults are the reference configuration's plus the fast
//! flow's work savers (retiring particles that stopped moving, merging particles that met),
//! whose answers match the reference within the tolerances measured on lcs6-val, YBCO13 and
//! ICSG3D (`scripts/decode-settings.sh`, `benches/decode_speed.rs`);
//! [`DecodeOptions::exact`] turns them off and is the reference decoder exactly.

use crate::decode::species::SpeciesVote;
use crate::error::{Error, Result};

/// Every setting of the decoder. `DecodeOptions::default()` is the paper's configuration with
/// the fast flow; `DecodeOptions::exact()` reproduces the paper's decoder exactly.
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
    /// How the species-vote points choose an atom's species. Default majority (the reference).
    pub species_vote: SpeciesVote,
    /// Structures whose particles go to the field in one call. Default 32.
    pub batch_size: usize,
    /// Fast flow: a particle whose move is shorter than this (Å) is retired — it stays where it
    /// is, keeps that move as its score and is not sent to the field again. 0 never retires
    /// (the reference). Default 0.003.
    pub retire_below: f64,
    /// Fast flow: a particle that lands in the same cube of this edge (Å) as another particle
    /// of its structure (moving, or retired there) follows it from then on and ends where it
    /// ends, with its score. 0 never merges (the reference). Default 0.03.
    pub merge_below: f64,
    /// Fast flow: a particle farther than this (Å) outside the bounding box is dropped (it
    /// could form no atom inside the decoded cell). 0 never drops (the reference). Default 0.
    pub drop_outside: f64,
    /// Symmetrised decoding: each decoded structure is snapped to the space group moyo finds
    /// at this position tolerance (Å) — lattice and sites refined in the decoded cell, atoms
    /// the group makes one merged ([`crate::Structure::symmetrized`]). A structure with no
    /// group found (or no atom, or no cell) stays as decoded. 0 never symmetrises. Default 0.
    pub symprec: f64,
    /// Most particles one batch may hold (grid points per structure x structures per batch);
    /// a decode that would need more is refused before allocating, naming the settings to
    /// change. Each particle takes ~50 bytes while it flows. Default 2^24 (16.8 million).
    pub max_particles: usize,
}

/// Most flow steps a decode may ask for (the flow converges in well under 100).
pub const MAX_STEPS: usize = 100_000;
/// Most species-vote offsets per axis (the stencil has the cube of this many points).
pub const MAX_SPECIES_OFFSETS: usize = 16;

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            grid_step: 0.5,
            steps: 64,
            max_last_step: 0.9,
            nms_radius: 0.5,
            min_particles: 10,
            species_offsets: vec![-0.3, -0.2, -0.1, 0.0, 0.1, 0.2],
            species_vote: SpeciesVote::Majority,
            batch_size: 32,
            retire_below: 3e-3,
            merge_below: 0.03,
            drop_outside: 0.0,
            symprec: 0.0,
            max_particles: 1 << 24,
        }
    }
}

impl DecodeOptions {
    /// The reference decoder exactly: every particle makes every move.
    pub fn exact() -> Self {
        DecodeOptions::default().into_exact()
    }

    /// These settings with the work savers off (the reference's flow).
    pub fn into_exact(self) -> Self {
        DecodeOptions {
            retire_below: 0.0,
            merge_below: 0.0,
            drop_outside: 0.0,
            ..self
        }
    }

    /// True when no work saver is on, so the result is the reference decoder's.
    pub fn is_exact(&self) -> bool {
        self.retire_below == 0.0 && self.merge_below == 0.0 && self.drop_outside == 0.0
    }

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
        let non_negative = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(Error::InvalidArgument(format!(
                    "decode option {name} must be a finite number >= 0 (0: off), got {v}"
                )))
            }
        };
        non_negative("retire_below", self.retire_below)?;
        non_negative("merge_below", self.merge_below)?;
        non_negative("drop_outside", self.drop_outside)?;
        non_negative("symprec", self.symprec)?;
        if self.steps == 0 || self.steps > MAX_STEPS {
            return Err(Error::InvalidArgument(format!(
                "decode option steps must be 1 to {MAX_STEPS}, got {}",
                self.steps
            )));
        }
        if self.max_particles == 0 {
            return Err(Error::InvalidArgument(
                "decode option max_particles must be at least 1".into(),
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
        if self.species_offsets.is_empty()
            || self.species_offsets.len() > MAX_SPECIES_OFFSETS
            || self.species_offsets.iter().any(|x| !x.is_finite())
        {
            return Err(Error::InvalidArgument(format!(
                "decode option species_offsets must hold 1 to {MAX_SPECIES_OFFSETS} finite \
                 offsets, got {:?}",
                self.species_offsets
            )));
        }
        Ok(())
    }

    /// Checks that decoding `structures` structures with a grid of `grid_points` points fits
    /// `max_particles` per batch, before anything is allocated.
    pub fn check_particles(&self, grid_points: usize, structures: usize) -> Result<()> {
        let per_batch = self.batch_size.min(structures.max(1));
        match grid_points.checked_mul(per_batch) {
            Some(n) if n <= self.max_particles => Ok(()),
            _ => Err(Error::InvalidArgument(format!(
                "decoding {per_batch} structure(s) per batch with {grid_points} grid points \
                 each needs {} particles, more than max_particles ({}): raise grid_step, lower \
                 batch_size, or raise max_particles if the memory (~50 bytes per particle) is \
                 there",
                grid_points as f64 * per_batch as f64,
                self.max_particles
            ))),
        }
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
        assert!(!o.is_exact());
        let e = DecodeOptions::exact();
        assert!(e.is_exact());
        assert_eq!(
            DecodeOptions {
                retire_below: 3e-3,
                merge_below: 0.03,
                ..e.clone()
            },
            o
        );
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
