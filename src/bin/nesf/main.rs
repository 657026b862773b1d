//! `nesf`: the command-line door onto the library (autoencoding, evaluation, conversion, model
//! information).

mod autoencode;
mod convert;
mod decode;
mod decode_args;
mod encode;
mod eval;
mod info;
mod interpolate;
mod interrupt;
mod model_args;
mod progress;
mod symmetry_args;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Neural Structure Fields: crystal structures from latent vectors.
#[derive(Parser)]
#[command(name = "nesf", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Encode structures, decode them back, write the result and compare.
    Autoencode(autoencode::AutoencodeArgs),
    /// Encode structures to latent vectors, written as a NumPy .npy file (one row each).
    Encode(encode::EncodeArgs),
    /// Decode the latent vectors of a NumPy .npy file to structures.
    Decode(decode::DecodeCommandArgs),
    /// Decode every structure of a file (with a model or the exact oracle field) and print the
    /// paper's metrics.
    Eval(eval::EvalArgs),
    /// Show the ONNX Runtime in use, the model's facts and its execution provider.
    Info(info::InfoArgs),
    /// Decode structures along the straight path between the latents of two structures.
    Interpolate(interpolate::InterpolateArgs),
    /// Convert structures between formats (chosen by file name: .cif, .xyz/.extxyz,
    /// POSCAR/CONTCAR/.vasp).
    Convert(convert::ConvertArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    interrupt::install();
    let result = match cli.command {
        Command::Autoencode(args) => autoencode::run(args),
        Command::Encode(args) => encode::run(args),
        Command::Decode(args) => decode::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Info(args) => info::run(args),
        Command::Interpolate(args) => interpolate::run(args),
        Command::Convert(args) => convert::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ nesf::Error::Cancelled(_)) => {
            eprintln!("interrupted: {e}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
