//! No data loss: what removing a session would lose.
//!
//! `ccy rm` and `ccy prune` refuse a session (unless `--force`) only for
//! what they would delete. [`Checker::losses`] finds:
//!
//! - **uncommitted changes in a worktree ccy created** (`ccy new
//!   --worktree`) that goes with the session, because no other session
//!   uses it: `git status --porcelain` (modified, staged and untracked
//!   files; ignored files are not work). Its branch always stays, so its
//!   commits are never lost, pushed or not. A worktree ccy did not create
//!   is never touched, so nothing in it counts;
//! - **container writes outside its volumes**: for a running container, the
//!   files it added or changed in its own layer since it was created
//!   (podman-diff(1) through the API; volumes and bind mounts such as
//!   `/workspace` are not in that layer). A stop keeps them in the kept
//!   layer; removing the session drops them. Scratch places nobody expects
//!   to keep ([`SCRATCH_PATHS`]) are not counted;
//! - **a kept layer**: what earlier runs wrote outside the volumes, kept in
//!   the session's image `localhost/ccy-kept:NAME` (`crate::session::keep`),
//!   when the session runs it (its unit names it, or its image file does:
//!   `crate::session::keep::runs_kept_image`) and it is not empty.
//!
//! The commits a branch has beyond its remote (or, without one, beyond the
//! main branch) are still read: the removal report names them beside the
//! branch it keeps. Git facts are per worktree and many sessions share
//! one, so a [`Checker`] runs git at most once per worktree in a run.

use crate::contract::worktree;
use crate::error::Result;
use crate::host::git;
use crate::host::podman::FsChange;
use crate::host::podman::api::PodmanApi;
use crate::session::find::{SessionInfo, State};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Paths in a container whose changes are not counted as losses: runtime
/// and scratch space (the tmux socket lives in `/tmp/tmux-0`), caches, and
/// the files Podman and the shell manage.
pub const SCRATCH_PATHS: &[&str] = &[
    "/tmp",
    "/run",
    "/var/tmp",
    "/var/cache",
    "/root/.cache",
    "/root/.npm",
    "/etc/hosts",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/root/.bash_history",
];

/// How many items of one kind a report lists before "… and N more".
pub const SHOWN: usize = 10;

/// One kind of work that removing a session would lose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loss {
    /// Uncommitted changes in the worktree: `git status --porcelain` lines
    /// (`?? new.txt`, ` M src/lib.rs`).
    Uncommitted {
        /// The worktree.
        worktree: PathBuf,
        /// One porcelain line per file.
        files: Vec<String>,
    },
    /// Files the running container wrote outside its volumes and mounts.
    ContainerWrites {
        /// The container (session) name.
        container: String,
        /// `A /path` (added) or `C /path` (changed) lines.
        paths: Vec<String>,
    },
    /// The session's kept layer: what its containers wrote outside the
    /// volumes in earlier runs, kept in its image `localhost/ccy-kept:NAME`
    /// (`crate::session::keep`).
    KeptLayer {
        /// The image.
        image: String,
        /// Its size above the clean image, bytes.
        bytes: u64,
    },
}

impl Loss {
    /// One line saying what would be lost, e.g. `2 uncommitted changes in
    /// ~/src/app`.
    #[must_use]
    pub fn summary(&self, home: &Path) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        match self {
            Self::Uncommitted { worktree, files } => format!(
                "{} in {}",
                plural(files.len(), "uncommitted change", "uncommitted changes"),
                crate::paths::display_home(worktree, home)
            ),
            Self::ContainerWrites { container, paths } => format!(
                "{} written in container {container} outside its volumes",
                plural(paths.len(), "file", "files")
            ),
            Self::KeptLayer { image, bytes } => format!(
                "a kept layer of {} in {image} (what earlier runs wrote outside the volumes)",
                crate::ui::bytes(*bytes)
            ),
        }
    }

    /// The items (file names, commit subjects, paths), at most [`SHOWN`],
    /// then `… and N more`.
    #[must_use]
    pub fn items(&self) -> Vec<String> {
        let all = match self {
            Self::Uncommitted { files, .. } => files,
            Self::ContainerWrites { paths, .. } => paths,
            Self::KeptLayer { .. } => return Vec::new(),
        };
        let mut out: Vec<String> = all.iter().take(SHOWN).cloned().collect();
        if all.len() > SHOWN {
            out.push(format!("… and {} more", all.len() - SHOWN));
        }
        out
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary(Path::new("/nonexistent")))
    }
}

/// The git facts of one worktree that removal decisions need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorktreeGit {
    /// Whether the worktree exists and git can read it; when not, the
    /// other fields are empty.
    pub readable: bool,
    /// The branch checked out, `HEAD` when detached.
    pub branch: String,
    /// `git status --porcelain` lines.
    pub changes: Vec<String>,
    /// Whether the repository has a remote.
    pub has_remote: bool,
    /// The main branch (checked out in the main worktree), when known.
    pub main_branch: Option<String>,
    /// Commits of `HEAD` not on any remote-tracking branch (`abbrev
    /// subject`); empty without a remote.
    pub not_pushed: Vec<String>,
    /// Commits of `HEAD` not on the main branch; empty when there is no
    /// main branch.
    pub not_merged: Vec<String>,
}

impl WorktreeGit {
    /// Reads the facts with git (4 or 5 short processes).
    ///
    /// # Errors
    /// When git cannot be run at all. A missing worktree or one git cannot
    /// read is not an error: it has nothing to lose (`readable` false).
    pub fn read(worktree: &Path) -> Result<Self> {
        let Ok(wt) = crate::host::git::Worktree::discover(worktree) else {
            return Ok(Self::default());
        };
        if wt.root != worktree {
            // The directory is gone and a parent repository was found.
            return Ok(Self::default());
        }
        let Some(status) = git::query(
            worktree,
            &["status", "--porcelain", "--untracked-files=all"],
        )?
        else {
            return Ok(Self::default());
        };
        let changes: Vec<String> = status
            .lines()
            .filter(|l| !l.is_empty() && !is_ccy_file(l))
            .map(str::to_owned)
            .collect();
        let has_remote = git::query(worktree, &["remote"])?.is_some_and(|r| !r.trim().is_empty());
        let main_branch = std::fs::read_to_string(wt.common_dir.join("HEAD"))
            .ok()
            .and_then(|h| {
                h.trim_end()
                    .strip_prefix("ref: refs/heads/")
                    .map(str::to_owned)
            });
        let log = |not: &[&str]| -> Result<Vec<String>> {
            let mut args = vec!["log", "--format=%h %s", "HEAD", "--not"];
            args.extend_from_slice(not);
            args.push("--");
            Ok(git::query(worktree, &args)?
                .map(|o| o.lines().map(str::to_owned).collect())
                .unwrap_or_default())
        };
        let not_pushed = if has_remote {
            log(&["--remotes"])?
        } else {
            Vec::new()
        };
        let not_merged = match &main_branch {
            Some(b) => {
                let main_ref = format!("refs/heads/{b}");
                if git::query(worktree, &["rev-parse", "--verify", "--quiet", &main_ref])?.is_some()
                {
                    log(&[&main_ref])?
                } else {
                    Vec::new()
                }
            }
            None => Vec::new(),
        };
        Ok(Self {
            readable: true,
            branch: wt.branch(),
            changes,
            has_remote,
            main_branch,
            not_pushed,
            not_merged,
        })
    }

    /// The commits that would be lost: not pushed when there is a remote,
    /// else not on the main branch (see the module docs), with what they
    /// are missing from.
    #[must_use]
    pub fn unsafe_commits(&self) -> (Vec<String>, String) {
        if self.has_remote {
            (self.not_pushed.clone(), "any remote branch".to_owned())
        } else {
            let base = self
                .main_branch
                .as_ref()
                .map_or_else(|| "a main branch".to_owned(), |b| format!("branch {b}"));
            (self.not_merged.clone(), base)
        }
    }

    /// What deleting the worktree would lose: its uncommitted changes
    /// (its branch, and so its commits, stay).
    #[must_use]
    pub fn losses(&self, worktree: &Path) -> Vec<Loss> {
        if !self.readable || self.changes.is_empty() {
            return Vec::new();
        }
        vec![Loss::Uncommitted {
            worktree: worktree.to_path_buf(),
            files: self.changes.clone(),
        }]
    }

    /// The commits the branch would keep that are on no remote branch (or,
    /// without a remote, not on the main branch), as a note for the
    /// removal report: `3 commits not on any remote branch`; `None` when
    /// there are none.
    #[must_use]
    pub fn branch_note(&self) -> Option<String> {
        let (commits, base) = self.unsafe_commits();
        (!commits.is_empty()).then(|| {
            format!(
                "{} {} not on {base}",
                commits.len(),
                if commits.len() == 1 {
                    "commit"
                } else {
                    "commits"
                }
            )
        })
    }

    /// Whether a git worktree ccy created may be removed with the session
    /// without `--force`: git can read it and it is clean (its branch
    /// stays). `Err` says why not.
    ///
    /// # Errors
    /// The reason, for the user (`it has 2 uncommitted changes`).
    pub fn removable(&self) -> std::result::Result<(), String> {
        if !self.readable {
            return Err("git cannot read it".to_owned());
        }
        if !self.changes.is_empty() {
            return Err(format!(
                "it has {} uncommitted change{}",
                self.changes.len(),
                if self.changes.len() == 1 { "" } else { "s" }
            ));
        }
        Ok(())
    }
}

/// Files ccy itself writes into a worktree ([`worktree::SESSION_ID`], and
/// [`worktree::GITIGNORE`], which older versions wrote beside it):
/// untracked, they are not the user's work.
pub const CCY_FILES: &[&str] = &[worktree::GITIGNORE, worktree::SESSION_ID];

/// Whether a `git status --porcelain` line is an untracked file of ccy's.
fn is_ccy_file(line: &str) -> bool {
    line.strip_prefix("?? ")
        .is_some_and(|p| CCY_FILES.contains(&p))
}

/// Git facts per worktree, read once per run.
#[derive(Debug, Default)]
pub struct Checker {
    worktrees: HashMap<PathBuf, WorktreeGit>,
    /// Kept-layer sizes by session, from one image list, on first use.
    kept: Option<std::collections::BTreeMap<String, u64>>,
    /// How many worktrees git was run for (for tests and benchmarks).
    pub git_reads: usize,
}

impl Checker {
    /// A checker with an empty cache.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The git facts of `worktree`, read on first use.
    ///
    /// # Errors
    /// As [`WorktreeGit::read`].
    pub fn worktree(&mut self, worktree: &Path) -> Result<&WorktreeGit> {
        match self.worktrees.entry(worktree.to_path_buf()) {
            std::collections::hash_map::Entry::Occupied(e) => Ok(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(e) => {
                self.git_reads += 1;
                Ok(e.insert(WorktreeGit::read(worktree)?))
            }
        }
    }

    /// What removing `info` would lose (see the module docs): `all` is
    /// every session, to see whether another one keeps its worktree.
    ///
    /// # Errors
    /// When git cannot be run or the Podman API fails.
    pub async fn losses(
        &mut self,
        api: &PodmanApi,
        info: &SessionInfo,
        all: &[SessionInfo],
    ) -> Result<Vec<Loss>> {
        let worktree = PathBuf::from(info.worktree());
        let created = info
            .meta
            .as_ref()
            .is_some_and(|m| m.created_worktree.is_some());
        let shared = all
            .iter()
            .any(|s| s.name != info.name && s.worktree() == info.worktree());
        let mut out = if created && !shared && !worktree.as_os_str().is_empty() {
            self.worktree(&worktree)?.losses(&worktree)
        } else {
            Vec::new()
        };
        if info
            .meta
            .as_ref()
            .is_some_and(crate::session::keep::runs_kept_image)
        {
            if self.kept.is_none() {
                self.kept = Some(crate::session::keep::kept_sizes(api).await?);
            }
            let bytes = self
                .kept
                .as_ref()
                .and_then(|k| k.get(info.name.as_str()).copied())
                .unwrap_or(0);
            if bytes > 0 {
                out.push(Loss::KeptLayer {
                    image: info.name.kept_image(),
                    bytes,
                });
            }
        }
        if info.state() == State::Running && info.container.is_some() {
            let name = info.name.as_str();
            let (changes, mounts) =
                tokio::try_join!(api.changes(name), api.mount_destinations(name))?;
            let paths = lost_writes(&changes, &mounts);
            if !paths.is_empty() {
                out.push(Loss::ContainerWrites {
                    container: info.name.to_string(),
                    paths,
                });
            }
        }
        Ok(out)
    }
}

/// The changes of a container that count as losses: added or changed
/// paths that are not in, under or above [`SCRATCH_PATHS`] or the
/// container's `mounts` (a mount point's directory, and its parents, show
/// as changed: `A /workspace`, `C /root`), without the directories that
/// only changed because something below them did; deletions lose nothing.
/// Sorted, as `A /path` / `C /path`.
#[must_use]
pub fn lost_writes(changes: &[FsChange], mounts: &[String]) -> Vec<String> {
    let under = |p: &str, base: &str| {
        p == base
            || p.strip_prefix(base)
                .is_some_and(|r| r.starts_with('/') || base.ends_with('/'))
    };
    let ignored = |p: &str| {
        SCRATCH_PATHS
            .iter()
            .copied()
            .chain(mounts.iter().map(String::as_str))
            .any(|s| under(p, s) || under(s, p))
    };
    let kept: Vec<&FsChange> = changes
        .iter()
        .filter(|c| c.kind != 'D' && !ignored(&c.path))
        .collect();
    let mut out: Vec<String> = kept
        .iter()
        .filter(|c| {
            // A directory listed because an entry below it changed.
            let dir = format!("{}/", c.path.trim_end_matches('/'));
            !changes.iter().any(|o| o.path.starts_with(&dir))
        })
        .map(|c| format!("{} {}", c.kind, c.path))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    use crate::host::podman::FsChange;

    fn ch(kind: char, path: &str) -> FsChange {
        FsChange::new(kind, path)
    }

    #[test]
    fn container_writes_skip_scratch_parents_and_deletions() {
        let changes = [
            ch('C', "/root"),
            ch('A', "/root/notes.md"),
            ch('C', "/tmp"),
            ch('A', "/tmp/tmux-0"),
            ch('A', "/tmp/tmux-0/default"),
            ch('C', "/etc"),
            ch('C', "/etc/motd"),
            ch('D', "/usr/share/doc"),
            ch('C', "/run"),
            ch('A', "/run/ccy"),
            ch('A', "/runner"),
            ch('C', "/root/.cache"),
            ch('A', "/root/.cache/x"),
        ];
        assert_eq!(
            lost_writes(&changes, &[]),
            vec!["A /root/notes.md", "A /runner", "C /etc/motd"]
        );
        assert!(lost_writes(&[ch('C', "/tmp"), ch('A', "/tmp/x")], &[]).is_empty());
        let fresh = FsChange::fresh_session();
        let mounts = [
            "/workspace".to_owned(),
            "/root/.claude".to_owned(),
            "/root/.claude/projects".to_owned(),
            "/run/ccy".to_owned(),
            "/root/.ssh/ccy-keys".to_owned(),
        ];
        assert!(lost_writes(&fresh, &mounts).is_empty());
        let mut written = fresh.clone();
        written.push(ch('A', "/root/keep.txt"));
        written.push(ch('A', "/opt"));
        written.push(ch('A', "/opt/tool"));
        assert_eq!(
            lost_writes(&written, &mounts),
            vec!["A /opt/tool", "A /root/keep.txt"]
        );
    }

    use crate::host::git::testing::sh as run;

    #[test]
    fn only_uncommitted_changes_are_losses_and_commits_are_a_note() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let repo = base.join("app");
        std::fs::create_dir(&repo).unwrap();
        run(
            &repo,
            "git init -q -b main && git commit -q --allow-empty -m one",
        );
        // Main worktree on the main branch, no remote: nothing to lose
        // (ccy's own untracked files are not work).
        std::fs::create_dir_all(repo.join(".claude/ccy")).unwrap();
        std::fs::write(repo.join(".claude/ccy/.gitignore"), ".session-id\n").unwrap();
        std::fs::write(repo.join(".claude/ccy/.session-id"), "x\n").unwrap();
        let g = WorktreeGit::read(&repo).unwrap();
        assert!(g.readable && !g.has_remote);
        assert_eq!(g.main_branch.as_deref(), Some("main"));
        assert!(g.losses(&repo).is_empty(), "{g:?}");
        assert!(g.removable().is_ok());

        // A linked worktree with a commit main lacks, and an untracked file.
        let linked = base.join("app-feat");
        run(
            &repo,
            &format!("git worktree add -q -b feat {}", linked.display()),
        );
        run(&linked, "git commit -q --allow-empty -m 'feat work'");
        std::fs::write(linked.join("new.txt"), "x").unwrap();
        let g = WorktreeGit::read(&linked).unwrap();
        let losses = g.losses(&linked);
        assert_eq!(losses.len(), 1, "only the uncommitted file: {losses:?}");
        assert_eq!(losses[0].items(), vec!["?? new.txt"]);
        assert_eq!(g.branch.as_str(), "feat");
        assert_eq!(
            g.branch_note().as_deref(),
            Some("1 commit not on branch main")
        );
        assert_eq!(g.removable().unwrap_err(), "it has 1 uncommitted change");
        std::fs::remove_file(linked.join("new.txt")).unwrap();
        let g = WorktreeGit::read(&linked).unwrap();
        assert!(g.losses(&linked).is_empty());
        assert!(g.removable().is_ok(), "clean: the branch keeps the commit");

        // With a remote the base is the remote branches: main's own commit
        // is unpushed now, and pushing it clears the note.
        let remote = base.join("remote.git");
        run(
            &base,
            &format!(
                "git init -q --bare {r} && git -C {a} remote add origin {r}",
                r = remote.display(),
                a = repo.display()
            ),
        );
        let g = WorktreeGit::read(&repo).unwrap();
        assert!(g.losses(&repo).is_empty());
        assert_eq!(
            g.branch_note().as_deref(),
            Some("1 commit not on any remote branch")
        );
        run(&repo, "git push -q origin main feat");
        assert_eq!(WorktreeGit::read(&repo).unwrap().branch_note(), None);
        assert_eq!(WorktreeGit::read(&linked).unwrap().branch_note(), None);
    }

    #[test]
    fn a_missing_worktree_loses_nothing_and_is_cached() {
        let tmp = tempfile::tempdir().unwrap();
        let gone = tmp.path().join("gone");
        let mut c = Checker::new();
        assert!(!c.worktree(&gone).unwrap().readable);
        assert!(!c.worktree(&gone).unwrap().readable);
        assert_eq!(c.git_reads, 1);
    }

    #[test]
    fn long_lists_are_cut() {
        let l = Loss::Uncommitted {
            worktree: "/w".into(),
            files: (0..15).map(|i| format!("?? f{i}")).collect(),
        };
        let items = l.items();
        assert_eq!(items.len(), SHOWN + 1);
        assert_eq!(items.last().unwrap(), "… and 5 more");
        assert_eq!(l.summary(Path::new("/h")), "15 uncommitted changes in /w");
    }
}
