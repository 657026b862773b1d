//! Exporting a trained model: load a checkpoint, fold BatchNorm ([`crate::fold`]) and write the
//! library's model bundle (manifest + ONNX graphs) through [`nesf::model::Bundle`].

use std::path::Path;

use anyhow::{Context, Result};
use nesf::decode::SpeciesVote;
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

/// An exported bundle's decoder defaults: the library's, or another bundle's (e.g. the
/// shipped model's, chosen on the validation set), with any settings chosen for this model on
/// top. The provenance names where they come from.
#[derive(Debug, Clone, Default)]
pub struct DecoderDefaults {
    /// The options the bundle's manifest carries.
    pub options: DecodeOptions,
    /// Where they come from (empty: the library's defaults, unchanged).
    sources: Vec<String>,
}

impl DecoderDefaults {
    /// The library's defaults ([`DecodeOptions::default`]).
    pub fn library() -> DecoderDefaults {
        DecoderDefaults::default()
    }

    /// The decoder defaults of the bundle at `path`.
    pub fn from_bundle(path: &Path) -> Result<DecoderDefaults> {
        let b = Bundle::load(path)
            .with_context(|| format!("reading the decoder defaults of {}", path.display()))?;
        Ok(DecoderDefaults {
            options: b.manifest().decode.clone(),
            sources: vec![format!("taken from {}", path.display())],
        })
    }

    /// These defaults with symmetrisation at `symprec` Å (0: off) for this model.
    pub fn with_symprec(mut self, symprec: f64) -> Result<DecoderDefaults> {
        self.options.symprec = symprec;
        self.options
            .validate()
            .context("the bundle's symmetrisation tolerance")?;
        self.sources
            .push(format!("symprec {symprec} for this model"));
        Ok(self)
    }

    /// These defaults with the species vote `vote` for this model.
    pub fn with_species_vote(mut self, vote: SpeciesVote) -> DecoderDefaults {
        self.options.species_vote = vote;
        self.sources
            .push(format!("species vote {vote:?} for this model"));
        self
    }

    /// These defaults with a minimum cluster size of `n` particles for this model.
    pub fn with_min_particles(mut self, n: usize) -> Result<DecoderDefaults> {
        self.options.min_particles = n;
        self.options
            .validate()
            .context("the bundle's minimum particle count")?;
        self.sources
            .push(format!("min particles {n} for this model"));
        Ok(self)
    }

    fn note(&self) -> String {
        if self.sources.is_empty() {
            return String::new();
        }
        let o = &self.options;
        format!(
            "; decoder defaults (symprec {}, species vote {:?}, NMS radius {} Å, min particles \
             {}) {}",
            o.symprec,
            o.species_vote,
            o.nms_radius,
            o.min_particles,
            self.sources.join(", ")
        )
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
             vae {}; recipe {}; validation loss {val}{}; BatchNorm folded into the Linear \
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
            match &meta.averaged {
                Some(what) => format!("; weights and BatchNorm statistics the {what}"),
                None => String::new(),
            } + &match &meta.lattice_fit {
                Some(how) => format!("; {how}"),
                None => String::new(),
            },
            decode.note()
        ),
    };
    let b = Bundle::from_weights(
        &weights,
        &cfg.vocabulary()?,
        cfg.bounding_box,
        decode.options.clone(),
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
