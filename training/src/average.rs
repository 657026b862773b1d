//! Checkpoint averaging (stochastic weight averaging over the tail of a run): the element-wise
//! mean of the model tensors of several checkpoints of one run, BatchNorm running statistics
//! included, written as a weights-only checkpoint that `export` takes like a `best.pt`. Late in
//! a cosine schedule the weights barely move while the BatchNorm statistics (an average of the
//! last few batches) scatter from epoch to epoch; the mean over epochs smooths both. Runs that
//! started from the same weights can be averaged together as well (a "model soup"); the
//! provenance then names each run's directory and epochs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use tch::{Device, Kind, Tensor};

use crate::checkpoint::{self, Checkpoint, Meta};
use crate::model::Nesf;

/// Averages the model tensors of `inputs` (checkpoints of one run, or of runs from the same
/// starting weights: the same networks, vocabulary and bounding box) into `out`, with the last
/// input's configuration and progress and the inputs' epochs (and, from more than one
/// directory, each directory's) recorded in [`Meta::averaged`]. Returns the written meta.
pub fn average(inputs: &[PathBuf], out: &Path) -> Result<Meta> {
    if inputs.len() < 2 {
        bail!(
            "averaging needs at least two checkpoints (got {})",
            inputs.len()
        );
    }
    // the model's tensors (parameters and BatchNorm statistics, not Adam's moments), summed
    let mut sums: Vec<(String, Kind, Tensor)> = Vec::new();
    let mut meta: Option<Meta> = None;
    // (directory, epochs of its checkpoints), in the order first seen
    let mut runs: Vec<(PathBuf, Vec<String>)> = Vec::new();
    for path in inputs {
        let ck = checkpoint::load(path)?;
        match &meta {
            None => {
                let model = Nesf::new(ck.meta.config.model.clone(), 0, Device::Cpu);
                for (name, _) in model.state() {
                    let t = tensor(&ck, path, &name)?;
                    sums.push((name, t.kind(), Tensor::zeros_like(t).to_kind(Kind::Double)));
                }
            }
            Some(m) => {
                let c = &ck.meta.config;
                if c.model != m.config.model
                    || c.vocabulary != m.config.vocabulary
                    || c.bounding_box != m.config.bounding_box
                {
                    bail!(
                        "{} is not a checkpoint of the same networks, vocabulary and bounding \
                         box as {}",
                        path.display(),
                        inputs[0].display()
                    );
                }
            }
        }
        for (name, _, sum) in &mut sums {
            let t = tensor(&ck, path, name)?;
            if t.size() != sum.size() {
                bail!(
                    "{}: tensor {name} has shape {:?}, {} has {:?}",
                    path.display(),
                    t.size(),
                    inputs[0].display(),
                    sum.size()
                );
            }
            *sum += t.to_kind(Kind::Double);
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        match runs.iter_mut().find(|(d, _)| *d == dir) {
            Some((_, epochs)) => epochs.push(epoch_of(&ck.meta)),
            None => runs.push((dir, vec![epoch_of(&ck.meta)])),
        }
        meta = Some(ck.meta);
    }
    let mut meta = meta.context("no checkpoint to average")?;
    let n = inputs.len() as f64;
    let mut tensors = Vec::with_capacity(sums.len());
    for (name, kind, sum) in sums {
        let mean = sum / n;
        if !bool::try_from(mean.isfinite().all())? {
            bail!("the mean of tensor {name} is not finite");
        }
        tensors.push((name, mean.to_kind(kind)));
    }
    let runs = match runs.as_slice() {
        [(_, epochs)] => format!("epochs {}", epochs.join(", ")),
        _ => runs
            .iter()
            .map(|(dir, epochs)| format!("{}: epochs {}", dir.display(), epochs.join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
    };
    meta.averaged = Some(format!("mean of {} checkpoints ({runs})", inputs.len()));
    // the mean has no validation loss of its own
    meta.progress.best = None;
    meta.keep_epochs = false;
    checkpoint::save(out, &tensors, &meta)?;
    Ok(meta)
}

/// Tensor `name` of checkpoint `ck` (read from `path`), or an error naming both.
fn tensor<'a>(ck: &'a Checkpoint, path: &Path, name: &str) -> Result<&'a Tensor> {
    ck.tensors
        .get(name)
        .with_context(|| format!("{}: no tensor {name}", path.display()))
}

/// The last completed epoch (1-based) of a checkpoint: a `checkpoint.pt` saved at an epoch's
/// end stands at the next epoch's batch 0; a `best.pt` at its best epoch.
fn epoch_of(meta: &Meta) -> String {
    if meta.progress.batch == 0 {
        meta.progress.epoch.to_string()
    } else {
        format!(
            "{} (batch {})",
            meta.progress.epoch + 1,
            meta.progress.batch
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{Progress, FORMAT};
    use crate::model::ModelConfig;
    use crate::train::paper_config;

    fn meta(epoch: usize, latent: usize) -> Meta {
        let mut config = paper_config("train.extxyz".into(), "val.extxyz".into());
        config.model = ModelConfig {
            latent,
            ..ModelConfig::paper(3)
        };
        config.vocabulary = vec![1, 6, 8];
        Meta {
            format: FORMAT,
            config,
            progress: Progress {
                epoch,
                best: Some((1.0, epoch)),
                ..Progress::default()
            },
            averaged: None,
            lattice_fit: None,
            keep_epochs: false,
        }
    }

    fn write(dir: &Path, name: &str, meta: &Meta, fill: f64) -> PathBuf {
        let model = Nesf::new(meta.config.model.clone(), 0, Device::Cpu);
        let tensors: Vec<(String, Tensor)> = model
            .state()
            .into_iter()
            .map(|(n, mut t)| (n, t.fill_(fill)))
            .collect();
        let path = dir.join(name);
        checkpoint::save(&path, &tensors, meta).unwrap();
        path
    }

    #[test]
    fn the_mean_of_checkpoints_is_their_element_wise_mean() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.pt", &meta(7, 8), 1.0);
        let b = write(dir.path(), "b.pt", &meta(8, 8), 2.0);
        let c = write(dir.path(), "c.pt", &meta(9, 8), 6.0);
        let out = dir.path().join("mean.pt");
        let m = average(&[a, b, c], &out).unwrap();
        assert_eq!(
            m.averaged.as_deref(),
            Some("mean of 3 checkpoints (epochs 7, 8, 9)")
        );
        assert_eq!(m.progress.best, None);
        let back = checkpoint::load(&out).unwrap();
        assert_eq!(back.meta, m);
        assert!(!back.tensors.is_empty());
        for (name, t) in &back.tensors {
            let v = t.to_kind(Kind::Double);
            let lo = v.min().double_value(&[]);
            let hi = v.max().double_value(&[]);
            assert!((lo - 3.0).abs() < 1e-6 && (hi - 3.0).abs() < 1e-6, "{name}");
        }
    }

    #[test]
    fn checkpoints_of_different_networks_or_too_few_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.pt", &meta(1, 8), 1.0);
        let b = write(dir.path(), "b.pt", &meta(2, 16), 1.0);
        let out = dir.path().join("mean.pt");
        let e = average(&[a.clone(), b], &out).unwrap_err().to_string();
        assert!(e.contains("not a checkpoint of the same networks"), "{e}");
        let e = average(&[a], &out).unwrap_err().to_string();
        assert!(e.contains("at least two"), "{e}");
        assert!(!out.exists());
    }

    #[test]
    fn a_mean_over_two_runs_names_each_runs_directory_and_epochs() {
        let dir = tempfile::tempdir().unwrap();
        for run in ["lo", "hi"] {
            std::fs::create_dir(dir.path().join(run)).unwrap();
        }
        let a = write(&dir.path().join("lo"), "e1.pt", &meta(1, 8), 1.0);
        let b = write(&dir.path().join("hi"), "e1.pt", &meta(1, 8), 2.0);
        let c = write(&dir.path().join("lo"), "e2.pt", &meta(2, 8), 3.0);
        let m = average(&[a, b, c], &dir.path().join("soup.pt")).unwrap();
        let lo = dir.path().join("lo").display().to_string();
        let hi = dir.path().join("hi").display().to_string();
        assert_eq!(
            m.averaged.unwrap(),
            format!("mean of 3 checkpoints ({lo}: epochs 1, 2; {hi}: epochs 1)")
        );
    }
}
