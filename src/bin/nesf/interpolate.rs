//! `nesf interpolate A B --steps N -o DIR`: decode structures along the straight line between
//! the latents of two structures.

use std::path::{Path, PathBuf};

use clap::Args;
use nesf::model::Latents;
use nesf::{Error, Structure};

use crate::decode_args::DecodeArgs;
use crate::model_args::ModelArgs;
use crate::symmetry_args::SymmetryArgs;

/// Arguments of `nesf interpolate`.
#[derive(Args, Debug)]
pub struct InterpolateArgs {
    /// File of the first structure
    a: PathBuf,
    /// File of the second structure
    b: PathBuf,
    /// Structure of A to use, by id (e.g. a material id); default: the first
    #[arg(long)]
    a_id: Option<String>,
    /// Structure of B to use, by id; default: the first
    #[arg(long)]
    b_id: Option<String>,
    /// Number of structures along the path, both ends included
    #[arg(long, default_value_t = 8)]
    steps: usize,
    /// Output folder (created); one file per step
    #[arg(short, long)]
    output: PathBuf,
    /// Output format: cif, xyz or vasp
    #[arg(long, default_value = "cif")]
    format: String,
    #[command(flatten)]
    symmetry: SymmetryArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    decode: DecodeArgs,
}

/// The structure of `path` with identifier `id`, or its first one.
fn pick(path: &Path, id: Option<&str>) -> nesf::Result<Structure> {
    let all = nesf::io::read(path)?;
    match id {
        None => Ok(all
            .into_iter()
            .next()
            .expect("read() returns at least one structure")),
        Some(id) => all.into_iter().find(|s| s.id() == Some(id)).ok_or_else(|| {
            Error::InvalidArgument(format!("no structure with id '{id}' in {}", path.display()))
        }),
    }
}

/// Encodes both ends, decodes the path and writes one file per step.
pub fn run(args: InterpolateArgs) -> nesf::Result<()> {
    let ext = match args.format.as_str() {
        "cif" | "xyz" | "vasp" => args.format.as_str(),
        other => {
            return Err(Error::InvalidArgument(format!(
                "--format '{other}': expected cif, xyz or vasp"
            )))
        }
    };
    let ends = [
        pick(&args.a, args.a_id.as_deref())?,
        pick(&args.b, args.b_id.as_deref())?,
    ];
    let model = args.model.load()?;
    let z = model.encode(&ends)?;
    let path = Latents::interpolate(
        z.get(0).expect("two latents"),
        z.get(1).expect("two latents"),
        args.steps,
    )?;
    let options = args.decode.options(Some(model.decode_options()));
    let decoded = model.decode(&path, &options)?;
    std::fs::create_dir_all(&args.output).map_err(|e| Error::io(&args.output, e))?;
    println!(
        "A = {} ({}, {}), B = {} ({}, {})",
        ends[0].id().unwrap_or("?"),
        ends[0].formula(),
        args.symmetry.label(&ends[0]),
        ends[1].id().unwrap_or("?"),
        ends[1].formula(),
        args.symmetry.label(&ends[1])
    );
    println!(
        "step  t      atoms  formula          a      b      c      alpha  beta   gamma   \
         space group  file"
    );
    for (i, d) in decoded.iter().enumerate() {
        let t = i as f64 / (args.steps - 1) as f64;
        let p = d.lattice.parameters;
        let (formula, group, file) = match d.to_structure() {
            Ok(s) => {
                let file = args.output.join(format!("step_{i:03}.{ext}"));
                nesf::io::write(&file, &[s.clone().with_id(format!("step_{i:03}"))])?;
                (
                    s.formula(),
                    args.symmetry.label(&s),
                    file.display().to_string(),
                )
            }
            Err(_) => {
                let why = if d.failure.is_some() {
                    "(failed)"
                } else if d.is_empty() {
                    "(no atom)"
                } else {
                    "(no cell)"
                };
                (why.to_string(), "-".to_string(), "-".to_string())
            }
        };
        println!(
            "{i:>4}  {t:.3}  {:>5}  {formula:<15}  {:.3}  {:.3}  {:.3}  {:.2}  {:.2}  {:.2}  {group:<12} {file}",
            d.len(),
            p.a,
            p.b,
            p.c,
            p.alpha,
            p.beta,
            p.gamma
        );
    }
    Ok(())
}
