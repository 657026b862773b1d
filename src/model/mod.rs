//! NeSF's neural networks: plain weights with a reference forward pass, their ONNX graphs,
//! model bundles, and running them through ONNX Runtime.

pub mod architecture;
pub mod bundle;
pub mod default;
pub mod graphs;
pub mod latents;
pub mod networks;
pub mod onnx_writer;
pub mod provider;
pub mod runtime;
pub mod runtime_log;
pub mod weights;

pub use architecture::Architecture;
pub use bundle::{Bundle, Manifest, Provenance};
pub use default::default_model_bytes;
pub use latents::Latents;
pub use networks::{Model, NetworkField};
pub use provider::{ModelOptions, Provider, ProviderReport};
pub use weights::{EncoderWeights, Linear, NesfWeights};
