//! nesf-train: train NeSF, plot its loss curves, export the model bundle.
//!
//! ```text
//! nesf-train --train FILE --val FILE --out DIR [--epochs N] [--batch-size N] [--lr X]
//!            [--seed N] [--device cpu|cuda] [--threads N] [--resume] [--patience N]
//!            [--positional-encoding] [--vae]
//! nesf-train plot DIR                 # DIR/log.jsonl -> DIR/loss.png
//! nesf-train export DIR --out BUNDLE [--latest] [--decode-from BUNDLE] [--min-particles N]
//!                   [--symprec X] [--species-vote majority|probability]
//!                                     # DIR/best.pt -> model bundle (file, or folder if BUNDLE/)
//! nesf-train split --data FILE --folds JSON --fold NAME --out DIR  # one cross-validation fold
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use nesf::decode::SpeciesVote;
use nesf_train::checkpoint;
use nesf_train::device::{self, DeviceArg};
use nesf_train::export;
use nesf_train::model::ModelConfig;
use nesf_train::plot;
use nesf_train::recipe::{Recipe, Schedule};
use nesf_train::split;
use nesf_train::train::{
    self, Outcome, ResumeChanges, RunOptions, Trainer, BEST, CHECKPOINT, STOP,
};

#[derive(Parser, Debug)]
#[command(
    name = "nesf-train",
    version,
    about = "Train Neural Structure Fields (NeSF) and export the model bundle",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Plot DIR/log.jsonl as DIR/loss.png.
    Plot {
        /// Run directory.
        dir: PathBuf,
    },
    /// Fold BatchNorm and write the model bundle of DIR/best.pt.
    Export {
        /// Run directory.
        dir: PathBuf,
        /// Bundle to write: one file (e.g. model.nesf), or a folder when it ends with '/'.
        #[arg(long)]
        out: PathBuf,
        /// Export the latest checkpoint instead of the best one.
        #[arg(long)]
        latest: bool,
        /// Do not decode the run's validation set to record its metrics in the provenance.
        #[arg(long)]
        no_validation: bool,
        /// Take the decoder defaults from this bundle (e.g. models/default.nesf, whose settings
        /// were chosen on the validation set) instead of the library's.
        #[arg(long, value_name = "BUNDLE")]
        decode_from: Option<PathBuf>,
        /// This model's minimum particle count per atom (chosen on the validation set), on top
        /// of the library's or --decode-from's defaults.
        #[arg(long, value_name = "N")]
        min_particles: Option<usize>,
        /// This model's symmetrisation tolerance in Å (0: off), likewise.
        #[arg(long, value_name = "SYMPREC")]
        symprec: Option<f64>,
        /// This model's species vote, likewise.
        #[arg(long, value_enum)]
        species_vote: Option<SpeciesVote>,
    },
    /// Average the weights and BatchNorm statistics of checkpoints of one run (e.g. the last
    /// epochs of a cosine schedule), or of runs from the same starting weights, into a
    /// checkpoint that `export` takes like a best.pt.
    Average {
        /// Checkpoints (checkpoint.pt, best.pt or epochNNN.pt files) of one run or of runs
        /// from the same starting weights; the last one's configuration is kept.
        #[arg(required = true, num_args = 2..)]
        checkpoints: Vec<PathBuf>,
        /// Checkpoint to write, e.g. DIR/best.pt for `nesf-train export DIR`.
        #[arg(long)]
        out: PathBuf,
    },
    /// Re-fit the lattice heads of a trained model (best.pt or an averaged checkpoint) on its
    /// frozen encoder, keeping each head's epoch with the lowest validation error; writes a
    /// checkpoint that `export` takes like a best.pt (the fields, and so every decoded atom,
    /// are unchanged).
    FitLattice {
        /// Checkpoint to start from.
        checkpoint: PathBuf,
        /// Checkpoint to write, e.g. DIR/best.pt for `nesf-train export DIR`.
        #[arg(long)]
        out: PathBuf,
        /// Passes over the training set.
        #[arg(long, default_value_t = 200)]
        epochs: usize,
        /// Peak learning rate (Adam, cosine decay to 0).
        #[arg(long, default_value_t = 3e-3)]
        lr: f64,
        /// Structures per update.
        #[arg(long, default_value_t = 64)]
        batch_size: usize,
        /// Seed of the shuffles.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// What each update minimises: squared errors (as training does) or absolute errors
        /// (the lattice metric itself).
        #[arg(long, value_enum, default_value_t = nesf_train::lattice_fit::LatticeLoss::Squared)]
        loss: nesf_train::lattice_fit::LatticeLoss,
        /// libtorch threads (0: libtorch's default).
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Also write the report (errors per epoch) as JSON here.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// Training structures (default: the run's, as its checkpoint records them).
        #[arg(long, value_name = "FILE")]
        train: Option<PathBuf>,
        /// Validation structures that choose each head's epoch (default: the run's).
        #[arg(long, value_name = "FILE")]
        val: Option<PathBuf>,
    },
    /// Write the train / val / test parts of one cross-validation fold as extended XYZ.
    Split {
        /// All structures (each with a material_id).
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        /// Fold file: {"fold0": {"train": [ids], "val": [ids], "test": [ids]}, ...}.
        #[arg(long, value_name = "JSON")]
        folds: PathBuf,
        /// Fold name, e.g. fold0.
        #[arg(long)]
        fold: String,
        /// Folder for train.extxyz, val.extxyz and test.extxyz.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Time training steps on one fixed batch (batch 0 of epoch 0); print JSON.
    BenchStep {
        /// Training structures.
        #[arg(long, value_name = "FILE")]
        train: PathBuf,
        /// Structures per batch.
        #[arg(long, default_value_t = 64)]
        batch_size: usize,
        /// libtorch / rayon threads (0: default).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Timed steps.
        #[arg(long, default_value_t = 10)]
        steps: usize,
        /// Untimed warm-up steps.
        #[arg(long, default_value_t = 2)]
        warmup: usize,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Write the batch and the initial weights to DIR/batch.pt (for bench/step_bench.py).
        #[arg(long, value_name = "DIR")]
        dump: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
struct TrainArgs {
    /// Training structures (extended XYZ, CIF, POSCAR); defines the vocabulary and the box.
    #[arg(long, value_name = "FILE")]
    train: Option<PathBuf>,
    /// Validation structures, evaluated after every epoch.
    #[arg(long, value_name = "FILE")]
    val: Option<PathBuf>,
    /// Run directory: checkpoint.pt, best.pt, log.jsonl.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Number of epochs [default: 3200].
    #[arg(long)]
    epochs: Option<usize>,
    /// Structures per batch [default: 64].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Initial learning rate [default: 0.001].
    #[arg(long)]
    lr: Option<f64>,
    /// Multiply the learning rate by --lr-gamma every N epochs [default: 640]. May change on
    /// --resume: the new schedule applies as if from epoch 0.
    #[arg(long, value_name = "N")]
    lr_step: Option<usize>,
    /// Step-decay factor [default: 0.5].
    #[arg(long)]
    lr_gamma: Option<f64>,
    /// Seed of every random draw (weights, batch order, query jitter, dropout) [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Where to train.
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceArg,
    /// CPU threads for libtorch and the data preparation (0: libtorch's default).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Continue the run in --out from its latest checkpoint.
    #[arg(long)]
    resume: bool,
    /// Stop after N epochs without a better validation loss (default: never).
    #[arg(long, value_name = "N")]
    patience: Option<usize>,
    /// Feed the fields sin/cos(pi 2^k x), k = 0..9, instead of the raw points.
    #[arg(long)]
    positional_encoding: bool,
    /// Variational encoder (KL weight 0.001).
    #[arg(long)]
    vae: bool,
    /// Species vocabulary from the elements of these structures (repeatable: the union) instead
    /// of the training set's, for validation / test sets with elements the training set lacks.
    #[arg(long, value_name = "FILE")]
    vocabulary: Vec<PathBuf>,
    /// Latent size [default: 192].
    #[arg(long)]
    latent: Option<usize>,
    /// Seconds between checkpoints inside an epoch (one is always written after each epoch).
    #[arg(long, default_value_t = 600)]
    checkpoint_every: u64,
    /// Also keep each epoch's weights as OUT/epochNNN.pt (3 MB each), to average the last
    /// epochs with `nesf-train average`. Recorded in the checkpoint: --resume goes on keeping
    /// them.
    #[arg(long)]
    keep_epochs: bool,
    /// On --resume, stop keeping each epoch's weights (a run started with --keep-epochs keeps
    /// them otherwise).
    #[arg(long, conflicts_with = "keep_epochs")]
    no_keep_epochs: bool,
    /// Stop (with a checkpoint) after this many training batches: for timing runs.
    #[arg(long, value_name = "N")]
    max_batches: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Start a new run from the weights of this checkpoint (same networks, vocabulary and
    /// box; fresh optimizer, this run's own recipe and schedule).
    #[arg(long, value_name = "CHECKPOINT")]
    init_from: Option<PathBuf>,
    /// Weight of the position-field MSE [default: 10].
    #[arg(long)]
    position_weight: Option<f64>,
    /// Weight of the species cross-entropy [default: 0.1].
    #[arg(long)]
    species_weight: Option<f64>,
    /// Weight of the lattice-length MSE (Å²) [default: 1].
    #[arg(long)]
    lengths_weight: Option<f64>,
    /// Weight of the lattice-angle MSE (rad²) [default: 1].
    #[arg(long)]
    angles_weight: Option<f64>,
    /// Fraction of the global query grid each structure gets per batch [default: 1].
    #[arg(long)]
    global_fraction: Option<f64>,
    /// Species query points per atom, of the 216 offsets [default: 216].
    #[arg(long)]
    species_points: Option<usize>,
    /// Extra position-loss points per structure and batch near the faces of the atoms'
    /// Voronoi cells, where the position field jumps [default: 0].
    #[arg(long, value_name = "N")]
    boundary_points: Option<usize>,
    /// Those points lie where the second-nearest atom is less than this much (Å) farther than
    /// the nearest [default: 0.2].
    #[arg(long, value_name = "ANGSTROM")]
    boundary_width: Option<f64>,
    /// Learning-rate schedule: `step` (x --lr-gamma every --lr-step epochs) or `cosine`
    /// (warm-up, then down to 0 at --epochs) [default: step].
    #[arg(long, value_parser = ["step", "cosine"])]
    schedule: Option<String>,
    /// Warm-up epochs of the cosine schedule [default: 0.2].
    #[arg(long)]
    warmup: Option<f64>,
    /// Dropout after the encoder head's hidden blocks during training [default: 0.3].
    #[arg(long)]
    dropout: Option<f64>,
    /// Fraction of each epoch's draws that pick structures by their latest training loss
    /// (hard-example sampling; the epoch keeps its length) [default: 0].
    #[arg(long, value_name = "FRACTION")]
    hard_sampling: Option<f64>,
}

/// The recipe that `a` asks for, on top of `base`.
fn recipe_of(a: &TrainArgs, base: Recipe) -> Recipe {
    let mut r = base;
    let w = &mut r.weights;
    w.position = a.position_weight.unwrap_or(w.position);
    w.species = a.species_weight.unwrap_or(w.species);
    w.lengths = a.lengths_weight.unwrap_or(w.lengths);
    w.angles = a.angles_weight.unwrap_or(w.angles);
    r.dropout = a.dropout.unwrap_or(r.dropout);
    r.hard_sampling = a.hard_sampling.unwrap_or(r.hard_sampling);
    let b = &mut r.budget;
    b.global_fraction = a.global_fraction.unwrap_or(b.global_fraction);
    b.species_per_atom = a.species_points.unwrap_or(b.species_per_atom);
    b.boundary_points = a.boundary_points.unwrap_or(b.boundary_points);
    b.boundary_width = a.boundary_width.unwrap_or(b.boundary_width);
    match a.schedule.as_deref() {
        Some("cosine") => {
            r.schedule = Schedule::Cosine {
                warmup: a.warmup.unwrap_or(0.2),
            }
        }
        Some(_) => r.schedule = Schedule::Step,
        None => {
            if let (Schedule::Cosine { warmup }, Some(w)) = (&mut r.schedule, a.warmup) {
                *warmup = w;
            }
        }
    }
    r
}

extern "C" fn on_signal(_: libc::c_int) {
    if STOP.swap(true, Ordering::SeqCst) {
        // Second signal: leave now (the latest checkpoint is intact).
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(130) };
    }
}

fn install_signal_handlers() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: installing an async-signal-safe handler (one atomic store, or _exit).
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

fn run_training(a: TrainArgs) -> Result<ExitCode> {
    let out = a.out.clone().context("--out DIR is required")?;
    device::set_threads(a.threads);
    let dev = device::select(a.device)?;
    let ck_path = out.join(CHECKPOINT);
    let mut trainer = if a.resume {
        if !ck_path.exists() {
            bail!("--resume: {} does not exist", ck_path.display());
        }
        let saved = checkpoint::load(&ck_path)?.meta.config;
        check_unchanged(&a, &saved)?;
        let changes = ResumeChanges {
            epochs: a.epochs,
            patience: a.patience.map(Some),
            lr_step: a.lr_step,
            lr_gamma: a.lr_gamma,
        };
        let t = Trainer::resume(&ck_path, dev, &changes)?;
        if a.lr_step.is_some() || a.lr_gamma.is_some() {
            eprintln!(
                "nesf-train: learning-rate schedule now x{} every {} epochs (lr {:.2e} at epoch {})",
                t.config.lr_gamma,
                t.config.lr_step,
                t.config.lr_at(t.progress.epoch as f64),
                t.progress.epoch + 1
            );
        }
        t
    } else {
        if ck_path.exists() || out.join(BEST).exists() {
            bail!(
                "{} already holds a run: continue it with --resume, or choose another --out",
                out.display()
            );
        }
        let (Some(train_file), Some(val_file)) = (a.train.clone(), a.val.clone()) else {
            bail!("--train FILE and --val FILE are required for a new run");
        };
        let mut cfg = train::paper_config(train_file, val_file);
        cfg.epochs = a.epochs.unwrap_or(cfg.epochs);
        cfg.batch_size = a.batch_size.unwrap_or(cfg.batch_size);
        if cfg.batch_size < 2 {
            bail!("--batch-size must be at least 2 (BatchNorm)");
        }
        cfg.lr = a.lr.unwrap_or(cfg.lr);
        cfg.lr_step = a.lr_step.unwrap_or(cfg.lr_step);
        cfg.lr_gamma = a.lr_gamma.unwrap_or(cfg.lr_gamma);
        cfg.seed = a.seed.unwrap_or(cfg.seed);
        cfg.patience = a.patience;
        cfg.recipe = recipe_of(&a, cfg.recipe);
        cfg.model = ModelConfig {
            vocab: 0,
            latent: a.latent.unwrap_or(192),
            positional_encoding: a.positional_encoding,
            vae: a.vae,
        };
        // extra elements; Trainer::new adds the training set's
        let mut extra = Vec::new();
        for file in &a.vocabulary {
            extra.extend(nesf::io::read(file)?);
        }
        if !extra.is_empty() {
            cfg.vocabulary = nesf::Vocabulary::from_structures(&extra)?
                .numbers()
                .to_vec();
        }
        let mut t = Trainer::new(cfg, dev)?;
        if let Some(from) = &a.init_from {
            t.init_from(from)?;
        }
        t
    };
    let c = &trainer.config;
    // the mean over the training structures of their query points per batch slot
    let points_per_structure = trainer
        .train
        .samples
        .iter()
        .map(|s| {
            trainer
                .train_sampling
                .points_per_structure(s.positions.len())
        })
        .sum::<usize>() as f64
        / trainer.train.len() as f64;
    eprintln!(
        "nesf-train: {} training / {} validation structures, {} species, {} parameters, \
         device {:?}, {} threads; batch {}, ~{:.0} query points per batch; epoch {} of {}{}",
        trainer.train.len(),
        trainer.val.len(),
        c.vocabulary.len(),
        trainer.model.parameter_count(),
        dev,
        tch::get_num_threads(),
        c.batch_size,
        c.batch_size as f64 * points_per_structure,
        trainer.progress.epoch + 1,
        c.epochs,
        if trainer.progress.batch > 0 {
            format!(" (from batch {})", trainer.progress.batch + 1)
        } else {
            String::new()
        }
    );
    install_signal_handlers();
    let opts = RunOptions {
        checkpoint_every: Duration::from_secs(a.checkpoint_every),
        progress_bar: !a.no_progress,
        max_batches: a.max_batches,
        verbose: true,
        keep_epochs: a.keep_epochs || (trainer.keep_epochs && !a.no_keep_epochs),
    };
    if opts.keep_epochs && !a.keep_epochs {
        eprintln!(
            "nesf-train: keeping each epoch's weights as {}/epochNNN.pt, as this run did \
             (--no-keep-epochs stops it)",
            out.display()
        );
    }
    let outcome = trainer.run(&out, &opts)?;
    match outcome {
        Outcome::Finished | Outcome::StoppedEarly => {
            if let Some((loss, epoch)) = trainer.progress.best {
                eprintln!(
                    "done: best validation loss {loss:.6} at epoch {} ({})",
                    epoch + 1,
                    out.join(BEST).display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Interrupted => {
            eprintln!(
                "stopped at epoch {} batch {}; state saved in {}. Continue with: \
                 nesf-train --out {} --resume",
                trainer.progress.epoch + 1,
                trainer.progress.batch,
                out.join(CHECKPOINT).display(),
                out.display()
            );
            Ok(if a.max_batches.is_some() && !STOP.load(Ordering::SeqCst) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(130)
            })
        }
    }
}

/// On --resume, settings that shape the run must not change (the epoch count, patience and
/// learning-rate schedule may).
fn check_unchanged(a: &TrainArgs, saved: &checkpoint::TrainConfig) -> Result<()> {
    let mut diffs = Vec::new();
    let mut cmp = |name: &str, given: Option<String>, saved: String| {
        if let Some(g) = given {
            if g != saved {
                diffs.push(format!("{name} {g} (the run has {saved})"));
            }
        }
    };
    cmp(
        "--batch-size",
        a.batch_size.map(|v| v.to_string()),
        saved.batch_size.to_string(),
    );
    cmp("--lr", a.lr.map(|v| v.to_string()), saved.lr.to_string());
    cmp(
        "--seed",
        a.seed.map(|v| v.to_string()),
        saved.seed.to_string(),
    );
    cmp(
        "--latent",
        a.latent.map(|v| v.to_string()),
        saved.model.latent.to_string(),
    );
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    cmp("--train", path(&a.train), saved.train.display().to_string());
    cmp("--val", path(&a.val), saved.val.display().to_string());
    if recipe_of(a, saved.recipe) != saved.recipe {
        diffs.push(format!(
            "the recipe (loss weights, query budget, schedule; the run has {:?})",
            saved.recipe
        ));
    }
    if a.init_from.is_some() {
        diffs.push("--init-from (only a new run starts from other weights)".into());
    }
    if a.vae && !saved.model.vae {
        diffs.push("--vae (the run is not a VAE)".into());
    }
    if !a.vocabulary.is_empty() {
        diffs.push("--vocabulary (the run's vocabulary was fixed when it started)".into());
    }
    if a.positional_encoding && !saved.model.positional_encoding {
        diffs.push("--positional-encoding (the run has none)".into());
    }
    if !diffs.is_empty() {
        bail!(
            "--resume continues a run with its own settings; these differ: {}",
            diffs.join(", ")
        );
    }
    Ok(())
}

/// Decoder defaults chosen for the exported model (`nesf-train export` options).
struct ChosenDefaults {
    min_particles: Option<usize>,
    symprec: Option<f64>,
    species_vote: Option<SpeciesVote>,
}

fn run_export(
    dir: &Path,
    out: &Path,
    latest: bool,
    measure: bool,
    decode_from: Option<&Path>,
    chosen: &ChosenDefaults,
) -> Result<()> {
    let ck = dir.join(if latest { CHECKPOINT } else { BEST });
    let mut decode = match decode_from {
        Some(p) => export::DecoderDefaults::from_bundle(p)?,
        None => export::DecoderDefaults::library(),
    };
    if let Some(n) = chosen.min_particles {
        decode = decode.with_min_particles(n)?;
    }
    if let Some(t) = chosen.symprec {
        decode = decode.with_symprec(t)?;
    }
    if let Some(vote) = chosen.species_vote {
        decode = decode.with_species_vote(vote);
    }
    let b = export::export(&ck, out, measure, &decode)?;
    let m = b.manifest();
    if let Some(v) = &m.provenance.validation {
        eprintln!(
            "validation: atom-count error {:.2} %, position error {:.4} / {:.4} Å, species \
             error {:.2} / {:.2} %, lattice {:.3} Å / {:.2} deg ({} structures)",
            100.0 * v.atom_count_error,
            v.position_error_actual,
            v.position_error_detected,
            100.0 * v.species_error_actual,
            100.0 * v.species_error_detected,
            v.lattice_length_error,
            v.lattice_angle_error_deg,
            v.structures
        );
    }
    eprintln!(
        "wrote {} ({} species, latent {}, from {}; {})",
        out.display(),
        m.vocabulary.len(),
        m.latent_size,
        ck.display(),
        m.provenance.notes
    );
    Ok(())
}

fn main() -> ExitCode {
    device::keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Plot { dir }) => plot::plot_run(&dir).map(|p| {
            eprintln!("wrote {}", p.display());
            ExitCode::SUCCESS
        }),
        Some(Command::Export {
            dir,
            out,
            latest,
            no_validation,
            decode_from,
            min_particles,
            symprec,
            species_vote,
        }) => run_export(
            &dir,
            &out,
            latest,
            !no_validation,
            decode_from.as_deref(),
            &ChosenDefaults {
                min_particles,
                symprec,
                species_vote,
            },
        )
        .map(|_| ExitCode::SUCCESS),
        Some(Command::Average { checkpoints, out }) => {
            nesf_train::average::average(&checkpoints, &out).map(|meta| {
                eprintln!(
                    "wrote {} ({})",
                    out.display(),
                    meta.averaged.unwrap_or_default()
                );
                ExitCode::SUCCESS
            })
        }
        Some(Command::FitLattice {
            checkpoint,
            out,
            epochs,
            lr,
            batch_size,
            seed,
            loss,
            threads,
            report,
            train,
            val,
        }) => {
            device::set_threads(threads);
            let opts = nesf_train::lattice_fit::LatticeFitOptions {
                epochs,
                lr,
                batch_size,
                seed,
                loss,
                train,
                val,
            };
            nesf_train::lattice_fit::fit_lattice(&checkpoint, &out, &opts, tch::Device::Cpu)
                .and_then(|r| {
                    if let Some(path) = &report {
                        nesf::io::atomic::write(
                            path,
                            serde_json::to_string_pretty(&r)?.as_bytes(),
                        )?;
                    }
                    eprintln!("wrote {} ({})", out.display(), r.summary());
                    Ok(ExitCode::SUCCESS)
                })
        }
        Some(Command::Split {
            data,
            folds,
            fold,
            out,
        }) => split::write_fold(&data, &folds, &fold, &out).map(|counts| {
            eprintln!(
                "wrote {} (train {}, val {}, test {})",
                out.display(),
                counts[0],
                counts[1],
                counts[2]
            );
            ExitCode::SUCCESS
        }),
        Some(Command::BenchStep {
            train,
            batch_size,
            threads,
            steps,
            warmup,
            seed,
            dump,
        }) => {
            device::set_threads(threads);
            nesf_train::bench::bench_step(&train, batch_size, seed, warmup, steps, dump.as_deref())
                .and_then(|r| {
                    println!("{}", serde_json::to_string_pretty(&r)?);
                    Ok(ExitCode::SUCCESS)
                })
        }
        None => run_training(cli.train),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nesf-train: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
