//! nesf-train: trains NeSF (Chiba et al. 2023; method sections 2 and 3 of the repository's
//! `docs/nesf-method.md`) with tch/libtorch and exports the library's model bundle.
//!
//! - [`model`]: the networks (encoder, fields, lattice heads) with BatchNorm and dropout;
//! - [`data`]: network inputs and the per-batch jittered query points with their targets;
//! - [`recipe`]: loss weights, query budget and learning-rate schedule;
//! - [`train`]: the loop (Adam with step decay, validation, best checkpoint, early stopping,
//!   resumable checkpoints, log.jsonl);
//! - [`hard_sampling`]: epochs that draw more of the structures with the highest loss;
//! - [`average`]: the mean of several checkpoints' weights (the tail of a run);
//! - [`lattice_fit`]: the lattice heads re-fitted on a trained model's frozen encoder;
//! - [`fold`] and [`export`]: BatchNorm folding and the model bundle;
//! - [`plot`]: loss curves as PNG;
//! - [`split`]: the train / val / test parts of a cross-validation fold (YBCO13);
//! - [`bench`]: timing of one training step (and a dump for the PyTorch comparison).

pub mod adam;
pub mod average;
pub mod bench;
pub mod checkpoint;
pub mod data;
pub mod device;
pub mod export;
pub mod fold;
pub mod hard_sampling;
pub mod lattice_fit;
pub mod model;
pub mod plot;
pub mod recipe;
pub mod rng;
pub mod split;
pub mod train;
