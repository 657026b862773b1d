//! The paper's evaluation metrics, computed as the reference computes them: predicted and true
//! atoms are compared by plain Cartesian distance, and errors are pooled over atoms.

use crate::crystal::{lattice::distance, LatticeParameters, Structure, Vec3};
use crate::decode::DecodedStructure;

/// Evaluation results over a set of structures (fractions, Å and degrees).
///
/// Structures with no detected atom are counted in `failures` and in `atom_count_error`; their
/// atoms (whose distance to a prediction is infinite) are left out of the position and species
/// errors, which would otherwise be infinite.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// Number of structures evaluated.
    pub structures: usize,
    /// Structures where no atom was detected.
    pub failures: usize,
    /// Fraction of structures whose predicted atom count differs from the true one.
    pub atom_count_error: f64,
    /// Mean distance (Å) from each true atom to the nearest predicted atom, pooled over atoms.
    pub position_error_actual: f64,
    /// Mean distance (Å) from each predicted atom to the nearest true atom, pooled over atoms.
    pub position_error_detected: f64,
    /// Fraction of true atoms whose nearest prediction has another species.
    pub species_error_actual: f64,
    /// Fraction of predicted atoms whose nearest true atom has another species.
    pub species_error_detected: f64,
    /// Mean absolute error of the lattice lengths a, b, c (Å).
    pub lattice_length_error: f64,
    /// Mean absolute error of the lattice angles alpha, beta, gamma (degrees).
    pub lattice_angle_error_deg: f64,
}

/// Accumulates per-structure comparisons; [`MetricsAccumulator::finish`] gives the [`Metrics`].
#[derive(Debug, Clone, Default)]
pub struct MetricsAccumulator {
    structures: usize,
    failures: usize,
    count_errors: usize,
    actual: Pooled,
    detected: Pooled,
    length_error_sum: f64,
    angle_error_sum: f64,
}

/// A pooled sum of distances and species mismatches over atoms.
#[derive(Debug, Clone, Copy, Default)]
struct Pooled {
    atoms: usize,
    distance_sum: f64,
    species_wrong: usize,
}

impl Pooled {
    /// For every atom of `from`, the nearest atom of `to`: distance and species agreement.
    fn add(&mut self, from: (&[u8], &[Vec3]), to: (&[u8], &[Vec3])) {
        for (&z, &p) in from.0.iter().zip(from.1) {
            let (d, j) =
                to.1.iter()
                    .enumerate()
                    .map(|(j, &q)| (distance(p, q), j))
                    .fold(
                        (f64::INFINITY, 0),
                        |best, x| if x.0 < best.0 { x } else { best },
                    );
            self.atoms += 1;
            self.distance_sum += d;
            if to.0[j] != z {
                self.species_wrong += 1;
            }
        }
    }

    fn mean_distance(&self) -> f64 {
        self.distance_sum / self.atoms as f64
    }

    fn species_error(&self) -> f64 {
        self.species_wrong as f64 / self.atoms as f64
    }
}

impl MetricsAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Compares one prediction (lattice, atomic numbers, Cartesian positions) with the truth.
    pub fn add(
        &mut self,
        truth: &Structure,
        lattice: &LatticeParameters,
        numbers: &[u8],
        positions: &[Vec3],
    ) {
        self.structures += 1;
        if numbers.len() != truth.len() {
            self.count_errors += 1;
        }
        if numbers.is_empty() {
            self.failures += 1;
        } else {
            let t = (truth.numbers(), truth.positions());
            let p = (numbers, positions);
            self.actual.add(t, p);
            self.detected.add(p, t);
        }
        let (tp, pp) = (truth.lattice().parameters(), lattice);
        for k in 0..3 {
            self.length_error_sum += (tp.lengths()[k] - pp.lengths()[k]).abs();
            self.angle_error_sum += (tp.angles()[k] - pp.angles()[k]).abs();
        }
    }

    /// Compares one decoded structure with the truth.
    pub fn add_decoded(&mut self, truth: &Structure, decoded: &DecodedStructure) {
        self.add(
            truth,
            &decoded.lattice.parameters,
            &decoded.numbers,
            &decoded.positions,
        );
    }

    /// The metrics so far (NaN where nothing was counted).
    pub fn finish(&self) -> Metrics {
        let n = self.structures as f64;
        Metrics {
            structures: self.structures,
            failures: self.failures,
            atom_count_error: self.count_errors as f64 / n,
            position_error_actual: self.actual.mean_distance(),
            position_error_detected: self.detected.mean_distance(),
            species_error_actual: self.actual.species_error(),
            species_error_detected: self.detected.species_error(),
            lattice_length_error: self.length_error_sum / (3.0 * n),
            lattice_angle_error_deg: self.angle_error_sum / (3.0 * n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crystal::Lattice;

    #[test]
    fn hand_computed() {
        let l = Lattice::new([[4.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 4.0]]).unwrap();
        let truth = Structure::new(l, vec![11, 17], vec![[0.0; 3], [2.0, 2.0, 2.0]]).unwrap();
        let l2 = Lattice::new([[4.3, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 4.0]]).unwrap();
        let mut acc = MetricsAccumulator::new();
        // one atom found 0.1 Å off with the wrong species, the other missed
        acc.add(&truth, &l2.parameters(), &[17], &[[0.1, 0.0, 0.0]]);
        let m = acc.finish();
        assert_eq!(m.structures, 1);
        assert_eq!(m.failures, 0);
        assert_eq!(m.atom_count_error, 1.0);
        let far = (1.9f64.powi(2) + 8.0).sqrt();
        assert!((m.position_error_actual - (0.1 + far) / 2.0).abs() < 1e-12);
        assert!((m.position_error_detected - 0.1).abs() < 1e-12);
        assert_eq!(m.species_error_actual, 0.5);
        assert_eq!(m.species_error_detected, 1.0);
        assert!((m.lattice_length_error - 0.1).abs() < 1e-12);
        assert!(m.lattice_angle_error_deg.abs() < 1e-9);
        // a failure: counted, excluded from the distances
        acc.add(&truth, &l.parameters(), &[], &[]);
        let m = acc.finish();
        assert_eq!((m.structures, m.failures), (2, 1));
        assert!((m.position_error_detected - 0.1).abs() < 1e-12);
    }
}
