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
                    let git_dir = read_gitdir_file(&dot_git)?;
                    check_linked_git_dir(cur, &git_dir)?;
                    git_dir
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
        ProjectName::from_dir_name(&self.repo_dir_name())
    }

    /// The main worktree's directory (the parent of the common `.git`), or
    /// for a bare repository (`repo.git`) the repository directory itself.
    #[must_use]
    pub fn main_root(&self) -> &Path {
        if self.common_dir.file_name().is_some_and(|n| n == ".git") {
            self.common_dir.parent().unwrap_or(&self.root)
        } else {
            &self.common_dir
        }
    }

    /// The repository's directory name: [`Worktree::main_root`]'s last
    /// component without a trailing `.git`.
    #[must_use]
    pub fn repo_dir_name(&self) -> String {
        self.main_root()
            .file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".git").to_owned())
            .unwrap_or_default()
    }

    /// Where `ccy new --worktree BRANCH` puts the new linked worktree: next
    /// to the main worktree, `<parent>/<repo-dir-name>-<branch-cleaned>`
    /// (see [`linked_worktree_path`]).
    #[must_use]
    pub fn linked_worktree_path(&self, branch: &str) -> PathBuf {
        linked_worktree_path(self.main_root(), &self.repo_dir_name(), branch)
    }

    /// Whether the local branch `refs/heads/BRANCH` exists
    /// (`git rev-parse --verify --quiet`).
    ///
    /// # Errors
    /// When git cannot be run.
    pub fn branch_exists(&self, branch: &str) -> Result<bool> {
        let status = Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args(["rev-parse", "--verify", "--quiet"])
            .arg(format!("refs/heads/{branch}"))
            .stdout(std::process::Stdio::null())
            .status()
            .context("cannot run git")?;
        Ok(status.success())
    }

    /// The worktree that has `branch` checked out, if any
    /// (`git worktree list --porcelain`).
    ///
    /// # Errors
    /// When git fails.
    pub fn branch_checked_out_in(&self, branch: &str) -> Result<Option<PathBuf>> {
        let list = self.git(&["worktree", "list", "--porcelain"])?;
        Ok(checked_out_in(&list, branch))
    }

    /// Creates a linked worktree at `path` for `branch` (`git worktree add`):
    /// with `-b` when `new_branch`, otherwise checking out the existing
    /// branch. Returns the new worktree.
    ///
    /// # Errors
    /// When git fails (its message is quoted).
    pub fn add_linked(&self, path: &Path, branch: &str, new_branch: bool) -> Result<Self> {
        let path_str = path.to_string_lossy();
        if new_branch {
            self.git(&["worktree", "add", "--quiet", "-b", branch, &path_str])?;
        } else {
            self.git(&["worktree", "add", "--quiet", &path_str, branch])?;
        }
        Self::discover(path)
    }

    /// Creates a linked worktree at `path` on a new branch `branch` that
    /// starts at commit `start` (`git worktree add -b BRANCH PATH START`).
    /// Returns the new worktree.
    ///
    /// # Errors
    /// When git fails (its message is quoted).
    pub fn add_linked_from(&self, path: &Path, branch: &str, start: &str) -> Result<Self> {
        let path_str = path.to_string_lossy();
        self.git(&["worktree", "add", "--quiet", "-b", branch, &path_str, start])?;
        Self::discover(path)
    }

    /// The commit `HEAD` points at (`git rev-parse --verify HEAD`).
    ///
    /// # Errors
    /// When git fails (no commit yet).
    pub fn head_commit(&self) -> Result<String> {
        Ok(self
            .git(&["rev-parse", "--verify", "HEAD^{commit}"])?
            .trim()
            .to_owned())
    }

    /// Removes the linked worktree at `path` (`git worktree remove --force`)
    /// and, when `branch` is given, deletes that branch (`git branch -D`).
    /// Used to undo [`Worktree::add_linked`] when the session cannot be made.
    ///
    /// # Errors
    /// When git fails.
    pub fn remove_linked(&self, path: &Path, branch: Option<&str>) -> Result<()> {
        self.git(&["worktree", "remove", "--force", &path.to_string_lossy()])?;
        if let Some(b) = branch {
            self.git(&["branch", "--quiet", "-D", b])?;
        }
        Ok(())
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

/// Checks that `branch` is a valid branch name (`git check-ref-format
/// --branch`).
///
/// # Errors
/// [`crate::error::ExitKind::Usage`] when it is not.
pub fn check_branch_name(branch: &str) -> Result<()> {
    let ok = !branch.starts_with('-')
        && Command::new("git")
            .args(["check-ref-format", "--branch", branch])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .context("cannot run git")?
            .success();
    if ok {
        Ok(())
    } else {
        Err(
            Error::usage(format!("{branch:?} is not a valid branch name")).hint(
                "see 'git help check-ref-format' for the rules, e.g. use 'feat-x' or 'feat/x'",
            ),
        )
    }
}

/// The path of a linked worktree for `branch` next to the main worktree
/// `main_root`: `<parent of main_root>/<repo_dir>-<branch cleaned>`, where
/// every run of characters other than ASCII letters, digits, `.`, `_` and
/// `-` (`/` included) becomes one `-`, and leading or trailing `-`/`.` are
/// dropped (`feat/x` → `repo-feat-x`).
#[must_use]
pub fn linked_worktree_path(main_root: &Path, repo_dir: &str, branch: &str) -> PathBuf {
    let mut cleaned = String::with_capacity(branch.len());
    for c in branch.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            cleaned.push(c);
        } else if !cleaned.ends_with('-') {
            cleaned.push('-');
        }
    }
    let cleaned = cleaned.trim_matches(|c| c == '-' || c == '.');
    let parent = main_root.parent().unwrap_or(main_root);
    parent.join(format!("{repo_dir}-{cleaned}"))
}

/// In `git worktree list --porcelain` output, the worktree whose `branch`
/// line is `refs/heads/BRANCH`.
fn checked_out_in(porcelain: &str, branch: &str) -> Option<PathBuf> {
    let want = format!("refs/heads/{branch}");
    let mut current: Option<&str> = None;
    for line in porcelain.lines() {
        if let Some(p) = line.strip_prefix("worktree ") {
            current = Some(p);
        } else if line.strip_prefix("branch ") == Some(want.as_str()) {
            return current.map(PathBuf::from);
        }
    }
    None
}

/// Refuses a linked worktree at `root` whose git directory (`gitdir:` of
/// its `.git` file) is gone: its main worktree was moved or deleted, and
/// git fails there ("not a git repository").
///
/// # Errors
/// [`crate::error::ExitKind::Environment`] naming the missing directory,
/// with `git worktree repair` as the fix.
fn check_linked_git_dir(root: &Path, git_dir: &Path) -> Result<()> {
    if git_dir.join("HEAD").is_file() {
        return Ok(());
    }
    Err(Error::environment(format!(
        "{} is a linked git worktree whose repository is gone: {} does not exist (was the main worktree moved?)",
        root.display(),
        git_dir.display()
    ))
    .detail("git does not work there either ('not a git repository')")
    .hint(format!(
        "in the moved main worktree, run 'git worktree repair {}'",
        shell_words::quote(&root.to_string_lossy())
    ))
    .hint("or, if the repository is gone for good, remove this directory"))
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

/// Runs `git -C DIR ARGS` for a read-only query (`GIT_OPTIONAL_LOCKS=0`,
/// so it never takes the index lock another git holds); `Ok(None)` when
/// git exits unsuccessfully.
///
/// # Errors
/// When git cannot be run.
pub fn query(dir: &Path, args: &[&str]) -> Result<Option<String>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .context("cannot run git")?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// Test support: git and shell commands in a fixture repository, with a
/// fixed author, panicking on failure.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
pub(crate) mod testing {
    use std::path::Path;
    use std::process::{Command, Output};

    /// Runs `cmd` with the fixed author and committer; its output.
    fn run(cmd: &mut Command) -> Output {
        cmd.env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .unwrap()
    }

    /// Runs `git -C DIR ARGS`; panics with its stderr when it fails.
    pub(crate) fn git(dir: &Path, args: &[&str]) {
        let st = run(Command::new("git").arg("-C").arg(dir).args(args));
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    }

    /// Runs `sh -c CMD` in `dir` (git's author set); panics when it fails.
    pub(crate) fn sh(dir: &Path, cmd: &str) {
        let st = run(Command::new("sh").arg("-c").arg(cmd).current_dir(dir));
        assert!(st.status.success(), "{cmd}: {st:?}");
    }

    /// Makes directory `repo` a repository on `branch` with one empty
    /// commit.
    pub(crate) fn repo(repo: &Path, branch: &str) {
        std::fs::create_dir(repo).unwrap();
        git(repo, &["init", "-q", "-b", branch]);
        git(repo, &["commit", "-q", "--allow-empty", "-m", "x"]);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use testing::git;

    #[test]
    fn finds_main_and_linked_worktrees() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("My Repo");
        testing::repo(&repo, "trunk");
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
    fn a_linked_worktree_whose_main_one_moved_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("main");
        testing::repo(&repo, "trunk");
        let linked = tmp.path().join("linked");
        git(
            &repo,
            &["worktree", "add", "-q", "-b", "l", linked.to_str().unwrap()],
        );
        fs::rename(&repo, tmp.path().join("moved")).unwrap();
        let err = Worktree::discover(&linked).unwrap_err();
        assert_eq!(err.kind(), crate::error::ExitKind::Environment);
        assert!(err.message().contains("repository is gone"), "{err}");
        assert!(err.to_string().contains("git worktree repair"), "{err}");
    }

    #[test]
    fn linked_worktree_paths_sit_next_to_the_main_one() {
        let p = |b: &str| linked_worktree_path(Path::new("/src/app"), "app", b);
        assert_eq!(p("feat-x"), PathBuf::from("/src/app-feat-x"));
        assert_eq!(p("feat/x"), PathBuf::from("/src/app-feat-x"));
        assert_eq!(p("Fix  #12 (ü)"), PathBuf::from("/src/app-Fix-12"));
        assert_eq!(p("v1.2_rc"), PathBuf::from("/src/app-v1.2_rc"));
        assert_eq!(p("a//b/"), PathBuf::from("/src/app-a-b"));
    }

    #[test]
    fn porcelain_list_names_the_worktree_of_a_branch() {
        let list = "worktree /src/app\nHEAD 1234\nbranch refs/heads/main\n\n\
                    worktree /src/app-x\nHEAD 5678\nbranch refs/heads/feat/x\n\n\
                    worktree /src/app-d\nHEAD 9abc\ndetached\n";
        assert_eq!(checked_out_in(list, "main"), Some("/src/app".into()));
        assert_eq!(checked_out_in(list, "feat/x"), Some("/src/app-x".into()));
        assert_eq!(checked_out_in(list, "feat"), None);
        assert_eq!(checked_out_in(list, "x"), None);
    }

    #[test]
    fn branch_names_are_checked_and_worktrees_added() {
        for bad in ["a b", "-x", "x..y", "x.lock", ""] {
            let err = check_branch_name(bad).unwrap_err();
            assert_eq!(err.kind(), crate::error::ExitKind::Usage, "{bad:?}");
        }
        check_branch_name("feat/x").unwrap();

        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("app");
        testing::repo(&repo, "main");
        git(&repo, &["branch", "old"]);
        let wt = Worktree::discover(&repo).unwrap();
        assert!(wt.branch_exists("old").unwrap());
        assert!(!wt.branch_exists("feat/x").unwrap());
        assert_eq!(
            wt.branch_checked_out_in("main").unwrap(),
            Some(fs::canonicalize(&repo).unwrap())
        );
        let path = wt.linked_worktree_path("feat/x");
        assert_eq!(
            path,
            fs::canonicalize(tmp.path()).unwrap().join("app-feat-x")
        );
        let linked = wt.add_linked(&path, "feat/x", true).unwrap();
        assert_eq!(linked.branch(), "feat/x");
        assert_eq!(linked.repo_dir_name(), "app");
        assert_eq!(
            linked.linked_worktree_path("y"),
            wt.linked_worktree_path("y")
        );
        let existing = wt
            .add_linked(&wt.linked_worktree_path("old"), "old", false)
            .unwrap();
        assert_eq!(existing.branch(), "old");
        wt.remove_linked(&path, Some("feat/x")).unwrap();
        assert!(!path.exists());
        assert!(!wt.branch_exists("feat/x").unwrap());
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
