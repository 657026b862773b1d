//! `nesf`: the command-line door onto the library (evaluation, conversion).

mod convert;
mod decode_args;
mod eval;
mod progress;

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
    /// Decode every structure of a file and print the paper's metrics.
    Eval(eval::EvalArgs),
    /// Convert structures between formats (chosen by file name: .cif, .xyz/.extxyz,
    /// POSCAR/CONTCAR/.vasp).
    Convert(convert::ConvertArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Eval(args) => eval::run(args),
        Command::Convert(args) => convert::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
