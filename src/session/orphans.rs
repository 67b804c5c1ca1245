//! What removed sessions left behind: state directories, agent-state
//! volumes and token secrets that belong to no session. `ccy doctor`
//! reports them, `ccy prune` removes them.
//!
//! A session's record is its unit file ([`crate::session::store`]): a state
//! directory `STATE_DIR/sessions/NAME` or a volume labelled
//! `ccy.session=NAME` whose session has no unit file (and no container of
//! that name) is left over, as is a token secret (label `ccy.token`) that
//! no unit file names in its `Secret=` line. They come from a removal that
//! stopped halfway in an older ccy, from unit files deleted by hand, or —
//! for volumes — from `ccy rm` and `ccy prune`, which keep the agent state
//! of a removed session unless asked (`--volumes`); so `prune` removes
//! volumes only with `--volumes`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::contract::{LABEL_SESSION, LABEL_TOKEN};
use crate::error::{Context, Result};
use crate::host::podman::api::PodmanApi;
use crate::names::SessionName;
use crate::paths::Paths;
use crate::session::store;

/// What belongs to no session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Orphans {
    /// State directories (`STATE_DIR/sessions/NAME`), with the session name.
    pub state_dirs: Vec<(String, PathBuf)>,
    /// Agent-state volumes (label `ccy.session`), with the session name.
    pub volumes: Vec<(String, String)>,
    /// Token secrets (label `ccy.token`) no unit file uses.
    pub secrets: Vec<String>,
}

impl Orphans {
    /// Whether nothing is left over.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.state_dirs.is_empty() && self.volumes.is_empty() && self.secrets.is_empty()
    }
}

/// The sessions that exist: those with a unit file in the Quadlet
/// directory, plus `containers` (names of ccy containers, which may have
/// none), and the secrets their unit files name.
fn sessions_and_secrets(
    paths: &Paths,
    containers: &[String],
) -> Result<(BTreeSet<String>, BTreeSet<String>)> {
    let mut names: BTreeSet<String> = containers.iter().cloned().collect();
    let mut secrets = BTreeSet::new();
    for file in store::read_sessions(&paths.quadlet_dir)? {
        names.insert(file.meta.name.clone());
        if let Ok(text) = std::fs::read_to_string(&file.path) {
            secrets.extend(secrets_named(&text));
        }
    }
    Ok((names, secrets))
}

/// The secret names in a unit file's `Secret=NAME,…` lines.
fn secrets_named(unit: &str) -> impl Iterator<Item = String> + '_ {
    unit.lines().filter_map(|l| {
        let value = l.trim().strip_prefix("Secret=")?;
        let name = value.split(',').next()?.trim();
        (!name.is_empty()).then(|| name.to_owned())
    })
}

/// The state directories under `STATE_DIR/sessions` whose name no
/// session in `sessions` has.
fn orphan_state_dirs(paths: &Paths, sessions: &BTreeSet<String>) -> Result<Vec<(String, PathBuf)>> {
    let dir = paths.state_dir.join("sessions");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        // Only what ccy could have made: a directory with a session's name.
        if SessionName::parse(&name).is_err()
            || !entry.file_type().is_ok_and(|t| t.is_dir())
            || sessions.contains(&name)
        {
            continue;
        }
        out.push((name, entry.path()));
    }
    out.sort();
    Ok(out)
}

/// Finds what belongs to no session (a session being a unit file or a
/// ccy container, which may have none).
///
/// # Errors
/// When the Quadlet or state directory cannot be read, or the API fails.
pub async fn find(paths: &Paths, api: &PodmanApi) -> Result<Orphans> {
    let containers: Vec<String> = api
        .session_containers(None)
        .await?
        .into_iter()
        .map(|c| c.name)
        .collect();
    let (sessions, used_secrets) = sessions_and_secrets(paths, &containers)?;
    let state_dirs = orphan_state_dirs(paths, &sessions)?;
    let mut volumes: Vec<(String, String)> = api
        .volumes_with_label(LABEL_SESSION)
        .await?
        .into_iter()
        .filter(|(_, session)| !sessions.contains(session))
        .collect();
    volumes.sort();
    let mut secrets: Vec<String> = api
        .secrets_with_label(LABEL_TOKEN)
        .await?
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !used_secrets.contains(name))
        .collect();
    secrets.sort();
    Ok(Orphans {
        state_dirs,
        volumes,
        secrets,
    })
}

/// One line per left-over thing, for messages (`state directory ~/…`,
/// `volume NAME (session S)`, `secret NAME`).
#[must_use]
pub fn describe(o: &Orphans, home: &Path) -> Vec<String> {
    let mut out: Vec<String> = o
        .state_dirs
        .iter()
        .map(|(_, d)| format!("state directory {}", crate::paths::display_home(d, home)))
        .collect();
    out.extend(
        o.volumes
            .iter()
            .map(|(v, s)| format!("volume {v} (agent state of the removed session {s})")),
    );
    out.extend(
        o.secrets
            .iter()
            .map(|s| format!("secret {s} (used by no session)")),
    );
    out
}

/// Removes the left-over state directories and secrets, and the volumes
/// when `volumes`; each is looked at again under the session's name lock
/// (the one `ccy new` holds until a new session's unit files exist), so a
/// session being created meanwhile keeps what it has made. Prints one line
/// per thing removed or kept. Returns how many could not be removed (each
/// said on standard error).
///
/// # Errors
/// When a lock cannot be taken or the API fails to list.
pub async fn remove(
    paths: &Paths,
    api: &PodmanApi,
    found: &Orphans,
    volumes: bool,
) -> Result<usize> {
    let mut failed = 0;
    let home = &paths.home;
    for (name, dir) in &found.state_dirs {
        let _lock = crate::host::fs::lock(&paths.lock_dir().join(format!("session-{name}.lock")))?;
        if paths.quadlet_dir.join(format!("{name}.container")).exists() {
            continue;
        }
        match std::fs::remove_dir_all(dir) {
            Ok(()) => crate::outln!(
                "removed the state directory {} (its session {name} is gone)",
                crate::paths::display_home(dir, home)
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                crate::errln!("ccy: cannot remove {}: {e}", dir.display());
                failed += 1;
            }
        }
    }
    for (volume, session) in &found.volumes {
        if !volumes {
            crate::outln!(
                "kept volume {volume} (agent state of the removed session {session}; --volumes removes it)"
            );
            continue;
        }
        let _lock =
            crate::host::fs::lock(&paths.lock_dir().join(format!("session-{session}.lock")))?;
        if paths
            .quadlet_dir
            .join(format!("{session}.container"))
            .exists()
        {
            continue;
        }
        match api.remove_volume(volume).await {
            Ok(()) => crate::outln!("removed volume {volume} (its session {session} is gone)"),
            Err(e) => {
                crate::errln!("ccy: {}", e.message());
                failed += 1;
            }
        }
    }
    if !found.secrets.is_empty() {
        // Look again: a session made since may use one now.
        let (_, used) = sessions_and_secrets(paths, &[])?;
        for secret in found.secrets.iter().filter(|s| !used.contains(*s)) {
            match api.remove_secret(secret).await {
                Ok(()) => crate::outln!("removed secret {secret} (used by no session)"),
                Err(e) => {
                    crate::errln!("ccy: {}", e.message());
                    failed += 1;
                }
            }
        }
    }
    Ok(failed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_are_read_from_secret_lines() {
        let unit =
            "[Container]\nSecret=ccy-token-work,type=env,target=X\n  Secret=other\nEnv=Secret=no\n";
        let got: Vec<String> = secrets_named(unit).collect();
        assert_eq!(got, ["ccy-token-work", "other"]);
    }

    #[test]
    fn state_dirs_without_a_session_are_orphans() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::new(
            1000,
            tmp.path().to_owned(),
            None,
            Some(tmp.path().join("cfg")),
            Some(tmp.path().join("state")),
        );
        let sessions = paths.state_dir.join("sessions");
        for d in ["alive", "gone", "not a name"] {
            std::fs::create_dir_all(sessions.join(d)).unwrap();
        }
        std::fs::write(sessions.join("file"), "x").unwrap();
        let alive: BTreeSet<String> = ["alive".to_owned()].into();
        let got = orphan_state_dirs(&paths, &alive).unwrap();
        assert_eq!(got, [("gone".to_owned(), sessions.join("gone"))]);
    }
}
