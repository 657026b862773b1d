//! Crystal model: elements, lattices and structures.

pub mod elements;
pub mod lattice;
pub mod structure;

pub use lattice::{Lattice, LatticeParameters, Vec3};
pub use structure::Structure;
