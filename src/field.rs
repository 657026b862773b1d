//! The field abstraction: anything that evaluates NeSF's position and species fields for many
//! query points of many structures in one call (the exact oracle field, or neural networks).

use crate::crystal::Structure;
use crate::decode::PredictedLattice;
use crate::error::{Error, Result};
use crate::vocabulary::Vocabulary;

/// An axis-aligned box in Cartesian space (Å): the region a model's decoding grid covers.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BoundingBox {
    /// Lower corner (Å).
    pub min: [f64; 3],
    /// Upper corner (Å).
    pub max: [f64; 3],
}

impl BoundingBox {
    /// A box from its corners; fails on non-finite numbers or `min > max`.
    pub fn new(min: [f64; 3], max: [f64; 3]) -> Result<Self> {
        if min.iter().chain(&max).any(|x| !x.is_finite()) || (0..3).any(|k| min[k] > max[k]) {
            return Err(Error::InvalidArgument(format!(
                "bounding box needs finite corners with min <= max, got {min:?} .. {max:?}"
            )));
        }
        Ok(BoundingBox { min, max })
    }

    /// The smallest box holding every atom of `structures` (as the training set defines it).
    pub fn of_structures<'a>(structures: impl IntoIterator<Item = &'a Structure>) -> Result<Self> {
        let mut min = [f64::INFINITY; 3];
        let mut max = [f64::NEG_INFINITY; 3];
        for s in structures {
            for p in s.positions() {
                for k in 0..3 {
                    min[k] = min[k].min(p[k]);
                    max[k] = max[k].max(p[k]);
                }
            }
        }
        if min[0] > max[0] {
            return Err(Error::InvalidArgument(
                "bounding box of an empty set of structures".into(),
            ));
        }
        BoundingBox::new(min, max)
    }

    /// The points of a regular grid with spacing `step` covering the box padded by one step on
    /// each side: along each axis `min - step, min, ..., < max + step` (numpy's
    /// `arange(min - step, max + step, step)`), x varying slowest.
    pub fn grid(&self, step: f64) -> Result<Vec<[f32; 3]>> {
        let shape = self.grid_shape(step)?;
        let total = shape[0] * shape[1] * shape[2];
        let axes: Vec<Vec<f64>> = (0..3)
            .map(|k| {
                let start = self.min[k] - step;
                (0..shape[k]).map(|i| start + i as f64 * step).collect()
            })
            .collect();
        let mut points = Vec::with_capacity(total);
        for &x in &axes[0] {
            for &y in &axes[1] {
                for &z in &axes[2] {
                    points.push([x as f32, y as f32, z as f32]);
                }
            }
        }
        Ok(points)
    }
}

/// Most points a decoding grid may have (per structure).
pub const MAX_GRID_POINTS: usize = 50_000_000;

impl BoundingBox {
    /// Points along each axis of [`BoundingBox::grid`] at `step`, computed before anything is
    /// allocated; fails for a step that is not a positive number or a grid beyond
    /// [`MAX_GRID_POINTS`] points.
    pub fn grid_shape(&self, step: f64) -> Result<[usize; 3]> {
        if !(step.is_finite() && step > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "grid step must be a positive number, got {step}"
            )));
        }
        // numpy's arange count, computed as the reference computes it
        let per_axis = [0, 1, 2].map(|k| {
            let start = self.min[k] - step;
            ((self.max[k] + step - start) / step).ceil().max(1.0)
        });
        let total: f64 = per_axis.iter().product();
        if !total.is_finite() || total > MAX_GRID_POINTS as f64 {
            return Err(Error::InvalidArgument(format!(
                "grid step {step} Å over the box {:?}..{:?} gives {:.3e} points per structure \
                 (limit {MAX_GRID_POINTS}): use a larger grid step",
                self.min, self.max, total
            )));
        }
        Ok(per_axis.map(|n| n as usize))
    }

    /// Number of points of [`BoundingBox::grid`] at `step` (see [`BoundingBox::grid_shape`]).
    pub fn grid_len(&self, step: f64) -> Result<usize> {
        Ok(self.grid_shape(step)?.iter().product())
    }
}

/// A batch of query points for a field: `items[i]` names which structure (or latent) of the
/// field the next `counts[i]` points of `points` belong to.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// Indices of the field's structures, one per group of points.
    pub items: &'a [usize],
    /// Number of points of each group; sums to `points.len()`.
    pub counts: &'a [usize],
    /// Cartesian query points (Å), grouped by item.
    pub points: &'a [[f32; 3]],
}

impl Query<'_> {
    /// Checks that the groups cover the points exactly and every item exists in a field of
    /// `field_len` structures.
    pub fn validate(&self, field_len: usize) -> Result<()> {
        if self.items.len() != self.counts.len() {
            return Err(Error::InvalidArgument(format!(
                "query has {} items but {} counts",
                self.items.len(),
                self.counts.len()
            )));
        }
        let total: usize = self.counts.iter().sum();
        if total != self.points.len() {
            return Err(Error::InvalidArgument(format!(
                "query counts sum to {total} but {} points were given",
                self.points.len()
            )));
        }
        if let Some(&bad) = self.items.iter().find(|&&i| i >= field_len) {
            return Err(Error::InvalidArgument(format!(
                "query names structure {bad} of a field that holds {field_len}"
            )));
        }
        Ok(())
    }
}

/// NeSF's fields for a set of structures (or latent vectors), indexed 0..len().
///
/// Implementations evaluate all points of a [`Query`] in one call, so that neural networks can
/// batch them; they must be deterministic and usable from several threads.
pub trait Field: Sync {
    /// Number of structures (latents) the field describes.
    fn len(&self) -> usize;

    /// True when the field describes no structure.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The species vocabulary: class `i` of the species logits is `vocabulary().numbers()[i]`.
    fn vocabulary(&self) -> &Vocabulary;

    /// The region the decoding grid covers (a property of the model).
    fn bounding_box(&self) -> BoundingBox;

    /// The lattice of each of `items` (predicted parameters, and the cell when they form one).
    fn lattices(&self, items: &[usize]) -> Result<Vec<PredictedLattice>>;

    /// The position field: for every query point, the vector (Å) to its nearest atom.
    /// `out.len()` equals `query.points.len()`.
    fn displacements(&self, query: &Query, out: &mut [[f32; 3]]) -> Result<()>;

    /// The species field: for every query point, logits over the vocabulary, row-major
    /// `[points][vocabulary().len()]`.
    fn species_logits(&self, query: &Query, out: &mut [f32]) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_matches_reference_counts() {
        // The LCS6Å training box: the reference's 1.0 Å grid has 14 x 11 x 8 points and its
        // 0.5 Å grid 7280.
        let b = BoundingBox::new(
            [-0.00766566, -0.00552928, 0.0],
            [11.64967439, 8.49575273, 5.96743293],
        )
        .unwrap();
        assert_eq!(b.grid(1.0).unwrap().len(), 14 * 11 * 8);
        assert_eq!(b.grid(0.5).unwrap().len(), 7280);
        assert!(b.grid(0.0).is_err());
        assert!(b.grid(f64::NAN).is_err());
    }
}
