//! Latent files: NumPy `.npy` arrays of float32, one row per structure (`numpy.load` gives an
//! `(n, latent_size)` array). Both directions stream, so that 10^5 latents need memory for one
//! chunk only; writes replace the target atomically. The format is handled by `npyz`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use npyz::WriterBuilder;
use tempfile::NamedTempFile;

use super::atomic;
use crate::error::{Error, Result};
use crate::model::Latents;

/// Reads a latent file chunk by chunk.
pub struct LatentReader {
    path: PathBuf,
    data: npyz::NpyReader<f32, BufReader<File>>,
    rows: usize,
    latent_size: usize,
    next: usize,
}

fn bad(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::parse(&path.display().to_string(), 0, what.to_string())
}

impl LatentReader {
    /// Opens a latent file and checks its header: float32, C order, shape `(n, size)` (or
    /// `(size,)` for one latent), and a file long enough for that shape.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let length = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        let offset = data_offset(&mut file)
            .ok_or_else(|| bad(&path, "not a NumPy .npy file (no NUMPY magic)"))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(&path, e))?;
        let npy = npyz::NpyFile::new(BufReader::new(file))
            .map_err(|e| bad(&path, format!("not a NumPy .npy file: {e}")))?;
        let (rows, latent_size) = match *npy.shape() {
            [n, size] => (n, size),
            [size] => (1, size),
            ref other => {
                return Err(bad(
                    &path,
                    format!("latents must be a 2-D array (n, latent_size), got shape {other:?}"),
                ))
            }
        };
        if npy.order() != npyz::Order::C {
            return Err(bad(
                &path,
                "latents must be stored in C order, not Fortran order",
            ));
        }
        if latent_size == 0 {
            return Err(bad(&path, "the latents have size 0"));
        }
        rows.checked_mul(latent_size)
            .and_then(|n| n.checked_mul(4))
            .and_then(|n| n.checked_add(offset))
            .filter(|&n| n <= length)
            .ok_or_else(|| {
                bad(
                    &path,
                    format!(
                        "the header promises {rows} x {latent_size} float32 values, more than \
                         the file's {length} bytes hold (truncated?)"
                    ),
                )
            })?;
        let descr = npy.dtype().descr();
        let data = npy.data::<f32>().map_err(|e| {
            bad(
                &path,
                format!("latents must be float32 ('<f4'), got '{descr}': {e}"),
            )
        })?;
        // both fit in usize: their product's bytes fit in the file
        Ok(LatentReader {
            path,
            data,
            rows: rows as usize,
            latent_size: latent_size as usize,
            next: 0,
        })
    }

    /// Number of latents in the file.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True when the file holds no latent.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Size of each latent.
    pub fn latent_size(&self) -> usize {
        self.latent_size
    }

    /// The next (up to) `n` latents, or None at the end of the file.
    pub fn read_chunk(&mut self, n: usize) -> Result<Option<Latents>> {
        let take = n.max(1).min(self.rows - self.next);
        if take == 0 {
            return Ok(None);
        }
        let mut values = Vec::with_capacity(take * self.latent_size);
        for _ in 0..take * self.latent_size {
            let v = self
                .data
                .next()
                .ok_or_else(|| bad(&self.path, "the file ends before its last latent"))?
                .map_err(|e| bad(&self.path, format!("reading latents: {e}")))?;
            values.push(v);
        }
        let latents = Latents::from_flat(self.latent_size, values).map_err(|e| {
            bad(
                &self.path,
                format!("in rows {}..{}: {e}", self.next, self.next + take),
            )
        })?;
        self.next += take;
        Ok(Some(latents))
    }
}

/// Where the data of an .npy file start: after the magic, the version, the header length and
/// the header (format versions 1, 2 and 3). None when the magic is missing.
fn data_offset(file: &mut File) -> Option<u64> {
    let mut head = [0u8; 12];
    file.read_exact(&mut head).ok()?;
    if &head[..6] != b"\x93NUMPY" {
        return None;
    }
    match head[6] {
        1 => Some(10 + u64::from(u16::from_le_bytes([head[8], head[9]]))),
        _ => Some(12 + u64::from(u32::from_le_bytes([head[8], head[9], head[10], head[11]]))),
    }
}

/// Reads a whole latent file.
pub fn read_latents(path: impl AsRef<Path>) -> Result<Latents> {
    let mut reader = LatentReader::open(path.as_ref())?;
    if reader.is_empty() {
        return Err(bad(path.as_ref(), "the file holds no latent"));
    }
    let rows = reader.len();
    Ok(reader.read_chunk(rows)?.expect("rows > 0"))
}

/// Writes a latent file of a known number of rows, chunk by chunk.
pub struct LatentWriter {
    path: PathBuf,
    file: NamedTempFile,
    npy: npyz::NpyWriter<f32, BufWriter<File>>,
    rows: usize,
    latent_size: usize,
    written: usize,
}

impl LatentWriter {
    /// Starts writing `rows` latents of `latent_size` to `path` (through a temporary file).
    pub fn create(path: impl AsRef<Path>, rows: usize, latent_size: usize) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if rows == 0 || latent_size == 0 {
            return Err(Error::InvalidArgument(format!(
                "no latent to write to {} ({rows} x {latent_size})",
                path.display()
            )));
        }
        let file = atomic::create(&path)?;
        let handle = file
            .as_file()
            .try_clone()
            .map_err(|e| Error::io(&path, e))?;
        let npy = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[rows as u64, latent_size as u64])
            .writer(BufWriter::new(handle))
            .begin_nd()
            .map_err(|e| Error::io(&path, e))?;
        Ok(LatentWriter {
            path,
            file,
            npy,
            rows,
            latent_size,
            written: 0,
        })
    }

    /// Appends latents (of the size given at creation).
    pub fn push(&mut self, latents: &Latents) -> Result<()> {
        if latents.latent_size() != self.latent_size {
            return Err(Error::InvalidArgument(format!(
                "latents of size {} pushed to a file of size {}",
                latents.latent_size(),
                self.latent_size
            )));
        }
        if self.written + latents.len() > self.rows {
            return Err(Error::InvalidArgument(format!(
                "more than the {} latents announced for {}",
                self.rows,
                self.path.display()
            )));
        }
        self.npy
            .extend(latents.as_flat().iter().copied())
            .map_err(|e| Error::io(&self.path, e))?;
        self.written += latents.len();
        Ok(())
    }

    /// Completes the file and moves it into place; fails (leaving any previous file) when
    /// fewer latents than announced were written.
    pub fn finish(self) -> Result<()> {
        if self.written != self.rows {
            return Err(Error::InvalidArgument(format!(
                "{} of the {} latents announced for {} were written",
                self.written,
                self.rows,
                self.path.display()
            )));
        }
        self.npy.finish().map_err(|e| Error::io(&self.path, e))?;
        atomic::persist(self.file, &self.path)
    }
}

/// Writes latents to a `.npy` file atomically.
pub fn write_latents(path: impl AsRef<Path>, latents: &Latents) -> Result<()> {
    let mut w = LatentWriter::create(path, latents.len(), latents.latent_size())?;
    w.push(latents)?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latents_round_trip_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("z.npy");
        let values: Vec<f32> = (0..7 * 5).map(|i| i as f32 * 0.25 - 3.0).collect();
        let z = Latents::from_flat(5, values).unwrap();
        write_latents(&path, &z).unwrap();
        assert_eq!(read_latents(&path).unwrap(), z);
        let mut r = LatentReader::open(&path).unwrap();
        assert_eq!((r.len(), r.latent_size()), (7, 5));
        let mut back = Vec::new();
        while let Some(c) = r.read_chunk(3).unwrap() {
            assert!(c.len() <= 3);
            back.extend_from_slice(c.as_flat());
        }
        assert_eq!(back, z.as_flat());
        // numpy's own header layout: magic, version 1.0, a dict padded to 64 bytes
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header = String::from_utf8_lossy(&bytes[10..bytes.len() - 7 * 5 * 4]);
        assert!(
            header.contains("'descr': '<f4'") && header.contains("(7, 5"),
            "{header}"
        );
    }

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("z.npy");
        let z = Latents::from_flat(4, vec![1.0; 8]).unwrap();
        write_latents(&path, &z).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // truncated data
        let cut = dir.path().join("cut.npy");
        std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
        let e = LatentReader::open(&cut).err().unwrap().to_string();
        assert!(e.contains("cut.npy") && e.contains("truncated"), "{e}");
        // not an npy file at all
        let junk = dir.path().join("junk.npy");
        std::fs::write(&junk, b"hello").unwrap();
        let e = LatentReader::open(&junk).err().unwrap().to_string();
        assert!(e.contains("not a NumPy"), "{e}");
        // float64 instead of float32
        let f8 = dir.path().join("f8.npy");
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[1, 2])
            .writer(std::fs::File::create(&f8).unwrap())
            .begin_nd()
            .unwrap();
        w.extend([1.0f64, 2.0]).unwrap();
        w.finish().unwrap();
        let e = LatentReader::open(&f8).err().unwrap().to_string();
        assert!(e.contains("float32") && e.contains("<f8"), "{e}");
        // a NaN is named by row
        let nan = dir.path().join("nan.npy");
        let mut w = LatentWriter::create(&nan, 1, 2).unwrap();
        w.npy.extend([1.0f32, f32::NAN]).unwrap();
        w.written = 1;
        w.finish().unwrap();
        let e = read_latents(&nan).unwrap_err().to_string();
        assert!(e.contains("non-finite"), "{e}");
        // an unfinished writer leaves nothing
        let none = dir.path().join("none.npy");
        let w = LatentWriter::create(&none, 3, 2).unwrap();
        assert!(w.finish().is_err());
        assert!(!none.exists());
    }
}
