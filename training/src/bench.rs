//! `nesf-train bench-step`: times training steps on one fixed batch, and can dump that batch
//! and the initial weights so that training/bench/step_bench.py times the same step in
//! Python PyTorch.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;
use tch::{Device, Kind, Tensor};

use crate::model::scalar;
use crate::train::{paper_config, Trainer};

/// What a benchmark measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Structures in the batch.
    pub structures: usize,
    /// Atoms in the batch.
    pub atoms: usize,
    /// Position-loss query points.
    pub position_points: usize,
    /// Species-loss query points.
    pub species_points: usize,
    /// libtorch intra-op threads.
    pub threads: i32,
    /// Seconds to build the batch on the host (query points, jitter, targets).
    pub batch_build_seconds: f64,
    /// Seconds of every timed step (after the warm-up steps).
    pub step_seconds: Vec<f64>,
    /// Median of `step_seconds`.
    pub median_step_seconds: f64,
    /// Eval-mode loss of the initial model on the batch (to check the Python model).
    pub initial_eval_loss: f64,
}

/// Times `steps` training steps (after `warmup`) on batch 0 of epoch 0 of `train`; writes the
/// batch and the initial weights to `dump`/batch.pt when asked.
pub fn bench_step(
    train: &Path,
    batch_size: usize,
    seed: u64,
    warmup: usize,
    steps: usize,
    dump: Option<&Path>,
) -> Result<BenchReport> {
    let mut config = paper_config(PathBuf::from(train), PathBuf::from(train));
    config.batch_size = batch_size;
    config.seed = seed;
    let mut t = Trainer::new(config, Device::Cpu)?;
    let plan = t.epoch_batches(0);
    let t0 = Instant::now();
    let host = t.training_batch(0, 0, &plan[0])?;
    let batch_build_seconds = t0.elapsed().as_secs_f64();
    let initial_eval_loss = tch::no_grad(|| {
        scalar(
            &t.model
                .losses(
                    &host.to_device(Device::Cpu),
                    false,
                    &t.config.recipe.weights,
                )
                .total,
        )
    });
    if let Some(dir) = dump {
        std::fs::create_dir_all(dir)?;
        let b = host.to_device(Device::Cpu);
        let mut tensors: Vec<(String, Tensor)> = t
            .model
            .state()
            .into_iter()
            .map(|(n, v)| (format!("model.{n}"), v))
            .collect();
        for (name, v) in [
            ("atom_positions", &b.atom_positions),
            ("atom_classes", &b.atom_classes),
            ("atom_slots", &b.atom_slots),
            ("lattice", &b.lattice),
            ("position_points", &b.position_points),
            ("position_items", &b.position_items),
            ("position_targets", &b.position_targets),
            ("species_points", &b.species_points),
            ("species_items", &b.species_items),
            ("species_targets", &b.species_targets),
        ] {
            tensors.push((format!("batch.{name}"), v.shallow_clone()));
        }
        tensors.push((
            "batch.shape".into(),
            Tensor::from_slice(&[b.structures, b.max_atoms, t.config.model.vocab as i64]),
        ));
        tensors.push((
            "initial_eval_loss".into(),
            Tensor::from_slice(&[initial_eval_loss]).to_kind(Kind::Double),
        ));
        Tensor::save_multi(&tensors, dir.join("batch.pt"))?;
    }
    let mut times = Vec::with_capacity(steps);
    for k in 0..warmup + steps {
        let t0 = Instant::now();
        t.step(&host, 1e-3, k as u64);
        if k >= warmup {
            times.push(t0.elapsed().as_secs_f64());
        }
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(BenchReport {
        structures: host.structures,
        atoms: host.atom_classes.len(),
        position_points: host.position_points.len() / 3,
        species_points: host.species_points.len() / 3,
        threads: tch::get_num_threads(),
        batch_build_seconds,
        median_step_seconds: sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN),
        step_seconds: times,
        initial_eval_loss,
    })
}
