//! `nesf info`: the ONNX Runtime in use, the model's facts and its execution provider.

use clap::Args;
use nesf::crystal::elements;

use crate::model_args::ModelArgs;

/// Arguments of `nesf info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Print one JSON object on stdout
    #[arg(long)]
    json: bool,
}

/// Loads the model and prints what it is and where it runs.
pub fn run(args: InfoArgs) -> nesf::Result<()> {
    let model = args.model.load()?;
    let runtime = nesf::model::runtime::info().expect("loading a model loads ONNX Runtime");
    let m = model.manifest();
    if args.json {
        let v = serde_json::json!({
            "nesf_version": env!("CARGO_PKG_VERSION"),
            "onnxruntime": runtime,
            "provider": model.provider(),
            "manifest": m,
        });
        println!("{v}");
        return Ok(());
    }
    println!("nesf {}", env!("CARGO_PKG_VERSION"));
    println!(
        "ONNX Runtime {} from {} ({:?}); providers offered: {}",
        runtime.version,
        runtime.path.display(),
        runtime.discovery,
        runtime.available_providers.join(", ")
    );
    println!("execution provider: {}", model.provider().describe());
    println!("bundle format {} version {}", m.format, m.format_version);
    println!("latent size {}", m.latent_size);
    let symbols: Vec<&str> = m
        .vocabulary
        .iter()
        .map(|&z| elements::symbol(z).unwrap_or("?"))
        .collect();
    println!("species ({}): {}", symbols.len(), symbols.join(" "));
    println!(
        "decoding box (Å): {:?} .. {:?}",
        m.bounding_box.min, m.bounding_box.max
    );
    let d = &m.decode;
    println!(
        "decoder defaults: grid {} Å, {} steps, last step <= {} Å, NMS {} Å with >= {} particles, {} species-vote points, {}",
        d.grid_step,
        d.steps,
        d.max_last_step,
        d.nms_radius,
        d.min_particles,
        d.species_offsets.len().pow(3),
        if d.symprec > 0.0 {
            format!("symmetrised at {} Å", d.symprec)
        } else {
            "not symmetrised".to_string()
        }
    );
    let pr = &m.provenance;
    println!(
        "trained on {} ({} structures, {} epochs) by {}",
        pr.dataset, pr.training_structures, pr.epochs, pr.created_by
    );
    if let Some(v) = &pr.validation {
        println!(
            "validation: atom-count error {:.2} %, position error {:.4} Å, species error {:.2} %",
            100.0 * v.atom_count_error,
            v.position_error_actual,
            100.0 * v.species_error_actual
        );
    }
    if !pr.notes.is_empty() {
        println!("notes: {}", pr.notes);
    }
    Ok(())
}
