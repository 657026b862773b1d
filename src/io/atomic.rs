//! Atomic file writes: the bytes go to a temporary file in the target's folder, are flushed to
//! disk, and the file is renamed over the target only when complete. An error, a full disk or a
//! killed process therefore leaves the previous file (or none) under the final name, never a
//! partial one, and the temporary file is removed on error.

use std::io::Write;
use std::path::Path;

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically (see the module documentation).
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = create(path)?;
    file.write_all(bytes).map_err(|e| Error::io(path, e))?;
    persist(file, path)
}

/// A temporary file in `path`'s folder, to be filled and then [`persist`]ed as `path`; it is
/// removed if dropped before. It gets the permissions a plain new file would (0666 less the
/// umask on Unix), not a temporary file's owner-only ones.
pub fn create(path: &Path) -> Result<NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".nesf-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir).map_err(|e| Error::io(path, e))
}

/// Flushes a complete temporary file from [`create`] to disk and renames it over `path`; a
/// file replaced keeps its permissions.
pub fn persist(file: NamedTempFile, path: &Path) -> Result<()> {
    if let Ok(previous) = std::fs::metadata(path) {
        file.as_file()
            .set_permissions(previous.permissions())
            .map_err(|e| Error::io(path, e))?;
    }
    file.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    file.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write(&path, b"first").unwrap();
        write(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // a new file is readable by others as with plain File::create (umask 022 here)
            let plain = dir.path().join("plain.txt");
            std::fs::write(&plain, b"x").unwrap();
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), mode(&plain));
            // a replaced file keeps its permissions
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
            write(&path, b"third").unwrap();
            assert_eq!(mode(&path), 0o640);
            std::fs::remove_file(&plain).unwrap();
        }
        // a folder that does not exist: an error naming the file, nothing written
        let missing = dir.path().join("no/such/dir/out.txt");
        let e = write(&missing, b"x").unwrap_err().to_string();
        assert!(e.contains("out.txt"), "{e}");
    }
}
