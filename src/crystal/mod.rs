//! Crystal model: elements, lattices, structures and their space groups.

pub mod elements;
pub mod lattice;
pub mod structure;
pub mod symmetry;

pub use lattice::{Lattice, LatticeParameters, Vec3};
pub use structure::Structure;
pub use symmetry::SpaceGroup;
