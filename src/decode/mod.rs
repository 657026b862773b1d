//! The NeSF decoder (estimation algorithm): lattice from the heads, a particle grid moved along
//! the position field, filtering, non-maximum suppression, and a species vote.
//!
//! Structures are decoded in batches: every flow step sends all particles of a batch to the
//! field in one call, and the per-structure clustering runs in parallel (rayon).

pub mod nms;
pub mod options;
pub mod particles;
pub mod species;

use rayon::prelude::*;

pub use options::DecodeOptions;
pub use species::SpeciesVote;

use crate::crystal::{Lattice, LatticeParameters, SpaceGroup, Structure, Vec3};
use crate::error::{Error, Result};
use crate::field::{Field, Query};

/// The lattice a field gives for one structure: the parameters, and the cell they form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictedLattice {
    /// Edge lengths (Å) and angles (degrees) as predicted.
    pub parameters: LatticeParameters,
    /// The cell, or None when the parameters form none (e.g. an angle of 199°).
    pub lattice: Option<Lattice>,
}

impl PredictedLattice {
    /// A known lattice (the oracle's).
    pub fn exact(lattice: Lattice) -> Self {
        PredictedLattice {
            parameters: lattice.parameters(),
            lattice: Some(lattice),
        }
    }

    /// Predicted parameters, with the cell they form when they form one.
    pub fn from_parameters(parameters: LatticeParameters) -> Self {
        PredictedLattice {
            parameters,
            lattice: Lattice::from_parameters(&parameters).ok(),
        }
    }

    /// The cell; fails, naming the parameters, when they form none.
    pub fn cell(&self) -> Result<&Lattice> {
        self.lattice.as_ref().ok_or_else(|| {
            let p = &self.parameters;
            Error::InvalidLattice(format!(
                "the lattice heads predicted a={:.3} b={:.3} c={:.3} Å, alpha={:.2} beta={:.2} \
                 gamma={:.2} degrees, which form no cell",
                p.a, p.b, p.c, p.alpha, p.beta, p.gamma
            ))
        })
    }
}

/// One decoded structure. It may hold no atom at all (a decoding failure), and its predicted
/// lattice parameters may form no cell (then `lattice.lattice` is None).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedStructure {
    /// The lattice from the lattice heads.
    pub lattice: PredictedLattice,
    /// Atomic number of every detected atom.
    pub numbers: Vec<u8>,
    /// Cartesian position (Å) of every detected atom.
    pub positions: Vec<Vec3>,
    /// Fraction of the species-vote points that agreed with each atom's species (0..1).
    pub confidence: Vec<f32>,
    /// Number of particles that formed each atom.
    pub particles: Vec<usize>,
    /// Why this structure could not be decoded (a field returned non-finite values for it),
    /// naming the network and the point; it then holds no atom. The other structures of the
    /// same decode are not affected.
    pub failure: Option<String>,
}

impl DecodedStructure {
    /// Number of detected atoms.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    /// True when no atom was detected.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// The decoded atoms as a validated [`Structure`]; fails when decoding failed, no atom was
    /// detected or the predicted lattice forms no cell.
    pub fn to_structure(&self) -> Result<Structure> {
        if let Some(why) = &self.failure {
            return Err(Error::Field(why.clone()));
        }
        if self.is_empty() {
            return Err(Error::InvalidStructure(
                "decoding detected no atom, so there is no structure to return".into(),
            ));
        }
        Structure::new(
            *self.lattice.cell()?,
            self.numbers.clone(),
            self.positions.clone(),
        )
    }

    /// Snaps the structure to the space group found at `symprec` Å
    /// ([`Structure::symmetrized`]): the lattice and positions become the refined ones, a
    /// merged site keeps the mean confidence and the summed particles of its atoms, and a
    /// site the group adds takes the mean confidence of its orbit and no particles. Returns
    /// the group, or None (the structure unchanged) when it has no atom or cell or no group is
    /// found.
    pub fn symmetrize(&mut self, symprec: f64) -> Option<SpaceGroup> {
        let sym = self.to_structure().ok()?.symmetrized(symprec).ok()?;
        let mean = |atoms: &[usize]| {
            atoms.iter().map(|&i| self.confidence[i]).sum::<f32>() / atoms.len() as f32
        };
        let mut confidence: Vec<f32> = sym
            .sources
            .iter()
            .map(|v| if v.is_empty() { f32::NAN } else { mean(v) })
            .collect();
        let orbit_mean = |s: usize| {
            let orbit: Vec<usize> = (0..sym.sources.len())
                .filter(|&t| sym.orbits[t] == sym.orbits[s])
                .flat_map(|t| sym.sources[t].iter().copied())
                .collect();
            if orbit.is_empty() {
                0.0
            } else {
                mean(&orbit)
            }
        };
        for (s, c) in confidence.iter_mut().enumerate() {
            if c.is_nan() {
                *c = orbit_mean(s);
            }
        }
        self.particles = sym
            .sources
            .iter()
            .map(|v| v.iter().map(|&i| self.particles[i]).sum())
            .collect();
        self.confidence = confidence;
        self.lattice = PredictedLattice::exact(*sym.structure.lattice());
        self.numbers = sym.structure.numbers().to_vec();
        self.positions = sym.structure.positions().to_vec();
        Some(sym.space_group)
    }
}

/// Decodes the field's structures `items` with `options`.
pub fn decode(
    field: &dyn Field,
    items: &[usize],
    options: &DecodeOptions,
) -> Result<Vec<DecodedStructure>> {
    decode_with_progress(field, items, options, &|_| {})
}

/// As [`decode`], calling `progress(n)` after each batch with the number of structures done.
pub fn decode_with_progress(
    field: &dyn Field,
    items: &[usize],
    options: &DecodeOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<DecodedStructure>> {
    decode_monitored(field, items, options, &|n| {
        progress(n);
        true
    })
}

/// As [`decode`], calling `proceed(n)` (n: structures finished so far) after every flow step
/// and every batch, on the calling thread; when it returns false the decode stops with
/// [`Error::Cancelled`] within one flow step.
pub fn decode_monitored(
    field: &dyn Field,
    items: &[usize],
    options: &DecodeOptions,
    proceed: &(dyn Fn(usize) -> bool + Sync),
) -> Result<Vec<DecodedStructure>> {
    options.validate()?;
    if let Some(&bad) = items.iter().find(|&&i| i >= field.len()) {
        return Err(Error::InvalidArgument(format!(
            "structure {bad} requested from a field of {}",
            field.len()
        )));
    }
    let grid_points = field.bounding_box().grid_len(options.grid_step)?;
    options.check_particles(grid_points, items.len())?;
    let grid = field.bounding_box().grid(options.grid_step)?;
    let mut out = Vec::with_capacity(items.len());
    let cancelled = |done: usize| {
        Error::Cancelled(format!(
            "decoding stopped by the caller after {done} of {} structures",
            items.len()
        ))
    };
    for batch in items.chunks(options.batch_size) {
        let done = out.len();
        let step = || proceed(done);
        out.extend(
            decode_batch(field, batch, &grid, options, &step).map_err(|e| match e {
                Error::Cancelled(_) => cancelled(done),
                e => e,
            })?,
        );
        if !proceed(out.len()) {
            return Err(cancelled(out.len()));
        }
    }
    Ok(out)
}

fn decode_batch(
    field: &dyn Field,
    items: &[usize],
    grid: &[[f32; 3]],
    options: &DecodeOptions,
    proceed: &dyn Fn() -> bool,
) -> Result<Vec<DecodedStructure>> {
    let lattices = field.lattices(items)?;
    let flowed = particles::flow(field, items, grid, options, proceed)?;
    let mut failures = flowed.failures;
    // a structure whose lattice is not finite fails before any cluster or species work
    for ((failure, lattice), item) in failures.iter_mut().zip(&lattices).zip(items) {
        let p = &lattice.parameters;
        if failure.is_none() && !p.lengths().iter().chain(&p.angles()).all(|x| x.is_finite()) {
            *failure = Some(format!(
                "the lattice heads predicted a non-finite value for structure {item}: {p:?}"
            ));
        }
    }
    let n = grid.len();
    let clusters: Vec<Vec<nms::Cluster>> = (0..items.len())
        .into_par_iter()
        .map(|i| {
            if failures[i].is_some() {
                return Vec::new();
            }
            let range = i * n..(i + 1) * n;
            nms::nms(
                &flowed.positions[range.clone()],
                &flowed.scores[range],
                options.max_last_step,
                options.nms_radius,
                options.min_particles,
            )
        })
        .collect();

    // species vote: every point around every atom of the batch in one call
    let stencil = options.species_stencil();
    let counts: Vec<usize> = clusters.iter().map(|c| c.len() * stencil.len()).collect();
    let mut points = Vec::with_capacity(counts.iter().sum());
    for c in clusters.iter().flatten() {
        for o in &stencil {
            points.push([0, 1, 2].map(|k| (c.position[k] + o[k]) as f32));
        }
    }
    let classes = field.vocabulary().len();
    let mut logits = vec![0f32; points.len() * classes];
    if !points.is_empty() {
        field.species_logits(
            &Query {
                items,
                counts: &counts,
                points: &points,
            },
            &mut logits,
        )?;
    }
    let per_atom = stencil.len() * classes;
    let mut offset = 0;
    let mut out = Vec::with_capacity(items.len());
    for (i, (lattice, atoms)) in lattices.into_iter().zip(&clusters).enumerate() {
        let mut d = DecodedStructure {
            lattice,
            numbers: Vec::with_capacity(atoms.len()),
            positions: Vec::with_capacity(atoms.len()),
            confidence: Vec::with_capacity(atoms.len()),
            particles: Vec::with_capacity(atoms.len()),
            failure: failures[i].take(),
        };
        let own = &logits[offset..offset + atoms.len() * per_atom];
        if let Some(k) = own.iter().position(|x| !x.is_finite()) {
            d.failure.get_or_insert_with(|| {
                format!(
                    "the species field returned a non-finite logit {} around the atom at {:?} \
                     of structure {}",
                    own[k],
                    atoms[k / per_atom].position,
                    items[i]
                )
            });
        }
        if d.failure.is_some() {
            offset += own.len();
            out.push(d);
            continue;
        }
        for atom in atoms {
            let (class, confidence) = species::choose(
                options.species_vote,
                &logits[offset..offset + per_atom],
                classes,
            );
            offset += per_atom;
            let z = field.vocabulary().atomic_number(class).ok_or_else(|| {
                Error::Field(format!("species class {class} outside the vocabulary"))
            })?;
            d.numbers.push(z);
            d.positions.push(atom.position);
            d.confidence.push(confidence);
            d.particles.push(atom.particles);
        }
        out.push(d);
    }
    if options.symprec > 0.0 {
        out.par_iter_mut().for_each(|d| {
            d.symmetrize(options.symprec);
        });
    }
    Ok(out)
}
