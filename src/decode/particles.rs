//! Particle flow: move a grid of particles along the position field.
//!
//! Every step sends the live particles of all structures of a batch to the field in one dense
//! call. With the work savers of [`DecodeOptions`] off every particle is live for every step
//! (the reference decoder); with `retire_below` a particle whose move was shorter than that
//! stops where it is, keeping that move as its score; with `merge_below` a particle that lands
//! in the same `merge_below`-sized cell as another one of its structure (live, or retired
//! there) follows that one from then on and ends where it ends, with its score, so NMS still
//! counts and weights every particle as the reference does; with `drop_outside` a particle
//! that left the bounding box by more than that is dropped (score infinity: NMS discards it).
//! Buffers are allocated once per batch and reused by every step.

use std::collections::HashMap;

use crate::decode::DecodeOptions;
use crate::error::{Error, Result};
use crate::field::{BoundingBox, Field, Query};

/// Final particle positions and scores (squared length of the last move) of every item of a
/// batch, `grid.len()` particles per item, items in order.
pub struct Flowed {
    /// Final positions, `[items][grid]` flattened.
    pub positions: Vec<[f32; 3]>,
    /// Squared length of each particle's last move (Å²); infinity for a dropped particle.
    pub scores: Vec<f32>,
    /// Position-field evaluations made (one per live particle per step).
    pub evaluations: usize,
    /// Per item: why its flow stopped (the position field returned a non-finite vector for
    /// one of its particles); its particles are then all dropped, the other items go on.
    pub failures: Vec<Option<String>>,
}

/// Starts one copy of `grid` per item and moves the particles `options.steps` times (fewer for
/// those the work savers retire or drop), with one field call per step.
pub fn flow(
    field: &dyn Field,
    items: &[usize],
    grid: &[[f32; 3]],
    options: &DecodeOptions,
    proceed: &dyn Fn() -> bool,
) -> Result<Flowed> {
    let n = grid.len();
    let total = items.len().checked_mul(n).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{} structures x {n} particles overflow the address space",
            items.len()
        ))
    })?;
    let mut positions: Vec<[f32; 3]> = Vec::with_capacity(total);
    for _ in items {
        positions.extend_from_slice(grid);
    }
    let mut scores = vec![0f32; total];
    let retire2 = (options.retire_below * options.retire_below) as f32;
    let outside = Outside::new(field.bounding_box(), options.drop_outside);
    let merge = options.merge_below;
    let cell_of = |slot: usize, p: &[f32; 3]| -> (usize, [i64; 3]) {
        (slot, p.map(|x| (f64::from(x) / merge).floor() as i64))
    };
    // leader[g]: the particle that g follows (NONE: g moves by itself)
    const NONE: usize = usize::MAX;
    let mut leader: Vec<usize> = if merge > 0.0 {
        vec![NONE; total]
    } else {
        Vec::new()
    };
    // cells of retired particles, and of the particles still moving after this step
    let mut settled: HashMap<(usize, [i64; 3]), usize> = HashMap::new();
    let mut moving: HashMap<(usize, [i64; 3]), usize> = HashMap::new();

    // live particles (ascending global index), and the step's reused buffers
    let mut live: Vec<usize> = (0..total).collect();
    let mut points: Vec<[f32; 3]> = Vec::with_capacity(total);
    let mut moves = vec![[0f32; 3]; total];
    let mut query_items: Vec<usize> = Vec::with_capacity(items.len());
    let mut counts: Vec<usize> = Vec::with_capacity(items.len());
    let mut evaluations = 0usize;
    let mut failures: Vec<Option<String>> = vec![None; items.len()];
    for step in 0..options.steps {
        if !proceed() {
            return Err(Error::Cancelled(
                "the flow was stopped by the caller".into(),
            ));
        }
        if live.is_empty() {
            break;
        }
        points.clear();
        query_items.clear();
        counts.clear();
        let mut slot = usize::MAX;
        for &g in &live {
            points.push(positions[g]);
            if g / n != slot {
                slot = g / n;
                query_items.push(items[slot]);
                counts.push(0);
            }
            *counts.last_mut().expect("pushed above") += 1;
        }
        let moves = &mut moves[..live.len()];
        field.displacements(
            &Query {
                items: &query_items,
                counts: &counts,
                points: &points,
            },
            moves,
        )?;
        evaluations += live.len();
        for (k, m) in moves.iter().enumerate() {
            let slot = live[k] / n;
            if failures[slot].is_none() && m.iter().any(|x| !x.is_finite()) {
                failures[slot] = Some(format!(
                    "the position field returned a non-finite vector {m:?} at flow step {step} \
                     for the point {:?} of structure {}",
                    points[k], items[slot]
                ));
            }
        }
        let mut keep = 0;
        moving.clear();
        for k in 0..live.len() {
            let g = live[k];
            if failures[g / n].is_some() {
                continue; // its scores are set to infinity after the flow
            }
            let m = moves[k];
            let p = &mut positions[g];
            for d in 0..3 {
                p[d] += m[d];
            }
            let s = m[0] * m[0] + m[1] * m[1] + m[2] * m[2];
            scores[g] = s;
            if outside.test(p) {
                scores[g] = f32::INFINITY;
                continue;
            }
            if merge > 0.0 {
                let key = cell_of(g / n, p);
                if let Some(&l) = settled.get(&key).or_else(|| moving.get(&key)) {
                    leader[g] = l;
                    continue;
                }
                if s < retire2 {
                    settled.insert(key, g);
                    continue;
                }
                moving.insert(key, g);
            } else if s < retire2 {
                continue;
            }
            live[keep] = g;
            keep += 1;
        }
        live.truncate(keep);
    }
    // followers end where their leader (or its leader, ...) ended
    for g in 0..leader.len() {
        let mut r = leader[g];
        if r == NONE {
            continue;
        }
        while leader[r] != NONE {
            r = leader[r];
        }
        positions[g] = positions[r];
        scores[g] = scores[r];
    }
    // a failed item's particles are all dropped, the retired and followers included
    for (slot, failure) in failures.iter().enumerate() {
        if failure.is_some() {
            scores[slot * n..(slot + 1) * n].fill(f32::INFINITY);
        }
    }
    Ok(Flowed {
        positions,
        scores,
        evaluations,
        failures,
    })
}

/// The region outside which particles are dropped (never, with a margin of 0).
struct Outside {
    min: [f32; 3],
    max: [f32; 3],
    on: bool,
}

impl Outside {
    fn new(b: BoundingBox, margin: f64) -> Outside {
        Outside {
            min: b.min.map(|x| (x - margin) as f32),
            max: b.max.map(|x| (x + margin) as f32),
            on: margin > 0.0,
        }
    }

    fn test(&self, p: &[f32; 3]) -> bool {
        self.on && (0..3).any(|d| p[d] < self.min[d] || p[d] > self.max[d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::PredictedLattice;
    use crate::vocabulary::Vocabulary;

    /// A contractive field: every point moves half-way to the nearer of two centres (one per
    /// structure item shifted by the item number), so particles converge geometrically, as a
    /// trained field's do, instead of landing in one move as the oracle's.
    struct Halfway {
        vocabulary: Vocabulary,
    }

    impl Field for Halfway {
        fn len(&self) -> usize {
            2
        }
        fn vocabulary(&self) -> &Vocabulary {
            &self.vocabulary
        }
        fn bounding_box(&self) -> BoundingBox {
            BoundingBox::new([0.0; 3], [4.0; 3]).unwrap()
        }
        fn lattices(&self, _: &[usize]) -> Result<Vec<PredictedLattice>> {
            unreachable!("the flow needs no lattice")
        }
        fn displacements(&self, query: &Query, out: &mut [[f32; 3]]) -> Result<()> {
            let mut k = 0;
            for (&item, &count) in query.items.iter().zip(query.counts) {
                let centres = [[1.0, 1.0, 1.0], [3.0, 3.0, 2.5 + 0.25 * item as f32]];
                for _ in 0..count {
                    let p = query.points[k];
                    let d = |c: &[f32; 3]| (0..3).map(|i| (c[i] - p[i]).powi(2)).sum::<f32>();
                    let c = if d(&centres[0]) <= d(&centres[1]) {
                        centres[0]
                    } else {
                        centres[1]
                    };
                    out[k] = [0, 1, 2].map(|i| 0.5 * (c[i] - p[i]));
                    k += 1;
                }
            }
            Ok(())
        }
        fn species_logits(&self, _: &Query, _: &mut [f32]) -> Result<()> {
            unreachable!("the flow needs no species")
        }
    }

    #[test]
    fn the_fast_flow_ends_where_the_exact_flow_ends_with_less_work() {
        let field = Halfway {
            vocabulary: Vocabulary::new(vec![1]).unwrap(),
        };
        let grid = field.bounding_box().grid(0.5).unwrap();
        let items = [0, 1];
        let exact = DecodeOptions::exact();
        let a = flow(&field, &items, &grid, &exact, &|| true).unwrap();
        assert_eq!(a.evaluations, 2 * grid.len() * exact.steps);
        let mut work = Vec::new();
        for merge_below in [0.0, 0.03] {
            // this field halves the distance per move, so a particle retired at a move of
            // 1e-3 Å is 1e-3 Å from where the exact flow ends
            let fast = DecodeOptions {
                merge_below,
                retire_below: 1e-3,
                ..DecodeOptions::default()
            };
            let b = flow(&field, &items, &grid, &fast, &|| true).unwrap();
            work.push(b.evaluations);
            for (p, q) in a.positions.iter().zip(&b.positions) {
                let d = (0..3).map(|i| (p[i] - q[i]).powi(2)).sum::<f32>().sqrt();
                assert!(d < 2e-3, "{p:?} vs {q:?}");
            }
            // a retired particle keeps its last move as its score: below the tolerance
            assert!(b.scores.iter().all(|&s| s < 1e-6));
        }
        // retiring saves most of the work, merging saves more
        assert!(work[0] * 4 < a.evaluations, "{work:?} of {}", a.evaluations);
        assert!(work[1] * 3 < work[0] * 2, "{work:?}");
    }

    #[test]
    fn particles_outside_the_box_are_dropped_only_when_asked() {
        let field = Halfway {
            vocabulary: Vocabulary::new(vec![1]).unwrap(),
        };
        // one particle far outside, one inside
        let grid = [[40.0, 1.0, 1.0], [1.5, 1.0, 1.0]];
        let keep = flow(&field, &[0], &grid, &DecodeOptions::exact(), &|| true).unwrap();
        assert!(keep.scores.iter().all(|s| s.is_finite()));
        let drop = DecodeOptions {
            drop_outside: 1.0,
            ..DecodeOptions::exact()
        };
        let dropped = flow(&field, &[0], &grid, &drop, &|| true).unwrap();
        assert!(dropped.scores[0].is_infinite());
        assert!(dropped.scores[1].is_finite());
    }
}
