//! Command-line settings of the decoder, shared by every command that decodes.

use clap::Args;
use nesf::decode::SpeciesVote;
use nesf::DecodeOptions;

/// The library's decoder defaults, shown in the help text (a model's bundle may set others).
static D: std::sync::LazyLock<DecodeOptions> = std::sync::LazyLock::new(DecodeOptions::default);

/// "`text` [default: `value`]".
fn default_help(text: &str, value: impl std::fmt::Display) -> String {
    format!("{text} [default: {value}, or the model's]")
}

/// Decoder settings; each defaults to the model's setting (the reference configuration with
/// the fast flow, unless the model's bundle says otherwise).
#[derive(Args, Debug)]
pub struct DecodeArgs {
    #[arg(long, help = default_help("Particle grid spacing (Å)", D.grid_step))]
    grid_step: Option<f64>,
    #[arg(long, help = default_help("Flow steps per particle", D.steps))]
    flow_steps: Option<usize>,
    #[arg(long, help = default_help("Discard particles whose last move is longer than this (Å)", D.max_last_step))]
    max_last_step: Option<f64>,
    #[arg(long, help = default_help("NMS radius (Å)", D.nms_radius))]
    nms_radius: Option<f64>,
    #[arg(long, help = default_help("Particles needed to form an atom", D.min_particles))]
    min_particles: Option<usize>,
    #[arg(long, help = default_help("Structures per field call", D.batch_size))]
    batch_size: Option<usize>,
    #[arg(long, value_enum, help = default_help(
        "Species vote: majority of the points' argmax (the reference) or the largest summed \
         probability",
        format!("{:?}", D.species_vote).to_lowercase(),
    ))]
    species_vote: Option<SpeciesVote>,
    #[arg(long, help = default_help("Retire a particle once its move is shorter than this (Å); 0: never", D.retire_below))]
    retire_below: Option<f64>,
    #[arg(long, help = default_help("Let a particle follow another that lands in the same cube of this edge (Å); 0: never", D.merge_below))]
    merge_below: Option<f64>,
    #[arg(long, help = default_help("Drop a particle once it is farther than this (Å) outside the box; 0: never", D.drop_outside))]
    drop_outside: Option<f64>,
    /// The reference decoder exactly: every particle makes every move (turns off
    /// --retire-below, --merge-below and --drop-outside)
    #[arg(long, help = default_help(
        "Most particles per batch (grid points x structures); a decode needing more is \
         refused before allocating (~50 bytes per particle)",
        D.max_particles,
    ))]
    max_particles: Option<usize>,
    #[arg(long, conflicts_with_all = ["retire_below", "merge_below", "drop_outside"])]
    exact: bool,
    /// Snap each decoded structure to the space group found at this position tolerance (Å):
    /// lattice and sites refined, atoms the group makes one merged [default without a value:
    /// 0.1; without the flag: the model's default, 0 (off) unless its bundle sets one]
    #[arg(long, value_name = "SYMPREC", num_args = 0..=1, default_missing_value = "0.1")]
    symmetrize: Option<f64>,
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
            species_vote: self.species_vote.unwrap_or(d.species_vote),
            retire_below: self.retire_below.unwrap_or(d.retire_below),
            merge_below: self.merge_below.unwrap_or(d.merge_below),
            drop_outside: self.drop_outside.unwrap_or(d.drop_outside),
            symprec: self.symmetrize.unwrap_or(d.symprec),
            max_particles: self.max_particles.unwrap_or(d.max_particles),
        };
        if self.exact {
            o.into_exact()
        } else {
            o
        }
    }
}
