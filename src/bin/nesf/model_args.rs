//! Command-line settings for loading a model: bundle, execution provider, threads.

use std::path::PathBuf;

use clap::Args;
use nesf::model::{Model, ModelOptions, Provider};
use nesf::{Error, Result};

/// Which model to load and how to run it.
#[derive(Args, Debug)]
pub struct ModelArgs {
    /// Model bundle (folder or .nesf file); default: the model embedded in the library
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Execution provider: cpu, cuda or cuda:N (GPU number N)
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// If the device cannot run, use the CPU instead (and say so) rather than failing
    #[arg(long)]
    pub allow_fallback: bool,
    /// ONNX Runtime threads (0 = one per core)
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// The ONNX Runtime library to load (default: $NESF_ONNXRUNTIME, next to nesf, system path)
    #[arg(long)]
    pub onnxruntime: Option<PathBuf>,
}

impl ModelArgs {
    /// The execution provider named by `--device`.
    fn provider(&self) -> Result<Provider> {
        let d = self.device.to_ascii_lowercase();
        match d.as_str() {
            "cpu" => Ok(Provider::Cpu),
            "cuda" | "gpu" => Ok(Provider::Cuda { device_id: 0 }),
            _ => d
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(|device_id| Provider::Cuda { device_id })
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "--device '{}': expected cpu, cuda or cuda:N",
                        self.device
                    ))
                }),
        }
    }

    /// Loads the model with these settings.
    pub fn load(&self) -> Result<Model> {
        let options = ModelOptions {
            provider: self.provider()?,
            allow_fallback: self.allow_fallback,
            threads: self.threads,
            runtime_path: self.onnxruntime.clone(),
            ..Default::default()
        };
        let model = match &self.model {
            Some(path) => Model::load(path, &options)?,
            None => Model::load_default(&options)?,
        };
        if model.provider().fallback_reason.is_some() {
            eprintln!("warning: running on {}", model.provider().describe());
        }
        Ok(model)
    }
}
