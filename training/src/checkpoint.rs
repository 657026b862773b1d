//! Checkpoints: one file of named tensors (libtorch's archive format, readable by
//! `Tensor::load_multi` and by PyTorch's `torch.jit.load(...).state_dict()`-style tools): the
//! model's parameters and BatchNorm statistics (`<layer>.weight`, ...), Adam's moments
//! (`adam.m.<param>`, `adam.v.<param>`, latest checkpoint only) and a `meta` tensor holding
//! JSON bytes ([`Meta`]): the training configuration (which fixes the model, its vocabulary and
//! bounding box) and where training stands (epoch, batch within the epoch, Adam's step count,
//! best validation loss, the running sums of the current epoch).
//!
//! Files are written to a temporary name, flushed to disk and renamed over the old one, so a
//! checkpoint is always either the old or the new one, never a torn file.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nesf::{BoundingBox, Vocabulary};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::model::ModelConfig;
use crate::recipe::Recipe;

/// Version of the checkpoint layout.
pub const FORMAT: u32 = 1;

/// Everything that defines a training run (fixed when it starts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Training structures.
    pub train: PathBuf,
    /// Validation structures.
    pub val: PathBuf,
    /// Number of training structures (recorded for the bundle's provenance).
    #[serde(default)]
    pub train_structures: usize,
    /// Structures per batch.
    pub batch_size: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// The learning rate is multiplied by `lr_gamma` every `lr_step` epochs.
    pub lr_step: usize,
    /// Step-decay factor.
    pub lr_gamma: f64,
    /// Number of epochs.
    pub epochs: usize,
    /// Stop after this many epochs without a better validation loss.
    pub patience: Option<usize>,
    /// Seed of every random draw.
    pub seed: u64,
    /// Model shapes.
    pub model: ModelConfig,
    /// Species vocabulary (atomic numbers in class order) of the training set.
    pub vocabulary: Vec<u8>,
    /// Bounding box of the training set's atoms.
    pub bounding_box: BoundingBox,
    /// Loss weights, query budget and learning-rate schedule (the reference for checkpoints
    /// written before recipes existed).
    #[serde(default)]
    pub recipe: Recipe,
    /// The checkpoint whose weights this run started from (`--init-from`), if any.
    #[serde(default)]
    pub init_from: Option<PathBuf>,
}

impl TrainConfig {
    /// The learning rate `progress` epochs into the run (fractional within an epoch; the
    /// recipe's schedule).
    pub fn lr_at(&self, progress: f64) -> f64 {
        self.recipe
            .lr_at(self.lr, self.lr_step, self.lr_gamma, self.epochs, progress)
    }

    /// The vocabulary as the library's type.
    pub fn vocabulary(&self) -> Result<Vocabulary> {
        Ok(Vocabulary::new(self.vocabulary.clone())?)
    }
}

/// Running sums over the batches of an epoch (weighted by structures per batch).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sums {
    /// Structures seen.
    pub structures: f64,
    /// Query points seen.
    pub points: f64,
    /// Sum of batch losses times batch structures: total, position, species, lengths, angles, KL.
    pub terms: [f64; 6],
    /// Seconds spent.
    pub seconds: f64,
}

impl Sums {
    /// Adds a batch.
    pub fn add(&mut self, structures: usize, points: usize, terms: [f64; 6]) {
        let w = structures as f64;
        self.structures += w;
        self.points += points as f64;
        for (s, t) in self.terms.iter_mut().zip(terms) {
            *s += t * w;
        }
    }

    /// Mean of every term.
    pub fn means(&self) -> [f64; 6] {
        self.terms.map(|t| t / self.structures.max(1.0))
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Epoch in progress (0-based); equals `epochs` when training is over.
    pub epoch: usize,
    /// Next batch of that epoch.
    pub batch: usize,
    /// Adam updates done.
    pub adam_step: i64,
    /// Best validation loss so far and its epoch (0-based).
    pub best: Option<(f64, usize)>,
    /// Epochs since the best validation loss.
    pub epochs_since_best: usize,
    /// Sums of the epoch in progress.
    pub sums: Sums,
    /// Early stopping ended the run.
    pub stopped_early: bool,
}

/// The JSON stored with the tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// [`FORMAT`].
    pub format: u32,
    /// The run's configuration.
    pub config: TrainConfig,
    /// Where it stands.
    pub progress: Progress,
    /// Set when the model tensors are the mean of several checkpoints' (`nesf-train average`):
    /// which ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub averaged: Option<String>,
    /// Set when the lattice heads were re-fitted on the frozen encoder (`nesf-train
    /// fit-lattice`): how, and the validation errors before and after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lattice_fit: Option<String>,
    /// The run keeps each epoch's weights (`RunOptions::keep_epochs`): recorded so that a
    /// resumed run goes on keeping them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_epochs: bool,
}

/// A loaded checkpoint.
#[derive(Debug)]
pub struct Checkpoint {
    /// Configuration and progress.
    pub meta: Meta,
    /// Every tensor by name (`meta` removed).
    pub tensors: BTreeMap<String, Tensor>,
}

/// Writes `tensors` and `meta` to `path` atomically.
pub fn save(path: &Path, tensors: &[(String, Tensor)], meta: &Meta) -> Result<()> {
    let json = serde_json::to_vec(meta)?;
    let meta_tensor = Tensor::from_slice(&json);
    let mut all: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    all.push(("meta", &meta_tensor));
    let tmp = path.with_extension("pt.tmp");
    Tensor::save_multi(&all, &tmp).with_context(|| format!("writing {}", tmp.display()))?;
    File::open(&tmp)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("flushing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    if let Some(dir) = path.parent() {
        // Make the rename itself durable (best effort).
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Reads a checkpoint written by [`save`].
pub fn load(path: &Path) -> Result<Checkpoint> {
    let list = Tensor::load_multi_with_device(path, Device::Cpu)
        .with_context(|| format!("reading checkpoint {}", path.display()))?;
    let mut tensors: BTreeMap<String, Tensor> = list.into_iter().collect();
    let meta = tensors.remove("meta").with_context(|| {
        format!(
            "{} is not a nesf-train checkpoint (no meta)",
            path.display()
        )
    })?;
    if meta.kind() != Kind::Uint8 {
        bail!("{}: meta tensor of kind {:?}", path.display(), meta.kind());
    }
    let bytes: Vec<u8> = Vec::try_from(&meta)?;
    let meta: Meta = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: unreadable meta", path.display()))?;
    if meta.format != FORMAT {
        bail!(
            "{}: checkpoint format {} (this trainer reads {FORMAT})",
            path.display(),
            meta.format
        );
    }
    Ok(Checkpoint { meta, tensors })
}
