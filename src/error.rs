//! The one error type of the library. Every message names the object and the problem.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in nesf.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A structure file could not be parsed; `source_name` is the file (or a description of the
    /// input) and `line` the 1-based line where the problem was found (0 when not line-bound).
    #[error("{source_name}:{line}: {message}")]
    Parse {
        /// File name or description of the input.
        source_name: String,
        /// 1-based line number, 0 when the problem is not tied to a line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An input or output file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A lattice is not usable (non-finite numbers, degenerate cell, impossible angles).
    #[error("invalid lattice: {0}")]
    InvalidLattice(String),
    /// A structure is not usable (empty, non-finite coordinates, mismatched lengths).
    #[error("invalid structure: {0}")]
    InvalidStructure(String),
    /// An element symbol or atomic number that does not exist.
    #[error("unknown element: {0}")]
    UnknownElement(String),
    /// A file name whose format cannot be recognised.
    #[error("unknown file format for '{0}': use .cif, .xyz/.extxyz, POSCAR/CONTCAR or .vasp")]
    UnknownFormat(String),
    /// Space-group identification failed.
    #[error("symmetry: {0}")]
    Symmetry(String),
    /// An argument of an API call is out of its domain (wrong shape, NaN, out of range).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A field (oracle or neural network) failed to evaluate.
    #[error("field evaluation failed: {0}")]
    Field(String),
    /// A model (network weights or an ONNX graph) is malformed: wrong shapes, missing or
    /// inconsistent parts, undecodable bytes. The message names the part concerned.
    #[error("invalid model: {0}")]
    Model(String),
    /// ONNX Runtime could not be loaded, or failed to create or run a session.
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    /// The caller stopped a long operation (a progress callback asked to, or Ctrl-C).
    #[error("cancelled: {0}")]
    Cancelled(String),
}

impl Error {
    /// Shorthand for a [`Error::Parse`] error.
    pub fn parse(source_name: &str, line: usize, message: impl Into<String>) -> Self {
        Error::Parse {
            source_name: source_name.to_string(),
            line,
            message: message.into(),
        }
    }

    /// Shorthand for an [`Error::Io`] error.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
