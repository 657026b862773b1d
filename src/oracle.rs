//! The exact (oracle) field of known structures: nearest-atom vectors and species, as the
//! reference computes its training targets (the cell's own atoms only, no periodic images).

use rayon::prelude::*;

use crate::crystal::Structure;
use crate::decode::PredictedLattice;
use crate::error::{Error, Result};
use crate::field::{BoundingBox, Field, Query};
use crate::vocabulary::Vocabulary;

/// Points per parallel task when evaluating the oracle.
const CHUNK: usize = 2048;

/// The exact fields of a set of structures. Decoding it must give the structures back.
#[derive(Debug, Clone)]
pub struct OracleField<'a> {
    structures: &'a [Structure],
    vocabulary: Vocabulary,
    bounding_box: BoundingBox,
}

impl<'a> OracleField<'a> {
    /// The oracle of `structures`, with the vocabulary of their elements and the bounding box of
    /// their atoms. Fails when `structures` is empty.
    pub fn new(structures: &'a [Structure]) -> Result<Self> {
        if structures.is_empty() {
            return Err(Error::InvalidArgument(
                "an oracle field needs at least one structure".into(),
            ));
        }
        Ok(OracleField {
            structures,
            vocabulary: Vocabulary::from_structures(structures)?,
            bounding_box: BoundingBox::of_structures(structures)?,
        })
    }

    /// The same oracle decoded over another bounding box (e.g. a training set's).
    pub fn with_bounding_box(mut self, bounding_box: BoundingBox) -> Self {
        self.bounding_box = bounding_box;
        self
    }

    /// The same oracle with another vocabulary; fails if an element of the structures is missing.
    pub fn with_vocabulary(mut self, vocabulary: Vocabulary) -> Result<Self> {
        for s in self.structures {
            if let Some(&z) = s
                .numbers()
                .iter()
                .find(|&&z| vocabulary.class_of(z).is_none())
            {
                return Err(Error::InvalidArgument(format!(
                    "element {} of structure {} is not in the vocabulary",
                    crate::crystal::elements::symbol(z)?,
                    s.id().unwrap_or("?")
                )));
            }
        }
        self.vocabulary = vocabulary;
        Ok(self)
    }

    /// The structures this oracle describes.
    pub fn structures(&self) -> &'a [Structure] {
        self.structures
    }

    /// Index of the atom of `s` nearest to `p` (first one on ties).
    fn nearest(s: &Structure, p: [f32; 3]) -> usize {
        let p = p.map(f64::from);
        let mut best = (f64::INFINITY, 0);
        for (i, a) in s.positions().iter().enumerate() {
            let d2 = (a[0] - p[0]).powi(2) + (a[1] - p[1]).powi(2) + (a[2] - p[2]).powi(2);
            if d2 < best.0 {
                best = (d2, i);
            }
        }
        best.1
    }

    /// Runs `f(structure, point, output row)` over every point of `query` in parallel.
    fn for_each_point<T: Send>(
        &self,
        query: &Query,
        out: &mut [T],
        width: usize,
        f: impl Fn(&Structure, [f32; 3], &mut [T]) + Sync,
    ) -> Result<()> {
        query.validate(self.structures.len())?;
        if out.len() != query.points.len() * width {
            return Err(Error::InvalidArgument(format!(
                "output holds {} values, {} points need {}",
                out.len(),
                query.points.len(),
                query.points.len() * width
            )));
        }
        let mut tasks = Vec::new();
        let (mut points, mut rest) = (query.points, out);
        for (&item, &count) in query.items.iter().zip(query.counts) {
            let (p, p_rest) = points.split_at(count);
            let (o, o_rest) = rest.split_at_mut(count * width);
            for (pc, oc) in p.chunks(CHUNK).zip(o.chunks_mut(CHUNK * width)) {
                tasks.push((&self.structures[item], pc, oc));
            }
            points = p_rest;
            rest = o_rest;
        }
        tasks.into_par_iter().for_each(|(s, pts, o)| {
            for (p, row) in pts.iter().zip(o.chunks_mut(width)) {
                f(s, *p, row);
            }
        });
        Ok(())
    }
}

impl Field for OracleField<'_> {
    fn len(&self) -> usize {
        self.structures.len()
    }

    fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    fn bounding_box(&self) -> BoundingBox {
        self.bounding_box
    }

    fn lattices(&self, items: &[usize]) -> Result<Vec<PredictedLattice>> {
        items
            .iter()
            .map(|&i| {
                self.structures
                    .get(i)
                    .map(|s| PredictedLattice::exact(*s.lattice()))
                    .ok_or_else(|| {
                        Error::InvalidArgument(format!(
                            "structure {i} requested from an oracle of {}",
                            self.structures.len()
                        ))
                    })
            })
            .collect()
    }

    fn displacements(&self, query: &Query, out: &mut [[f32; 3]]) -> Result<()> {
        self.for_each_point(query, out, 1, |s, p, row| {
            let a = s.positions()[Self::nearest(s, p)];
            row[0] = [0, 1, 2].map(|k| (a[k] - f64::from(p[k])) as f32);
        })
    }

    fn species_logits(&self, query: &Query, out: &mut [f32]) -> Result<()> {
        let n = self.vocabulary.len();
        self.for_each_point(query, out, n, |s, p, row| {
            row.fill(0.0);
            let z = s.numbers()[Self::nearest(s, p)];
            // new() and with_vocabulary() guarantee every element has a class
            if let Some(c) = self.vocabulary.class_of(z) {
                row[c] = 1.0;
            }
        })
    }
}
