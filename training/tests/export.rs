//! Export end to end: train a few steps, fold BatchNorm, write the model bundle, load it with
//! the library (ONNX Runtime), compare its fields and lattice with tch, and decode.

mod common;

use common::{flat, max_abs_diff, tiny_config, trainer};
use nesf::model::{Model, ModelOptions};
use nesf::{DecodeOptions, Field, Query};
use nesf_train::data::HostBatch;
use nesf_train::export;
use nesf_train::rng::Rng;
use nesf_train::train::Trainer;
use nesf_train::train::{Outcome, RunOptions, BEST};
use std::path::{Path, PathBuf};
use tch::{Device, Tensor};

/// A tiny run of `epochs` epochs (8 structures, lr 3e-3) in `dir`/run, with or without the
/// positional encoding: its trainer and run folder.
fn train_tiny(dir: &Path, epochs: usize, positional_encoding: bool) -> (Trainer, PathBuf) {
    let mut config = tiny_config(dir, 8);
    config.model.positional_encoding = positional_encoding;
    config.epochs = epochs;
    config.lr = 3e-3;
    let mut t = trainer(config);
    let run = dir.join("run");
    let opts = RunOptions {
        progress_bar: false,
        verbose: false,
        ..RunOptions::default()
    };
    assert_eq!(t.run(&run, &opts).unwrap(), Outcome::Finished);
    (t, run)
}

/// tch's latents (eval mode) of every training structure of `t`.
fn tch_latents(t: &Trainer, model_t: &nesf_train::model::Nesf) -> Tensor {
    let all: Vec<usize> = (0..t.train.len()).collect();
    let host =
        HostBatch::build(&t.train, &t.vocabulary, &all, &t.sampling, &mut Rng::new(1)).unwrap();
    tch::no_grad(|| model_t.encode(&host.to_device(Device::Cpu), false).z)
}

#[test]
fn exported_bundle_matches_tch_and_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let (t, run) = train_tiny(dir.path(), 30, false);

    let bundle_path = dir.path().join("model.nesf");
    let library = export::DecoderDefaults::library();
    let written = export::export(&run.join(BEST), &bundle_path, true, &library).unwrap();
    assert_eq!(written.manifest().decode, DecodeOptions::default());
    // decoder defaults taken from another bundle travel in the manifest and are named
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/default.nesf");
    let from = export::DecoderDefaults::from_bundle(&shipped).unwrap();
    let other = export::export(&run.join(BEST), &dir.path().join("o.nesf"), false, &from).unwrap();
    let shipped_decode = nesf::model::Bundle::load(&shipped)
        .unwrap()
        .manifest()
        .decode
        .clone();
    assert_eq!(other.manifest().decode, shipped_decode);
    assert!(other.manifest().provenance.notes.contains("default.nesf"));
    // a setting chosen for this model goes on top, and is named
    let chosen = export::DecoderDefaults::from_bundle(&shipped)
        .unwrap()
        .with_min_particles(23)
        .unwrap()
        .with_symprec(0.4)
        .unwrap()
        .with_species_vote(nesf::decode::SpeciesVote::Probability);
    assert!(export::DecoderDefaults::library()
        .with_symprec(-1.0)
        .is_err());
    let tuned =
        export::export(&run.join(BEST), &dir.path().join("t.nesf"), false, &chosen).unwrap();
    assert_eq!(tuned.manifest().decode.min_particles, 23);
    assert_eq!(tuned.manifest().decode.symprec, 0.4);
    assert_eq!(
        tuned.manifest().decode.species_vote,
        nesf::decode::SpeciesVote::Probability
    );
    assert_eq!(
        tuned.manifest().decode.nms_radius,
        shipped_decode.nms_radius
    );
    assert!(tuned
        .manifest()
        .provenance
        .notes
        .contains("min particles 23"));
    assert!(export::DecoderDefaults::from_bundle(&dir.path().join("none.nesf")).is_err());
    // the provenance records the bundle's metrics on the run's validation set
    let v = written
        .manifest()
        .provenance
        .validation
        .as_ref()
        .expect("validation metrics");
    assert_eq!(v.structures, 8);
    let (model_t, meta) = export::load_model(&run.join(BEST), Device::Cpu).unwrap();
    let options = ModelOptions {
        threads: 2,
        ..ModelOptions::default()
    };
    let model = Model::load(&bundle_path, &options).unwrap();
    assert_eq!(
        model.vocabulary().numbers(),
        meta.config.vocabulary.as_slice()
    );
    assert_eq!(model.manifest().bounding_box, meta.config.bounding_box);

    // Latents: ONNX Runtime's encoder vs tch's (eval mode).
    let structures = &t.train.structures;
    let latents = model.encode(structures).unwrap();
    let z = tch_latents(&t, &model_t);
    let enc_diff = max_abs_diff(latents.as_flat(), &flat(&z));
    assert!(enc_diff <= 1e-4, "encoder differs by {enc_diff}");

    // Fields at random points around the box, on tch's latents (so only the fields differ).
    let (pos_diff, spec_diff, field, all) = compare_fields(&model, &model_t, &z, &meta);
    let (len_t, ang_t) = tch::no_grad(|| model_t.lattice(&z));
    assert!(pos_diff <= 1e-4, "position field differs by {pos_diff}");
    assert!(spec_diff <= 1e-4, "species field differs by {spec_diff}");

    // Lattice: the library's heads (through its Lattice type) vs tch's.
    let lattices = field.lattices(&all).unwrap();
    let (len_t, ang_t) = (flat(&len_t), flat(&ang_t));
    let mut lat_diff = 0f64;
    for (i, l) in lattices.iter().enumerate() {
        let p = l.parameters;
        let ort = [
            p.a,
            p.b,
            p.c,
            p.alpha.to_radians(),
            p.beta.to_radians(),
            p.gamma.to_radians(),
        ];
        for k in 0..3 {
            lat_diff = lat_diff.max((ort[k] - f64::from(len_t[3 * i + k])).abs());
            lat_diff = lat_diff.max((ort[3 + k] - f64::from(ang_t[3 * i + k])).abs());
        }
    }
    assert!(lat_diff <= 1e-4, "lattice differs by {lat_diff}");
    eprintln!(
        "max abs diff ORT vs tch: encoder {enc_diff:.2e}, position {pos_diff:.2e}, \
         species {spec_diff:.2e}, lattice {lat_diff:.2e}"
    );

    // Decode one structure end to end through the bundle.
    let one = model.encode(&structures[..1]).unwrap();
    let decoded = model.decode(&one, &DecodeOptions::default()).unwrap();
    assert_eq!(decoded.len(), 1);
    let d = &decoded[0];
    assert!(d.numbers.iter().all(|z| meta.config.vocabulary.contains(z)));
    eprintln!(
        "decoded {} atoms (true {}), lattice {:?}",
        d.len(),
        structures[0].len(),
        d.lattice.parameters
    );
}

/// The bundle's fields (ONNX Runtime) against tch's on tch's latents `z` of every structure,
/// at random points around the run's box: the largest differences of the position field and
/// of the species logits, the bundle's field and the structures' indices.
fn compare_fields<'a>(
    model: &'a Model,
    model_t: &nesf_train::model::Nesf,
    z: &Tensor,
    meta: &nesf_train::checkpoint::Meta,
) -> (f64, f64, nesf::model::NetworkField<'a>, Vec<usize>) {
    let latents = nesf::model::Latents::from_flat(192, flat(z)).unwrap();
    let field = model.field(&latents).unwrap();
    let n_items = latents.len();
    let all: Vec<usize> = (0..n_items).collect();
    let per = 500;
    let bb = meta.config.bounding_box;
    let mut rng = Rng::new(42);
    let points: Vec<[f32; 3]> = (0..n_items * per)
        .map(|_| {
            [0, 1, 2]
                .map(|k| (bb.min[k] - 1.0 + (bb.max[k] - bb.min[k] + 2.0) * rng.uniform()) as f32)
        })
        .collect();
    let counts = vec![per; n_items];
    let query = Query {
        items: &all,
        counts: &counts,
        points: &points,
    };
    let mut disp = vec![[0f32; 3]; points.len()];
    field.displacements(&query, &mut disp).unwrap();
    let vocab = model.vocabulary().len();
    let mut logits = vec![0f32; points.len() * vocab];
    field.species_logits(&query, &mut logits).unwrap();

    let pts = Tensor::from_slice(points.as_flattened()).view([-1, 3]);
    let items: Vec<i64> = (0..n_items as i64)
        .flat_map(|i| std::iter::repeat_n(i, per))
        .collect();
    let items = Tensor::from_slice(&items);
    let (pos_t, spec_t) = tch::no_grad(|| {
        (
            model_t.position(z, &items, &pts, false),
            model_t.species(z, &items, &pts, false),
        )
    });
    let pos_diff = max_abs_diff(disp.as_flattened(), &flat(&pos_t));
    let spec_diff = max_abs_diff(&logits, &flat(&spec_t));
    (pos_diff, spec_diff, field, all)
}

#[test]
fn positional_encoding_model_exports_and_matches_tch() {
    let dir = tempfile::tempdir().unwrap();
    let (t, run) = train_tiny(dir.path(), 3, true);
    let path = dir.path().join("pe.nesf");
    let library = export::DecoderDefaults::library();
    let bundle = export::export(&run.join(BEST), &path, false, &library).unwrap();
    assert!(bundle.manifest().positional_encoding);
    let (model_t, meta) = export::load_model(&run.join(BEST), Device::Cpu).unwrap();
    let model = Model::load(&path, &ModelOptions::default()).unwrap();
    let structures = &t.train.structures;
    let z = tch_latents(&t, &model_t);
    let (pos_diff, spec_diff, _, _) = compare_fields(&model, &model_t, &z, &meta);
    assert!(pos_diff <= 1e-4, "position field differs by {pos_diff}");
    assert!(spec_diff <= 1e-4, "species field differs by {spec_diff}");
    // and it decodes
    let latents = model.encode(&structures[..2]).unwrap();
    let options = DecodeOptions {
        steps: 8,
        ..DecodeOptions::default()
    };
    assert_eq!(model.decode(&latents, &options).unwrap().len(), 2);
}
