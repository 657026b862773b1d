//! `nesf autoencode IN -o OUT`: encode structures, decode them back, write what came back and
//! show it next to the input.

use std::path::PathBuf;

use clap::Args;
use nesf::crystal::lattice::distance;
use nesf::io::StructureWriter;
use nesf::{DecodedStructure, Structure};

use crate::decode_args::DecodeArgs;
use crate::eval::{decoded_name, evaluate, print_table};
use crate::interrupt::interrupted;
use crate::model_args::ModelArgs;
use crate::progress;
use crate::symmetry_args::SymmetryArgs;

/// Arguments of `nesf autoencode`.
#[derive(Args, Debug)]
pub struct AutoencodeArgs {
    /// Structures to autoencode (.cif, .xyz/.extxyz, POSCAR/CONTCAR/.vasp)
    input: PathBuf,
    /// Where to write the decoded structures (format from the name)
    #[arg(short, long)]
    output: PathBuf,
    /// Autoencode only the first N structures of the input
    #[arg(long)]
    limit: Option<usize>,
    #[command(flatten)]
    symmetry: SymmetryArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    decode: DecodeArgs,
}

/// Runs the autoencoder and prints the comparison.
pub fn run(args: AutoencodeArgs) -> nesf::Result<()> {
    let mut structures = nesf::io::read(&args.input)?;
    if let Some(n) = args.limit {
        structures.truncate(n.max(1));
    }
    // an output name of no known format fails now, not after the decode
    let mut out = StructureWriter::create(&args.output)?;
    let model = args.model.load()?;
    let bar = progress::bar(structures.len(), "autoencoding");
    let latents = model.encode(&structures)?;
    let options = args.decode.options(Some(model.decode_options()));
    let decoded = model.decode_monitored(&latents, &options, &|n| {
        bar.set_position(n as u64);
        !interrupted()
    })?;
    bar.finish_and_clear();

    let built: Vec<nesf::Result<Structure>> =
        decoded.iter().map(DecodedStructure::to_structure).collect();
    for ((t, d), b) in structures.iter().zip(&decoded).zip(&built) {
        print_comparison(t, d, b, &args.symmetry);
    }
    let mut written = Vec::new();
    let mut failed = Vec::new();
    for (t, b) in structures.iter().zip(built) {
        match b {
            Ok(s) => written.push(decoded_name(t, s)),
            Err(e) => failed.push(format!("{}: {e}", t.id().unwrap_or("?"))),
        }
    }
    if !written.is_empty() {
        out.push(&written)?;
        out.finish()?;
    }
    println!();
    print_table(&evaluate(&structures, &decoded));
    eprintln!(
        "wrote {} decoded structure(s) to {} (model on {})",
        written.len(),
        args.output.display(),
        model.provider().active
    );
    for f in &failed {
        eprintln!("not written: {f}");
    }
    Ok(())
}

/// Prints one structure and its reconstruction side by side.
/// `built` is `d` as a structure (or why it is none).
fn print_comparison(
    t: &Structure,
    d: &DecodedStructure,
    built: &nesf::Result<Structure>,
    symmetry: &SymmetryArgs,
) {
    let (tp, dp) = (t.lattice().parameters(), d.lattice.parameters);
    let (formula, group) = match built {
        Ok(s) => (s.formula(), symmetry.label(s)),
        Err(_) if d.failure.is_some() => ("(failed)".into(), "-".into()),
        Err(_) if d.is_empty() => ("(no atom)".into(), "-".into()),
        Err(_) => ("(no cell)".into(), "-".into()),
    };
    println!(
        "{:<14} {:<12} -> {:<12} {} -> {}  atoms {:>3} -> {:<3} a b c {:.3} {:.3} {:.3} -> {:.3} {:.3} {:.3}  angles {:.1} {:.1} {:.1} -> {:.1} {:.1} {:.1}",
        t.id().unwrap_or("?"),
        t.formula(),
        formula,
        symmetry.label(t),
        group,
        t.len(),
        d.len(),
        tp.a, tp.b, tp.c, dp.a, dp.b, dp.c,
        tp.alpha, tp.beta, tp.gamma, dp.alpha, dp.beta, dp.gamma,
    );
    // each input atom and the nearest decoded atom
    for (z, p) in t.numbers().iter().zip(t.positions()) {
        let nearest = d
            .positions
            .iter()
            .zip(&d.numbers)
            .map(|(q, &zq)| (distance(*p, *q), zq))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let sym = nesf::crystal::elements::symbol(*z).unwrap_or("?");
        match nearest {
            Some((dist, zq)) => println!(
                "    {sym:<2} {:>7.3} {:>7.3} {:>7.3}   nearest decoded {:<2} at {:.3} Å",
                p[0],
                p[1],
                p[2],
                nesf::crystal::elements::symbol(zq).unwrap_or("?"),
                dist
            ),
            None => println!(
                "    {sym:<2} {:>7.3} {:>7.3} {:>7.3}   (nothing decoded)",
                p[0], p[1], p[2]
            ),
        }
    }
}
