//! Taking back a creation: the removal of what a failed or interrupted
//! [`super::create`] made ([`undo_create`]), and of the git worktree that
//! `ccy new --worktree` or `ccy clone` made for it ([`undo_worktree`]).
//! Entered only when a creation fails.

use std::path::Path;

use super::Made;
use crate::ctx::{Ctx, notice};
use crate::error::{Error, ExitKind};
use crate::host::git::Worktree;
use crate::host::podman::api::PodmanApi;
use crate::host::podman::cli as podman_cli;
use crate::host::systemd::{LoadState, UserManager};
use crate::names::SessionName;
use crate::paths::{Paths, display_home};
use crate::session::keep;

/// How [`undo_create`] went.
pub(super) struct Undone {
    name: SessionName,
    problems: Vec<String>,
}

impl Undone {
    /// `err`, saying that the session was removed again, or what of it
    /// could not be.
    pub(super) fn apply(self, err: Error) -> Error {
        let name = &self.name;
        if self.problems.is_empty() {
            if err.kind() == ExitKind::Interrupted {
                return err.detail(format!(
                    "ccy took back what it had made of {name}: nothing of it is left"
                ));
            }
            return err.hint(format!(
                "ccy removed the half-made session {name} again (its journal stays); fix the cause and run ccy again"
            ));
        }
        let mut err = err.detail(format!("removing the half-made session {name} failed:"));
        for p in self.problems {
            err = err.detail(format!("  {p}"));
        }
        err.hint(format!(
            "remove what is left with 'ccy rm {name} --volumes'"
        ))
    }
}

/// Takes back what [`create`] made for a session that did not start:
/// stops its volume unit, clears the failed state of both units, removes
/// the unit files it wrote and reloads, removes its container if Quadlet's
/// clean-up did not, its state volume and state directory if this
/// creation made them. Never touches what existed before. The unit's
/// journal stays (`journalctl --user -u NAME.service`).
pub(super) async fn undo_create(
    ctx: &Ctx,
    mgr: &UserManager,
    api: &PodmanApi,
    name: &SessionName,
    made: &Made,
) -> Undone {
    let mut problems = Vec::new();
    if !made.files.is_empty() {
        let units = [name.service_unit(), name.volume_unit()];
        let states = mgr.unit_states(&units).await.unwrap_or_default();
        for state in states
            .iter()
            .filter(|s| s.load_state != LoadState::NotFound)
        {
            if state.is_up()
                && let Err(e) = mgr.stop(&state.name).await
            {
                problems.push(format!("stop {}: {}", state.name, e.message()));
            }
            if let Err(e) = mgr.reset_failed(&state.name).await {
                problems.push(e.message().to_owned());
            }
        }
        for f in made.files.iter().rev() {
            match std::fs::remove_file(f) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    problems.push(format!("remove {}: {e}", f.display()));
                }
                _ => {}
            }
        }
        if let Err(e) = mgr.reload().await {
            problems.push(e.message().to_owned());
        }
    }
    if api.container_exists(name.as_str()).await.unwrap_or(false)
        && let Err(e) = podman_cli::remove_container(name.as_str())
    {
        problems.push(e.message().to_owned());
    }
    if made.volume
        && api
            .volume_exists(&name.state_volume())
            .await
            .unwrap_or(false)
        && let Err(e) = api.remove_volume(&name.state_volume()).await
    {
        problems.push(e.message().to_owned());
    }
    if let Some(history) = &made.history
        && let Err(e) = api.remove_volume(history).await
    {
        problems.push(e.message().to_owned());
    }
    if made.image
        && let Err(e) = keep::remove_image(name)
    {
        problems.push(e.message().to_owned());
    }
    let dir = ctx.paths.session_state_dir(name.as_str());
    if made.state_dir
        && let Err(e) = std::fs::remove_dir_all(&dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        problems.push(format!("remove {}: {e}", dir.display()));
    }
    Undone {
        name: name.clone(),
        problems,
    }
}

/// Removes the git worktree at `path` (and `branch`, when ccy created it:
/// `new_branch`) that ccy made for a session that could not be created,
/// saying so; a failure to remove it is a warning, the creation's error
/// being the one that counts.
pub fn undo_worktree(paths: &Paths, repo: &Worktree, path: &Path, branch: &str, new_branch: bool) {
    let shown = display_home(path, &paths.home);
    match repo.remove_linked(path, new_branch.then_some(branch)) {
        Ok(()) => notice(&format!(
            "removed the git worktree {shown} again{}",
            if new_branch {
                format!(" and branch {branch}")
            } else {
                String::new()
            }
        )),
        Err(e) => notice(&format!(
            "warning: could not remove the git worktree {shown}: {}",
            e.message()
        )),
    }
}
