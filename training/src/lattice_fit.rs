//! Re-fitting the lattice heads of a trained model on its frozen encoder.
//!
//! The lattice heads are two small MLPs on the latent z (method section 2); nothing else reads
//! their output, so they can be trained on their own without changing a single atom the
//! fields decode. With the encoder frozen, z of every structure is computed once (BatchNorm
//! running statistics, no dropout: the z the library decodes), after which an epoch over the
//! training set costs milliseconds instead of the minutes a full training epoch costs. Each
//! head keeps the epoch (0: its weights as loaded) with the lowest mean absolute error on the
//! validation set, the library's lattice metric.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use serde::Serialize;
use tch::{Device, Tensor};

use crate::adam::Adam;
use crate::checkpoint::{self, Meta};
use crate::data::{Dataset, HostBatch, KIND};
use crate::export::load_model;
use crate::model::{scalar, Nesf};
use crate::rng::{Rng, Stream};

/// Structures per encoder pass while computing the latents.
const ENCODE_BATCH: usize = 64;

/// What a lattice re-fit minimises on each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LatticeLoss {
    /// Squared errors, as the training run's lattice terms.
    #[default]
    Squared,
    /// Absolute errors: the library's lattice metric itself (a mean absolute error).
    Absolute,
}

impl LatticeLoss {
    /// The loss of `diff` (prediction minus target), averaged.
    fn of(self, diff: Tensor) -> Tensor {
        match self {
            LatticeLoss::Squared => diff.square().mean(KIND),
            LatticeLoss::Absolute => diff.abs().mean(KIND),
        }
    }
}

/// Settings of a lattice re-fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatticeFitOptions {
    /// Passes over the training set.
    pub epochs: usize,
    /// Peak learning rate (Adam), decayed to 0 by a cosine over the epochs.
    pub lr: f64,
    /// Structures per update.
    pub batch_size: usize,
    /// Seed of the shuffles.
    pub seed: u64,
    /// What each update minimises.
    pub loss: LatticeLoss,
    /// Training structures (default: the run's, as its configuration records them).
    pub train: Option<PathBuf>,
    /// Validation structures that choose each head's epoch (default: the run's).
    pub val: Option<PathBuf>,
}

impl Default for LatticeFitOptions {
    fn default() -> Self {
        LatticeFitOptions {
            epochs: 200,
            lr: 3e-3,
            batch_size: 64,
            seed: 0,
            loss: LatticeLoss::default(),
            train: None,
            val: None,
        }
    }
}

/// Mean absolute errors of the lattice heads on a set of structures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatticeErrors {
    /// Lattice lengths (Å).
    pub length: f64,
    /// Lattice angles (degrees).
    pub angle_deg: f64,
}

/// What a re-fit did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatticeFitReport {
    /// The settings.
    pub options: LatticeFitOptions,
    /// Training / validation structures.
    pub structures: [usize; 2],
    /// Validation errors of the heads as loaded.
    pub before: LatticeErrors,
    /// Validation errors of the kept heads.
    pub after: LatticeErrors,
    /// Epoch kept for the lengths head and for the angles head (0: as loaded).
    pub kept_epochs: [usize; 2],
    /// Training and validation errors after every epoch.
    pub curve: Vec<[LatticeErrors; 2]>,
}

impl LatticeFitReport {
    /// One line for the checkpoint's provenance.
    pub fn summary(&self) -> String {
        format!(
            "lattice heads re-fitted on the frozen encoder ({} epochs, lr {}, batch {}, seed {}{}; \
             kept epochs {} / {}): validation error {:.4} Å / {:.3}° -> {:.4} Å / {:.3}°",
            self.options.epochs,
            self.options.lr,
            self.options.batch_size,
            self.options.seed,
            match self.options.loss {
                LatticeLoss::Squared => "",
                LatticeLoss::Absolute => ", absolute errors",
            },
            self.kept_epochs[0],
            self.kept_epochs[1],
            self.before.length,
            self.before.angle_deg,
            self.after.length,
            self.after.angle_deg
        )
    }
}

/// Latents and lattice targets of a data set.
struct Latents {
    /// `[n][latent]`.
    z: Tensor,
    /// Lengths (Å), `[n][3]`.
    lengths: Tensor,
    /// Angles (radians), `[n][3]`.
    angles: Tensor,
}

/// z (evaluation mode) and lattice targets of every structure of `data`.
fn latents(model: &Nesf, data: &Dataset, device: Device) -> Latents {
    let order: Vec<usize> = (0..data.len()).collect();
    let mut zs = Vec::new();
    let mut lattices = Vec::new();
    for chunk in order.chunks(ENCODE_BATCH) {
        let b = HostBatch::structures_only(data, chunk).to_device(device);
        zs.push(tch::no_grad(|| model.encode(&b, false).z));
        lattices.push(b.lattice);
    }
    let lattice = Tensor::cat(&lattices, 0);
    Latents {
        z: Tensor::cat(&zs, 0),
        lengths: lattice.narrow(1, 0, 3),
        angles: lattice.narrow(1, 3, 3),
    }
}

/// Mean absolute errors of `model`'s lattice heads on `l`.
fn errors(model: &Nesf, l: &Latents) -> LatticeErrors {
    tch::no_grad(|| {
        let (lengths, angles) = model.lattice(&l.z);
        LatticeErrors {
            length: scalar(&(lengths - &l.lengths).abs().mean(KIND)),
            angle_deg: scalar(&(angles - &l.angles).abs().mean(KIND)).to_degrees(),
        }
    })
}

/// Copies of the tensors of the head named `prefix` (`lattice_lengths` or `lattice_angles`).
fn snapshot(model: &Nesf, prefix: &str) -> Vec<(String, Tensor)> {
    model
        .params
        .entries()
        .iter()
        .filter(|(n, _, _)| n.starts_with(prefix))
        .map(|(n, t, _)| (n.clone(), t.detach().copy()))
        .collect()
}

/// Re-fits the lattice heads of the checkpoint at `input` (a `best.pt`, an averaged checkpoint,
/// any checkpoint `export` takes) on its run's training set (or `opts.train`), keeps for each head the epoch
/// with the lowest validation error, and writes the model to `out` (a weights-only checkpoint
/// that `export` takes like a `best.pt`), the re-fit recorded in its provenance.
pub fn fit_lattice(
    input: &Path,
    out: &Path,
    opts: &LatticeFitOptions,
    device: Device,
) -> Result<LatticeFitReport> {
    if opts.epochs == 0 || opts.batch_size == 0 {
        bail!("a lattice re-fit needs at least one epoch and one structure per batch");
    }
    if !(opts.lr.is_finite() && opts.lr > 0.0) {
        bail!(
            "the learning rate must be a positive number (got {})",
            opts.lr
        );
    }
    let (model, meta) = load_model(input, device)?;
    let vocabulary = meta.config.vocabulary()?;
    let train = Dataset::read(
        opts.train.as_ref().unwrap_or(&meta.config.train),
        &vocabulary,
    )?;
    let val = Dataset::read(opts.val.as_ref().unwrap_or(&meta.config.val), &vocabulary)?;
    let train_l = latents(&model, &train, device);
    let val_l = latents(&model, &val, device);

    let heads = ["lattice_lengths.", "lattice_angles."];
    let params: Vec<(String, Tensor)> = model
        .params
        .trainable()
        .into_iter()
        .filter(|(n, _)| heads.iter().any(|h| n.starts_with(h)))
        .collect();
    let mut adam = Adam::new(params);
    let before = errors(&model, &val_l);
    let mut best = [before.length, before.angle_deg];
    let mut kept = [0usize; 2];
    let mut kept_tensors = [snapshot(&model, heads[0]), snapshot(&model, heads[1])];
    let w = meta.config.recipe.weights;
    let n = train.len();
    let steps_per_epoch = n.div_ceil(opts.batch_size);
    let total = (opts.epochs * steps_per_epoch) as f64;
    let mut curve = Vec::with_capacity(opts.epochs);
    for epoch in 1..=opts.epochs {
        let mut rng = Rng::derive(opts.seed, Stream::Shuffle, epoch as u64, 1);
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.below(i + 1));
        }
        for (k, chunk) in order.chunks(opts.batch_size).enumerate() {
            let step = ((epoch - 1) * steps_per_epoch + k) as f64;
            let lr = opts.lr * 0.5 * (1.0 + (std::f64::consts::PI * step / total).cos());
            let idx = Tensor::from_slice(&chunk.iter().map(|&i| i as i64).collect::<Vec<_>>())
                .to_device(device);
            let z = train_l.z.index_select(0, &idx);
            let (lengths, angles) = model.lattice(&z);
            let loss = opts
                .loss
                .of(lengths - train_l.lengths.index_select(0, &idx))
                * w.lengths
                + opts.loss.of(angles - train_l.angles.index_select(0, &idx)) * w.angles;
            adam.zero_grad();
            loss.backward();
            adam.step(lr);
        }
        let t = errors(&model, &train_l);
        let v = errors(&model, &val_l);
        if !(v.length.is_finite() && v.angle_deg.is_finite()) {
            bail!("the lattice re-fit diverged at epoch {epoch} (validation error not finite)");
        }
        for (h, value) in [v.length, v.angle_deg].into_iter().enumerate() {
            if value < best[h] {
                best[h] = value;
                kept[h] = epoch;
                kept_tensors[h] = snapshot(&model, heads[h]);
            }
        }
        curve.push([t, v]);
    }
    let kept_map: BTreeMap<String, Tensor> = kept_tensors
        .into_iter()
        .flatten()
        .map(|(k, v)| (k, v.to_device(device)))
        .collect();
    // every tensor of the heads comes back; the rest of the model is untouched
    for (name, t, _) in model.params.entries() {
        if let Some(src) = kept_map.get(name) {
            tch::no_grad(|| t.shallow_clone().copy_(src));
        }
    }
    let after = errors(&model, &val_l);
    let report = LatticeFitReport {
        options: opts.clone(),
        structures: [train.len(), val.len()],
        before,
        after,
        kept_epochs: kept,
        curve,
    };
    let mut out_meta: Meta = meta;
    out_meta.lattice_fit = Some(report.summary());
    out_meta.progress.best = None;
    out_meta.keep_epochs = false;
    checkpoint::save(out, &model.state(), &out_meta)?;
    Ok(report)
}
