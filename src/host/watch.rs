//! Watching directories with inotify(7): the notifier's only way of
//! learning about changes, so it sleeps in `read(2)` while nothing
//! changes (no polling, no timer).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

use crate::error::{Error, Result};

/// What happened to an entry of a watched directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The watched directory.
    pub dir: PathBuf,
    /// The entry's name in it (`None`: the directory itself).
    pub name: Option<OsString>,
    /// The entry appeared (created, or renamed into the directory).
    pub appeared: bool,
    /// The entry is a directory.
    pub is_dir: bool,
    /// The watched directory itself is gone (its watch ended).
    pub dir_gone: bool,
}

/// An inotify instance watching directories for entries that appear
/// (created, moved in, written and closed) and go.
pub struct Watcher {
    inotify: Inotify,
    dirs: Vec<(WatchDescriptor, PathBuf)>,
}

impl Watcher {
    /// A new inotify instance (blocking reads).
    ///
    /// # Errors
    /// When the kernel refuses one (`fs.inotify.max_user_instances`).
    pub fn new() -> Result<Self> {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC)
            .map_err(|e| Error::failure(format!("cannot start inotify: {e}")))?;
        Ok(Self {
            inotify,
            dirs: Vec::new(),
        })
    }

    /// Watches `dir` (again: the kernel keeps one watch per inode).
    ///
    /// # Errors
    /// When `dir` is gone or the watch limit is reached.
    pub fn watch(&mut self, dir: &Path) -> Result<()> {
        let mask = AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_DELETE_SELF
            | AddWatchFlags::IN_ONLYDIR;
        let wd = self
            .inotify
            .add_watch(dir, mask)
            .map_err(|e| Error::failure(format!("cannot watch {}: {e}", dir.display())))?;
        self.dirs.retain(|(w, _)| *w != wd);
        self.dirs.push((wd, dir.to_path_buf()));
        Ok(())
    }

    /// The inotify file descriptor, readable when events wait (to wait
    /// for it beside other descriptors with poll(2); then [`Watcher::wait`]
    /// does not block).
    #[must_use]
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.inotify.as_fd()
    }

    /// Whether `dir` is watched.
    #[must_use]
    pub fn watches(&self, dir: &Path) -> bool {
        self.dirs.iter().any(|(_, d)| d == dir)
    }

    /// Waits until something happens, then returns what did (blocks in
    /// `read(2)`; interrupted reads are retried).
    ///
    /// # Errors
    /// When reading the inotify instance fails.
    pub fn wait(&mut self) -> Result<Vec<Event>> {
        let raw = loop {
            match self.inotify.read_events() {
                Ok(r) => break r,
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(Error::failure(format!("cannot read inotify events: {e}"))),
            }
        };
        let mut out = Vec::new();
        for e in raw {
            let Some(dir) = self
                .dirs
                .iter()
                .find(|(w, _)| *w == e.wd)
                .map(|(_, d)| d.clone())
            else {
                continue;
            };
            let gone = e.mask.contains(AddWatchFlags::IN_IGNORED)
                || e.mask.contains(AddWatchFlags::IN_DELETE_SELF);
            if gone {
                self.dirs.retain(|(w, _)| *w != e.wd);
            }
            out.push(Event {
                dir,
                name: e.name,
                appeared: e.mask.intersects(
                    AddWatchFlags::IN_CREATE
                        | AddWatchFlags::IN_MOVED_TO
                        | AddWatchFlags::IN_CLOSE_WRITE,
                ),
                is_dir: e.mask.contains(AddWatchFlags::IN_ISDIR),
                dir_gone: gone,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sees_a_rename_into_a_watched_directory_and_a_new_subdirectory() {
        let root = tempfile::tempdir().unwrap();
        let mut w = Watcher::new().unwrap();
        w.watch(root.path()).unwrap();
        std::fs::create_dir(root.path().join("s1")).unwrap();
        let ev = w.wait().unwrap();
        assert!(
            ev.iter()
                .any(|e| e.is_dir && e.appeared && e.name.as_deref() == Some("s1".as_ref()))
        );
        w.watch(&root.path().join("s1")).unwrap();
        std::fs::write(root.path().join("s1/.tmp"), "x").unwrap();
        std::fs::rename(
            root.path().join("s1/.tmp"),
            root.path().join("s1/agent.json"),
        )
        .unwrap();
        let mut names = Vec::new();
        while !names.iter().any(|n: &OsString| n == "agent.json") {
            names.extend(w.wait().unwrap().into_iter().filter_map(|e| e.name));
        }
        std::fs::remove_dir_all(root.path().join("s1")).unwrap();
        let mut gone = false;
        while !gone {
            gone = w.wait().unwrap().iter().any(|e| e.dir_gone);
        }
        assert!(!w.watches(&root.path().join("s1")));
    }
}
