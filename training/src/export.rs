//! Exporting a trained model: load a checkpoint, fold BatchNorm ([`crate::fold`]) and write the
//! library's model bundle (manifest + ONNX graphs) through [`nesf::model::Bundle`].

use std::path::Path;

use anyhow::{Context, Result};
use nesf::model::{Bundle, NesfWeights, Provenance};
use nesf::DecodeOptions;
use tch::Device;

use crate::checkpoint::{self, Meta};
use crate::fold::fold;
use crate::model::Nesf;

/// A model rebuilt from a checkpoint file (best.pt or checkpoint.pt), on `device`.
pub fn load_model(path: &Path, device: Device) -> Result<(Nesf, Meta)> {
    let ck = checkpoint::load(path)?;
    let model = Nesf::new(ck.meta.config.model.clone(), ck.meta.config.seed, device);
    let tensors = ck
        .tensors
        .into_iter()
        .map(|(k, v)| (k, v.to_device(device)))
        .collect();
    model
        .params
        .load(&tensors)
        .with_context(|| format!("loading the model of {}", path.display()))?;
    Ok((model, ck.meta))
}

/// The bundle of a model: folded weights, the training set's vocabulary and bounding box,
/// the paper's decoder defaults, and provenance from the checkpoint.
pub fn bundle(model: &Nesf, meta: &Meta) -> Result<(Bundle, NesfWeights)> {
    let weights = fold(model)?;
    let cfg = &meta.config;
    let (epochs, val) = match meta.progress.best {
        Some((loss, epoch)) => (epoch + 1, format!("{loss:.6}")),
        None => (meta.progress.epoch, "n/a".into()),
    };
    let provenance = Provenance {
        dataset: cfg
            .train
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        training_structures: cfg.train_structures,
        epochs,
        validation: None,
        created_by: format!("nesf-train {}", env!("CARGO_PKG_VERSION")),
        notes: format!(
            "trained with tch/libtorch; batch {}, lr {} (x{} every {} epochs), seed {}, \
             vae {}; validation loss {val}; BatchNorm folded into the Linear layers",
            cfg.batch_size, cfg.lr, cfg.lr_gamma, cfg.lr_step, cfg.seed, cfg.model.vae
        ),
    };
    let b = Bundle::from_weights(
        &weights,
        &cfg.vocabulary()?,
        cfg.bounding_box,
        DecodeOptions::default(),
        provenance,
    )?;
    Ok((b, weights))
}

/// Writes the bundle of checkpoint `checkpoint` to `out`: a folder when `out` ends with a
/// slash or is an existing folder, otherwise one file (conventionally `*.nesf`).
pub fn export(checkpoint: &Path, out: &Path) -> Result<Bundle> {
    let (model, meta) = load_model(checkpoint, Device::Cpu)?;
    let (b, _) = bundle(&model, &meta)?;
    let as_dir = out.is_dir() || out.as_os_str().to_string_lossy().ends_with('/');
    if as_dir {
        b.write_dir(out)?;
    } else {
        b.write_file(out)?;
    }
    Ok(b)
}
