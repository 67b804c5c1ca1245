//! ccy's own files: the sessions' unit files in the Quadlet directory
//! (read through their metadata line, [`crate::quadlet::meta`]) and the
//! per-worktree files under `.claude/ccy/` ([`crate::contract::worktree`]).

use std::fs;
use std::path::{Path, PathBuf};

use crate::contract::worktree::{EXCLUDE_PATTERN, SESSION_ID};
use crate::error::{Context, Result};
use crate::host::git::Worktree;
use crate::names::SessionName;
use crate::quadlet::meta::parse_meta;
use crate::quadlet::spec::SessionFile;

/// The permission bits of a session's unit files (`NAME.container`,
/// `NAME.volume`): they hold the session's environment values, so only
/// the user reads them.
pub const UNIT_FILE_MODE: u32 = 0o600;

/// The permission bits of ccy's state directories (`STATE_DIR`,
/// `sessions/`, each session's directory): the saved panes and the tmux
/// status inside are the user's alone.
pub const STATE_DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing parents with [`STATE_DIR_MODE`], and
/// makes `dir` itself private when it exists with a wider mode (made by
/// an older ccy). The mount of the session's state directory into its
/// container needs it to exist.
///
/// # Errors
/// When it cannot be created or its mode set.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    fs::DirBuilder::new()
        .recursive(true)
        .mode(STATE_DIR_MODE)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let mode = fs::metadata(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .permissions()
        .mode();
    if mode & 0o777 != STATE_DIR_MODE {
        fs::set_permissions(dir, fs::Permissions::from_mode(STATE_DIR_MODE))
            .with_context(|| format!("cannot make {} private", dir.display()))?;
    }
    Ok(())
}

/// Makes the session's unit files private ([`UNIT_FILE_MODE`]) when an
/// older ccy wrote them readable by others. Missing files are skipped;
/// a failure is only a warning (the session works).
pub fn make_unit_files_private(quadlet_dir: &Path, name: &SessionName) {
    use std::os::unix::fs::PermissionsExt;
    for file in [name.container_file(), name.volume_file()] {
        let path = quadlet_dir.join(file);
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if meta.permissions().mode() & 0o077 != 0
            && let Err(e) = fs::set_permissions(&path, fs::Permissions::from_mode(UNIT_FILE_MODE))
        {
            crate::ctx::notice(&format!(
                "warning: cannot make {} private: {e}",
                path.display()
            ));
        }
    }
}

/// Reads the session `name` from `quadlet_dir`, or `None` when there is no
/// ccy file of that name.
///
/// # Errors
/// When the file exists but cannot be read.
pub fn read_session(quadlet_dir: &Path, name: &SessionName) -> Result<Option<SessionFile>> {
    let path = quadlet_dir.join(name.container_file());
    match fs::read_to_string(&path) {
        Ok(text) => Ok(parse_meta(&text)
            .filter(|m| m.name == name.as_str())
            .map(|meta| SessionFile { meta, path })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// All ccy sessions in `quadlet_dir` (files with a metadata line), sorted
/// by name. Other Quadlet files are ignored.
///
/// # Errors
/// When the directory exists but cannot be read.
pub fn read_sessions(quadlet_dir: &Path) -> Result<Vec<SessionFile>> {
    let mut out: Vec<SessionFile> = container_files(quadlet_dir)?
        .into_iter()
        .filter_map(read_session_file)
        .collect();
    out.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    Ok(out)
}

/// How many of ccy's sessions in `quadlet_dir` belong to the worktree
/// `root` (their metadata's `worktree`). Reads only the head of each
/// `.container` file and parses the metadata of those that mention
/// `root`, so a directory of 1000 sessions costs a few milliseconds.
///
/// # Errors
/// When the directory exists but cannot be read.
pub fn count_worktree_sessions(quadlet_dir: &Path, root: &Path) -> Result<usize> {
    use std::io::Read;
    // The metadata line is among a file's first lines (parse_meta), and
    // JSON writes the path as this string.
    let needle = serde_json::to_string(&root.to_string_lossy()).unwrap_or_default();
    let mut head = vec![0u8; 4096];
    let mut n = 0;
    for path in container_files(quadlet_dir)? {
        let Ok(mut f) = fs::File::open(&path) else {
            continue;
        };
        let Ok(len) = f.read(&mut head) else { continue };
        let text = String::from_utf8_lossy(&head[..len]);
        if !text.contains(&needle) {
            continue;
        }
        // A metadata line longer than the head: the whole file.
        let meta = parse_meta(&text).or_else(|| read_session_file(path).map(|f| f.meta));
        if meta.is_some_and(|m| m.worktree == root) {
            n += 1;
        }
    }
    Ok(n)
}

/// The `.container` files in `quadlet_dir` (ccy's and any others), in
/// directory order, without reading them; empty when the directory does
/// not exist.
///
/// # Errors
/// When the directory exists but cannot be read.
pub fn container_files(quadlet_dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(quadlet_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", quadlet_dir.display())),
    };
    Ok(entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "container"))
        .collect())
}

/// The ccy session in the `.container` file `path`: `None` when it cannot
/// be read or has no metadata line (not ccy's).
#[must_use]
pub fn read_session_file(path: PathBuf) -> Option<SessionFile> {
    let text = crate::host::fs::read_small(&path).ok()?;
    parse_meta(&text).map(|meta| SessionFile { meta, path })
}

/// Reads the fast-path session name from `WORKTREE/.claude/ccy/.session-id`.
/// Returns `None` when absent or not a valid name; the caller must still
/// verify the session before using it.
#[must_use]
pub fn read_session_id(worktree: &Worktree) -> Option<SessionName> {
    fs::read_to_string(worktree.root.join(SESSION_ID))
        .ok()
        .and_then(|s| SessionName::parse(s.trim()).ok())
}

/// Records `name` as the worktree's session in `.claude/ccy/.session-id`
/// and makes sure git does not show it as an untracked file: the pattern
/// [`EXCLUDE_PATTERN`] goes into `info/exclude` of the repository's common
/// git directory (which every linked worktree reads), never into a file of
/// the worktree.
///
/// # Errors
/// When `.session-id` cannot be written. A failure to update
/// `info/exclude` (a read-only repository) is a warning on standard error: the session
/// works, the file shows up in `git status`.
pub fn write_session_id(worktree: &Worktree, name: &SessionName) -> Result<()> {
    crate::host::fs::write_atomic(
        &worktree.root.join(SESSION_ID),
        format!("{name}\n").as_bytes(),
        0o644,
    )?;
    if let Err(e) = exclude_session_id(worktree) {
        crate::ctx::notice(&format!(
            "warning: cannot add {EXCLUDE_PATTERN} to git's exclude file ({e:#}); git status shows it"
        ));
    }
    Ok(())
}

/// Adds [`EXCLUDE_PATTERN`] to `COMMON_DIR/info/exclude` unless a line
/// there already is that pattern; the file's other lines stay as they are.
///
/// # Errors
/// When the file cannot be read or written.
fn exclude_session_id(worktree: &Worktree) -> Result<()> {
    let exclude = worktree.common_dir.join("info/exclude");
    let current = match fs::read_to_string(&exclude) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", exclude.display()));
        }
    };
    if current.lines().any(|l| l.trim_end() == EXCLUDE_PATTERN) {
        return Ok(());
    }
    let mut text = current;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# ccy's per-machine session state (ccy adds this line)\n");
    text.push_str(EXCLUDE_PATTERN);
    text.push('\n');
    if let Some(dir) = exclude.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    crate::host::fs::write_atomic(&exclude, text.as_bytes(), 0o644)
}

/// The current time as RFC 3339 UTC with seconds (`2026-11-21T05:00:00Z`).
#[must_use]
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::quadlet::meta::META_PREFIX;

    use crate::quadlet::spec::{SessionMeta, example_meta as meta};

    #[test]
    fn meta_round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let m = meta("ccy-app-00000001");
        let text = format!(
            "# header\n{META_PREFIX}{}\n[Container]\n",
            serde_json::to_string(&m).unwrap()
        );
        fs::write(dir.path().join("ccy-app-00000001.container"), &text).unwrap();
        fs::write(dir.path().join("other.container"), "[Container]\nImage=x\n").unwrap();
        fs::write(dir.path().join("ccy-app-00000001.volume"), &text).unwrap();
        let all = read_sessions(dir.path()).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].meta, m);
        let name = SessionName::parse("ccy-app-00000001").unwrap();
        assert_eq!(read_session(dir.path(), &name).unwrap().unwrap().meta, m);
        let other = SessionName::parse("other").unwrap();
        assert!(read_session(dir.path(), &other).unwrap().is_none());
        assert!(
            read_sessions(&dir.path().join("missing"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn counts_the_sessions_of_one_worktree() {
        let dir = tempfile::tempdir().unwrap();
        let write = |file: &str, m: &SessionMeta| {
            let text = format!(
                "{META_PREFIX}{}\n[Container]\n",
                serde_json::to_string(m).unwrap()
            );
            fs::write(dir.path().join(file), text).unwrap();
        };
        let mine = meta("a");
        write("a.container", &mine);
        write("b.container", &meta("b"));
        // Another worktree whose path starts with this one's.
        let mut longer = meta("c");
        longer.worktree = format!("{}-2", mine.worktree.display()).into();
        write("c.container", &longer);
        // A metadata line longer than the head that is read first.
        let mut long = meta("d");
        long.branch = "x".repeat(5000);
        write("d.container", &long);
        fs::write(dir.path().join("e.container"), "[Container]\nImage=x\n").unwrap();
        assert_eq!(
            count_worktree_sessions(dir.path(), &mine.worktree).unwrap(),
            3
        );
        assert_eq!(
            count_worktree_sessions(dir.path(), &longer.worktree).unwrap(),
            1
        );
        assert_eq!(
            count_worktree_sessions(&dir.path().join("missing"), &mine.worktree).unwrap(),
            0
        );
    }

    #[test]
    fn meta_with_a_foreign_name_is_not_that_session() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{META_PREFIX}{}\n",
            serde_json::to_string(&meta("b")).unwrap()
        );
        fs::write(dir.path().join("a.container"), text).unwrap();
        let a = SessionName::parse("a").unwrap();
        assert!(read_session(dir.path(), &a).unwrap().is_none());
    }

    #[test]
    fn session_id_file_and_git_exclude() {
        let dir = tempfile::tempdir().unwrap();
        let common = dir.path().join("main/.git");
        fs::create_dir_all(common.join("info")).unwrap();
        fs::write(common.join("info/exclude"), "# git's sample\n*.swp").unwrap();
        // A linked worktree: its own git dir, the main repository's common dir.
        let root = dir.path().join("linked");
        fs::create_dir_all(&root).unwrap();
        let wt = Worktree {
            root: root.clone(),
            git_dir: common.join("worktrees/linked"),
            common_dir: common.clone(),
        };
        assert!(read_session_id(&wt).is_none());
        let n = SessionName::parse("s-1").unwrap();
        write_session_id(&wt, &n).unwrap();
        write_session_id(&wt, &n).unwrap();
        assert_eq!(read_session_id(&wt), Some(n));
        let exclude = fs::read_to_string(common.join("info/exclude")).unwrap();
        assert!(exclude.starts_with("# git's sample\n*.swp\n"), "{exclude}");
        assert_eq!(exclude.matches(EXCLUDE_PATTERN).count(), 1, "{exclude}");
        assert!(!root.join(crate::contract::worktree::GITIGNORE).exists());
        fs::write(root.join(SESSION_ID), "bad name\n").unwrap();
        assert!(read_session_id(&wt).is_none());
        // No info/ directory yet (a bare-bones repository): created.
        let common2 = dir.path().join("other/.git");
        fs::create_dir_all(&common2).unwrap();
        let wt2 = Worktree {
            root: dir.path().join("other"),
            git_dir: common2.clone(),
            common_dir: common2.clone(),
        };
        write_session_id(&wt2, &SessionName::parse("s-2").unwrap()).unwrap();
        let exclude = fs::read_to_string(common2.join("info/exclude")).unwrap();
        assert!(exclude.lines().any(|l| l == EXCLUDE_PATTERN), "{exclude}");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z') && t.len() == 20, "{t}");
    }
}
