//! A spatial hash of sites in a periodic cell: finds a site within a small distance of a
//! position in constant time on average, so that de-duplicating n sites costs O(n), not
//! O(n^2).

use std::collections::HashMap;

use super::{Lattice, Vec3};

/// Sites (fractional positions) of one cell, bucketed by position.
pub struct SiteIndex<'a> {
    lattice: &'a Lattice,
    tolerance: f64,
    /// For each axis, |Δfrac_k| ≤ bound_k · |Δcart|.
    bounds: Vec3,
    bins: [i64; 3],
    buckets: HashMap<[i64; 3], Vec<usize>>,
    sites: Vec<Vec3>,
}

impl<'a> SiteIndex<'a> {
    /// An empty index finding sites closer than `tolerance` (Å, > 0).
    pub fn new(lattice: &'a Lattice, tolerance: f64) -> Self {
        let rows = [
            lattice.to_fractional([1.0, 0.0, 0.0]),
            lattice.to_fractional([0.0, 1.0, 0.0]),
            lattice.to_fractional([0.0, 0.0, 1.0]),
        ];
        let bounds = [0, 1, 2]
            .map(|k| (rows[0][k].powi(2) + rows[1][k].powi(2) + rows[2][k].powi(2)).sqrt());
        // a bin is at least as wide as the tolerance along every axis
        let bins = bounds.map(|g| ((1.0 / (g * tolerance)).floor()).clamp(1.0, 1e6) as i64);
        SiteIndex {
            lattice,
            tolerance,
            bounds,
            bins,
            buckets: HashMap::new(),
            sites: Vec::new(),
        }
    }

    fn bin(&self, f: Vec3) -> [i64; 3] {
        [0, 1, 2].map(|k| {
            let x = f[k] - f[k].floor();
            ((x * self.bins[k] as f64) as i64).clamp(0, self.bins[k] - 1)
        })
    }

    /// The first site inserted that lies closer than the tolerance to `f` (periodically).
    pub fn find(&self, f: Vec3) -> Option<usize> {
        let b = self.bin(f);
        let mut best: Option<usize> = None;
        let offsets = |k: usize| -> Vec<i64> {
            let mut o: Vec<i64> = [-1, 0, 1]
                .iter()
                .map(|d| (b[k] + d).rem_euclid(self.bins[k]))
                .collect();
            o.sort_unstable();
            o.dedup();
            o
        };
        let (ox, oy, oz) = (offsets(0), offsets(1), offsets(2));
        for &x in &ox {
            for &y in &oy {
                for &z in &oz {
                    for &i in self.buckets.get(&[x, y, z]).into_iter().flatten() {
                        if best.is_some_and(|j| j < i) {
                            continue;
                        }
                        if self.close(self.sites[i], f) {
                            best = Some(i);
                        }
                    }
                }
            }
        }
        best
    }

    fn close(&self, a: Vec3, b: Vec3) -> bool {
        for ((x, y), g) in a.iter().zip(&b).zip(&self.bounds) {
            let d = x - y;
            if (d - d.round()).abs() > g * self.tolerance * (1.0 + 1e-9) {
                return false;
            }
        }
        self.lattice.periodic_distance(a, b) < self.tolerance
    }

    /// Adds a site; returns its index (0, 1, ...).
    pub fn insert(&mut self, f: Vec3) -> usize {
        let i = self.sites.len();
        self.sites.push(f);
        self.buckets.entry(self.bin(f)).or_default().push(i);
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_neighbours_across_the_cell_boundary_and_nothing_else() {
        let l = Lattice::new([[4.0, 0.0, 0.0], [1.0, 4.0, 0.0], [0.5, 0.5, 4.0]]).unwrap();
        let mut index = SiteIndex::new(&l, 1e-3);
        assert_eq!(index.insert([0.0, 0.0, 0.0]), 0);
        assert_eq!(index.insert([0.5, 0.5, 0.5]), 1);
        assert_eq!(index.find([0.99999999, 1e-9, 0.0]), Some(0));
        assert_eq!(index.find([0.5, 0.5, 0.50001]), Some(1));
        assert_eq!(index.find([0.5, 0.5, 0.51]), None);
        // agrees with brute force on many random sites
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let coarse = SiteIndex::new(&l, 0.3);
        let mut coarse = coarse;
        let mut all = Vec::new();
        for _ in 0..400 {
            let f = [next(), next(), next()];
            let brute = all.iter().position(|&g| l.periodic_distance(g, f) < 0.3);
            assert_eq!(coarse.find(f), brute, "{f:?}");
            if brute.is_none() {
                coarse.insert(f);
                all.push(f);
            }
        }
    }
}
