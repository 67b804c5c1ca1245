//! Stopping sessions: who is attached, and the stop job itself.

use crate::error::{Error, ExitKind, Result};
use crate::host::podman::cli as podman_cli;
use crate::host::systemd::UserManager;
use crate::session::find::{SessionInfo, State};

/// Attached tmux clients of a running session: the status file's count
/// (written by the session on every attach and detach), confirmed live
/// with [`podman_cli::live_clients`] when it says there are some (a detach
/// that the file has not caught up with yet must not block a stop). 0 when
/// the session is not running.
#[must_use]
pub fn attached_clients(info: &SessionInfo) -> u32 {
    match info.clients() {
        0 => 0,
        n => podman_cli::live_clients(info.name.as_str()).unwrap_or(n),
    }
}

/// Refuses to `verb` (stop, remove) sessions that have attached clients
/// unless `force`: asks on a terminal ([`crate::ui::confirm`]), refuses
/// otherwise.
///
/// # Errors
/// [`ExitKind::Refused`] when the user declines, or without a terminal and
/// without `force`.
pub fn check_clients(sessions: &[&SessionInfo], force: bool, verb: &str) -> Result<()> {
    if force {
        return Ok(());
    }
    for info in sessions {
        let n = attached_clients(info);
        if n == 0 {
            continue;
        }
        let what = format!(
            "session {} has {n} attached client{}",
            info.name,
            if n == 1 { "" } else { "s" }
        );
        if crate::ui::can_prompt() {
            if !crate::ui::confirm(&format!("{what}; {verb} it anyway?")) {
                return Err(Error::new(
                    ExitKind::Refused,
                    format!("not {} session {}: declined", gerund(verb), info.name),
                )
                .hint(format!("add --force to {verb} it without asking")));
            }
        } else {
            return Err(Error::new(
                ExitKind::Refused,
                format!("{what}: not {} it", gerund(verb)),
            )
            .hint(format!(
                "detach those clients first (Ctrl-b d), or add --force to {verb} it anyway"
            )));
        }
    }
    Ok(())
}

/// `stop` → `stopping`, `remove` → `removing`.
fn gerund(verb: &str) -> String {
    match verb.strip_suffix('e') {
        Some(stem) => format!("{stem}ing"),
        None if verb.ends_with('p') => format!("{verb}ping"),
        None => format!("{verb}ing"),
    }
}

/// Refuses containers that have no ccy unit file: ccy did not start them
/// through the user manager, so it does not stop or remove them either.
///
/// # Errors
/// [`crate::error::ExitKind::Usage`] naming the first such container.
pub fn refuse_foreign(targets: &[&SessionInfo]) -> Result<()> {
    match targets.iter().find(|s| s.file.is_none()) {
        None => Ok(()),
        Some(s) => Err(Error::usage(format!(
            "{} is a container labelled as a ccy session, but it has no unit file",
            s.name
        ))
        .hint(format!(
            "manage it with podman, e.g. 'podman stop {}'",
            s.name
        ))),
    }
}

/// Stops one session's unit and waits for the job; prints the outcome.
///
/// # Errors
/// When the job does not end `done`.
pub async fn stop_one(mgr: &UserManager, info: &SessionInfo) -> Result<()> {
    let unit = info.name.service_unit();
    match info.state() {
        State::Stopped => {
            crate::outln!("{} is already stopped", info.name);
            return Ok(());
        }
        State::Failed => {
            mgr.reset_failed(&unit).await?;
            crate::outln!(
                "{} was not running (it had failed; see 'ccy logs {}')",
                info.name,
                info.name
            );
            return Ok(());
        }
        _ => {}
    }
    mgr.stop(&unit)
        .await?
        .done_or_error(&format!("stopping {}", info.name))?;
    crate::outln!("stopped {}", info.name);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn gerunds() {
        assert_eq!(gerund("stop"), "stopping");
        assert_eq!(gerund("remove"), "removing");
    }
}
