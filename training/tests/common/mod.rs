//! Helpers shared by the trainer's tests: tiny data sets and tiny runs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use nesf::io::{self, Format};
use nesf_train::checkpoint::TrainConfig;
use nesf_train::model::ModelConfig;
use nesf_train::train::{paper_config, Trainer};
use tch::Device;

/// The first `n` structures of data/lcs6-train.extxyz, written to `dir`/name.
pub fn tiny_set(dir: &Path, name: &str, n: usize) -> PathBuf {
    let all = io::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/lcs6-train.extxyz"
    ))
    .unwrap();
    let path = dir.join(name);
    std::fs::write(&path, io::to_string(&all[..n], Format::ExtXyz).unwrap()).unwrap();
    path
}

/// A configuration for a tiny run: `n` structures (also used for validation), batch 4.
pub fn tiny_config(dir: &Path, n: usize) -> TrainConfig {
    let train = tiny_set(dir, "tiny.extxyz", n);
    let mut c = paper_config(train.clone(), train);
    c.batch_size = 4;
    c.epochs = 3;
    c.seed = 11;
    c.model = ModelConfig::paper(0);
    c
}

/// A trainer on the CPU with 2 threads.
pub fn trainer(config: TrainConfig) -> Trainer {
    tch::set_num_threads(2);
    Trainer::new(config, Device::Cpu).unwrap()
}

/// Largest absolute difference.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .fold(0f64, |m, (&x, &y)| m.max(f64::from(x - y).abs()))
}

/// A tensor as a flat f32 vector.
pub fn flat(t: &tch::Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.detach().to_kind(tch::Kind::Float).contiguous().view([-1])).unwrap()
}
