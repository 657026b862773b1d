//! `nesf convert IN OUT`: structure file conversion.

use std::path::PathBuf;

use clap::Args;

/// Arguments of `nesf convert`.
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Input file (.cif, .xyz/.extxyz, POSCAR/CONTCAR/.vasp)
    input: PathBuf,
    /// Output file; its name chooses the format
    output: PathBuf,
}

/// Reads every structure of the input and writes them to the output.
pub fn run(args: ConvertArgs) -> nesf::Result<()> {
    let structures = nesf::io::read(&args.input)?;
    nesf::io::write(&args.output, &structures)?;
    eprintln!(
        "wrote {} structure(s) to {}",
        structures.len(),
        args.output.display()
    );
    Ok(())
}
