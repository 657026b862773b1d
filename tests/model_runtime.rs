//! Model bundles and ONNX Runtime inference: loading and validation, agreement with the plain
//! Rust forward pass, execution-provider reporting, and decoding end to end.

mod common;

use common::{data, random_bundle, random_bundle_of};
use nesf::model::bundle::MANIFEST;
use nesf::model::runtime::{self, Discovery};
use nesf::model::{Bundle, Latents, Model, ModelOptions, Provider};
use nesf::{decode, DecodeOptions, Field, Query};

/// max |a - b| / max(1, max |b|)
fn relative_error(actual: &[f32], expected: &[f32]) -> f64 {
    assert_eq!(actual.len(), expected.len());
    let scale = expected
        .iter()
        .fold(1f64, |m, &x| m.max(f64::from(x).abs()));
    let diff = actual
        .iter()
        .zip(expected)
        .fold(0f64, |m, (&a, &b)| m.max(f64::from(a - b).abs()));
    diff / scale
}

#[test]
fn runtime_reports_what_it_loaded() {
    let info = runtime::load(None).unwrap();
    assert!(info.path.exists(), "{info:?}");
    assert_eq!(info.discovery, Discovery::Environment);
    assert!(info.version.starts_with("1."), "{info:?}");
    assert!(info
        .available_providers
        .iter()
        .any(|p| p == "CPUExecutionProvider"));
    // a different explicit path after loading is refused, the same one accepted
    let e =
        runtime::load(Some(std::path::Path::new("/nonexistent/libonnxruntime.so"))).unwrap_err();
    assert!(e.to_string().contains("already loaded"), "{e}");
    runtime::load(Some(&info.path)).unwrap();
}

#[test]
fn model_matches_the_reference_forward_pass() {
    matches_the_reference(false);
}

/// The positional-encoding variant's bundle: its manifest says so, its field graphs encode the
/// points themselves, and decoding runs on it.
#[test]
fn positional_encoding_model_matches_the_reference_forward_pass_and_decodes() {
    matches_the_reference(true);
    let structures = data("ybco13.extxyz");
    let (bundle, _) = random_bundle_of(&structures, 5, true);
    assert!(bundle.manifest().positional_encoding);
    let back = Bundle::from_bytes(&bundle.to_bytes().unwrap()).unwrap();
    let model = Model::from_bundle(back, &ModelOptions::default()).unwrap();
    let latents = model.encode(&structures[..2]).unwrap();
    let options = DecodeOptions {
        steps: 8,
        ..Default::default()
    };
    assert_eq!(model.decode(&latents, &options).unwrap().len(), 2);
}

fn matches_the_reference(encoded: bool) {
    let structures = data("ybco13.extxyz");
    let (bundle, weights) = random_bundle_of(&structures, 7, encoded);
    let model = Model::from_bundle(bundle, &ModelOptions::default()).unwrap();
    assert_eq!(model.provider().active, Provider::Cpu);

    let sample = &structures[..9];
    let latents = model.encode(sample).unwrap();
    assert_eq!(latents.len(), 9);
    let vocab = model.vocabulary().clone();
    for (i, s) in sample.iter().enumerate() {
        let f = nesf::model::graphs::structure_features(s, &vocab).unwrap();
        let z = weights
            .encode_structure(&f.positions, &f.classes, f.lattice)
            .unwrap();
        let e = relative_error(latents.get(i).unwrap(), &z);
        assert!(e <= 1e-5, "encoder error {e} for structure {i}");
    }

    let field = model.field(&latents).unwrap();
    // batch sizes 1, 7 and 10 000, spread over latents in an uneven order
    for n in [1usize, 7, 10_000] {
        let items = [3usize, 0, 8];
        let counts = [n / 2, n - n / 2 - n / 3, n / 3];
        let points: Vec<[f32; 3]> = (0..n)
            .map(|i| {
                let t = i as f32 * 0.618;
                [
                    (t * 1.3).sin() * 4.0 + 2.0,
                    (t * 0.7).cos() * 4.0 + 2.0,
                    (t * 0.1) % 12.0,
                ]
            })
            .collect();
        let query = Query {
            items: &items,
            counts: &counts,
            points: &points,
        };
        let mut disp = vec![[0f32; 3]; n];
        field.displacements(&query, &mut disp).unwrap();
        let mut logits = vec![0f32; n * vocab.len()];
        field.species_logits(&query, &mut logits).unwrap();
        let (mut want_d, mut want_s) = (Vec::new(), Vec::new());
        let mut start = 0;
        for (&item, &count) in items.iter().zip(&counts) {
            let z = latents.get(item).unwrap();
            for p in &points[start..start + count] {
                want_d.extend(weights.position_field(z, *p).unwrap());
                want_s.extend(weights.species_field(z, *p).unwrap());
            }
            start += count;
        }
        let e = relative_error(disp.as_flattened(), &want_d);
        assert!(e <= 1e-5, "position field error {e} at batch {n}");
        let e = relative_error(&logits, &want_s);
        assert!(e <= 1e-5, "species field error {e} at batch {n}");
    }

    let lattices = field.lattices(&[0, 4]).unwrap();
    for (l, i) in lattices.iter().zip([0, 4]) {
        let (len, ang) = weights.lattice(latents.get(i).unwrap()).unwrap();
        let p = l.parameters;
        for k in 0..3 {
            assert!((p.lengths()[k] - f64::from(len[k])).abs() < 1e-5);
            assert!((p.angles()[k] - f64::from(ang[k]).to_degrees()).abs() < 1e-3);
        }
    }
}

#[test]
fn decoding_with_networks_is_deterministic() {
    let structures = data("ybco13.extxyz");
    let (bundle, _) = random_bundle(&structures, 11);
    let model = Model::from_bundle(bundle, &ModelOptions::default()).unwrap();
    let latents = model.encode(&structures[..3]).unwrap();
    let options = DecodeOptions {
        steps: 8,
        ..Default::default()
    };
    let a = model.decode(&latents, &options).unwrap();
    let b = model.decode(&latents, &options).unwrap();
    assert_eq!(a, b);
    let one = DecodeOptions {
        batch_size: 1,
        ..options.clone()
    };
    let field = model.field(&latents).unwrap();
    let c = decode(&field, &[0, 1, 2], &one).unwrap();
    assert_eq!(a, c);
    assert_eq!(a.len(), 3);
}

#[test]
fn bundles_round_trip_as_file_and_folder() {
    let structures = data("ybco13.extxyz");
    let (bundle, _) = random_bundle(&structures, 3);
    let bytes = bundle.to_bytes().unwrap();
    let back = Bundle::from_bytes(&bytes).unwrap();
    assert_eq!(back.manifest(), bundle.manifest());
    assert_eq!(back.position_field(), bundle.position_field());
    let dir = tempfile::tempdir().unwrap();
    bundle.write_dir(dir.path().join("m")).unwrap();
    let from_dir = Bundle::load(dir.path().join("m")).unwrap();
    assert_eq!(from_dir.manifest(), bundle.manifest());
    bundle.write_file(dir.path().join("m.nesf")).unwrap();
    let model = Model::load(dir.path().join("m.nesf"), &ModelOptions::default()).unwrap();
    assert_eq!(model.latent_size(), 192);
}

#[test]
fn bad_bundles_are_named_errors() {
    let structures = data("ybco13.extxyz");
    let (bundle, _) = random_bundle(&structures, 5);
    let dir = tempfile::tempdir().unwrap();
    let fresh = |name: &str| {
        let d = dir.path().join(name);
        bundle.write_dir(&d).unwrap();
        d
    };
    let err = |path: &std::path::Path| Bundle::load(path).unwrap_err().to_string();

    let d = fresh("missing");
    std::fs::remove_file(d.join("species_field.onnx")).unwrap();
    assert!(
        err(&d).contains("species_field graph 'species_field.onnx'"),
        "{}",
        err(&d)
    );

    // a replaced graph: its checksum names it
    let d = fresh("notonnx");
    std::fs::write(d.join("encoder.onnx"), b"this is not a model").unwrap();
    assert!(
        err(&d).contains("graph encoder.onnx is corrupt") && err(&d).contains("SHA-256"),
        "{}",
        err(&d)
    );

    let edit_manifest = |name: &str, f: &dyn Fn(&mut serde_json::Value)| {
        let d = fresh(name);
        let text = std::fs::read_to_string(d.join(MANIFEST)).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        f(&mut v);
        std::fs::write(d.join(MANIFEST), v.to_string()).unwrap();
        d
    };
    let d = edit_manifest("version", &|v| v["format_version"] = 99.into());
    assert!(err(&d).contains("format version 99"), "{}", err(&d));
    let d = edit_manifest("vocab", &|v| {
        v["vocabulary"].as_array_mut().unwrap().pop();
    });
    assert!(err(&d).contains("species"), "{}", err(&d));
    let d = edit_manifest("latent", &|v| v["latent_size"] = 64.into());
    assert!(err(&d).contains("latent"), "{}", err(&d));
    // the same in a bundle from before checksums: the ONNX check names the graph
    let d = edit_manifest("nochecksums", &|v| {
        v.as_object_mut().unwrap().remove("checksums");
    });
    std::fs::write(d.join("encoder.onnx"), b"this is not a model").unwrap();
    assert!(err(&d).contains("encoder graph"), "{}", err(&d));
    let d = edit_manifest("nomanifest", &|_| {});
    std::fs::remove_file(d.join(MANIFEST)).unwrap();
    assert!(err(&d).contains("no manifest.json"), "{}", err(&d));

    let bytes = bundle.to_bytes().unwrap();
    let truncated = Bundle::from_bytes(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(truncated.to_string().contains("bundle"), "{truncated}");
    assert!(Bundle::from_bytes(b"garbage").is_err());
    assert!(Bundle::from_bytes(&vec![7u8; 4096]).is_err());
}

#[test]
fn cuda_is_never_a_silent_fallback() {
    let structures = data("ybco13.extxyz");
    let (bundle, _) = random_bundle(&structures, 2);
    let info = runtime::load(None).unwrap();
    let cuda_build = info
        .available_providers
        .iter()
        .any(|p| p == "CUDAExecutionProvider");
    let cuda = ModelOptions {
        provider: Provider::Cuda { device_id: 0 },
        ..Default::default()
    };
    // CUDA either runs (a GPU build of ONNX Runtime on a machine with a GPU) or is refused
    // with the reason; it never quietly runs on the CPU
    let cuda_runs = match Model::from_bundle(bundle.clone(), &cuda) {
        Ok(model) => {
            assert_eq!(model.provider().active, Provider::Cuda { device_id: 0 });
            let cpu = Model::from_bundle(bundle.clone(), &ModelOptions::default()).unwrap();
            let (a, b) = (
                model.encode(&structures[..2]).unwrap(),
                cpu.encode(&structures[..2]).unwrap(),
            );
            for (x, y) in a.as_flat().iter().zip(b.as_flat()) {
                assert!(
                    (x - y).abs() <= 1e-3 * (1.0 + y.abs()),
                    "CUDA {x} vs CPU {y}"
                );
            }
            true
        }
        Err(e) => {
            assert!(e.to_string().contains("CUDA"), "{e}");
            false
        }
    };
    assert!(
        cuda_build || !cuda_runs,
        "CUDA ran without a CUDA build of ONNX Runtime"
    );
    let fallback = ModelOptions {
        allow_fallback: true,
        ..cuda
    };
    let model = Model::from_bundle(bundle, &fallback).unwrap();
    let report = model.provider();
    assert_eq!(report.requested, Provider::Cuda { device_id: 0 });
    if cuda_runs {
        assert_eq!(report.active, Provider::Cuda { device_id: 0 });
        assert!(report.fallback_reason.is_none());
    } else {
        assert_eq!(report.active, Provider::Cpu);
        assert!(report.fallback_reason.as_deref().unwrap().contains("CUDA"));
    }
}

#[test]
fn bad_inputs_are_errors() {
    let structures = data("ybco13.extxyz");
    let (bundle, _) = random_bundle(&structures, 4);
    let model = Model::from_bundle(bundle, &ModelOptions::default()).unwrap();
    let wrong = Latents::from_flat(3, vec![0.0; 6]).unwrap();
    assert!(model.field(&wrong).is_err());
    // an element outside the vocabulary
    let lcs = data("lcs6-val.extxyz");
    let stranger = lcs
        .iter()
        .find(|s| {
            s.numbers()
                .iter()
                .any(|&z| model.vocabulary().class_of(z).is_none())
        })
        .unwrap();
    let e = model.encode(std::slice::from_ref(stranger)).unwrap_err();
    assert!(
        e.to_string().contains("not in the model's vocabulary"),
        "{e}"
    );
    let latents = model.encode(&structures[..1]).unwrap();
    let field = model.field(&latents).unwrap();
    let mut out = vec![[0f32; 3]; 2];
    let bad = Query {
        items: &[1],
        counts: &[2],
        points: &[[0.0; 3]; 2],
    };
    assert!(field.displacements(&bad, &mut out).is_err());
}
