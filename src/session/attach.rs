//! Attaching the user's terminal to a session's tmux.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};

use crate::ctx::notice;
use crate::error::{Error, Result};
use crate::host::podman::{AttachMode, cli as podman_cli};
use crate::host::tmux;
use crate::names::SessionName;
use crate::paths::Paths;
use crate::session::{Host, find, reset, start};

/// The argv that attaches this terminal to `name`'s tmux: the host's tmux
/// client on the session's socket when it can ([`crate::host::tmux`]), else
/// `podman exec -it … tmux attach`.
#[must_use]
pub fn attach_argv(paths: &Paths, name: &SessionName, mode: AttachMode) -> Vec<OsString> {
    let mode = AttachMode {
        nested: tmux::nested_in_tmux(),
        ..mode
    };
    match tmux::attachable_socket(&paths.session_state_dir(name.as_str())) {
        Some(socket) => tmux::attach_argv(&socket, mode),
        None => podman_cli::attach_argv(name.as_str(), mode, &podman_cli::terminal_env()),
    }
}

/// How a session is brought up before a client attaches to it or a
/// command runs in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepare {
    /// Started when it is not running (`ccy attach`, `ccy shell`).
    Start,
    /// Restarted from its clean image, state kept (`ccy attach --reset`).
    Reset,
    /// Restarted in a new container, kept layer and all (`ccy attach
    /// --fresh`).
    Fresh,
}

/// Resolves `query` among all sessions ([`find::resolve`]) and brings the
/// session up as `prepare` says, within the configured limit of running
/// sessions. Says so when it started a stopped session. Returns its name.
///
/// # Errors
/// As [`find::resolve`] (no such session, ambiguous), the configuration,
/// [`start::ensure_running`] and [`reset::reset`]/[`reset::fresh`].
pub async fn resolve_running(
    host: &Host<'_>,
    query: &str,
    prepare: Prepare,
) -> Result<SessionName> {
    let all = host.sessions().await?;
    let info = find::resolve(&all, query)?;
    let max = host.max_running(info)?;
    match prepare {
        Prepare::Reset => reset::reset(host, info, max).await?,
        Prepare::Fresh => reset::fresh(host, info, max).await?,
        Prepare::Start => {
            if start::ensure_running(host, info, max).await? {
                notice(&format!("started session {} (it was stopped)", info.name));
            }
        }
    }
    Ok(info.name.clone())
}

/// Tells the user which session they are attaching to, on standard error,
/// and how to detach (inside another tmux: Ctrl-a d, see
/// [`tmux::nesting_commands`]).
pub fn say_attaching(name: &SessionName, created: bool) {
    let mut err = std::io::stderr();
    let verb = if created { "created" } else { "attaching to" };
    let detach = if tmux::nested_in_tmux() {
        "detach: Ctrl-a d, as Ctrl-b is your outer tmux's"
    } else {
        "detach: Ctrl-b d"
    };
    writeln!(err, "ccy: {verb} session {name} ({detach})").ok();
}

/// How the session to attach to was reached, for what ccy says first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Created now.
    Created,
    /// Found (and started when it was stopped).
    Found,
    /// Found through the worktree's `.session-id`, running: say nothing.
    Quiet,
}

/// The end of every verb that may attach (`ccy`, `ccy new`, `ccy clone`):
/// with a terminal on standard input and not `detach`, says which session
/// and replaces the ccy process with a tmux client attached to it
/// ([`attach_argv`]), so this returns only on failure. Otherwise prints
/// `created session NAME` or `running session NAME` on standard output,
/// says why it is not attaching (no terminal) and how to attach later.
///
/// # Errors
/// The tmux client or `podman` cannot be started (the only way it returns
/// from an attach).
pub fn attach_or_explain(
    paths: &Paths,
    name: &SessionName,
    arrival: Arrival,
    detach: bool,
) -> Result<()> {
    if !detach && std::io::stdin().is_terminal() {
        if arrival != Arrival::Quiet {
            say_attaching(name, arrival == Arrival::Created);
        }
        return Err(crate::host::exec::exec_replace(&attach_argv(
            paths,
            name,
            AttachMode::default(),
        )));
    }
    let what = if arrival == Arrival::Created {
        "created"
    } else {
        "running"
    };
    crate::outln!("{what} session {name}");
    if !detach {
        notice("standard input is not a terminal: not attaching");
    }
    notice(&format!("attach with 'ccy attach {name}'"));
    Ok::<(), Error>(())
}
