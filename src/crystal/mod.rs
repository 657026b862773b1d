//! Crystal model: elements, lattices, structures and their space groups.

pub mod elements;
pub mod lattice;
pub mod site_index;
pub mod structure;
pub mod symmetrize;
pub mod symmetry;

pub use lattice::{Lattice, LatticeParameters, Vec3};
pub use structure::Structure;
pub use symmetrize::Symmetrized;
pub use symmetry::SpaceGroup;
