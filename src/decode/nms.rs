//! Non-maximum suppression: cluster converged particles into atoms.

use std::collections::HashMap;

/// An atom found by NMS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cluster {
    /// softmax(-score)-weighted mean of the cluster's particles (Å).
    pub position: [f64; 3],
    /// Number of particles gathered.
    pub particles: usize,
}

/// Clusters particles: keep those whose score (squared last move) is at most
/// `max_last_step^2`; repeatedly take the best remaining particle as a seed, gather the
/// remaining particles within `radius` of it, emit an atom if there are at least
/// `min_particles`, and remove the gathered particles either way.
pub fn nms(
    positions: &[[f32; 3]],
    scores: &[f32],
    max_last_step: f64,
    radius: f64,
    min_particles: usize,
) -> Vec<Cluster> {
    let limit = max_last_step * max_last_step;
    let mut order: Vec<usize> = (0..positions.len())
        .filter(|&i| f64::from(scores[i]) <= limit)
        .collect();
    // ascending score, index order on ties: deterministic
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));

    // spatial hash with cells of size `radius`: neighbours lie in the 27 surrounding cells
    let cell_of = |p: &[f32; 3]| p.map(|x| (f64::from(x) / radius).floor() as i64);
    let mut cells: HashMap<[i64; 3], Vec<usize>> = HashMap::new();
    for &i in &order {
        cells.entry(cell_of(&positions[i])).or_default().push(i);
    }
    let mut removed = vec![false; positions.len()];
    let r2 = radius * radius;
    let mut clusters = Vec::new();
    let mut gathered = Vec::new();
    for &seed in &order {
        if removed[seed] {
            continue;
        }
        let s = positions[seed].map(f64::from);
        let c = cell_of(&positions[seed]);
        gathered.clear();
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    if let Some(members) = cells.get(&[c[0] + dx, c[1] + dy, c[2] + dz]) {
                        for &j in members {
                            if removed[j] {
                                continue;
                            }
                            let p = positions[j];
                            let d2: f64 = (0..3).map(|k| (f64::from(p[k]) - s[k]).powi(2)).sum();
                            if d2 <= r2 {
                                gathered.push(j);
                            }
                        }
                    }
                }
            }
        }
        for &j in &gathered {
            removed[j] = true;
        }
        if gathered.len() >= min_particles {
            gathered.sort_unstable();
            clusters.push(Cluster {
                position: weighted_mean(positions, scores, &gathered),
                particles: gathered.len(),
            });
        }
    }
    clusters
}

/// softmax(-score)-weighted mean position of `members`.
fn weighted_mean(positions: &[[f32; 3]], scores: &[f32], members: &[usize]) -> [f64; 3] {
    let best = members
        .iter()
        .map(|&j| f64::from(scores[j]))
        .fold(f64::INFINITY, f64::min);
    let mut sum = [0.0; 3];
    let mut total = 0.0;
    for &j in members {
        let w = (best - f64::from(scores[j])).exp();
        total += w;
        for k in 0..3 {
            sum[k] += w * f64::from(positions[j][k]);
        }
    }
    sum.map(|x| x / total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_and_thresholds() {
        let mut pos = Vec::new();
        let mut sc = Vec::new();
        for i in 0..12 {
            pos.push([0.01 * i as f32, 0.0, 0.0]);
            sc.push(0.0);
        }
        for i in 0..5 {
            pos.push([3.0 + 0.01 * i as f32, 0.0, 0.0]);
            sc.push(0.0);
        }
        // a particle that did not converge
        pos.push([0.0, 0.0, 0.0]);
        sc.push(1.0);
        let c = nms(&pos, &sc, 0.9, 0.5, 10);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].particles, 12);
        assert!((c[0].position[0] - 0.055).abs() < 1e-6);
        assert_eq!(nms(&pos, &sc, 0.9, 0.5, 5).len(), 2);
    }
}
