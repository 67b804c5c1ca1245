//! The git worktree a session belongs to.
//!
//! Finding the worktree and its branch only reads files (`.git`, `HEAD`,
//! `commondir`, as gitrepository-layout(5) describes them), so resuming a
//! session costs no `git` process. Commands that change the repository
//! (`git worktree add`) run the `git` CLI.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Context, Error, Result};
use crate::names::ProjectName;

/// A git worktree: the main one of a repository or a linked one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worktree {
    /// The worktree's top directory, canonical (symlinks resolved).
    pub root: PathBuf,
    /// Its git directory (`ROOT/.git`, or `…/.git/worktrees/X` when linked).
    pub git_dir: PathBuf,
    /// The repository's common git directory (`…/.git`).
    pub common_dir: PathBuf,
}

impl Worktree {
    /// Finds the worktree containing `dir` by walking up to the nearest
    /// `.git` directory or `.git` file (`gitdir: …`, linked worktrees and
    /// submodules).
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Environment`] when `dir` is not inside a git
    /// worktree, or the `.git` file is unreadable or malformed.
    pub fn discover(dir: &Path) -> Result<Self> {
        let start = fs::canonicalize(dir)
            .with_context(|| format!("cannot resolve the directory {}", dir.display()))?;
        let mut cur = start.as_path();
        loop {
            let dot_git = cur.join(".git");
            if let Ok(meta) = fs::metadata(&dot_git) {
                let git_dir = if meta.is_dir() {
                    dot_git
                } else {
                    read_gitdir_file(&dot_git)?
                };
                let common_dir = common_dir(&git_dir);
                return Ok(Self {
                    root: cur.to_path_buf(),
                    git_dir,
                    common_dir,
                });
            }
            match cur.parent() {
                Some(parent) => cur = parent,
                None => {
                    return Err(Error::environment(format!(
                        "{} is not inside a git worktree",
                        start.display()
                    ))
                    .hint("cd into a git repository (or run 'git init') and run ccy there"));
                }
            }
        }
    }

    /// Whether this is a linked worktree (`git worktree add`), not the main one.
    #[must_use]
    pub fn is_linked(&self) -> bool {
        self.git_dir != self.common_dir
    }

    /// The checked-out branch (`refs/heads/` stripped), or `HEAD` when
    /// detached or unreadable.
    #[must_use]
    pub fn branch(&self) -> String {
        fs::read_to_string(self.git_dir.join("HEAD"))
            .ok()
            .and_then(|head| {
                head.trim_end()
                    .strip_prefix("ref: refs/heads/")
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "HEAD".to_owned())
    }

    /// The project: the main worktree's directory name, cleaned
    /// ([`ProjectName::from_dir_name`]). Linked worktrees of one repository
    /// share the project of their main worktree.
    #[must_use]
    pub fn project(&self) -> ProjectName {
        let main_root = if self.common_dir.file_name().is_some_and(|n| n == ".git") {
            self.common_dir.parent().unwrap_or(&self.root)
        } else {
            // A bare repository (`repo.git`): its own name without `.git`.
            &self.common_dir
        };
        let name = main_root
            .file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".git").to_owned())
            .unwrap_or_default();
        ProjectName::from_dir_name(&name)
    }

    /// Runs `git ARGS` in this worktree and returns its standard output.
    ///
    /// # Errors
    /// When git cannot be run or exits unsuccessfully (its stderr is quoted).
    pub fn git(&self, args: &[&str]) -> Result<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args(args)
            .output()
            .context("cannot run git")?;
        if !out.status.success() {
            return Err(Error::failure(format!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

fn read_gitdir_file(dot_git: &Path) -> Result<PathBuf> {
    let text = fs::read_to_string(dot_git)
        .with_context(|| format!("cannot read {}", dot_git.display()))?;
    let target = text
        .lines()
        .find_map(|l| l.strip_prefix("gitdir: "))
        .ok_or_else(|| {
            Error::environment(format!("{} is not a 'gitdir:' file", dot_git.display()))
        })?;
    let base = dot_git.parent().unwrap_or(Path::new("/"));
    Ok(base.join(target.trim_end()))
}

fn common_dir(git_dir: &Path) -> PathBuf {
    match fs::read_to_string(git_dir.join("commondir")) {
        Ok(rel) => {
            let joined = git_dir.join(rel.trim_end());
            fs::canonicalize(&joined).unwrap_or(joined)
        }
        Err(_) => git_dir.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let st = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    }

    #[test]
    fn finds_main_and_linked_worktrees() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("My Repo");
        fs::create_dir(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "trunk"]);
        git(&repo, &["commit", "-q", "--allow-empty", "-m", "x"]);
        fs::create_dir_all(repo.join("sub/dir")).unwrap();

        let wt = Worktree::discover(&repo.join("sub/dir")).unwrap();
        assert_eq!(wt.root, fs::canonicalize(&repo).unwrap());
        assert!(!wt.is_linked());
        assert_eq!(wt.branch(), "trunk");
        assert_eq!(wt.project().as_str(), "my-repo");

        let linked = tmp.path().join("feature-wt");
        git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                "feat/x",
                linked.to_str().unwrap(),
            ],
        );
        let lw = Worktree::discover(&linked).unwrap();
        assert!(lw.is_linked());
        assert_eq!(lw.root, fs::canonicalize(&linked).unwrap());
        assert_eq!(lw.branch(), "feat/x");
        assert_eq!(
            lw.project().as_str(),
            "my-repo",
            "linked worktrees share the project"
        );
        assert_eq!(lw.common_dir, wt.common_dir);
    }

    #[test]
    fn detached_head_reports_head() {
        let tmp = tempfile::tempdir().unwrap();
        git(tmp.path(), &["init", "-q"]);
        git(tmp.path(), &["commit", "-q", "--allow-empty", "-m", "x"]);
        git(tmp.path(), &["checkout", "-q", "--detach"]);
        assert_eq!(Worktree::discover(tmp.path()).unwrap().branch(), "HEAD");
    }

    #[test]
    fn outside_a_worktree_is_an_environment_error() {
        let tmp = tempfile::tempdir().unwrap();
        // tempdir under /tmp is not inside a repository on the test hosts.
        let err = Worktree::discover(tmp.path()).unwrap_err();
        assert_eq!(err.kind(), crate::error::ExitKind::Environment);
        assert!(err.to_string().contains("hint: "));
    }
}
