//! Which sessions a verb acts on: the one a name (or a prefix, or an id)
//! means, or those of the current worktree, and the lock that serialises
//! lookup-or-create in one worktree.

use std::path::PathBuf;

use super::SessionInfo;
use crate::error::{Error, ExitKind, Result};
use crate::host::git::Worktree;
use crate::paths::Paths;

/// Finds the one session `query` names: the exact name; else `ccy-QUERY`;
/// else the only session whose name (or name without `ccy-`) starts with
/// `query`; else the only one whose 8-hex id starts with `query` (at
/// least 4 hex digits).
///
/// # Errors
/// [`ExitKind::NotFound`] when none matches; [`ExitKind::Usage`] when
/// several do, listing them.
pub fn resolve<'a>(sessions: &'a [SessionInfo], query: &str) -> Result<&'a SessionInfo> {
    let name_of = |s: &&SessionInfo| s.name.as_str().to_owned();
    if let Some(s) = sessions
        .iter()
        .find(|s| s.name.as_str() == query || s.name.as_str() == format!("ccy-{query}"))
    {
        return Ok(s);
    }
    let stripped = |s: &SessionInfo| s.name.as_str().strip_prefix("ccy-").map(str::to_owned);
    let mut matches: Vec<&SessionInfo> = sessions
        .iter()
        .filter(|s| {
            s.name.as_str().starts_with(query) || stripped(s).is_some_and(|n| n.starts_with(query))
        })
        .collect();
    if matches.is_empty() && query.len() >= 4 && query.bytes().all(|b| b.is_ascii_hexdigit()) {
        let id = |s: &SessionInfo| {
            s.name
                .as_str()
                .rsplit_once('-')
                .map(|(_, id)| id.to_owned())
                .filter(|id| id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        matches = sessions
            .iter()
            .filter(|s| id(s).is_some_and(|id| id.starts_with(query)))
            .collect();
    }
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(
            Error::new(ExitKind::NotFound, format!("no session matches {query:?}"))
                .hint("list sessions with 'ccy list'"),
        ),
        many => Err(Error::usage(format!(
            "{query:?} matches {} sessions: {}",
            many.len(),
            many.iter().map(name_of).collect::<Vec<_>>().join(", ")
        ))
        .hint("give more of the name")),
    }
}

/// The lock file serialising lookup-or-create in one worktree.
#[must_use]
pub fn worktree_lock_path(paths: &Paths, worktree: &Worktree) -> PathBuf {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in worktree.root.as_os_str().as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    paths.lock_dir().join(format!("worktree-{h:016x}.lock"))
}

/// The worktree of the current directory, which a verb acts on when it
/// is given no session names; `None` when `named` (names were given, or
/// `--all`), without looking.
///
/// # Errors
/// Not in a git worktree ([`Worktree::discover`]).
pub fn here_unless(ctx: &crate::ctx::Ctx, named: bool) -> Result<Option<Worktree>> {
    if named {
        Ok(None)
    } else {
        Worktree::discover(&ctx.cwd).map(Some)
    }
}

/// Takes the worktree's lock (see [`worktree_lock_path`]).
///
/// # Errors
/// When the lock file cannot be created or locked.
pub fn lock_worktree(paths: &Paths, worktree: &Worktree) -> Result<crate::host::fs::Lock> {
    crate::host::fs::lock(&worktree_lock_path(paths, worktree))
}

/// The sessions a verb acts on: each of `names` resolved with
/// [`resolve`] (duplicates dropped, order kept), or when
/// `names` is empty, the sessions of the worktree `here` (its unit files'
/// metadata or its containers' label; none when `here` is `None`).
///
/// # Errors
/// As [`resolve`]; [`ExitKind::NotFound`] when `names` is empty
/// and the worktree has no session.
pub fn select<'a>(
    all: &'a [SessionInfo],
    names: &[String],
    here: Option<&Worktree>,
) -> Result<Vec<&'a SessionInfo>> {
    if names.is_empty() {
        let Some(here) = here else {
            return Ok(Vec::new());
        };
        let root = here.root.to_string_lossy();
        let mine: Vec<&SessionInfo> = all.iter().filter(|s| s.worktree() == root).collect();
        if mine.is_empty() {
            return Err(Error::new(
                ExitKind::NotFound,
                format!("the worktree {root} has no session"),
            )
            .hint("name the session (see 'ccy list'), or run ccy in its worktree"));
        }
        return Ok(mine);
    }
    let mut out: Vec<&SessionInfo> = Vec::new();
    for q in names {
        let s = resolve(all, q)?;
        if !out.iter().any(|o| o.name == s.name) {
            out.push(s);
        }
    }
    Ok(out)
}
