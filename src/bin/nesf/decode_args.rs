//! Command-line settings of the decoder, shared by every command that decodes.

use clap::Args;
use nesf::decode::SpeciesVote;
use nesf::DecodeOptions;

/// Decoder settings; each defaults to the model's setting (the reference configuration with
/// the fast flow, unless the model's bundle says otherwise).
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
    /// Species vote: majority of the points' argmax (the reference) or the largest summed
    /// probability [default: majority]
    #[arg(long, value_enum)]
    species_vote: Option<Vote>,
    /// Retire a particle once its move is shorter than this (Å); 0: never [default: 0.003]
    #[arg(long)]
    retire_below: Option<f64>,
    /// Let a particle follow another that lands in the same cube of this edge (Å); 0: never
    /// [default: 0.03]
    #[arg(long)]
    merge_below: Option<f64>,
    /// Drop a particle once it is farther than this (Å) outside the box; 0: never [default: 0]
    #[arg(long)]
    drop_outside: Option<f64>,
    /// The reference decoder exactly: every particle makes every move (turns off
    /// --retire-below, --merge-below and --drop-outside)
    #[arg(long, conflicts_with_all = ["retire_below", "merge_below", "drop_outside"])]
    exact: bool,
}

/// `--species-vote` values.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum Vote {
    /// The majority of the points' argmax classes.
    Majority,
    /// The largest summed probability.
    Probability,
}

impl From<Vote> for SpeciesVote {
    fn from(v: Vote) -> Self {
        match v {
            Vote::Majority => SpeciesVote::Majority,
            Vote::Probability => SpeciesVote::Probability,
        }
    }
}

impl DecodeArgs {
    /// The decoder options: `defaults` (the model's, else the reference's) overridden by the
    /// flags given.
    pub fn options(&self, defaults: Option<&DecodeOptions>) -> DecodeOptions {
        let d = defaults.cloned().unwrap_or_default();
        let o = DecodeOptions {
            grid_step: self.grid_step.unwrap_or(d.grid_step),
            steps: self.flow_steps.unwrap_or(d.steps),
            max_last_step: self.max_last_step.unwrap_or(d.max_last_step),
            nms_radius: self.nms_radius.unwrap_or(d.nms_radius),
            min_particles: self.min_particles.unwrap_or(d.min_particles),
            batch_size: self.batch_size.unwrap_or(d.batch_size),
            species_offsets: d.species_offsets,
            species_vote: self.species_vote.map_or(d.species_vote, SpeciesVote::from),
            retire_below: self.retire_below.unwrap_or(d.retire_below),
            merge_below: self.merge_below.unwrap_or(d.merge_below),
            drop_outside: self.drop_outside.unwrap_or(d.drop_outside),
        };
        if self.exact {
            o.into_exact()
        } else {
            o
        }
    }
}
