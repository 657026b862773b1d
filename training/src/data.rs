//! Training data: structures as network inputs, and the query points of method section 3.
//!
//! Query points are regenerated for every batch:
//! - global: the training set's 1.0 Å grid (bounding box padded by one step), every point
//!   jittered by N(0, 0.5²) per axis;
//! - local: around every atom, offsets {-0.6, -0.3, 0, 0.3} Å per axis (64 points), jittered by
//!   N(0, 0.15²);
//! - species: around every atom, offsets -0.3 .. 0.2 Å step 0.1 per axis (216 points), jittered
//!   by N(0, 0.05²).
//!
//! A recipe may also add boundary points ([`boundary_points`]; none in the reference): points
//! near the faces of the atoms' Voronoi cells, where the position field jumps from one atom to
//! the next and a smooth fit averages the two into a false attractor.
//!
//! The position loss uses global + local points, the species loss the species points. Targets
//! are the nearest atom of the structure's own atoms (no periodic images), computed by the
//! library's [`nesf::OracleField`].

use std::path::Path;

use anyhow::{bail, Context, Result};
use nesf::model::graphs::{structure_features, StructureFeatures};
use nesf::{BoundingBox, Field, OracleField, Query, Structure, Vocabulary};
use tch::{Device, Kind, Tensor};

use crate::recipe::QueryBudget;
use crate::rng::Rng;

/// A set of structures with their network inputs.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The structures as read.
    pub structures: Vec<Structure>,
    /// Their network inputs (the library's encoder view), in the same order.
    pub samples: Vec<StructureFeatures>,
}

impl Dataset {
    /// Structures `structures` with classes from `vocabulary`; fails on an element the
    /// vocabulary lacks or a structure without atoms.
    pub fn new(structures: Vec<Structure>, vocabulary: &Vocabulary) -> Result<Dataset> {
        let mut samples = Vec::with_capacity(structures.len());
        for (i, s) in structures.iter().enumerate() {
            if s.is_empty() {
                bail!("structure {i} ({}) has no atom", s.id().unwrap_or("?"));
            }
            let features = structure_features(s, vocabulary).with_context(|| {
                format!(
                    "structure {i} ({}): the training set (and so the model's species \
                     vocabulary) lacks one of its elements",
                    s.id().unwrap_or("?")
                )
            })?;
            samples.push(features);
        }
        Ok(Dataset {
            structures,
            samples,
        })
    }

    /// Reads a structure file (any format the library reads).
    pub fn read(path: &Path, vocabulary: &Vocabulary) -> Result<Dataset> {
        let structures =
            nesf::io::read(path).with_context(|| format!("reading {}", path.display()))?;
        if structures.is_empty() {
            bail!("{} holds no structure", path.display());
        }
        Dataset::new(structures, vocabulary).with_context(|| format!("in {}", path.display()))
    }

    /// Number of structures.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when there is no structure.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// The query-point templates and jitter of method section 3.
#[derive(Debug, Clone)]
pub struct Sampling {
    /// Global grid (Å).
    pub global: Vec<[f32; 3]>,
    /// The region the global grid covers (the bounding box padded by one grid step): where
    /// boundary points are drawn.
    pub region: BoundingBox,
    /// Standard deviation (Å) of the global jitter.
    pub global_sigma: f32,
    /// Offsets around each atom for the position loss.
    pub local: Vec<[f32; 3]>,
    /// Standard deviation (Å) of the local jitter.
    pub local_sigma: f32,
    /// Offsets around each atom for the species loss.
    pub species: Vec<[f32; 3]>,
    /// Standard deviation (Å) of the species jitter.
    pub species_sigma: f32,
    /// How many of these points a structure gets per batch (all of them in the reference).
    pub budget: QueryBudget,
}

/// `k` distinct indices below `n` in random order, or all of them in order (drawing nothing)
/// when `k >= n`, so that the reference budget consumes exactly the reference's random numbers.
fn chosen(rng: &mut Rng, n: usize, k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    if k >= n {
        return idx;
    }
    for i in 0..k {
        let j = i + rng.below(n - i);
        idx.swap(i, j);
    }
    idx.truncate(k);
    idx
}

/// The points `start + k * step` below `end` (numpy / torch `arange`), as a 3-D grid, x slowest.
fn cube(start: f64, end: f64, step: f64) -> Vec<[f32; 3]> {
    let n = ((end - start) / step).ceil().max(0.0) as usize;
    let axis: Vec<f32> = (0..n).map(|k| (start + k as f64 * step) as f32).collect();
    let mut out = Vec::with_capacity(n * n * n);
    for &x in &axis {
        for &y in &axis {
            for &z in &axis {
                out.push([x, y, z]);
            }
        }
    }
    out
}

/// Spacing of the global query grid (Å); the region it covers reaches one step past the
/// bounding box.
pub const GLOBAL_GRID_STEP: f64 = 1.0;

impl Sampling {
    /// The reference configuration for a training set's bounding box: global 1.0 Å grid with
    /// σ 0.5 Å, local offsets arange(-0.6, 0.6, 0.3) with σ 0.15 Å, species offsets
    /// arange(-0.3, 0.3, 0.1) with σ 0.05 Å.
    pub fn reference(bounding_box: &BoundingBox) -> Result<Sampling> {
        let pad = |x: [f64; 3], by: f64| x.map(|v| v + by);
        let step = GLOBAL_GRID_STEP;
        Ok(Sampling {
            global: bounding_box.grid(step)?,
            region: BoundingBox::new(pad(bounding_box.min, -step), pad(bounding_box.max, step))?,
            global_sigma: 0.5,
            local: cube(-0.6, 0.6, 0.3),
            local_sigma: 0.15,
            species: cube(-0.3, 0.3, 0.1),
            species_sigma: 0.05,
            budget: QueryBudget::REFERENCE,
        })
    }

    /// The same templates, of which each structure gets `budget`'s share per batch.
    pub fn with_budget(&self, budget: QueryBudget) -> Sampling {
        Sampling {
            budget,
            ..self.clone()
        }
    }

    /// Global points per structure under the budget.
    pub fn global_count(&self) -> usize {
        let n = self.global.len();
        ((n as f64 * self.budget.global_fraction).round() as usize).clamp(1, n.max(1))
    }

    /// Species points per atom under the budget.
    pub fn species_count(&self) -> usize {
        self.budget.species_per_atom.min(self.species.len())
    }

    /// Position-loss plus species-loss query points for a structure of `atoms` atoms (boundary
    /// points only where there are two atoms to lie between).
    pub fn points_per_structure(&self, atoms: usize) -> usize {
        let boundary = if atoms >= 2 {
            self.budget.boundary_points
        } else {
            0
        };
        self.global_count() + boundary + atoms * (self.local.len() + self.species_count())
    }
}

/// Tries per boundary point before [`boundary_points`] gives up on a structure.
const BOUNDARY_TRIES: usize = 200;

/// `count` points drawn uniformly from `region` among those whose second-nearest atom of
/// `atoms` is less than `width` Å farther than the nearest: points near a face of the atoms'
/// (non-periodic) Voronoi cells, where the position field's target jumps. Rejection sampling,
/// at most [`BOUNDARY_TRIES`] draws a point, so a structure whose faces barely meet the region
/// gets fewer points; none for fewer than two atoms.
pub fn boundary_points(
    rng: &mut Rng,
    atoms: &[[f32; 3]],
    region: &BoundingBox,
    count: usize,
    width: f64,
) -> Vec<[f32; 3]> {
    let mut out = Vec::with_capacity(count);
    if atoms.len() < 2 {
        return out;
    }
    for _ in 0..count * BOUNDARY_TRIES {
        if out.len() == count {
            break;
        }
        let p = [0, 1, 2].map(|k| region.min[k] + rng.uniform() * (region.max[k] - region.min[k]));
        let (mut d1, mut d2) = (f64::INFINITY, f64::INFINITY);
        for a in atoms {
            let d = (0..3)
                .map(|k| (p[k] - f64::from(a[k])).powi(2))
                .sum::<f64>()
                .sqrt();
            if d < d1 {
                (d1, d2) = (d, d1);
            } else if d < d2 {
                d2 = d;
            }
        }
        if d2 - d1 < width {
            out.push(p.map(|v| v as f32));
        }
    }
    out
}

/// A batch on the host: encoder inputs, query points and their targets.
#[derive(Debug, Clone, Default)]
pub struct HostBatch {
    /// Structures in the batch.
    pub structures: usize,
    /// Atom positions, `[atoms][3]`.
    pub atom_positions: Vec<f32>,
    /// Atom classes.
    pub atom_classes: Vec<i64>,
    /// Slot of every atom in a `[structures][max_atoms]` padded layout (for max-pooling).
    pub atom_slots: Vec<i64>,
    /// Largest atom count of the batch.
    pub max_atoms: usize,
    /// Lattice inputs / targets, `[structures][6]` (Å, radians).
    pub lattice: Vec<f32>,
    /// Position-loss query points (global + local), `[n][3]`.
    pub position_points: Vec<f32>,
    /// Structure (within the batch) of every position-loss point.
    pub position_items: Vec<i64>,
    /// Vector from every position-loss point to its nearest atom, `[n][3]`.
    pub position_targets: Vec<f32>,
    /// Species-loss query points, `[m][3]`.
    pub species_points: Vec<f32>,
    /// Structure of every species-loss point.
    pub species_items: Vec<i64>,
    /// Class of the nearest atom of every species-loss point.
    pub species_targets: Vec<i64>,
}

impl HostBatch {
    /// Number of query points (position + species).
    pub fn points(&self) -> usize {
        (self.position_points.len() + self.species_points.len()) / 3
    }

    /// The encoder's inputs and the lattice targets of structures `indices` of `data`, without
    /// query points (what the lattice heads need).
    pub fn structures_only(data: &Dataset, indices: &[usize]) -> HostBatch {
        let mut b = HostBatch {
            structures: indices.len(),
            ..HostBatch::default()
        };
        b.max_atoms = indices
            .iter()
            .map(|&i| data.samples[i].positions.len())
            .max()
            .unwrap_or(0);
        for (item, &i) in indices.iter().enumerate() {
            let s = &data.samples[i];
            for (rank, (p, &c)) in s.positions.iter().zip(&s.classes).enumerate() {
                b.atom_positions.extend_from_slice(p);
                b.atom_classes.push(c as i64);
                b.atom_slots.push((item * b.max_atoms + rank) as i64);
            }
            b.lattice.extend_from_slice(&s.lattice);
        }
        b
    }

    /// Builds the batch of structures `indices` of `data`, drawing the jitter from `rng`.
    pub fn build(
        data: &Dataset,
        vocabulary: &Vocabulary,
        indices: &[usize],
        sampling: &Sampling,
        rng: &mut Rng,
    ) -> Result<HostBatch> {
        let mut b = HostBatch::structures_only(data, indices);
        let mut position_counts = Vec::with_capacity(indices.len());
        let mut species_counts = Vec::with_capacity(indices.len());
        let jitter = |rng: &mut Rng, p: [f32; 3], sigma: f32| -> [f32; 3] {
            p.map(|x| x + sigma * rng.normal() as f32)
        };
        for (item, &i) in indices.iter().enumerate() {
            let s = &data.samples[i];
            let before = b.position_points.len() / 3;
            let global = chosen(rng, sampling.global.len(), sampling.global_count());
            for g in global.iter().map(|&k| sampling.global[k]) {
                b.position_points
                    .extend_from_slice(&jitter(rng, g, sampling.global_sigma));
            }
            for a in &s.positions {
                for o in &sampling.local {
                    let p = [a[0] + o[0], a[1] + o[1], a[2] + o[2]];
                    b.position_points
                        .extend_from_slice(&jitter(rng, p, sampling.local_sigma));
                }
            }
            if sampling.budget.boundary_points > 0 {
                let budget = &sampling.budget;
                for p in boundary_points(
                    rng,
                    &s.positions,
                    &sampling.region,
                    budget.boundary_points,
                    budget.boundary_width,
                ) {
                    b.position_points.extend_from_slice(&p);
                }
            }
            let n = b.position_points.len() / 3 - before;
            b.position_items.extend(std::iter::repeat_n(item as i64, n));
            position_counts.push(n);

            let before = b.species_points.len() / 3;
            for a in &s.positions {
                let offsets = chosen(rng, sampling.species.len(), sampling.species_count());
                for o in offsets.iter().map(|&k| sampling.species[k]) {
                    let p = [a[0] + o[0], a[1] + o[1], a[2] + o[2]];
                    b.species_points
                        .extend_from_slice(&jitter(rng, p, sampling.species_sigma));
                }
            }
            let n = b.species_points.len() / 3 - before;
            b.species_items.extend(std::iter::repeat_n(item as i64, n));
            species_counts.push(n);
        }

        // Targets: the library's exact field of these structures.
        let structures: Vec<Structure> = indices
            .iter()
            .map(|&i| data.structures[i].clone())
            .collect();
        let oracle = OracleField::new(&structures)?.with_vocabulary(vocabulary.clone())?;
        let items: Vec<usize> = (0..indices.len()).collect();
        let points = as_points(&b.position_points);
        let mut out = vec![[0f32; 3]; points.len()];
        oracle.displacements(
            &Query {
                items: &items,
                counts: &position_counts,
                points,
            },
            &mut out,
        )?;
        b.position_targets = out.into_iter().flatten().collect();

        let points = as_points(&b.species_points);
        let width = vocabulary.len();
        let mut logits = vec![0f32; points.len() * width];
        oracle.species_logits(
            &Query {
                items: &items,
                counts: &species_counts,
                points,
            },
            &mut logits,
        )?;
        b.species_targets = logits
            .chunks_exact(width)
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |best, (k, &v)| {
                        if v > best.1 {
                            (k, v)
                        } else {
                            best
                        }
                    })
                    .0 as i64
            })
            .collect();
        Ok(b)
    }

    /// The batch as tensors on `device`.
    pub fn to_device(&self, device: Device) -> DeviceBatch {
        let f = |v: &[f32], cols: i64| {
            Tensor::from_slice(v)
                .view([v.len() as i64 / cols, cols])
                .to_device(device)
        };
        let i = |v: &[i64]| Tensor::from_slice(v).to_device(device);
        DeviceBatch {
            structures: self.structures as i64,
            max_atoms: self.max_atoms as i64,
            atom_positions: f(&self.atom_positions, 3),
            atom_classes: i(&self.atom_classes),
            atom_slots: i(&self.atom_slots),
            lattice: f(&self.lattice, 6),
            position_points: f(&self.position_points, 3),
            position_items: i(&self.position_items),
            position_targets: f(&self.position_targets, 3),
            species_points: f(&self.species_points, 3),
            species_items: i(&self.species_items),
            species_targets: i(&self.species_targets),
        }
    }
}

/// Reinterprets a flat `[n * 3]` slice as `n` points.
fn as_points(flat: &[f32]) -> &[[f32; 3]] {
    let (chunks, rest) = flat.as_chunks::<3>();
    debug_assert!(rest.is_empty());
    chunks
}

/// A batch as tensors (see [`HostBatch`] for the meaning of each).
#[derive(Debug)]
pub struct DeviceBatch {
    pub structures: i64,
    pub max_atoms: i64,
    pub atom_positions: Tensor,
    pub atom_classes: Tensor,
    pub atom_slots: Tensor,
    pub lattice: Tensor,
    pub position_points: Tensor,
    pub position_items: Tensor,
    pub position_targets: Tensor,
    pub species_points: Tensor,
    pub species_items: Tensor,
    pub species_targets: Tensor,
}

impl DeviceBatch {
    /// The lattice lengths (Å) and angles (radians), `[structures][3]` each.
    pub fn lattice_targets(&self) -> (Tensor, Tensor) {
        (self.lattice.narrow(1, 0, 3), self.lattice.narrow(1, 3, 3))
    }

    /// Number of query points.
    pub fn points(&self) -> i64 {
        self.position_points.size()[0] + self.species_points.size()[0]
    }
}

/// Splits `0..n` (in `order`) into batches of `batch_size`; a trailing batch of a single
/// structure is dropped (BatchNorm cannot train on one sample).
pub fn batches(order: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = order
        .chunks(batch_size.max(1))
        .map(|c| c.to_vec())
        .collect();
    if out.len() > 1 && out.last().is_some_and(|b| b.len() < 2) {
        out.pop();
    }
    out
}

/// Float kind used everywhere.
pub const KIND: Kind = Kind::Float;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_offsets() {
        let b = BoundingBox::new([0.0; 3], [1.0; 3]).unwrap();
        let s = Sampling::reference(&b).unwrap();
        assert_eq!(s.local.len(), 64);
        assert_eq!(s.species.len(), 216);
        assert_eq!(s.local[0], [-0.6, -0.6, -0.6]);
        assert!((s.local[63][2] - 0.3).abs() < 1e-6);
        assert!((s.species[215][0] - 0.2).abs() < 1e-6);
    }

    #[test]
    fn boundary_points_lie_between_two_atoms() {
        let region = BoundingBox::new([-2.0; 3], [4.0; 3]).unwrap();
        let atoms = [[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 2.5, 0.0]];
        let mut rng = Rng::new(3);
        let points = boundary_points(&mut rng, &atoms, &region, 500, 0.2);
        assert_eq!(points.len(), 500);
        for p in &points {
            let mut d: Vec<f64> = atoms
                .iter()
                .map(|a| {
                    (0..3)
                        .map(|k| f64::from(p[k] - a[k]).powi(2))
                        .sum::<f64>()
                        .sqrt()
                })
                .collect();
            d.sort_by(f64::total_cmp);
            assert!(d[1] - d[0] < 0.2 + 1e-5, "{p:?}: {d:?}");
            assert!((0..3).all(|k| (-2.0..4.0).contains(&p[k])), "{p:?}");
        }
        // the bisecting plane x = 1 of the first two atoms is among the faces
        assert!(points
            .iter()
            .any(|p| (p[0] - 1.0).abs() < 0.1 && p[1] < 1.0));
        // one atom has no face; the draws give up rather than loop
        assert!(boundary_points(&mut rng, &atoms[..1], &region, 10, 0.2).is_empty());
        let far = BoundingBox::new([100.0; 3], [101.0; 3]).unwrap();
        assert!(boundary_points(&mut rng, &atoms[..2], &far, 10, 0.2).is_empty());
    }

    #[test]
    fn batching_drops_a_single_trailing_structure() {
        let order: Vec<usize> = (0..9).collect();
        assert_eq!(batches(&order, 4).len(), 2);
        assert_eq!(batches(&order[..8], 4).len(), 2);
        assert_eq!(batches(&order[..7], 4)[1].len(), 3);
    }
}
