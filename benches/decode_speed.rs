//! Fast versus exact decoding with the shipped model: encodes the first N lcs6-val structures
//! (default 64) with the default model, decodes them in the exact (reference) mode and in the
//! default fast mode in the same process, and prints for each: structures/s, field evaluations
//! and GFLOP per structure, GFLOP/s, peak resident memory, the paper's metrics side by side,
//! and the speed ratio. The fast mode runs before and after the exact one (their mean is
//! reported), so both see the same machine.
//!
//! `cargo bench --bench decode_speed`. Environment: NESF_BENCH_STRUCTURES (how many
//! structures, default 64), NESF_BENCH_THREADS (ONNX Runtime threads, default 0 = one per
//! core), NESF_BENCH_DEVICE (cpu or cuda[:N], default cpu); to measure other settings, models
//! and sets: NESF_BENCH_RETIRE_BELOW, NESF_BENCH_MERGE_BELOW and NESF_BENCH_DROP_OUTSIDE (the fast mode's settings,
//! default the model's), NESF_BENCH_MODEL (a bundle, default the embedded model) and
//! NESF_BENCH_DATA (a structure file, default data/lcs6-val.extxyz).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use nesf::decode::PredictedLattice;
use nesf::model::weights::field_flops_per_point;
use nesf::model::{Model, ModelOptions, NesfWeights, Provider};
use nesf::{
    decode, BoundingBox, DecodeOptions, DecodedStructure, Field, Metrics, MetricsAccumulator,
    Query, Structure, Vocabulary,
};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A field that counts the points it is asked about.
struct Counting<'a> {
    inner: &'a dyn Field,
    position: AtomicUsize,
    species: AtomicUsize,
    calls: std::sync::Mutex<Vec<usize>>,
}

impl Field for Counting<'_> {
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn vocabulary(&self) -> &Vocabulary {
        self.inner.vocabulary()
    }
    fn bounding_box(&self) -> BoundingBox {
        self.inner.bounding_box()
    }
    fn lattices(&self, items: &[usize]) -> nesf::Result<Vec<PredictedLattice>> {
        self.inner.lattices(items)
    }
    fn displacements(&self, query: &Query, out: &mut [[f32; 3]]) -> nesf::Result<()> {
        self.position
            .fetch_add(query.points.len(), Ordering::Relaxed);
        self.calls.lock().unwrap().push(query.points.len());
        self.inner.displacements(query, out)
    }
    fn species_logits(&self, query: &Query, out: &mut [f32]) -> nesf::Result<()> {
        self.species
            .fetch_add(query.points.len(), Ordering::Relaxed);
        self.inner.species_logits(query, out)
    }
}

/// Floating-point operations per point (multiply-adds count two) of the paper's position and
/// species fields, without the latent's share of the first layer (computed once per
/// structure). The shipped model has the paper's architecture.
fn field_flops(vocab: usize) -> (f64, f64) {
    let w = NesfWeights::random(vocab, 192, 0).expect("paper architecture");
    (
        field_flops_per_point(&w.position_field),
        field_flops_per_point(&w.species_field),
    )
}

/// Peak resident memory (VmHWM, MiB) since the last reset.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resets the peak to the current resident memory (Linux: clear_refs 5).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct Run {
    seconds: f64,
    position_points: usize,
    species_points: usize,
    peak_mib: f64,
    calls: Vec<usize>,
    decoded: Vec<DecodedStructure>,
}

fn run(field: &dyn Field, items: &[usize], options: &DecodeOptions) -> Run {
    let counting = Counting {
        inner: field,
        position: AtomicUsize::new(0),
        species: AtomicUsize::new(0),
        calls: Default::default(),
    };
    reset_peak_rss();
    let t = Instant::now();
    let decoded = decode(&counting, items, options).expect("decode");
    Run {
        seconds: t.elapsed().as_secs_f64(),
        position_points: counting.position.load(Ordering::Relaxed),
        species_points: counting.species.load(Ordering::Relaxed),
        peak_mib: peak_rss_mib(),
        calls: counting.calls.into_inner().unwrap(),
        decoded,
    }
}

/// True when `a` and `b` hold the same number of atoms and every atom of `a` has one of `b` of
/// its species within `tolerance` Å (atom order may differ: NMS takes seeds by score).
fn same_atoms(a: &DecodedStructure, b: &DecodedStructure, tolerance: f64) -> bool {
    a.len() == b.len()
        && a.numbers.iter().zip(&a.positions).all(|(z, p)| {
            b.numbers.iter().zip(&b.positions).any(|(y, q)| {
                y == z && (0..3).map(|k| (p[k] - q[k]).powi(2)).sum::<f64>() < tolerance.powi(2)
            })
        })
}

fn metrics(truth: &[Structure], decoded: &[DecodedStructure]) -> Metrics {
    let mut m = MetricsAccumulator::new();
    for (t, d) in truth.iter().zip(decoded) {
        m.add_decoded(t, d);
    }
    m.finish()
}

fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let data =
        std::env::var("NESF_BENCH_DATA").unwrap_or_else(|_| format!("{root}/data/lcs6-val.extxyz"));
    let val = nesf::io::read(&data).expect("structures");
    let n = env_usize("NESF_BENCH_STRUCTURES", 64).min(val.len());
    let threads = env_usize("NESF_BENCH_THREADS", 0);
    let provider = match std::env::var("NESF_BENCH_DEVICE").as_deref() {
        Ok("cuda") => Provider::Cuda { device_id: 0 },
        Ok(d) if d.starts_with("cuda:") => Provider::Cuda {
            device_id: d[5..].parse().expect("cuda:N"),
        },
        _ => Provider::Cpu,
    };
    let structures = &val[..n];
    let model_options = ModelOptions {
        threads,
        provider,
        ..Default::default()
    };
    let model = match std::env::var("NESF_BENCH_MODEL") {
        Ok(path) => Model::load(&path, &model_options).expect("model"),
        Err(_) => Model::load_default(&model_options).expect("default model"),
    };
    let env_f64 = |name: &str, default: f64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mut fast = model.decode_options().clone();
    fast.retire_below = env_f64("NESF_BENCH_RETIRE_BELOW", fast.retire_below);
    fast.drop_outside = env_f64("NESF_BENCH_DROP_OUTSIDE", fast.drop_outside);
    fast.merge_below = env_f64("NESF_BENCH_MERGE_BELOW", fast.merge_below);
    let exact = fast.clone().into_exact();
    let latents = model.encode(structures).expect("encode");
    let field = model.field(&latents).expect("field");
    let items: Vec<usize> = (0..n).collect();
    let (pf, sf) = field_flops(model.vocabulary().len());
    println!(
        "decode_speed: {}, first {n} structures of {data}, provider {:?}, ORT threads {}, \
         fast = retire_below {} Å, merge_below {} Å, drop_outside {} Å",
        std::env::var("NESF_BENCH_MODEL").unwrap_or_else(|_| "default model".into()),
        model.provider().active,
        if threads == 0 {
            "auto".into()
        } else {
            threads.to_string()
        },
        fast.retire_below,
        fast.merge_below,
        fast.drop_outside
    );

    // warm-up: ONNX Runtime's first runs allocate and tune
    decode(&field, &items[..1.min(n)], &exact).expect("warm-up");
    let f1 = run(&field, &items, &fast);
    let e = run(&field, &items, &exact);
    let f2 = run(&field, &items, &fast);
    assert_eq!(
        f1.decoded, f2.decoded,
        "the fast mode gave different answers in two runs"
    );

    let fast_seconds = (f1.seconds + f2.seconds) / 2.0;
    let row = |name: &str, r: &Run, seconds: f64| {
        let gflop = (r.position_points as f64 * pf + r.species_points as f64 * sf) / 1e9;
        println!(
            "{name:6} {:8.3} structures/s  {:7.2} s  {:9.0} position + {:7.0} species evaluations \
             per structure  {:7.2} GFLOP per structure  {:6.1} GFLOP/s  peak RSS {:6.0} MiB (process, since the run began)",
            n as f64 / seconds,
            seconds,
            r.position_points as f64 / n as f64,
            r.species_points as f64 / n as f64,
            gflop / n as f64,
            gflop / seconds,
            r.peak_mib
        );
    };
    row("exact", &e, e.seconds);
    row("fast", &f1, fast_seconds);
    let (me, mf) = (
        metrics(structures, &e.decoded),
        metrics(structures, &f1.decoded),
    );
    println!("metric                         exact        fast");
    for (name, a, b) in [
        (
            "atom-count error (%)",
            100.0 * me.atom_count_error,
            100.0 * mf.atom_count_error,
        ),
        (
            "position error actual (Å)",
            me.position_error_actual,
            mf.position_error_actual,
        ),
        (
            "position error detected (Å)",
            me.position_error_detected,
            mf.position_error_detected,
        ),
        (
            "species error actual (%)",
            100.0 * me.species_error_actual,
            100.0 * mf.species_error_actual,
        ),
        (
            "species error detected (%)",
            100.0 * me.species_error_detected,
            100.0 * mf.species_error_detected,
        ),
        (
            "lattice length error (Å)",
            me.lattice_length_error,
            mf.lattice_length_error,
        ),
        (
            "lattice angle error (°)",
            me.lattice_angle_error_deg,
            mf.lattice_angle_error_deg,
        ),
    ] {
        println!("{name:28} {a:11.4} {b:11.4}");
    }
    let same = e
        .decoded
        .iter()
        .zip(&f1.decoded)
        .filter(|(a, b)| same_atoms(a, b, 0.01))
        .count();
    println!(
        "structures with the same atoms and species (within 0.01 Å) in both modes: {same} of {n}"
    );
    let calls: Vec<String> = f1.calls.iter().map(|c| c.to_string()).collect();
    println!(
        "fast mode: {} position-field calls (one per flow step of each batch of {} structures), \
         live particles in each: {}",
        calls.len(),
        fast.batch_size.min(n),
        calls.join(" ")
    );
    println!(
        "speed ratio fast / exact: {:.2}x (fast runs {:.2} s and {:.2} s, exact {:.2} s)",
        e.seconds / fast_seconds,
        f1.seconds,
        f2.seconds,
        e.seconds
    );
}
