//! A crystal structure: a lattice plus atoms (atomic numbers and Cartesian positions).

use super::elements;
use super::lattice::{Lattice, Vec3};
use crate::error::{Error, Result};

/// A periodic crystal structure. Positions are Cartesian (Å) in the frame of the lattice
/// vectors. A `Structure` always holds at least one atom with finite coordinates and real
/// atomic numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Structure {
    lattice: Lattice,
    numbers: Vec<u8>,
    positions: Vec<Vec3>,
    id: Option<String>,
}

impl Structure {
    /// A validated structure: `numbers` and `positions` of equal, non-zero length, finite
    /// coordinates and atomic numbers in 1..=118.
    pub fn new(lattice: Lattice, numbers: Vec<u8>, positions: Vec<Vec3>) -> Result<Self> {
        if numbers.is_empty() {
            return Err(Error::InvalidStructure("the structure has no atoms".into()));
        }
        if numbers.len() != positions.len() {
            return Err(Error::InvalidStructure(format!(
                "{} atomic numbers but {} positions",
                numbers.len(),
                positions.len()
            )));
        }
        for (i, &z) in numbers.iter().enumerate() {
            elements::check_atomic_number(z)
                .map_err(|_| Error::UnknownElement(format!("atomic number {z} of atom {i}")))?;
        }
        if let Some(i) = positions
            .iter()
            .position(|p| p.iter().any(|x| !x.is_finite()))
        {
            return Err(Error::InvalidStructure(format!(
                "atom {i} has a non-finite coordinate {:?}",
                positions[i]
            )));
        }
        Ok(Structure {
            lattice,
            numbers,
            positions,
            id: None,
        })
    }

    /// A validated structure from fractional coordinates.
    pub fn from_fractional(
        lattice: Lattice,
        numbers: Vec<u8>,
        fractional: &[Vec3],
    ) -> Result<Self> {
        let positions = fractional
            .iter()
            .map(|&f| lattice.to_cartesian(f))
            .collect();
        Structure::new(lattice, numbers, positions)
    }

    /// Sets (or, with None, removes) the identifier.
    pub fn set_id(&mut self, id: Option<String>) {
        self.id = id;
    }

    /// The same structure with an identifier (a material id, a CIF block name, a file name).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The identifier, if the structure has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The lattice.
    pub fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    /// Atomic numbers, one per atom.
    pub fn numbers(&self) -> &[u8] {
        &self.numbers
    }

    /// Cartesian positions (Å), one per atom.
    pub fn positions(&self) -> &[Vec3] {
        &self.positions
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    /// Always false: a structure has at least one atom (kept for API symmetry with `len`).
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// Fractional coordinates of every atom.
    pub fn fractional_positions(&self) -> Vec<Vec3> {
        self.positions
            .iter()
            .map(|&p| self.lattice.to_fractional(p))
            .collect()
    }

    /// Element symbols of every atom.
    pub fn symbols(&self) -> Vec<&'static str> {
        self.numbers
            .iter()
            .map(|&z| elements::symbol(z).expect("validated atomic number"))
            .collect()
    }

    /// The chemical formula in order of first appearance, e.g. "Ba2YCu3O7".
    pub fn formula(&self) -> String {
        let mut order: Vec<(u8, usize)> = Vec::new();
        for &z in &self.numbers {
            match order.iter_mut().find(|(e, _)| *e == z) {
                Some((_, n)) => *n += 1,
                None => order.push((z, 1)),
            }
        }
        order
            .iter()
            .map(|&(z, n)| {
                let s = elements::symbol(z).expect("validated atomic number");
                if n == 1 {
                    s.to_string()
                } else {
                    format!("{s}{n}")
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cubic() -> Lattice {
        Lattice::new([[4.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 4.0]]).unwrap()
    }

    #[test]
    fn validation() {
        assert!(Structure::new(cubic(), vec![], vec![]).is_err());
        assert!(Structure::new(cubic(), vec![1], vec![]).is_err());
        assert!(Structure::new(cubic(), vec![0], vec![[0.0; 3]]).is_err());
        assert!(Structure::new(cubic(), vec![119], vec![[0.0; 3]]).is_err());
        assert!(Structure::new(cubic(), vec![1], vec![[f64::NAN, 0.0, 0.0]]).is_err());
        let s = Structure::new(
            cubic(),
            vec![11, 17, 11],
            vec![[0.0; 3], [2.0; 3], [1.0; 3]],
        )
        .unwrap();
        assert_eq!(s.formula(), "Na2Cl");
        assert_eq!(s.fractional_positions()[1], [0.5; 3]);
    }
}
