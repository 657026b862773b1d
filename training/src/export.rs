//! Exporting a trained model: load a checkpoint, fold BatchNorm ([`crate::fold`]) and write the
//! library's model bundle (manifest + ONNX graphs) through [`nesf::model::Bundle`].

use std::path::Path;

use anyhow::{Context, Result};
use nesf::model::{Bundle, Model, ModelOptions, NesfWeights, Provenance};
use nesf::{DecodeOptions, Metrics, MetricsAccumulator};
use tch::Device;

use crate::checkpoint::{self, Meta};
use crate::fold::fold;
use crate::model::Nesf;
use crate::recipe::Schedule;

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

/// Where an exported bundle's decoder defaults come from.
#[derive(Debug, Clone, Default)]
pub enum DecoderDefaults {
    /// The library's defaults ([`DecodeOptions::default`]).
    #[default]
    Library,
    /// Those of another bundle (e.g. the shipped model's, chosen on the validation set), named
    /// by its path in the provenance.
    From(std::path::PathBuf, DecodeOptions),
}

impl DecoderDefaults {
    /// The decoder defaults of the bundle at `path`.
    pub fn from_bundle(path: &Path) -> Result<DecoderDefaults> {
        let b = Bundle::load(path)
            .with_context(|| format!("reading the decoder defaults of {}", path.display()))?;
        Ok(DecoderDefaults::From(
            path.to_path_buf(),
            b.manifest().decode.clone(),
        ))
    }

    fn options(&self) -> DecodeOptions {
        match self {
            DecoderDefaults::Library => DecodeOptions::default(),
            DecoderDefaults::From(_, o) => o.clone(),
        }
    }

    fn note(&self) -> String {
        match self {
            DecoderDefaults::Library => String::new(),
            DecoderDefaults::From(p, o) => format!(
                "; decoder defaults (symprec {}, species vote {:?}, NMS radius {} Å, min \
                 particles {}) taken from {}",
                o.symprec,
                o.species_vote,
                o.nms_radius,
                o.min_particles,
                p.display()
            ),
        }
    }
}

/// The bundle of a model: folded weights, the training set's vocabulary and bounding box,
/// the decoder defaults `decode`, and provenance from the checkpoint (with `validation`, the
/// bundle's metrics on the run's validation set, when measured).
pub fn bundle(
    model: &Nesf,
    meta: &Meta,
    validation: Option<Metrics>,
    decode: &DecoderDefaults,
) -> Result<(Bundle, NesfWeights)> {
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
        validation,
        created_by: format!("nesf-train {}", env!("CARGO_PKG_VERSION")),
        notes: format!(
            "trained with tch/libtorch; batch {}, peak lr {}{}, {} epochs planned, seed {}, \
             vae {}; recipe {}; validation loss {val}; BatchNorm folded into the Linear \
             layers{}",
            cfg.batch_size,
            cfg.lr,
            match cfg.recipe.schedule {
                Schedule::Step => format!(" (x{} every {} epochs)", cfg.lr_gamma, cfg.lr_step),
                Schedule::Cosine { warmup } => {
                    format!(" (cosine to 0 after {warmup} warm-up epochs)")
                }
            },
            cfg.epochs,
            cfg.seed,
            cfg.model.vae,
            serde_json::to_string(&cfg.recipe).unwrap_or_default(),
            decode.note()
        ),
    };
    let b = Bundle::from_weights(
        &weights,
        &cfg.vocabulary()?,
        cfg.bounding_box,
        decode.options(),
        provenance,
    )?;
    Ok((b, weights))
}

/// The metrics of `bundle` on the structures of `file` (the library's model, decoder with the
/// bundle's defaults, and metrics), decoded one batch at a time.
pub fn validate(bundle: &Bundle, file: &Path) -> Result<Metrics> {
    let model = Model::from_bundle(bundle.clone(), &ModelOptions::default())?;
    let structures = nesf::io::read(file)?;
    let options = model.decode_options().clone();
    let mut acc = MetricsAccumulator::new();
    for chunk in structures.chunks(options.batch_size) {
        let decoded = model.autoencode(chunk, &options)?;
        for (truth, d) in chunk.iter().zip(&decoded) {
            acc.add_decoded(truth, d);
        }
    }
    Ok(acc.finish())
}

/// Writes the bundle of checkpoint `checkpoint` with the decoder defaults `decode` to `out`: a
/// folder when `out` ends with a slash or is an existing folder, otherwise one file
/// (conventionally `*.nesf`). With `measure`, the bundle's metrics on the run's validation set
/// (decoded with those defaults) go into its provenance (when ONNX Runtime cannot run here, a
/// warning says so and the bundle is written without them).
pub fn export(
    checkpoint: &Path,
    out: &Path,
    measure: bool,
    decode: &DecoderDefaults,
) -> Result<Bundle> {
    let (model, meta) = load_model(checkpoint, Device::Cpu)?;
    let (mut b, _) = bundle(&model, &meta, None, decode)?;
    if measure {
        match validate(&b, &meta.config.val) {
            Ok(m) => b = bundle(&model, &meta, Some(m), decode)?.0,
            Err(e) => eprintln!(
                "warning: the validation metrics were not measured ({e:#}); the bundle is \
                 written without them"
            ),
        }
    }
    let as_dir = out.is_dir() || out.as_os_str().to_string_lossy().ends_with('/');
    if as_dir {
        b.write_dir(out)?;
    } else {
        b.write_file(out)?;
    }
    Ok(b)
}
