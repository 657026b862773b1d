//! The training loop of method section 3: fresh jittered query points every batch, the weighted
//! loss, Adam with step decay, validation every epoch, the best checkpoint by validation loss,
//! early stopping, and checkpoints from which a stopped run continues exactly.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use nesf::{BoundingBox, Vocabulary};
use serde::{Deserialize, Serialize};
use tch::Device;

use crate::adam::Adam;
use crate::checkpoint::{self, Meta, Progress, Sums, TrainConfig, FORMAT};
use crate::data::{batches, Dataset, HostBatch, Sampling};
use crate::hard_sampling::{epoch_order, Hardness};
use crate::model::{scalar, ModelConfig, Nesf};
use crate::recipe::Recipe;
use crate::rng::{Rng, Stream};

/// Set by SIGINT / SIGTERM: the loop saves a checkpoint at the next batch boundary and stops.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// File names inside a run directory.
pub const CHECKPOINT: &str = "checkpoint.pt";
/// The best checkpoint by validation loss (model only).
pub const BEST: &str = "best.pt";
/// The per-epoch log.
pub const LOG: &str = "log.jsonl";

/// Checkpoint tensors of hard-example sampling: the latest per-structure losses and those the
/// current epoch was planned with.
const HARDNESS_LATEST: &str = "hard_sampling.latest";
/// See [`HARDNESS_LATEST`].
const HARDNESS_PLANNED: &str = "hard_sampling.planned";

/// Interval of the plain progress lines printed when stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(60);

/// One line of `log.jsonl` (one per epoch). Loss terms are unweighted; `*_loss` is the
/// weighted total that training minimises.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// Epoch number, 1-based.
    pub epoch: usize,
    /// Learning rate of the epoch.
    pub lr: f64,
    /// Weighted total (training batches, mean over structures).
    pub train_loss: f64,
    /// Position-field MSE (Å²).
    pub train_position: f64,
    /// Species cross-entropy.
    pub train_species: f64,
    /// Lattice-length MSE (Å²).
    pub train_lengths: f64,
    /// Lattice-angle MSE (rad²).
    pub train_angles: f64,
    /// KL divergence (VAE only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub train_kl: Option<f64>,
    /// Weighted total on the validation set (eval mode, fixed query points).
    pub val_loss: f64,
    /// Validation position MSE.
    pub val_position: f64,
    /// Validation species cross-entropy.
    pub val_species: f64,
    /// Validation lattice-length MSE.
    pub val_lengths: f64,
    /// Validation lattice-angle MSE.
    pub val_angles: f64,
    /// Validation KL (VAE only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub val_kl: Option<f64>,
    /// Seconds of training in the epoch (without validation).
    pub seconds: f64,
    /// Seconds of validation.
    pub val_seconds: f64,
    /// Training query points per second.
    pub points_per_second: f64,
    /// Training structures per second.
    pub structures_per_second: f64,
    /// This epoch gave the best validation loss so far (best.pt was written).
    pub best: bool,
}

/// Reads a run's log.
pub fn read_log(path: &Path) -> Result<Vec<LogLine>> {
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (k, line) in BufReader::new(f).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line)
                .with_context(|| format!("{} line {}", path.display(), k + 1))?,
        );
    }
    Ok(out)
}

/// Settings of a run that may change between sessions of it.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Save the latest checkpoint at least this often inside an epoch.
    pub checkpoint_every: Duration,
    /// Show a progress bar.
    pub progress_bar: bool,
    /// Stop after this many training batches (benchmarks, tests); the state is checkpointed.
    pub max_batches: Option<usize>,
    /// Print a summary line per epoch on stderr.
    pub verbose: bool,
    /// Also keep each epoch's weights as `dir`/epochNNN.pt ([`epoch_file`]), for
    /// `nesf-train average`.
    pub keep_epochs: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            checkpoint_every: Duration::from_secs(600),
            progress_bar: true,
            max_batches: None,
            verbose: true,
            keep_epochs: false,
        }
    }
}

/// Why [`Trainer::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every epoch ran.
    Finished,
    /// Validation loss stopped improving for `patience` epochs.
    StoppedEarly,
    /// A stop was requested (signal or `max_batches`); the checkpoint holds the state.
    Interrupted,
}

/// A training run: data, model, optimizer and progress.
pub struct Trainer {
    /// The run's configuration.
    pub config: TrainConfig,
    /// Where it stands.
    pub progress: Progress,
    /// The model.
    pub model: Nesf,
    /// Its optimizer.
    pub adam: Adam,
    /// Training set.
    pub train: Dataset,
    /// Validation set.
    pub val: Dataset,
    /// Species vocabulary of the training set.
    pub vocabulary: Vocabulary,
    /// Query-point templates (all points: validation).
    pub sampling: Sampling,
    /// The training query points (the recipe's budget of `sampling`).
    pub train_sampling: Sampling,
    /// Where the model lives.
    pub device: Device,
    /// The training structures' latest losses (for hard-example sampling).
    pub hardness: Hardness,
    /// Whether the run keeps each epoch's weights: the last [`Trainer::run`]'s
    /// `RunOptions::keep_epochs`, or after [`Trainer::resume`] the checkpoint's.
    pub keep_epochs: bool,
    val_batches: Option<Vec<HostBatch>>,
}

/// The training-set-derived parts of a configuration: vocabulary and bounding box.
pub fn dataset_facts(train: &[nesf::Structure]) -> Result<(Vocabulary, BoundingBox)> {
    Ok((
        Vocabulary::from_structures(train)?,
        BoundingBox::of_structures(train)?,
    ))
}

/// Settings a resumed run may change; `None` keeps the saved value.
#[derive(Debug, Clone, Default)]
pub struct ResumeChanges {
    /// Total number of epochs.
    pub epochs: Option<usize>,
    /// Early-stopping patience (`Some(None)`: never stop early).
    pub patience: Option<Option<usize>>,
    /// Epochs between learning-rate decays; the new schedule applies as if from epoch 0.
    pub lr_step: Option<usize>,
    /// Learning-rate decay factor.
    pub lr_gamma: Option<f64>,
}

impl Trainer {
    /// A new run (`config.model.vocab == 0`): the bounding box comes from the training set, and
    /// the vocabulary is the training set's elements plus any already in `config.vocabulary`.
    pub fn new(mut config: TrainConfig, device: Device) -> Result<Trainer> {
        let structures = nesf::io::read(&config.train)
            .with_context(|| format!("reading {}", config.train.display()))?;
        if structures.len() < 2 {
            bail!("the training set needs at least 2 structures (BatchNorm)");
        }
        if config.vocabulary.is_empty() || config.model.vocab == 0 {
            let (v, b) = dataset_facts(&structures)?;
            config.vocabulary.extend_from_slice(v.numbers());
            config.vocabulary = Vocabulary::new(std::mem::take(&mut config.vocabulary))?
                .numbers()
                .to_vec();
            config.bounding_box = b;
            config.model.vocab = config.vocabulary.len();
        }
        config.train_structures = structures.len();
        let vocabulary = config.vocabulary()?;
        let train = Dataset::new(structures, &vocabulary)
            .with_context(|| format!("in {}", config.train.display()))?;
        let val = Dataset::read(&config.val, &vocabulary)?;
        config
            .recipe
            .validate()
            .map_err(|e| anyhow::anyhow!("training recipe: {e}"))?;
        let sampling = Sampling::reference(&config.bounding_box)?;
        let train_sampling = sampling.with_budget(config.recipe.budget);
        let mut model = Nesf::new(config.model.clone(), config.seed, device);
        model.encoder.head.dropout = config.recipe.dropout;
        let adam = Adam::new(model.params.trainable());
        let hardness = Hardness::new(train.len());
        Ok(Trainer {
            config,
            progress: Progress::default(),
            model,
            adam,
            train,
            val,
            vocabulary,
            sampling,
            train_sampling,
            device,
            hardness,
            keep_epochs: false,
            val_batches: None,
        })
    }

    /// Continues the run saved in `path` (a latest checkpoint). The fields of `changes` that
    /// are given replace the saved ones (number of epochs, patience, learning-rate schedule).
    pub fn resume(path: &Path, device: Device, changes: &ResumeChanges) -> Result<Trainer> {
        let ck = checkpoint::load(path)?;
        let mut config = ck.meta.config.clone();
        if let Some(e) = changes.epochs {
            config.epochs = e;
        }
        if let Some(p) = changes.patience {
            config.patience = p;
        }
        if let Some(s) = changes.lr_step {
            config.lr_step = s.max(1);
        }
        if let Some(g) = changes.lr_gamma {
            config.lr_gamma = g;
        }
        let mut t = Trainer::new(config, device)?;
        let cpu: std::collections::BTreeMap<String, tch::Tensor> = ck.tensors;
        let on_device = cpu
            .into_iter()
            .map(|(k, v)| (k, v.to_device(device)))
            .collect();
        t.model.params.load(&on_device)?;
        t.adam.load(&on_device, ck.meta.progress.adam_step)?;
        for (key, dst) in [
            (HARDNESS_LATEST, &mut t.hardness.latest),
            (HARDNESS_PLANNED, &mut t.hardness.planned),
        ] {
            // Checkpoints written before hard-example sampling existed have neither.
            if let Some(v) = on_device.get(key) {
                let v: Vec<f64> = Vec::try_from(v.to_kind(tch::Kind::Double).view([-1]))?;
                if v.len() != dst.len() {
                    bail!(
                        "{}: {key} holds {} structures, the training set {}",
                        path.display(),
                        v.len(),
                        dst.len()
                    );
                }
                *dst = v;
            }
        }
        t.progress = ck.meta.progress;
        t.keep_epochs = ck.meta.keep_epochs;
        if t.progress.stopped_early {
            // A larger (or no) --patience lets an early-stopped run continue.
            t.progress.stopped_early = t
                .config
                .patience
                .is_some_and(|p| t.progress.epochs_since_best >= p);
        }
        Ok(t)
    }

    /// Starts this (new) run from the weights and BatchNorm statistics of the checkpoint at
    /// `path` (a `checkpoint.pt` or `best.pt` of a run with the same networks, vocabulary and
    /// box); the optimizer starts afresh. Records `path` in the configuration.
    pub fn init_from(&mut self, path: &Path) -> Result<()> {
        let ck = checkpoint::load(path)?;
        let theirs = &ck.meta.config;
        if theirs.model != self.config.model {
            bail!(
                "--init-from {}: its networks ({:?}) differ from this run's ({:?})",
                path.display(),
                theirs.model,
                self.config.model
            );
        }
        if theirs.vocabulary != self.config.vocabulary {
            bail!(
                "--init-from {}: its species vocabulary differs from this run's",
                path.display()
            );
        }
        if theirs.bounding_box != self.config.bounding_box {
            bail!(
                "--init-from {}: its bounding box {:?} differs from this run's {:?}",
                path.display(),
                theirs.bounding_box,
                self.config.bounding_box
            );
        }
        let on_device = ck
            .tensors
            .into_iter()
            .map(|(k, v)| (k, v.to_device(self.device)))
            .collect();
        self.model.params.load(&on_device)?;
        self.config.init_from = Some(path.to_path_buf());
        Ok(())
    }

    /// The batches of epoch `epoch`: a shuffle that depends only on the seed and the epoch,
    /// and with hard-example sampling on the losses the epoch was planned with.
    pub fn epoch_batches(&self, epoch: usize) -> Vec<Vec<usize>> {
        let mut rng = Rng::derive(self.config.seed, Stream::Shuffle, epoch as u64, 0);
        let order = epoch_order(
            self.config.recipe.hard_sampling,
            &self.hardness.planned,
            &mut rng,
        );
        batches(&order, self.config.batch_size)
    }

    /// The host batch `batch` of epoch `epoch`, with its jitter.
    pub fn training_batch(
        &self,
        epoch: usize,
        batch: usize,
        indices: &[usize],
    ) -> Result<HostBatch> {
        let mut rng = Rng::derive(
            self.config.seed,
            Stream::TrainPoints,
            epoch as u64,
            batch as u64,
        );
        HostBatch::build(
            &self.train,
            &self.vocabulary,
            indices,
            &self.train_sampling,
            &mut rng,
        )
    }

    /// One optimisation step on `host` at learning rate `lr`; returns the loss terms
    /// [total, position, species, lengths, angles, kl].
    pub fn step(&mut self, host: &HostBatch, lr: f64, torch_seed: u64) -> [f64; 6] {
        self.step_recording(None, host, lr, torch_seed)
    }

    /// [`Trainer::step`] on the batch of training structures `indices`, whose losses it
    /// records for hard-example sampling.
    fn step_recording(
        &mut self,
        indices: Option<&[usize]>,
        host: &HostBatch,
        lr: f64,
        torch_seed: u64,
    ) -> [f64; 6] {
        tch::manual_seed(torch_seed as i64);
        let b = host.to_device(self.device);
        let losses = self.model.losses(&b, true, &self.config.recipe.weights);
        self.adam.zero_grad();
        losses.total.backward();
        self.adam.step(lr);
        if let Some(indices) = indices {
            let per: Vec<f64> =
                Vec::try_from(losses.per_structure.to_kind(tch::Kind::Double)).unwrap_or_default();
            self.hardness.record(indices, &per);
        }
        [
            scalar(&losses.total),
            scalar(&losses.position),
            scalar(&losses.species),
            scalar(&losses.lengths),
            scalar(&losses.angles),
            losses.kl.as_ref().map_or(0.0, scalar),
        ]
    }

    /// The torch seed of a training step.
    pub fn torch_seed(&self, epoch: usize, batch: usize) -> u64 {
        Rng::derive(self.config.seed, Stream::Torch, epoch as u64, batch as u64).next_u64() >> 1
    }

    /// The validation loss terms (eval mode, the same query points every epoch).
    pub fn validate(&mut self) -> Result<[f64; 6]> {
        if self.val_batches.is_none() {
            let order: Vec<usize> = (0..self.val.len()).collect();
            let mut out = Vec::new();
            for (k, idx) in order.chunks(self.config.batch_size.max(1)).enumerate() {
                let mut rng = Rng::derive(self.config.seed, Stream::ValPoints, k as u64, 0);
                out.push(HostBatch::build(
                    &self.val,
                    &self.vocabulary,
                    idx,
                    &self.sampling,
                    &mut rng,
                )?);
            }
            self.val_batches = Some(out);
        }
        let mut sums = Sums::default();
        let batches = self.val_batches.as_ref().expect("built above");
        tch::no_grad(|| {
            for host in batches {
                let b = host.to_device(self.device);
                let l = self.model.losses(&b, false, &self.config.recipe.weights);
                sums.add(
                    host.structures,
                    host.points(),
                    [
                        scalar(&l.total),
                        scalar(&l.position),
                        scalar(&l.species),
                        scalar(&l.lengths),
                        scalar(&l.angles),
                        l.kl.as_ref().map_or(0.0, scalar),
                    ],
                );
            }
        });
        Ok(sums.means())
    }

    fn meta(&self) -> Meta {
        Meta {
            format: FORMAT,
            config: self.config.clone(),
            progress: Progress {
                adam_step: self.adam.step,
                ..self.progress.clone()
            },
            averaged: None,
            lattice_fit: None,
            keep_epochs: self.keep_epochs,
        }
    }

    /// Writes the latest checkpoint (model, optimizer, progress) to `dir`.
    pub fn save_checkpoint(&self, dir: &Path) -> Result<()> {
        let mut tensors = self.model.state();
        tensors.extend(self.adam.state());
        for (key, v) in [
            (HARDNESS_LATEST, &self.hardness.latest),
            (HARDNESS_PLANNED, &self.hardness.planned),
        ] {
            tensors.push((key.to_string(), tch::Tensor::from_slice(v)));
        }
        checkpoint::save(&dir.join(CHECKPOINT), &tensors, &self.meta())
    }

    /// Writes the model's weights (no optimizer state) to `path`: best.pt, kept epochs.
    fn save_weights(&self, path: &Path) -> Result<()> {
        checkpoint::save(path, &self.model.state(), &self.meta())
    }

    /// Trains until the last epoch, early stopping, a stop request or `max_batches`, writing
    /// `dir`/checkpoint.pt, best.pt and log.jsonl.
    pub fn run(&mut self, dir: &Path, opts: &RunOptions) -> Result<Outcome> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        truncate_log(&dir.join(LOG), self.progress.epoch)?;
        self.keep_epochs = opts.keep_epochs;
        let mut last_save = Instant::now();
        let mut last_line = Instant::now();
        let mut batches_done = 0usize;
        while self.progress.epoch < self.config.epochs && !self.progress.stopped_early {
            let epoch = self.progress.epoch;
            if self.progress.batch == 0 {
                self.hardness.snapshot();
            }
            let plan = self.epoch_batches(epoch);
            // The learning rate of the epoch's first batch (logged; a cosine schedule changes
            // it every batch).
            let lr = self.config.lr_at(epoch as f64);
            let on_terminal = std::io::stderr().is_terminal();
            let bar = if opts.progress_bar && on_terminal {
                ProgressBar::new(plan.len() as u64)
            } else {
                ProgressBar::hidden()
            };
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:25}] {pos}/{len} {elapsed}<{eta} {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(format!("epoch {}/{}", epoch + 1, self.config.epochs));
            bar.set_position(self.progress.batch as u64);
            for bi in self.progress.batch..plan.len() {
                if STOP.load(Ordering::SeqCst)
                    || opts.max_batches.is_some_and(|m| batches_done >= m)
                {
                    bar.abandon();
                    self.save_checkpoint(dir)?;
                    return Ok(Outcome::Interrupted);
                }
                let t0 = Instant::now();
                let host = self.training_batch(epoch, bi, &plan[bi])?;
                let seed = self.torch_seed(epoch, bi);
                let batch_lr = self
                    .config
                    .lr_at(epoch as f64 + bi as f64 / plan.len().max(1) as f64);
                let terms = self.step_recording(Some(&plan[bi]), &host, batch_lr, seed);
                if !terms[0].is_finite() {
                    bar.abandon();
                    bail!(
                        "the loss is {} at epoch {} batch {} (the latest checkpoint holds the \
                         state before the divergence)",
                        terms[0],
                        epoch + 1,
                        bi + 1
                    );
                }
                let s = &mut self.progress.sums;
                s.add(host.structures, host.points(), terms);
                s.seconds += t0.elapsed().as_secs_f64();
                self.progress.batch = bi + 1;
                batches_done += 1;
                let m = s.means();
                let status = format!(
                    "loss {:.4} (pos {:.4} spec {:.3} len {:.4} ang {:.5}) {:.0} pts/s",
                    m[0],
                    m[1],
                    m[2],
                    m[3],
                    m[4],
                    s.points / s.seconds.max(1e-9)
                );
                if opts.progress_bar && !on_terminal && last_line.elapsed() >= LINE_EVERY {
                    // No terminal (a log file): a plain progress line now and then.
                    eprintln!(
                        "epoch {}/{} batch {}/{}: {status}",
                        epoch + 1,
                        self.config.epochs,
                        bi + 1,
                        plan.len()
                    );
                    last_line = Instant::now();
                }
                bar.set_message(status);
                bar.inc(1);
                if last_save.elapsed() >= opts.checkpoint_every && bi + 1 < plan.len() {
                    self.save_checkpoint(dir)?;
                    last_save = Instant::now();
                }
            }
            bar.finish_and_clear();

            let t_val = Instant::now();
            let val = self.validate()?;
            let val_seconds = t_val.elapsed().as_secs_f64();
            let improved = self.progress.best.is_none_or(|(b, _)| val[0] < b);
            if improved {
                self.progress.best = Some((val[0], epoch));
                self.progress.epochs_since_best = 0;
            } else {
                self.progress.epochs_since_best += 1;
            }
            let train = self.progress.sums.means();
            let s = &self.progress.sums;
            let vae = self.config.model.vae;
            let line = LogLine {
                epoch: epoch + 1,
                lr,
                train_loss: train[0],
                train_position: train[1],
                train_species: train[2],
                train_lengths: train[3],
                train_angles: train[4],
                train_kl: vae.then_some(train[5]),
                val_loss: val[0],
                val_position: val[1],
                val_species: val[2],
                val_lengths: val[3],
                val_angles: val[4],
                val_kl: vae.then_some(val[5]),
                seconds: s.seconds,
                val_seconds,
                points_per_second: s.points / s.seconds.max(1e-9),
                structures_per_second: s.structures / s.seconds.max(1e-9),
                best: improved,
            };
            if opts.verbose {
                eprintln!(
                    "epoch {}/{}: train {:.5} val {:.5} (pos {:.5} spec {:.4} len {:.5} ang {:.6}) \
                     lr {:.2e} {:.1}s {:.0} pts/s{}",
                    epoch + 1,
                    self.config.epochs,
                    train[0],
                    val[0],
                    val[1],
                    val[2],
                    val[3],
                    val[4],
                    lr,
                    s.seconds,
                    line.points_per_second,
                    if improved { " *best*" } else { "" }
                );
            }
            if improved {
                self.save_weights(&dir.join(BEST))?;
            }
            append_log(&dir.join(LOG), &line)?;
            self.progress.epoch += 1;
            self.progress.batch = 0;
            self.progress.sums = Sums::default();
            if let Some(p) = self.config.patience {
                if self.progress.epochs_since_best >= p {
                    self.progress.stopped_early = true;
                    if opts.verbose {
                        eprintln!(
                            "early stopping: no better validation loss for {p} epochs \
                             (best {:.5} at epoch {})",
                            self.progress.best.map_or(f64::NAN, |b| b.0),
                            self.progress.best.map_or(0, |b| b.1 + 1)
                        );
                    }
                }
            }
            self.save_checkpoint(dir)?;
            if opts.keep_epochs {
                self.save_weights(&dir.join(epoch_file(self.progress.epoch)))?;
            }
            last_save = Instant::now();
        }
        Ok(if self.progress.stopped_early {
            Outcome::StoppedEarly
        } else {
            Outcome::Finished
        })
    }
}

/// The file name of epoch `epoch`'s weights (1-based) under `RunOptions::keep_epochs`.
pub fn epoch_file(epoch: usize) -> String {
    format!("epoch{epoch:03}.pt")
}

fn append_log(path: &Path, line: &LogLine) -> Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    writeln!(f, "{}", serde_json::to_string(line)?)?;
    f.sync_data()?;
    Ok(())
}

/// Drops log lines of epochs the checkpoint has not finished (written just before a stop).
fn truncate_log(path: &Path, epochs_done: usize) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let lines = read_log(path)?;
    if lines.iter().all(|l| l.epoch <= epochs_done) {
        return Ok(());
    }
    let kept: Vec<String> = lines
        .iter()
        .filter(|l| l.epoch <= epochs_done)
        .map(serde_json::to_string)
        .collect::<std::result::Result<_, _>>()?;
    let tmp = path.with_extension("jsonl.tmp");
    std::fs::write(
        &tmp,
        kept.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// A new training configuration with the paper's settings.
pub fn paper_config(train: PathBuf, val: PathBuf) -> TrainConfig {
    TrainConfig {
        train,
        val,
        train_structures: 0,
        batch_size: 64,
        lr: 1e-3,
        lr_step: 640,
        lr_gamma: 0.5,
        epochs: 3200,
        patience: None,
        seed: 0,
        model: ModelConfig::paper(0),
        vocabulary: Vec::new(),
        bounding_box: BoundingBox {
            min: [0.0; 3],
            max: [0.0; 3],
        },
        recipe: Recipe::reference(),
        init_from: None,
    }
}
