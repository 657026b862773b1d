//! `nesf eval FILE`: decode structures with the oracle field or a model and report the paper's
//! metrics.

use std::path::PathBuf;

use clap::Args;
use nesf::decode::decode_with_progress;
use nesf::{DecodedStructure, Metrics, MetricsAccumulator, OracleField, Structure};

use crate::decode_args::DecodeArgs;
use crate::model_args::ModelArgs;
use crate::progress;

/// Arguments of `nesf eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Decode with the exact (oracle) field of the structures themselves instead of a model
    #[arg(long, conflicts_with = "model")]
    oracle: bool,
    /// Structures to evaluate (.cif, .xyz/.extxyz, POSCAR/CONTCAR/.vasp)
    file: PathBuf,
    /// Print one JSON object with the metrics on stdout
    #[arg(long)]
    json: bool,
    /// Evaluate only the first N structures of the file
    #[arg(long)]
    limit: Option<usize>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    decode: DecodeArgs,
}

/// Runs the evaluation and prints the metrics.
pub fn run(args: EvalArgs) -> nesf::Result<()> {
    let mut structures = nesf::io::read(&args.file)?;
    if let Some(n) = args.limit {
        structures.truncate(n.max(1));
    }
    let bar = progress::bar(structures.len(), "decoding");
    let tick = |n: usize| bar.set_position(n as u64);
    let decoded = if args.oracle {
        let field = OracleField::new(&structures)?;
        let items: Vec<usize> = (0..structures.len()).collect();
        decode_with_progress(&field, &items, &args.decode.options(None), &tick)?
    } else {
        let model = args.model.load()?;
        bar.set_message("encoding");
        let latents = model.encode(&structures)?;
        bar.set_message("decoding");
        let options = args.decode.options(Some(model.decode_options()));
        model.decode_with_progress(&latents, &options, &tick)?
    };
    bar.finish_and_clear();
    let metrics = evaluate(&structures, &decoded);
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&metrics).expect("metrics serialise to JSON")
        );
    } else {
        print_table(&metrics);
        let mismatched: Vec<String> = structures
            .iter()
            .zip(&decoded)
            .filter(|(t, d)| t.len() != d.len())
            .map(|(t, d)| format!("{} ({} -> {})", t.id().unwrap_or("?"), t.len(), d.len()))
            .collect();
        if !mismatched.is_empty() && mismatched.len() <= 20 {
            println!("atom count differs for: {}", mismatched.join(", "));
        }
    }
    Ok(())
}

/// The metrics of decoded structures against the originals.
pub fn evaluate(truth: &[Structure], decoded: &[DecodedStructure]) -> Metrics {
    let mut acc = MetricsAccumulator::new();
    for (t, d) in truth.iter().zip(decoded) {
        acc.add_decoded(t, d);
    }
    acc.finish()
}

/// Prints the metrics as a table.
pub fn print_table(m: &Metrics) {
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
