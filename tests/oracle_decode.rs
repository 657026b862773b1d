//! Decoding real structures with their exact (oracle) field must give every atom back.

use nesf::{decode, DecodeOptions, MetricsAccumulator, OracleField, Structure};

fn data(name: &str) -> Vec<Structure> {
    nesf::io::read(format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn check_exact(structures: &[Structure]) {
    let field = OracleField::new(structures).unwrap();
    let items: Vec<usize> = (0..structures.len()).collect();
    let decoded = decode(&field, &items, &DecodeOptions::default()).unwrap();
    let mut acc = MetricsAccumulator::new();
    for (t, d) in structures.iter().zip(&decoded) {
        acc.add_decoded(t, d);
        assert_eq!(d.len(), t.len(), "atom count of {:?}", t.id());
    }
    let m = acc.finish();
    assert_eq!(m.failures, 0);
    assert_eq!(m.atom_count_error, 0.0);
    assert!(m.position_error_actual < 1e-4, "{m:?}");
    assert!(m.position_error_detected < 1e-4, "{m:?}");
    assert_eq!(m.species_error_actual, 0.0);
    assert_eq!(m.species_error_detected, 0.0);
    assert!(m.lattice_length_error < 1e-12 && m.lattice_angle_error_deg < 1e-9);
}

#[test]
fn oracle_recovers_lcs6_val() {
    check_exact(&data("lcs6-val.extxyz"));
}

#[test]
fn oracle_recovers_ybco13() {
    check_exact(&data("ybco13.extxyz"));
}

#[test]
fn decoding_is_deterministic_and_batch_independent() {
    let s = data("ybco13.extxyz");
    let s = &s[..7];
    let field = OracleField::new(s).unwrap();
    let items: Vec<usize> = (0..s.len()).collect();
    let a = decode(&field, &items, &DecodeOptions::default()).unwrap();
    let one = DecodeOptions {
        batch_size: 1,
        ..Default::default()
    };
    let b = decode(&field, &items, &one).unwrap();
    assert_eq!(a, b);
}

#[test]
fn bad_requests_are_errors() {
    let s = data("ybco13.extxyz");
    let field = OracleField::new(&s[..2]).unwrap();
    assert!(decode(&field, &[2], &DecodeOptions::default()).is_err());
    let bad = DecodeOptions {
        grid_step: -1.0,
        ..Default::default()
    };
    assert!(decode(&field, &[0], &bad).is_err());
    assert!(OracleField::new(&[]).is_err());
}
