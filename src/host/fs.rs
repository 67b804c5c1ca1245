//! File-system helpers: atomic writes, reads of optional files and
//! advisory locks.

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

/// The first executable file named `program` in the directories of
/// `PATH`, as execvp(3) would find it; `None` when there is none.
#[must_use]
pub fn find_on_path(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// The contents of the file at `path`, or `None` when it does not exist.
///
/// # Errors
/// When it exists but cannot be read; the message names `path`.
pub fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::failure(format!("cannot read {}", path.display())).with_source(e)),
    }
}

/// Bytes [`read_small`] asks for in its first read(2).
const SMALL_FILE_BYTES: usize = 8192;

/// The text of the file at `path`, as [`std::fs::read_to_string`] reads
/// it, in four system calls (open, a read of up to 8 KiB, the read that
/// returns 0 at the end, close), where `read_to_string` adds a `statx`
/// for the size. A short read is not taken for the end: POSIX does not
/// promise it, and a Quadlet directory may sit on FUSE or NFS. For the
/// small files read once per session in a listing (unit files, status
/// files).
///
/// # Errors
/// As [`std::fs::read_to_string`]: when it cannot be opened or read, or
/// is not UTF-8 ([`std::io::ErrorKind::InvalidData`]).
pub fn read_small(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; SMALL_FILE_BYTES];
    let n = loop {
        match file.read(&mut buf) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    buf.truncate(n);
    if n > 0 {
        file.read_to_end(&mut buf)?;
    }
    String::from_utf8(buf).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// An exclusive advisory lock (flock(2)) held until dropped. Dropping it
/// deletes the lock file (while still holding the lock), so lock files do
/// not pile up in `$XDG_RUNTIME_DIR/ccy`; [`lock`] makes that safe.
pub struct Lock {
    file: File,
    path: std::path::PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Unlink first, unlock after (when `file` closes): a waiter that
        // then gets the lock on the unlinked file sees it is stale and
        // retries on a fresh one.
        fs::remove_file(&self.path).ok();
        let _ = &self.file;
    }
}

/// Takes an exclusive lock on `path` (created if missing), waiting for
/// other holders. The lock is released, and the file removed, when the
/// [`Lock`] is dropped; the process exiting or exec'ing releases it too
/// (the descriptor is close-on-exec) and leaves the file for the next
/// user. A lock taken on a file another holder unlinked meanwhile is
/// retried on the new file (same device and inode as `path`, checked
/// after locking).
///
/// # Errors
/// When the lock file cannot be created or locked.
pub fn lock(path: &Path) -> Result<Lock> {
    use std::os::unix::fs::MetadataExt;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    loop {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        file.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
        let held = file
            .metadata()
            .with_context(|| format!("cannot stat {}", path.display()))?;
        match fs::metadata(path) {
            Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => {
                return Ok(Lock {
                    file,
                    path: path.to_owned(),
                });
            }
            // Unlinked (or replaced) by the previous holder: try again.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn read_small_reads_every_size_whole() {
        let dir = tempfile::tempdir().unwrap();
        for len in [
            0,
            1,
            SMALL_FILE_BYTES - 1,
            SMALL_FILE_BYTES,
            3 * SMALL_FILE_BYTES + 5,
        ] {
            let text: String = (0..len)
                .map(|i| char::from(b"abcdefghijklmnopqrstuvwxyz"[i % 26]))
                .collect();
            let p = dir.path().join(format!("f{len}"));
            fs::write(&p, &text).unwrap();
            assert_eq!(read_small(&p).unwrap(), text, "{len} bytes");
        }
        let bad = dir.path().join("bad");
        fs::write(&bad, [0xff, 0xfe]).unwrap();
        assert_eq!(
            read_small(&bad).unwrap_err().kind(),
            std::io::ErrorKind::InvalidData
        );
        assert_eq!(
            read_small(&dir.path().join("missing")).unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
    }

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

    #[test]
    fn released_locks_leave_no_file_and_exclude_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("locks/session-x.lock");
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (p, counter) = (p.clone(), counter.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let _l = lock(&p).unwrap();
                        let inside = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        assert_eq!(inside, 0, "two holders at once");
                        counter.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(!p.exists(), "the lock file is removed after use");
    }
}
