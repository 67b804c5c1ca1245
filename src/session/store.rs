//! ccy's own files: the sessions' unit files in the Quadlet directory
//! (read through their metadata line, [`crate::quadlet::meta`]) and the
//! per-worktree files under `.claude/ccy/` ([`crate::contract::worktree`]).

use std::fs;
use std::path::Path;

use crate::contract::worktree::{GITIGNORE, SESSION_ID};
use crate::error::{Context, Result};
use crate::host::git::Worktree;
use crate::names::SessionName;
use crate::quadlet::meta::parse_meta;
use crate::quadlet::spec::SessionFile;

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
    let entries = match fs::read_dir(quadlet_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", quadlet_dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "container") {
            continue;
        }
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        if let Some(meta) = parse_meta(&text) {
            out.push(SessionFile { meta, path });
        }
    }
    out.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    Ok(out)
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
/// and makes sure `.claude/ccy/.gitignore` ignores it.
///
/// # Errors
/// When the files cannot be written.
pub fn write_session_id(worktree: &Worktree, name: &SessionName) -> Result<()> {
    crate::host::fs::write_atomic(
        &worktree.root.join(SESSION_ID),
        format!("{name}\n").as_bytes(),
        0o644,
    )?;
    let ignore = worktree.root.join(GITIGNORE);
    let current = fs::read_to_string(&ignore).unwrap_or_default();
    if !current.lines().any(|l| l.trim() == ".session-id") {
        let mut text = current;
        if text.is_empty() {
            text.push_str("# Written by ccy: per-machine session state.\n");
        } else if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(".session-id\n");
        crate::host::fs::write_atomic(&ignore, text.as_bytes(), 0o644)?;
    }
    Ok(())
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

    use crate::quadlet::spec::example_meta as meta;

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
    fn session_id_file_and_gitignore() {
        let dir = tempfile::tempdir().unwrap();
        let wt = Worktree {
            root: dir.path().to_path_buf(),
            git_dir: dir.path().join(".git"),
            common_dir: dir.path().join(".git"),
        };
        assert!(read_session_id(&wt).is_none());
        let n = SessionName::parse("s-1").unwrap();
        write_session_id(&wt, &n).unwrap();
        write_session_id(&wt, &n).unwrap();
        assert_eq!(read_session_id(&wt), Some(n));
        let ignore = fs::read_to_string(dir.path().join(GITIGNORE)).unwrap();
        assert_eq!(ignore.matches(".session-id").count(), 1, "{ignore}");
        fs::write(dir.path().join(SESSION_ID), "bad name\n").unwrap();
        assert!(read_session_id(&wt).is_none());
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z') && t.len() == 20, "{t}");
    }
}
