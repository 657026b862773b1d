//! The training recipe: loss weights, the query-point budget and the learning-rate schedule.
//!
//! [`Recipe::reference`] is method section 3 exactly (the default of every run, and of every
//! checkpoint written before recipes existed). The other settings are the knobs of the recipe
//! study (`training/runs/lcs6/TRAINING.md`): they change how much a CPU-hour of training
//! teaches, not the networks, so a run may start from another run's weights
//! (`nesf-train --init-from`).

use serde::{Deserialize, Serialize};

use crate::model::HEAD_DROPOUT;

/// Weights of the loss terms: `position * MSE(position) + species * CE(species) +
/// lengths * MSE(lengths, Å) + angles * MSE(angles, rad)` (+ 0.001 KL for the VAE).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossWeights {
    /// Position-field MSE (Å²); 10 in the reference.
    pub position: f64,
    /// Species cross-entropy; 0.1 in the reference.
    pub species: f64,
    /// Lattice-length MSE (Å²); 1 in the reference.
    pub lengths: f64,
    /// Lattice-angle MSE (rad²); 1 in the reference.
    pub angles: f64,
}

impl LossWeights {
    /// Method section 3: 10, 0.1, 1, 1.
    pub const REFERENCE: LossWeights = LossWeights {
        position: 10.0,
        species: 0.1,
        lengths: 1.0,
        angles: 1.0,
    };
}

/// How many training query points a structure gets (validation always uses all of them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QueryBudget {
    /// Fraction of the global grid's points used per structure and batch (a fresh random
    /// subset each time); 1 in the reference.
    pub global_fraction: f64,
    /// Species query points per atom, a fresh random subset of the 216 offsets; 216 in the
    /// reference.
    pub species_per_atom: usize,
    /// Extra position-loss points per structure and batch near the faces of the atoms'
    /// Voronoi cells, where the position field jumps ([`crate::data::boundary_points`]); 0 in
    /// the reference.
    #[serde(default)]
    pub boundary_points: usize,
    /// How close to a face those points lie: the second-nearest atom is less than this much
    /// (Å) farther than the nearest.
    #[serde(default = "default_boundary_width")]
    pub boundary_width: f64,
}

fn default_boundary_width() -> f64 {
    QueryBudget::REFERENCE.boundary_width
}

impl QueryBudget {
    /// Every point of method section 3.
    pub const REFERENCE: QueryBudget = QueryBudget {
        global_fraction: 1.0,
        species_per_atom: 216,
        boundary_points: 0,
        boundary_width: 0.2,
    };
}

/// The learning-rate schedule, as a function of training progress in epochs (fractional
/// within an epoch).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// `lr * gamma^floor(epoch / step)`, constant within an epoch (the reference: x0.5 every
    /// 640 epochs; the run's `lr_step` and `lr_gamma`).
    Step,
    /// Linear warm-up over `warmup` epochs, then a cosine from `lr` down to 0 at the run's last
    /// epoch.
    Cosine {
        /// Warm-up length in epochs.
        warmup: f64,
    },
}

/// Everything about a run's optimisation that is not the networks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// Loss weights.
    pub weights: LossWeights,
    /// Training query points.
    pub budget: QueryBudget,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Dropout probability after the encoder head's hidden blocks during training; 0.3 in the
    /// reference (and in every checkpoint written before this setting existed).
    #[serde(default = "reference_dropout")]
    pub dropout: f64,
    /// Fraction of each epoch's draws that pick structures by their latest training loss
    /// ([`crate::hard_sampling`]); 0 in the reference (every structure once per epoch).
    #[serde(default)]
    pub hard_sampling: f64,
}

fn reference_dropout() -> f64 {
    HEAD_DROPOUT
}

impl Default for Recipe {
    fn default() -> Self {
        Recipe::reference()
    }
}

impl Recipe {
    /// Method section 3.
    pub fn reference() -> Recipe {
        Recipe {
            weights: LossWeights::REFERENCE,
            budget: QueryBudget::REFERENCE,
            schedule: Schedule::Step,
            dropout: HEAD_DROPOUT,
            hard_sampling: 0.0,
        }
    }

    /// Checks the settings; the message names the one that is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let w = &self.weights;
        for (name, v) in [
            ("position", w.position),
            ("species", w.species),
            ("lengths", w.lengths),
            ("angles", w.angles),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("loss weight {name} = {v}: must be finite and >= 0"));
            }
        }
        let f = self.budget.global_fraction;
        if !(f > 0.0 && f <= 1.0) {
            return Err(format!("global fraction {f}: must be in (0, 1]"));
        }
        let s = self.budget.species_per_atom;
        if s == 0 || s > 216 {
            return Err(format!("species points per atom {s}: must be in 1..=216"));
        }
        let w = self.budget.boundary_width;
        if !(w.is_finite() && w > 0.0) {
            return Err(format!("boundary width {w} Å: must be a positive number"));
        }
        if self.budget.boundary_points > 1_000_000 {
            return Err(format!(
                "boundary points {} per structure: at most 1000000",
                self.budget.boundary_points
            ));
        }
        let d = self.dropout;
        if !(0.0..1.0).contains(&d) {
            return Err(format!("dropout {d}: must be in [0, 1)"));
        }
        let h = self.hard_sampling;
        if !(0.0..=1.0).contains(&h) {
            return Err(format!("hard-sampling fraction {h}: must be in [0, 1]"));
        }
        if let Schedule::Cosine { warmup } = self.schedule {
            if !(warmup.is_finite() && warmup >= 0.0) {
                return Err(format!("warm-up {warmup} epochs: must be finite and >= 0"));
            }
        }
        Ok(())
    }

    /// The learning rate at `progress` epochs into a run of `epochs` epochs with peak `lr`
    /// (and, for [`Schedule::Step`], decay `gamma` every `step` epochs).
    pub fn lr_at(&self, lr: f64, step: usize, gamma: f64, epochs: usize, progress: f64) -> f64 {
        match self.schedule {
            Schedule::Step => lr * gamma.powi((progress.floor() as usize / step.max(1)) as i32),
            Schedule::Cosine { warmup } => {
                if progress < warmup {
                    return lr * (progress + 1e-3).min(warmup) / warmup;
                }
                let span = (epochs as f64 - warmup).max(1e-9);
                let t = ((progress - warmup) / span).clamp(0.0, 1.0);
                lr * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_schedule_is_the_reference() {
        let r = Recipe::reference();
        assert_eq!(r.lr_at(1e-3, 640, 0.5, 3200, 0.0), 1e-3);
        assert_eq!(r.lr_at(1e-3, 640, 0.5, 3200, 639.9), 1e-3);
        assert_eq!(r.lr_at(1e-3, 640, 0.5, 3200, 640.0), 5e-4);
    }

    #[test]
    fn cosine_warms_up_then_decays_to_zero() {
        let r = Recipe {
            schedule: Schedule::Cosine { warmup: 1.0 },
            ..Recipe::reference()
        };
        assert!(r.lr_at(1e-3, 1, 1.0, 11, 0.0) < 1e-5);
        assert!((r.lr_at(1e-3, 1, 1.0, 11, 0.5) - 5e-4).abs() < 2e-6);
        assert!((r.lr_at(1e-3, 1, 1.0, 11, 1.0) - 1e-3).abs() < 1e-12);
        assert!((r.lr_at(1e-3, 1, 1.0, 11, 6.0) - 5e-4).abs() < 1e-12);
        assert!(r.lr_at(1e-3, 1, 1.0, 11, 11.0) < 1e-12);
    }

    #[test]
    fn bad_settings_are_named() {
        let mut r = Recipe::reference();
        r.weights.species = f64::NAN;
        assert!(r.validate().unwrap_err().contains("species"));
        let mut r = Recipe::reference();
        r.budget.global_fraction = 0.0;
        assert!(r.validate().unwrap_err().contains("global fraction"));
        let mut r = Recipe::reference();
        r.budget.species_per_atom = 217;
        assert!(r.validate().unwrap_err().contains("species points"));
        let mut r = Recipe::reference();
        r.dropout = 1.0;
        assert!(r.validate().unwrap_err().contains("dropout"));
        r.dropout = f64::NAN;
        assert!(r.validate().unwrap_err().contains("dropout"));
        let mut r = Recipe::reference();
        r.budget.boundary_width = 0.0;
        assert!(r.validate().unwrap_err().contains("boundary width"));
        let mut r = Recipe::reference();
        r.hard_sampling = 1.5;
        assert!(r.validate().unwrap_err().contains("hard-sampling"));
    }

    #[test]
    fn recipes_saved_before_dropout_existed_keep_the_reference_dropout() {
        let mut json = serde_json::to_value(Recipe::reference()).unwrap();
        json.as_object_mut().unwrap().remove("dropout");
        json.as_object_mut().unwrap().remove("hard_sampling");
        let budget = json["budget"].as_object_mut().unwrap();
        budget.remove("boundary_points");
        budget.remove("boundary_width");
        let r: Recipe = serde_json::from_value(json).unwrap();
        assert_eq!(r.budget, QueryBudget::REFERENCE);
        assert_eq!(r.dropout, HEAD_DROPOUT);
        assert_eq!(r.hard_sampling, 0.0);
    }
}
