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

/// The oracle's atoms under a lattice whose predicted angles form no cell.
struct NoCell<'a>(OracleField<'a>);

impl nesf::Field for NoCell<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn vocabulary(&self) -> &nesf::Vocabulary {
        self.0.vocabulary()
    }
    fn bounding_box(&self) -> nesf::BoundingBox {
        self.0.bounding_box()
    }
    fn lattices(&self, items: &[usize]) -> nesf::Result<Vec<nesf::decode::PredictedLattice>> {
        Ok(self
            .0
            .lattices(items)?
            .into_iter()
            .map(|l| {
                let mut p = l.parameters;
                p.alpha = 199.4;
                nesf::decode::PredictedLattice::from_parameters(p)
            })
            .collect())
    }
    fn displacements(&self, query: &nesf::Query<'_>, out: &mut [[f32; 3]]) -> nesf::Result<()> {
        self.0.displacements(query, out)
    }
    fn species_logits(&self, query: &nesf::Query<'_>, out: &mut [f32]) -> nesf::Result<()> {
        self.0.species_logits(query, out)
    }
}

#[test]
fn a_predicted_lattice_that_forms_no_cell_fails_only_its_structure() {
    use nesf::Field;
    let s: Vec<Structure> = data("ybco13.extxyz").into_iter().take(3).collect();
    let field = NoCell(OracleField::new(&s).unwrap());
    let decoded = decode(&field, &[0, 1, 2], &DecodeOptions::default()).unwrap();
    let mut acc = MetricsAccumulator::new();
    for (t, d) in s.iter().zip(&decoded) {
        assert_eq!(d.len(), t.len());
        assert!(d.lattice.lattice.is_none());
        assert_eq!(d.lattice.parameters.alpha, 199.4);
        let e = d.to_structure().unwrap_err().to_string();
        assert!(
            e.contains("alpha=199.40") && e.contains("form no cell"),
            "{e}"
        );
        acc.add_decoded(t, d);
    }
    let m = acc.finish();
    // atoms are still compared; the lattice error counts the predicted angle
    assert!(m.position_error_actual < 1e-4, "{m:?}");
    let expected: f64 = s
        .iter()
        .map(|t| (t.lattice().parameters().alpha - 199.4).abs())
        .sum::<f64>()
        / 9.0;
    assert!((m.lattice_angle_error_deg - expected).abs() < 1e-9, "{m:?}");
    assert_eq!(field.len(), 3);
}

/// The oracle's field, broken for some structures: non-finite moves for item 1, non-finite
/// species logits for item 2, a non-finite lattice for item 3.
struct Broken<'a>(OracleField<'a>);

impl nesf::Field for Broken<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn vocabulary(&self) -> &nesf::Vocabulary {
        self.0.vocabulary()
    }
    fn bounding_box(&self) -> nesf::BoundingBox {
        self.0.bounding_box()
    }
    fn lattices(&self, items: &[usize]) -> nesf::Result<Vec<nesf::decode::PredictedLattice>> {
        let mut l = self.0.lattices(items)?;
        for (k, &i) in items.iter().enumerate() {
            if i == 3 {
                l[k].parameters.beta = f64::NAN;
                l[k].lattice = None;
            }
        }
        Ok(l)
    }
    fn displacements(&self, query: &nesf::Query<'_>, out: &mut [[f32; 3]]) -> nesf::Result<()> {
        self.0.displacements(query, out)?;
        poison(query, 1, 3, out.as_flattened_mut());
        Ok(())
    }
    fn species_logits(&self, query: &nesf::Query<'_>, out: &mut [f32]) -> nesf::Result<()> {
        self.0.species_logits(query, out)?;
        poison(query, 2, self.0.vocabulary().len(), out);
        Ok(())
    }
}

/// Sets the outputs (`width` values per point) of item `broken`'s points to NaN.
fn poison(query: &nesf::Query<'_>, broken: usize, width: usize, out: &mut [f32]) {
    let mut start = 0;
    for (&item, &count) in query.items.iter().zip(query.counts) {
        if item == broken {
            out[start * width..(start + count) * width].fill(f32::NAN);
        }
        start += count;
    }
}

#[test]
fn a_field_broken_for_one_structure_fails_that_structure_only() {
    let s = data("ybco13.extxyz");
    let s = &s[..5];
    let oracle = OracleField::new(s).unwrap();
    let items: Vec<usize> = (0..s.len()).collect();
    for options in [DecodeOptions::default(), DecodeOptions::exact()] {
        let good = decode(&oracle, &items, &options).unwrap();
        let broken = decode(&Broken(OracleField::new(s).unwrap()), &items, &options).unwrap();
        for i in [0, 4] {
            assert_eq!(broken[i], good[i], "structure {i} was affected");
        }
        for (i, part) in [
            (1, "position field"),
            (2, "species field"),
            (3, "lattice heads"),
        ] {
            let d = &broken[i];
            let why = d
                .failure
                .as_deref()
                .unwrap_or_else(|| panic!("{i}: no failure"));
            assert!(
                why.contains(part) && why.contains(&format!("structure {i}")),
                "{why}"
            );
            assert!(d.is_empty(), "a failed structure holds atoms");
            let err = d.to_structure().unwrap_err().to_string();
            assert!(err.contains(part), "{err}");
        }
    }
}
