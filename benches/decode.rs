//! Decoder benchmark: decodes the LCS6Å validation split with the exact (oracle) field and
//! prints structures/s and field queries/s. Run with `cargo bench --bench decode`.

use std::time::Instant;

use nesf::{decode, BoundingBox, DecodeOptions, Field, OracleField};

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/lcs6-val.extxyz");
    let structures = nesf::io::read(path).expect("read lcs6-val");
    // decode over the training set's box, as a model trained on LCS6Å does (7280 particles)
    let train = nesf::io::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/lcs6-train.extxyz"
    ))
    .expect("read lcs6-train");
    let field = OracleField::new(&structures)
        .expect("oracle field")
        .with_bounding_box(BoundingBox::of_structures(&train).expect("box"));
    let items: Vec<usize> = (0..structures.len()).collect();
    // every particle every step: the flow's throughput (the oracle's particles land on their
    // atom in one move, so the fast mode would retire them all after the second step)
    let options = DecodeOptions::exact();
    let grid = field
        .bounding_box()
        .grid(options.grid_step)
        .expect("grid")
        .len();
    let threads = rayon::current_num_threads();
    println!(
        "decode/oracle lcs6-val: {} structures, {} particles each, {} steps, {} threads",
        items.len(),
        grid,
        options.steps,
        threads
    );
    // warm-up, then the best of three runs
    decode(&field, &items, &options).expect("decode");
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        let out = decode(&field, &items, &options).expect("decode");
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(out.len(), items.len());
    }
    let queries = (items.len() * grid * options.steps) as f64;
    println!(
        "decode/oracle lcs6-val: {:.3} s, {:.1} structures/s, {:.2} M position-field queries/s",
        best,
        items.len() as f64 / best,
        queries / best / 1e6
    );
}
