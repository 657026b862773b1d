//! `nesf eval --oracle FILE`: decode structures and report the paper's metrics.

use std::path::PathBuf;

use clap::Args;
use nesf::{decode::decode_with_progress, Metrics, MetricsAccumulator, OracleField};

use crate::decode_args::DecodeArgs;
use crate::progress;

/// Arguments of `nesf eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Decode with the exact (oracle) field of the structures themselves
    #[arg(long, required = true)]
    oracle: bool,
    /// Structures to decode (.cif, .xyz/.extxyz, POSCAR/CONTCAR/.vasp)
    file: PathBuf,
    /// Print one JSON object with the metrics on stdout
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    decode: DecodeArgs,
}

/// Runs the evaluation and prints the metrics.
pub fn run(args: EvalArgs) -> nesf::Result<()> {
    let structures = nesf::io::read(&args.file)?;
    let field = OracleField::new(&structures)?;
    let items: Vec<usize> = (0..structures.len()).collect();
    let bar = progress::bar(items.len(), "decoding");
    let decoded = decode_with_progress(&field, &items, &args.decode.options(), &|n| {
        bar.set_position(n as u64)
    })?;
    bar.finish_and_clear();

    let mut acc = MetricsAccumulator::new();
    let mut mismatched = Vec::new();
    for (truth, d) in structures.iter().zip(&decoded) {
        acc.add_decoded(truth, d);
        if d.len() != truth.len() {
            mismatched.push(format!(
                "{} ({} atoms, {} found)",
                truth.id().unwrap_or("?"),
                truth.len(),
                d.len()
            ));
        }
    }
    let metrics = acc.finish();
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&metrics).expect("metrics serialise to JSON")
        );
    } else {
        print_table(&metrics);
        if !mismatched.is_empty() {
            println!("atom count differs for: {}", mismatched.join(", "));
        }
    }
    Ok(())
}

fn print_table(m: &Metrics) {
    println!("structures               {}", m.structures);
    println!("failures (no atom)       {}", m.failures);
    println!(
        "atom count error         {:.2} %",
        100.0 * m.atom_count_error
    );
    println!("position error actual    {:.4} Å", m.position_error_actual);
    println!(
        "position error detected  {:.4} Å",
        m.position_error_detected
    );
    println!(
        "species error actual     {:.2} %",
        100.0 * m.species_error_actual
    );
    println!(
        "species error detected   {:.2} %",
        100.0 * m.species_error_detected
    );
    println!("lattice length error     {:.4} Å", m.lattice_length_error);
    println!(
        "lattice angle error      {:.4} deg",
        m.lattice_angle_error_deg
    );
}
