//! # nesf — Neural Structure Fields
//!
//! Decode latent vectors into crystal structures with Neural Structure Fields (Chiba et al.,
//! Communications Materials 2023). The crate reads and writes structures (extended XYZ, CIF,
//! POSCAR), runs the NeSF decoder over any [`field::Field`] (the exact oracle field, or the
//! neural networks), and computes the paper's metrics.
//!
//! The C ABI (`include/nesf.h`, module [`capi`]) wraps this API for C, C++, Fortran and Julia.
//!
//! Units: lengths in Å, lattice angles in degrees, positions Cartesian in the frame of the
//! lattice vectors (rows a, b, c), species as atomic numbers.

pub mod capi;
pub mod crystal;
pub mod decode;
pub mod error;
pub mod field;
#[doc(hidden)]
pub mod fuzzing;
pub mod io;
pub mod metrics;
pub mod model;
pub mod oracle;
pub mod rng;
pub mod vocabulary;

pub use crystal::{Lattice, LatticeParameters, SpaceGroup, Structure, Vec3};
pub use decode::{decode, DecodeOptions, DecodedStructure};
pub use error::{Error, Result};
pub use field::{BoundingBox, Field, Query};
pub use metrics::{Metrics, MetricsAccumulator};
pub use oracle::OracleField;
pub use vocabulary::Vocabulary;
