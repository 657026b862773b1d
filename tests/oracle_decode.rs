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

/// Faults put into the oracle's field.
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    /// Every predicted lattice gets alpha = 199.4°, which forms no cell.
    NoCell,
    /// Non-finite moves for item 1, species logits for item 2, lattice for item 3.
    NonFinite,
}

/// The oracle's field with a [`Fault`].
struct Faulty<'a>(OracleField<'a>, Fault);

impl nesf::Field for Faulty<'_> {
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
        let mut lattices = self.0.lattices(items)?;
        for (l, &i) in lattices.iter_mut().zip(items) {
            let mut p = l.parameters;
            match self.1 {
                Fault::NoCell => p.alpha = 199.4,
                Fault::NonFinite if i == 3 => p.beta = f64::NAN,
                Fault::NonFinite => continue,
            }
            *l = nesf::decode::PredictedLattice::from_parameters(p);
        }
        Ok(lattices)
    }
    fn displacements(&self, query: &nesf::Query<'_>, out: &mut [[f32; 3]]) -> nesf::Result<()> {
        self.0.displacements(query, out)?;
        if self.1 == Fault::NonFinite {
            poison(query, 1, 3, out.as_flattened_mut());
        }
        Ok(())
    }
    fn species_logits(&self, query: &nesf::Query<'_>, out: &mut [f32]) -> nesf::Result<()> {
        self.0.species_logits(query, out)?;
        if self.1 == Fault::NonFinite {
            poison(query, 2, self.0.vocabulary().len(), out);
        }
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
fn a_predicted_lattice_that_forms_no_cell_fails_only_its_structure() {
    use nesf::Field;
    let s: Vec<Structure> = data("ybco13.extxyz").into_iter().take(3).collect();
    let field = Faulty(OracleField::new(&s).unwrap(), Fault::NoCell);
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

#[test]
fn a_field_broken_for_one_structure_fails_that_structure_only() {
    let s = data("ybco13.extxyz");
    let s = &s[..5];
    let oracle = OracleField::new(s).unwrap();
    let items: Vec<usize> = (0..s.len()).collect();
    for options in [DecodeOptions::default(), DecodeOptions::exact()] {
        let good = decode(&oracle, &items, &options).unwrap();
        let faulty = Faulty(OracleField::new(s).unwrap(), Fault::NonFinite);
        let broken = decode(&faulty, &items, &options).unwrap();
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
