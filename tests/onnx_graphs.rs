//! The ONNX graphs of `nesf::model::graphs`, run in ONNX Runtime (CPU), against the plain-Rust
//! reference forward pass of `NesfWeights`, with random weights of the paper's sizes
//! (V = 80 species, L = 192).
//!
//! Error measure: `max |onnx - reference| / max(1, max |reference|)` over a whole output tensor,
//! required to be at most 1e-5.
//!
//! ONNX Runtime is loaded from `$NESF_ONNXRUNTIME` (set by `.cargo/config.toml`); provision it
//! with `scripts/provision-onnxruntime.sh`.

use ndarray::{Array1, Array2, Array3, ArrayViewD};
use nesf::model::architecture::Architecture;
use nesf::model::graphs::{self, EncoderInputs};
use nesf::model::onnx_writer::graph_signature;
use nesf::model::NesfWeights;
use ort::environment::Environment;
use ort::logging::LogLevel;
use ort::session::Session;
use ort::value::TensorRef;
use rayon::prelude::*;

const VOCAB: usize = 80;
const LATENT: usize = 192;
const TOLERANCE: f64 = 1e-5;

/// The process-wide ONNX Runtime environment of the library; panics with the library's
/// message (which names the places searched and the provisioning script) when it is missing.
fn environment() -> &'static Environment {
    nesf::model::runtime::environment().unwrap_or_else(|e| panic!("{e}"))
}

/// A CPU session of a serialised graph.
fn session(bytes: &[u8]) -> Session {
    let env = environment();
    let mut builder = Session::builder(env).expect("session builder");
    builder
        .commit_from_memory(bytes)
        .unwrap_or_else(|e| panic!("ONNX Runtime rejected the graph: {e}"))
}

/// A session that logs only fatal errors (for runs that are meant to fail).
fn quiet_session(bytes: &[u8]) -> Session {
    let env = environment();
    let mut builder = Session::builder(env)
        .and_then(|b| b.with_log_level(LogLevel::Fatal).map_err(Into::into))
        .expect("session builder");
    builder
        .commit_from_memory(bytes)
        .unwrap_or_else(|e| panic!("ONNX Runtime rejected the graph: {e}"))
}

// --- test data ---------------------------------------------------------------------------------

/// Deterministic uniform numbers for test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f32 {
        (lo + (hi - lo) * self.next()) as f32
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next() * n as f64) as usize).min(n - 1)
    }
}

fn weights() -> NesfWeights {
    NesfWeights::random(VOCAB, LATENT, 20231125).unwrap()
}

/// `max |a - b| / max(1, max |b|)`, and `max |b|` for the record.
fn relative_error(actual: &[f32], expected: &[f32]) -> (f64, f64) {
    assert_eq!(actual.len(), expected.len(), "output sizes differ");
    let diff = actual
        .iter()
        .zip(expected)
        .map(|(a, b)| (*a as f64 - *b as f64).abs())
        .fold(0.0, f64::max);
    let scale = expected.iter().map(|b| b.abs() as f64).fold(0.0, f64::max);
    (diff / scale.max(1.0), scale)
}

fn check(what: &str, actual: &[f32], expected: &[f32]) {
    let (error, scale) = relative_error(actual, expected);
    println!("{what}: relative error {error:.3e} (max |reference| {scale:.3})");
    assert!(
        error <= TOLERANCE,
        "{what}: relative error {error:e} exceeds {TOLERANCE:e}"
    );
}

fn flat(view: ArrayViewD<'_, f32>) -> Vec<f32> {
    view.iter().copied().collect()
}

// --- tests -------------------------------------------------------------------------------------

#[test]
fn fields_match_the_reference() {
    check_fields(&weights());
}

/// The positional-encoding variant: the field graphs encode the points (Sin, Cos) exactly as
/// the reference pass does.
#[test]
fn positional_encoding_fields_match_the_reference() {
    let architecture = Architecture {
        positional_encoding: true,
        ..Architecture::paper(VOCAB)
    };
    let w = NesfWeights::random_for(&architecture, 20231205).unwrap();
    assert_eq!(w.position_field[0].in_dim, LATENT + 60);
    check_fields(&w);
}

fn check_fields(w: &NesfWeights) {
    let mut terms = session(&graphs::latent_terms(w).unwrap());
    let mut position = session(&graphs::position_field(w).unwrap());
    let mut species = session(&graphs::species_field(w).unwrap());
    let mut rng = Rng(7);
    for (points, latents) in [(1usize, 1usize), (7, 3), (10_000, 13)] {
        let z: Vec<f32> = (0..latents * LATENT)
            .map(|_| rng.uniform(-3.0, 3.0))
            .collect();
        // Non-trivial membership: a shuffled, uneven assignment of points to latents.
        let index: Vec<i64> = (0..points)
            .map(|i| {
                if i < latents {
                    (latents - 1 - i) as i64
                } else {
                    rng.below(latents) as i64
                }
            })
            .collect();
        let p: Vec<f32> = (0..points * 3).map(|_| rng.uniform(-1.0, 9.0)).collect();

        let z_array = Array2::from_shape_vec((latents, LATENT), z.clone()).unwrap();
        let out = terms
            .run(ort::inputs![graphs::LATENT => TensorRef::from_array_view(&z_array).unwrap()])
            .unwrap();
        let position_term = out[graphs::POSITION_TERM]
            .try_extract_array::<f32>()
            .unwrap();
        let species_term = out[graphs::SPECIES_TERM]
            .try_extract_array::<f32>()
            .unwrap();
        assert_eq!(position_term.shape(), &[latents, 256]);
        let (mut lengths, mut angles) = (Vec::new(), Vec::new());
        for zi in z.chunks(LATENT) {
            let (l, a) = w.lattice(zi).unwrap();
            lengths.extend(l);
            angles.extend(a);
        }
        let tag = format!("{points} points / {latents} latents");
        let onnx_lengths = flat(out[graphs::LENGTHS].try_extract_array::<f32>().unwrap());
        check(&format!("lengths, {tag}"), &onnx_lengths, &lengths);
        let onnx_angles = flat(out[graphs::ANGLES].try_extract_array::<f32>().unwrap());
        check(&format!("angles, {tag}"), &onnx_angles, &angles);

        let index_array = Array1::from_vec(index.clone());
        let p_array = Array2::from_shape_vec((points, 3), p.clone()).unwrap();
        let position_term = position_term.to_owned();
        let species_term = species_term.to_owned();
        drop(out);

        let out = position
            .run(ort::inputs![
                graphs::TERM => TensorRef::from_array_view(&position_term).unwrap(),
                graphs::INDEX => TensorRef::from_array_view(&index_array).unwrap(),
                graphs::POINTS => TensorRef::from_array_view(&p_array).unwrap(),
            ])
            .unwrap();
        let displacement = out[graphs::DISPLACEMENT]
            .try_extract_array::<f32>()
            .unwrap();
        assert_eq!(displacement.shape(), &[points, 3]);
        let displacement = flat(displacement);
        drop(out);

        let out = species
            .run(ort::inputs![
                graphs::TERM => TensorRef::from_array_view(&species_term).unwrap(),
                graphs::INDEX => TensorRef::from_array_view(&index_array).unwrap(),
                graphs::POINTS => TensorRef::from_array_view(&p_array).unwrap(),
            ])
            .unwrap();
        let logits = out[graphs::LOGITS].try_extract_array::<f32>().unwrap();
        assert_eq!(logits.shape(), &[points, VOCAB]);
        let logits = flat(logits);
        drop(out);

        // The reference pass, one point at a time (in parallel: it is slow in debug builds).
        let reference: Vec<([f32; 3], Vec<f32>)> = (0..points)
            .into_par_iter()
            .map(|i| {
                let k = index[i] as usize;
                let zi = &z[k * LATENT..(k + 1) * LATENT];
                let pi = [p[3 * i], p[3 * i + 1], p[3 * i + 2]];
                (
                    w.position_field(zi, pi).unwrap(),
                    w.species_field(zi, pi).unwrap(),
                )
            })
            .collect();
        let want_displacement: Vec<f32> = reference.iter().flat_map(|r| r.0).collect();
        let want_logits: Vec<f32> = reference.iter().flat_map(|r| r.1.iter().copied()).collect();
        check(
            &format!("position field, {tag}"),
            &displacement,
            &want_displacement,
        );
        check(&format!("species field, {tag}"), &logits, &want_logits);
    }
}

/// The encoder on structures of different atom counts (padded by repetition), batch 1 and 6.
#[test]
fn encoder_matches_the_reference() {
    let w = weights();
    let mut encoder = session(&graphs::encoder(&w).unwrap());
    let mut rng = Rng(11);
    for counts in [vec![5usize], vec![1, 3, 8, 13, 40, 2]] {
        let positions: Vec<Vec<[f32; 3]>> = counts
            .iter()
            .map(|&n| {
                (0..n)
                    .map(|_| {
                        [
                            rng.uniform(0.0, 6.0),
                            rng.uniform(0.0, 6.0),
                            rng.uniform(0.0, 6.0),
                        ]
                    })
                    .collect()
            })
            .collect();
        let species: Vec<Vec<usize>> = counts
            .iter()
            .map(|&n| (0..n).map(|_| rng.below(VOCAB)).collect())
            .collect();
        let lattice: Vec<[f32; 6]> = counts
            .iter()
            .map(|_| {
                let mut l = [0.0; 6];
                l[..3].iter_mut().for_each(|v| *v = rng.uniform(3.0, 8.0));
                l[3..].iter_mut().for_each(|v| *v = rng.uniform(1.2, 2.0));
                l
            })
            .collect();

        let EncoderInputs {
            batch,
            atoms,
            positions: packed_positions,
            species: packed_species,
            lattice: packed_lattice,
        } = graphs::encoder_inputs(&positions, &species, &lattice, VOCAB).unwrap();
        let pos = Array3::from_shape_vec((batch, atoms, 3), packed_positions).unwrap();
        let spe = Array3::from_shape_vec((batch, atoms, VOCAB), packed_species).unwrap();
        let lat = Array2::from_shape_vec((batch, 6), packed_lattice).unwrap();
        let out = encoder
            .run(ort::inputs![
                graphs::POSITIONS => TensorRef::from_array_view(&pos).unwrap(),
                graphs::SPECIES => TensorRef::from_array_view(&spe).unwrap(),
                graphs::LATTICE => TensorRef::from_array_view(&lat).unwrap(),
            ])
            .unwrap();
        let latent = out[graphs::LATENT].try_extract_array::<f32>().unwrap();
        assert_eq!(latent.shape(), &[counts.len(), LATENT]);
        let want: Vec<f32> = w
            .encode(&positions, &species, &lattice)
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        check(
            &format!("encoder, atom counts {counts:?}"),
            &flat(latent),
            &want,
        );
    }
}

/// Graph signatures agree with what ONNX Runtime sees, and a bad index is an error, not a crash.
#[test]
fn sessions_agree_with_signatures_and_reject_bad_indices() {
    let w = weights();
    for bytes in [
        graphs::encoder(&w).unwrap(),
        graphs::latent_terms(&w).unwrap(),
        graphs::position_field(&w).unwrap(),
        graphs::species_field(&w).unwrap(),
    ] {
        let signature = graph_signature(&bytes).unwrap();
        let s = session(&bytes);
        let names = |list: &[ort::value::Outlet]| -> Vec<String> {
            list.iter().map(|o| o.name().to_string()).collect()
        };
        let expected_inputs: Vec<String> =
            signature.inputs.iter().map(|t| t.name.clone()).collect();
        let expected_outputs: Vec<String> =
            signature.outputs.iter().map(|t| t.name.clone()).collect();
        assert_eq!(
            names(s.inputs()),
            expected_inputs,
            "{}",
            signature.graph_name
        );
        assert_eq!(
            names(s.outputs()),
            expected_outputs,
            "{}",
            signature.graph_name
        );
    }

    let mut field = quiet_session(&graphs::position_field(&w).unwrap());
    let term = Array2::<f32>::zeros((2, 256));
    let index = Array1::from_vec(vec![0i64, 5]);
    let points = Array2::<f32>::zeros((2, 3));
    let result = field.run(ort::inputs![
        graphs::TERM => TensorRef::from_array_view(&term).unwrap(),
        graphs::INDEX => TensorRef::from_array_view(&index).unwrap(),
        graphs::POINTS => TensorRef::from_array_view(&points).unwrap(),
    ]);
    match result {
        Ok(_) => panic!("an out-of-range index must fail"),
        Err(e) => println!("out-of-range index: {e}"),
    }
}

/// ONNX Runtime's warnings reach the library's logger (kept in memory, readable through
/// `runtime_log::messages`), not the host program's stderr: a graph with an initializer no node
/// uses makes ONNX Runtime warn while the session is created.
#[test]
fn onnx_runtime_warnings_go_to_the_library_log() {
    use nesf::model::onnx_writer::{Dim, ElementType, GraphBuilder};
    let mut g = GraphBuilder::new("unused_initializer");
    g.input("x", ElementType::F32, &[Dim::Fixed(2)]);
    g.initializer_f32("never_used_weight", &[2], &[1.0, 2.0])
        .unwrap();
    g.node("Identity", &["x"], &["y"], &[]);
    g.output("y", ElementType::F32, &[Dim::Fixed(2)]);
    let _session = session(&g.to_bytes().unwrap());
    let messages = nesf::model::runtime_log::messages();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("warning") && m.contains("never_used_weight")),
        "ONNX Runtime's warning about the unused initializer was not logged: {messages:?}"
    );
}
