//! Streaming structure output: structures are appended chunk by chunk (so that a long decode
//! needs memory for one chunk only) to a temporary file that replaces the target atomically
//! when [`StructureWriter::finish`] is called; dropped unfinished, nothing is left behind.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::{atomic, cif, extxyz, poscar, Format};
use crate::crystal::Structure;
use crate::error::{Error, Result};

/// A structure file being written (format chosen from the name, as [`super::write`]).
pub struct StructureWriter {
    path: PathBuf,
    format: Format,
    file: BufWriter<NamedTempFile>,
    written: usize,
}

impl StructureWriter {
    /// Starts writing `path`; fails at once for a name of no known format or a folder that
    /// cannot take the file, before any structure is computed.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let format = Format::from_path(&path)?;
        let file = BufWriter::new(atomic::create(&path)?);
        Ok(StructureWriter {
            path,
            format,
            file,
            written: 0,
        })
    }

    /// Appends `structures`. A POSCAR file holds exactly one structure.
    pub fn push(&mut self, structures: &[Structure]) -> Result<()> {
        if structures.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        match self.format {
            Format::ExtXyz => text = extxyz::write(structures),
            Format::Cif => {
                cif::check_writable(structures)?;
                if self.written == 0 {
                    text.push_str(cif::HEADER);
                }
                for (i, s) in structures.iter().enumerate() {
                    cif::write_block(&mut text, s, self.written + i);
                }
            }
            Format::Poscar => match (self.written, structures) {
                (0, [one]) => text = poscar::write(one),
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "a POSCAR file holds exactly one structure, got {}: write {} as .extxyz \
                         or .cif",
                        self.written + structures.len(),
                        self.path.display()
                    )))
                }
            },
        }
        self.file
            .write_all(text.as_bytes())
            .map_err(|e| Error::io(&self.path, e))?;
        self.written += structures.len();
        Ok(())
    }

    /// Structures written so far.
    pub fn len(&self) -> usize {
        self.written
    }

    /// True when nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.written == 0
    }

    /// Completes the file and moves it into place. A file with no structure is refused (no
    /// format nesf reads holds none), leaving any previous file as it was.
    pub fn finish(self) -> Result<()> {
        if self.written == 0 {
            return Err(Error::InvalidArgument(format!(
                "no structure to write to {}",
                self.path.display()
            )));
        }
        let file = self
            .file
            .into_inner()
            .map_err(|e| Error::io(&self.path, e.into_error()))?;
        atomic::persist(file, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crystal::Lattice;

    fn cubic(a: f64, id: &str) -> Structure {
        let l = Lattice::new([[a, 0.0, 0.0], [0.0, a, 0.0], [0.0, 0.0, a]]).unwrap();
        Structure::from_fractional(l, vec![11, 17], &[[0.0; 3], [0.5; 3]])
            .unwrap()
            .with_id(id)
    }

    #[test]
    fn chunks_make_the_same_file_as_one_write() {
        let dir = tempfile::tempdir().unwrap();
        let all: Vec<_> = (0..5)
            .map(|i| cubic(4.0 + i as f64, &format!("s{i}")))
            .collect();
        for name in ["a.cif", "a.extxyz"] {
            let whole = dir.path().join(format!("whole-{name}"));
            super::super::write(&whole, &all).unwrap();
            let streamed = dir.path().join(name);
            let mut w = StructureWriter::create(&streamed).unwrap();
            w.push(&all[..2]).unwrap();
            assert!(
                !streamed.exists(),
                "nothing under the final name before finish"
            );
            w.push(&all[2..]).unwrap();
            assert_eq!(w.len(), 5);
            w.finish().unwrap();
            assert_eq!(
                std::fs::read(&whole).unwrap(),
                std::fs::read(&streamed).unwrap()
            );
        }
    }

    #[test]
    fn refusals_leave_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(StructureWriter::create(dir.path().join("out.pdb")).is_err());
        let path = dir.path().join("POSCAR");
        super::super::write(&path, &[cubic(4.0, "old")]).unwrap();
        let before = std::fs::read(&path).unwrap();
        let mut w = StructureWriter::create(&path).unwrap();
        w.push(&[cubic(5.0, "a")]).unwrap();
        let e = w.push(&[cubic(6.0, "b")]).unwrap_err().to_string();
        assert!(e.contains("exactly one"), "{e}");
        drop(w);
        let w = StructureWriter::create(&path).unwrap();
        assert!(w.finish().unwrap_err().to_string().contains("no structure"));
        assert_eq!(std::fs::read(&path).unwrap(), before);
        // no temporary file is left behind
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
