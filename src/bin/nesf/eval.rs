//! `nesf eval FILE`: decode structures with the oracle field or a model and report the paper's
//! metrics.

use std::path::PathBuf;

use clap::Args;
use nesf::decode::decode_monitored;
use nesf::io::StructureWriter;
use nesf::{BoundingBox, DecodedStructure, Metrics, MetricsAccumulator, OracleField, Structure};

use crate::decode_args::DecodeArgs;
use crate::interrupt::interrupted;
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
    /// Also write the decoded structures here (.cif or .xyz/.extxyz), each named after its
    /// input ("<id>-decoded"); structures that decode to no atom or no cell are left out
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    decode: DecodeArgs,
}

/// Runs the evaluation and prints the metrics. Structures go through encoding, decoding and
/// scoring one decoder batch at a time, so memory stays bounded by the batch size, not by the
/// number of structures.
pub fn run(args: EvalArgs) -> nesf::Result<()> {
    let mut structures = nesf::io::read(&args.file)?;
    if let Some(n) = args.limit {
        structures.truncate(n.max(1));
    }
    let mut output = args
        .output
        .as_ref()
        .map(StructureWriter::create)
        .transpose()?;
    let bar = progress::bar(structures.len(), "decoding");
    let model = if args.oracle {
        None
    } else {
        Some(args.model.load()?)
    };
    let options = args
        .decode
        .options(model.as_ref().map(|m| m.decode_options()));
    options.validate()?;
    // the oracle decodes over the box of all the file's structures, whichever chunk it holds
    let oracle_box = if args.oracle {
        Some(BoundingBox::of_structures(&structures)?)
    } else {
        None
    };
    let mut acc = MetricsAccumulator::new();
    let mut mismatched = Vec::new();
    let mut done = 0;
    for chunk in structures.chunks(options.batch_size) {
        let tick = |n: usize| {
            bar.set_position((done + n) as u64);
            !interrupted()
        };
        let decoded = match &model {
            None => {
                let field = OracleField::new(chunk)?
                    .with_bounding_box(oracle_box.expect("set for the oracle"));
                let items: Vec<usize> = (0..chunk.len()).collect();
                decode_monitored(&field, &items, &options, &tick)?
            }
            Some(model) => {
                let latents = model.encode(chunk)?;
                model.decode_monitored(&latents, &options, &tick)?
            }
        };
        if let Some(out) = output.as_mut() {
            let built: Vec<Structure> = chunk
                .iter()
                .zip(&decoded)
                .filter_map(|(t, d)| Some(decoded_name(t, d.to_structure().ok()?)))
                .collect();
            out.push(&built)?;
        }
        for (t, d) in chunk.iter().zip(&decoded) {
            acc.add_decoded(t, d);
            if t.len() != d.len() {
                mismatched.push(format!(
                    "{} ({} -> {})",
                    t.id().unwrap_or("?"),
                    t.len(),
                    d.len()
                ));
            }
        }
        done += chunk.len();
    }
    bar.finish_and_clear();
    if let Some(out) = output {
        out.finish()?;
    }
    let metrics = acc.finish();
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&metrics).expect("metrics serialise to JSON")
        );
    } else {
        print_table(&metrics);
        if !mismatched.is_empty() && mismatched.len() <= 20 {
            println!("atom count differs for: {}", mismatched.join(", "));
        }
    }
    Ok(())
}

/// A decoded structure named after its input: "<id>-decoded" (no id: none).
pub fn decoded_name(input: &Structure, decoded: Structure) -> Structure {
    match input.id() {
        Some(id) => decoded.with_id(format!("{id}-decoded")),
        None => decoded,
    }
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
