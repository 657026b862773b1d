//! Hard-example sampling: an epoch that spends part of its draws on the structures with the
//! highest training loss.
//!
//! The reference epoch visits every training structure once, in a random order. With a hard
//! fraction `f`, an epoch still holds as many draws as there are structures (the same compute),
//! but only `(1 - f) N` of them are a random subset of the structures without repetition; the
//! other `f N` are drawn with replacement with a probability proportional to each structure's
//! loss at its latest visit (the recipe's weighted sum of its position, species and lattice
//! terms). Structures not visited yet count with the mean loss of the visited ones; before any
//! visit the epoch is the reference one.

use crate::rng::Rng;

/// The per-structure losses that steer the sampling, and the snapshot the current epoch was
/// planned with (so that a run resumed mid-epoch plans the same epoch again).
#[derive(Debug, Clone, PartialEq)]
pub struct Hardness {
    /// The latest training loss of every structure (`NaN`: not visited yet).
    pub latest: Vec<f64>,
    /// `latest` as it was when the current epoch was planned.
    pub planned: Vec<f64>,
}

impl Hardness {
    /// No structure of `n` visited yet.
    pub fn new(n: usize) -> Hardness {
        Hardness {
            latest: vec![f64::NAN; n],
            planned: vec![f64::NAN; n],
        }
    }

    /// Records the losses of the structures `indices` (one each, in order); non-finite losses
    /// are ignored.
    pub fn record(&mut self, indices: &[usize], losses: &[f64]) {
        for (&i, &l) in indices.iter().zip(losses) {
            if l.is_finite() && i < self.latest.len() {
                self.latest[i] = l.max(0.0);
            }
        }
    }

    /// Takes the latest losses as the plan of the next epoch.
    pub fn snapshot(&mut self) {
        self.planned.clone_from(&self.latest);
    }
}

/// The order of one epoch of `n` draws over `n` structures: the reference shuffle when
/// `fraction` is 0 or no loss is known, else `(1 - fraction) n` distinct structures and
/// `fraction * n` loss-weighted draws (see the module documentation), shuffled together.
pub fn epoch_order(fraction: f64, losses: &[f64], rng: &mut Rng) -> Vec<usize> {
    let n = losses.len();
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let (sum, known) = losses
        .iter()
        .filter(|l| l.is_finite())
        .fold((0.0, 0usize), |(s, k), l| (s + l, k + 1));
    if fraction <= 0.0 || known == 0 {
        return order;
    }
    let mean = sum / known as f64;
    let weights: Vec<f64> = losses
        .iter()
        .map(|&l| if l.is_finite() { l } else { mean })
        .collect();
    let total: f64 = weights.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return order;
    }
    let hard = ((fraction.min(1.0) * n as f64).round() as usize).min(n);
    order.truncate(n - hard);
    // Inverse-CDF draws on the cumulative weights.
    let mut cumulative = Vec::with_capacity(n);
    let mut acc = 0.0;
    for w in &weights {
        acc += w;
        cumulative.push(acc);
    }
    for _ in 0..hard {
        let u = rng.uniform() * acc;
        let k = cumulative.partition_point(|&c| c <= u).min(n - 1);
        order.push(k);
    }
    rng.shuffle(&mut order);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_fraction_or_losses_it_is_a_permutation() {
        for (fraction, losses) in [(0.0, vec![1.0, 2.0, 3.0, 4.0]), (0.5, vec![f64::NAN; 4])] {
            let mut o = epoch_order(fraction, &losses, &mut Rng::new(3));
            o.sort();
            assert_eq!(o, vec![0, 1, 2, 3]);
        }
    }

    #[test]
    fn hard_draws_follow_the_losses() {
        let mut losses = vec![0.0; 100];
        losses[7] = 1.0;
        let o = epoch_order(0.5, &losses, &mut Rng::new(1));
        assert_eq!(o.len(), 100);
        // 50 distinct structures, plus 50 draws that all pick the only structure with a loss.
        assert!(o.iter().filter(|&&i| i == 7).count() >= 50);
        let mut distinct = o.clone();
        distinct.sort();
        distinct.dedup();
        assert!(distinct.len() <= 51);
    }

    #[test]
    fn unvisited_structures_count_with_the_mean() {
        let mut h = Hardness::new(4);
        h.record(&[0, 1], &[2.0, f64::NAN]);
        assert_eq!(h.latest[0], 2.0);
        assert!(h.latest[1].is_nan());
        h.snapshot();
        let o = epoch_order(1.0, &h.planned, &mut Rng::new(5));
        assert_eq!(o.len(), 4);
        // Every structure has the same weight (2.0 or the mean 2.0): all can be drawn.
        let counts: Vec<usize> = (0..4)
            .map(|i| {
                (0..200)
                    .map(|s| epoch_order(1.0, &h.planned, &mut Rng::new(s)))
                    .filter(|o| o.contains(&i))
                    .count()
            })
            .collect();
        assert!(counts.iter().all(|&c| c > 100), "{counts:?}");
    }
}
