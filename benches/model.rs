//! Network decoding benchmark: decodes LCS6Å validation structures with a random-weight model of
//! the paper's sizes (80 species, latent 192, LCS6Å box: 7280 particles, 64 steps) through ONNX
//! Runtime, and prints structures/s and the GFLOP/s of the field evaluations next to ONNX
//! Runtime's raw throughput for the same position-field graph at the same batch size.
//!
//! `cargo bench --bench model` (NESF_BENCH_STRUCTURES sets how many structures, default 8;
//! NESF_BENCH_THREADS the ONNX Runtime threads, default one per core).

use std::time::Instant;

#[path = "../tests/common/mod.rs"]
mod common;

use nesf::model::{graphs, runtime, Bundle, Model, ModelOptions, Provenance};
use nesf::{BoundingBox, DecodeOptions, Vocabulary};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let train = nesf::io::read(format!("{root}/data/lcs6-train.extxyz")).expect("lcs6-train");
    let val = nesf::io::read(format!("{root}/data/lcs6-val.extxyz")).expect("lcs6-val");
    let n = env_usize("NESF_BENCH_STRUCTURES", 8).min(val.len());
    let threads = env_usize("NESF_BENCH_THREADS", 0);
    let structures = &val[..n];

    let vocabulary = Vocabulary::from_structures(&train).expect("vocabulary");
    let weights = common::random_weights(vocabulary.len(), 1);
    let bundle = Bundle::from_weights(
        &weights,
        &vocabulary,
        BoundingBox::of_structures(&train).expect("box"),
        DecodeOptions::default(),
        Provenance::default(),
    )
    .expect("bundle");
    let options = ModelOptions {
        threads,
        ..Default::default()
    };
    let model = Model::from_bundle(bundle.clone(), &options).expect("model");
    // every particle every step (the exact flow): this bench measures field throughput
    let decode_options = DecodeOptions::exact();
    let grid = model
        .manifest()
        .bounding_box
        .grid(decode_options.grid_step)
        .expect("grid")
        .len();
    let latents = model.encode(structures).expect("encode");
    let flops = nesf::model::weights::field_flops_per_point(&weights.position_field);
    println!(
        "decode/model lcs6-val: {n} structures, {grid} particles each, {} steps, {:.3} MFLOP per point, ORT threads {}",
        decode_options.steps,
        flops / 1e6,
        if threads == 0 { "auto".to_string() } else { threads.to_string() }
    );

    // raw ONNX Runtime: the same position-field graph on one batch of the same size
    let batch_structures = decode_options.batch_size.min(n);
    let batch = (batch_structures * grid).min(ModelOptions::default().max_points_per_run);
    let width = 256;
    let term = vec![0.1f32; batch_structures * width];
    let index: Vec<i64> = (0..batch).map(|i| (i / grid) as i64).collect();
    let pts: Vec<f32> = (0..batch * 3).map(|i| (i % 97) as f32 * 0.1).collect();
    let env = runtime::environment().expect("ONNX Runtime");
    let mut builder = Session::builder(env)
        .expect("builder")
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .expect("optimisation level");
    if threads > 0 {
        builder = builder.with_intra_threads(threads).expect("threads");
    }
    let mut session = builder
        .commit_from_memory(&graphs::position_field(&weights).expect("graph"))
        .expect("session");
    let mut run = || {
        let inputs = ort::inputs![
            "term" => TensorRef::from_array_view(([batch_structures, width], term.as_slice())).unwrap(),
            "index" => TensorRef::from_array_view(([batch], index.as_slice())).unwrap(),
            "points" => TensorRef::from_array_view(([batch, 3], pts.as_slice())).unwrap(),
        ];
        let out = session.run(inputs).expect("run");
        out["displacement"]
            .try_extract_tensor::<f32>()
            .expect("output")
            .1[0]
    };
    run();
    let repeats = 8;
    let mut time_raw = || {
        let t = Instant::now();
        for _ in 0..repeats {
            std::hint::black_box(run());
        }
        t.elapsed().as_secs_f64() / repeats as f64
    };
    // raw runs before and after the decode, so both see the same machine
    let raw_before = time_raw();
    // warm-up on one structure, then the timed decode
    let one = nesf::model::Latents::from_flat(192, latents.get(0).unwrap().to_vec()).unwrap();
    model
        .decode(
            &one,
            &DecodeOptions {
                steps: 2,
                ..decode_options.clone()
            },
        )
        .expect("warm-up");
    let t = Instant::now();
    let decoded = model.decode(&latents, &decode_options).expect("decode");
    let seconds = t.elapsed().as_secs_f64();
    assert_eq!(decoded.len(), n);
    let points = (n * grid * decode_options.steps) as f64;
    let decode_gflops = points * flops / seconds / 1e9;

    let raw = (raw_before + time_raw()) / 2.0;
    let raw_gflops = batch as f64 * flops / raw / 1e9;

    println!(
        "decode/model lcs6-val: {seconds:.2} s, {:.3} structures/s, {:.2} M points/s, field GFLOP/s {decode_gflops:.1}",
        n as f64 / seconds,
        points / seconds / 1e6
    );
    println!(
        "raw ONNX Runtime position field, batch {batch}: {:.1} ms per run, GFLOP/s {raw_gflops:.1}",
        raw * 1e3
    );
    println!(
        "decoder reaches {:.1} % of ONNX Runtime's raw throughput",
        100.0 * decode_gflops / raw_gflops
    );
}
