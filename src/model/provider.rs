//! Execution providers: where ONNX Runtime runs the networks, and what actually ran.

use std::path::PathBuf;

/// An ONNX Runtime execution provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// The CPU (always available).
    Cpu,
    /// An NVIDIA GPU through CUDA, by device number.
    Cuda {
        /// CUDA device number (0 for the first GPU).
        device_id: i32,
    },
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Provider::Cpu => write!(f, "CPU"),
            Provider::Cuda { device_id } => write!(f, "CUDA (device {device_id})"),
        }
    }
}

/// How to run a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelOptions {
    /// The execution provider asked for. Default: CPU.
    pub provider: Provider,
    /// When the provider cannot run: false (default) fails with ONNX Runtime's reason; true runs
    /// on the CPU instead and says so in [`ProviderReport`].
    pub allow_fallback: bool,
    /// ONNX Runtime intra-op threads; 0 (default) lets ONNX Runtime choose (one per core).
    pub threads: usize,
    /// The ONNX Runtime library to load; None searches as `runtime::load` documents.
    pub runtime_path: Option<PathBuf>,
    /// Most query points sent to ONNX Runtime in one run (bounds memory). Default 65 536.
    pub max_points_per_run: usize,
}

/// Most ONNX Runtime threads a model may ask for (ONNX Runtime crashes far above the core
/// counts of real machines; values beyond this are refused, not truncated).
pub const MAX_THREADS: usize = 1024;
/// Most query points one ONNX Runtime run may take (about 2 GB of activations).
pub const MAX_POINTS_PER_RUN: usize = 1 << 22;

impl ModelOptions {
    /// Checks the settings, naming the first out of range.
    pub fn validate(&self) -> crate::Result<()> {
        if self.threads > MAX_THREADS {
            return Err(crate::Error::InvalidArgument(format!(
                "threads is {}, more than the {MAX_THREADS} supported (0 lets ONNX Runtime \
                 use one per core)",
                self.threads
            )));
        }
        if self.max_points_per_run == 0 || self.max_points_per_run > MAX_POINTS_PER_RUN {
            return Err(crate::Error::InvalidArgument(format!(
                "max_points_per_run must be 1 to {MAX_POINTS_PER_RUN}, got {}",
                self.max_points_per_run
            )));
        }
        Ok(())
    }
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            provider: Provider::Cpu,
            allow_fallback: false,
            threads: 0,
            runtime_path: None,
            max_points_per_run: 65_536,
        }
    }
}

/// The sentence every report of an unusable provider uses: "<provider> was requested but
/// cannot run: <reason>".
pub fn cannot_run(requested: Provider, reason: &str) -> String {
    format!("{requested} was requested but cannot run: {reason}")
}

/// The provider a model was asked to use and the one that actually runs it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProviderReport {
    /// What was asked for.
    pub requested: Provider,
    /// What runs the networks.
    pub active: Provider,
    /// Why the requested provider is not active (only after an allowed fallback).
    pub fallback_reason: Option<String>,
}

impl ProviderReport {
    /// What runs the networks, as one phrase: "CPU", or after a fallback
    /// "CPU (CUDA (device 0) was requested but cannot run: ...)".
    pub fn describe(&self) -> String {
        match &self.fallback_reason {
            Some(reason) => format!("{} ({})", self.active, cannot_run(self.requested, reason)),
            None => self.active.to_string(),
        }
    }
}
