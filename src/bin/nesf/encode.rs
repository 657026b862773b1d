//! `nesf encode IN -o LATENTS.npy`: the latent vector of every structure, as a NumPy file.

use std::path::PathBuf;

use clap::Args;
use nesf::io::LatentWriter;
use nesf::model::networks::ENCODE_CHUNK;
use nesf::{Error, Result};

use crate::model_args::ModelArgs;
use crate::progress;

/// Arguments of `nesf encode`.
#[derive(Args, Debug)]
pub struct EncodeArgs {
    /// Structures to encode (.cif, .xyz/.extxyz, POSCAR/CONTCAR/.vasp)
    input: PathBuf,
    /// Where to write the latents: a NumPy .npy file of float32, one row per structure
    #[arg(short, long)]
    output: PathBuf,
    /// Encode only the first N structures of the input
    #[arg(long)]
    limit: Option<usize>,
    #[command(flatten)]
    model: ModelArgs,
}

/// Fails unless `path` names a `.npy` file.
pub fn check_npy(path: &std::path::Path, what: &str) -> Result<()> {
    let npy = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    if npy {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} {} is not a .npy file (latents are NumPy .npy arrays)",
            path.display()
        )))
    }
}

/// Encodes the structures and writes their latents.
pub fn run(args: EncodeArgs) -> Result<()> {
    check_npy(&args.output, "the output")?;
    let mut structures = nesf::io::read(&args.input)?;
    if let Some(n) = args.limit {
        structures.truncate(n.max(1));
    }
    let model = args.model.load()?;
    let mut out = LatentWriter::create(&args.output, structures.len(), model.latent_size())?;
    let bar = progress::bar(structures.len(), "encoding");
    for (c, chunk) in structures.chunks(ENCODE_CHUNK).enumerate() {
        let latents = model.encode(chunk).map_err(|e| match e {
            Error::InvalidArgument(m) => Error::InvalidArgument(format!(
                "{m} (counting from structure {} of {})",
                c * ENCODE_CHUNK,
                args.input.display()
            )),
            e => e,
        })?;
        out.push(&latents)?;
        bar.inc(chunk.len() as u64);
    }
    out.finish()?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} latent(s) of size {} to {} (model on {})",
        structures.len(),
        model.latent_size(),
        args.output.display(),
        model.provider().active
    );
    Ok(())
}
