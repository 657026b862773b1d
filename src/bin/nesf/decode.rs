//! `nesf decode LATENTS.npy -o OUT`: the structures of latent vectors, streamed chunk by
//! chunk so that any number of latents decodes in bounded memory.

use std::path::PathBuf;

use clap::Args;
use nesf::io::{LatentReader, StructureWriter};
use nesf::model::networks::ENCODE_CHUNK;
use nesf::{Error, Result};

use crate::decode_args::DecodeArgs;
use crate::encode::check_npy;
use crate::interrupt::interrupted;
use crate::model_args::ModelArgs;
use crate::progress;

/// Arguments of `nesf decode`.
#[derive(Args, Debug)]
pub struct DecodeCommandArgs {
    /// Latents to decode: a NumPy .npy file of float32, shape (n, latent size)
    input: PathBuf,
    /// Where to write the structures (.cif or .xyz/.extxyz; POSCAR for one latent); the
    /// structure of row i is named "<input name>-i"
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    decode: DecodeArgs,
}

/// Greatest common divisor.
fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Decodes every latent of the file and writes the structures.
pub fn run(args: DecodeCommandArgs) -> Result<()> {
    check_npy(&args.input, "the input")?;
    let mut latents = LatentReader::open(&args.input)?;
    // fails now, not after the decode, for an output name of no known format
    let mut out = StructureWriter::create(&args.output)?;
    let model = args.model.load()?;
    if latents.latent_size() != model.latent_size() {
        return Err(Error::InvalidArgument(format!(
            "{} holds latents of size {}, but the model's latent size is {}",
            args.input.display(),
            latents.latent_size(),
            model.latent_size()
        )));
    }
    let options = args.decode.options(Some(model.decode_options()));
    options.validate()?;
    // chunks of whole decode batches and whole latent-term runs, so that every structure
    // decodes exactly as `nesf autoencode` decodes it
    let b = options.batch_size;
    let chunk = (b / gcd(b, ENCODE_CHUNK)).saturating_mul(ENCODE_CHUNK);
    let stem = args
        .input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "latent".into());
    let total = latents.len();
    let bar = progress::bar(total, "decoding");
    // failures: counted, the first few named (a long run must not print or keep them all)
    const SHOWN: usize = 10;
    let (mut row, mut failures, mut failed) = (0usize, 0usize, Vec::new());
    while let Some(z) = latents.read_chunk(chunk)? {
        let done = row;
        let decoded = model.decode_monitored(&z, &options, &|n| {
            bar.set_position((done + n) as u64);
            !interrupted()
        })?;
        let mut built = Vec::with_capacity(decoded.len());
        for d in decoded {
            match d.to_structure() {
                Ok(s) => built.push(s.with_id(format!("{stem}-{row}"))),
                Err(e) => {
                    failures += 1;
                    if failed.len() < SHOWN {
                        failed.push(format!("{stem}-{row}: {e}"));
                    }
                }
            }
            row += 1;
        }
        out.push(&built)?;
    }
    bar.finish_and_clear();
    let written = out.len();
    if written > 0 {
        out.finish()?;
    }
    for f in &failed {
        eprintln!("not written: {f}");
    }
    if failures > failed.len() {
        eprintln!("not written: {} more", failures - failed.len());
    }
    if written == 0 {
        return Err(Error::InvalidArgument(format!(
            "none of the {total} latent(s) decoded to a structure; {} not written",
            args.output.display()
        )));
    }
    eprintln!(
        "wrote {written} of {total} decoded structure(s) to {} (model on {})",
        args.output.display(),
        model.provider().active
    );
    Ok(())
}
