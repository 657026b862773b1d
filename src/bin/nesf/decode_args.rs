//! Command-line settings of the decoder, shared by every command that decodes.

use clap::Args;
use nesf::DecodeOptions;

/// Decoder settings; each defaults to the model's setting (the reference configuration).
#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// Particle grid spacing (Å) [default: 0.5]
    #[arg(long)]
    grid_step: Option<f64>,
    /// Flow steps per particle [default: 64]
    #[arg(long)]
    flow_steps: Option<usize>,
    /// Discard particles whose last move is longer than this (Å) [default: 0.9]
    #[arg(long)]
    max_last_step: Option<f64>,
    /// NMS radius (Å) [default: 0.5]
    #[arg(long)]
    nms_radius: Option<f64>,
    /// Particles needed to form an atom [default: 10]
    #[arg(long)]
    min_particles: Option<usize>,
    /// Structures per field call [default: 32]
    #[arg(long)]
    batch_size: Option<usize>,
}

impl DecodeArgs {
    /// The decoder options: `defaults` (the model's, else the reference's) overridden by the
    /// flags given.
    pub fn options(&self, defaults: Option<&DecodeOptions>) -> DecodeOptions {
        let d = defaults.cloned().unwrap_or_default();
        DecodeOptions {
            grid_step: self.grid_step.unwrap_or(d.grid_step),
            steps: self.flow_steps.unwrap_or(d.steps),
            max_last_step: self.max_last_step.unwrap_or(d.max_last_step),
            nms_radius: self.nms_radius.unwrap_or(d.nms_radius),
            min_particles: self.min_particles.unwrap_or(d.min_particles),
            batch_size: self.batch_size.unwrap_or(d.batch_size),
            species_offsets: d.species_offsets,
        }
    }
}
