//! File-system helpers: atomic writes and advisory locks.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::{Context, Error, Result};

/// Writes `contents` to `path` atomically: a temporary file in the same
/// directory is written, flushed to disk (`fsync`) and renamed over `path`
/// (rename(2) is atomic within a file system). On any failure (disk full,
/// permission) the old file, if any, is left intact and the temporary file
/// is removed. Creates missing parent directories. `mode` is the new file's
/// permission bits (e.g. `0o644`).
///
/// # Errors
/// When the directory cannot be created or the file cannot be written,
/// synced or renamed; the message names `path`.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::failure(format!("{} has no parent directory", path.display())))?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let fail = |e: std::io::Error| {
        Error::failure(format!("cannot write {}", path.display()))
            .with_source(e)
            .hint("check free space ('df -h') and permissions; the previous file, if any, is unchanged")
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".ccy-tmp-")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(contents).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// An exclusive advisory lock (flock(2)) held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Takes an exclusive lock on `path` (created if missing), waiting for
/// other holders. The lock is released when the [`Lock`] is dropped or the
/// process exits or execs (the descriptor is close-on-exec).
///
/// # Errors
/// When the lock file cannot be created or locked.
pub fn lock(path: &Path) -> Result<Lock> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(Lock { _file: file })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn atomic_write_replaces_and_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/unit.container");
        write_atomic(&p, b"one", 0o600).unwrap();
        write_atomic(&p, b"two", 0o644).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
        let leftovers: Vec<_> = fs::read_dir(p.parent().unwrap())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(".ccy-tmp-"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn failed_rename_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory in the way: rename(2) of a file over it fails (EISDIR),
        // even for root.
        let p = dir.path().join("unit.container");
        fs::create_dir(&p).unwrap();
        fs::write(p.join("keep"), b"old").unwrap();
        let err = write_atomic(&p, b"new", 0o644).unwrap_err().to_string();
        assert!(err.contains("cannot write"), "{err}");
        assert!(err.contains("hint: "), "{err}");
        assert_eq!(fs::read(p.join("keep")).unwrap(), b"old");
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["unit.container"]);
    }

    #[test]
    fn lock_excludes_a_second_holder() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        let held = lock(&p).unwrap();
        let f = OpenOptions::new().write(true).open(&p).unwrap();
        assert!(matches!(f.try_lock(), Err(fs::TryLockError::WouldBlock)));
        drop(held);
        assert!(f.try_lock().is_ok());
    }
}
