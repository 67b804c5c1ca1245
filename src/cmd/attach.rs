//! `ccy attach NAME`: attach to any session, starting it when stopped.

use std::io::IsTerminal;

use clap::Args;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::host::podman::{AttachMode, cli as podman_cli};
use crate::session::Host;
use crate::session::attach::{self, Prepare};

/// Attach to a session by name, starting it first when it is stopped.
///
/// NAME is the session's full name, or its name without the `ccy-` prefix,
/// or a prefix of either that only one session has, or its 8-hex id (4+ digits suffice; the
/// end of an automatic name). A stopped or failed session is started (its
/// unit, through your systemd user manager) and ccy waits for its tmux
/// before attaching. Detach with Ctrl-b d; the session keeps running.
///
/// Every stop keeps what the session wrote outside its volumes (its home,
/// installed tools, shell history) in its own image; --fresh is the one
/// way back to the clean image: the session is stopped, its kept layer is
/// dropped (ccy says so, with its size) and it starts in a new container
/// from the clean image (a rebuilt `image.name` is picked up here), with
/// the same volumes and worktree. With --reset, the session gets a new,
/// empty agent-state volume (`NAME-state-2`, `-3`, …; settings, prompt
/// history) and a new container; its kept layer stays, and the old volume
/// is kept (ccy prints its name). Both work on a stopped session too, and
/// both disconnect the session's attached clients.
///
/// Exit status: that of the attached client (0 after a detach); 2 NAME
/// matches several sessions, or no terminal; 3 no user manager or Podman;
/// 4 the session failed to start or restart (with its journal), or it has
/// no ccy unit file (--fresh, --reset); 5 no session matches NAME; 6
/// `session.max_running` sessions already run (starting a stopped one).
#[derive(Debug, Args)]
#[expect(clippy::struct_excessive_bools, reason = "independent clap flags")]
pub struct AttachArgs {
    /// The session: name, name without `ccy-`, unique prefix, or 8-hex id (4+ digits suffice).
    pub name: String,

    /// Attach read-only (tmux `attach -r`): you see the pane, your keys do
    /// not reach it (except detaching).
    #[arg(short, long)]
    pub read_only: bool,

    /// Detach every other client of the session first (tmux `attach -d`).
    #[arg(long)]
    pub exclusive: bool,

    /// Drop the session's kept layer (everything written outside its
    /// volumes) and start it from the clean image, keeping its volumes.
    #[arg(long, conflicts_with = "reset")]
    pub fresh: bool,

    /// Give the session a new, empty agent-state volume and recreate its
    /// container; the old volume is kept.
    #[arg(long)]
    pub reset: bool,
}

/// Resolves the session, starts it when needed, and replaces the ccy
/// process with a tmux client attached to it (see
/// [`attach::attach_argv`]).
///
/// # Errors
/// See the exit status in [`AttachArgs`].
pub fn run(ctx: &Ctx, args: &AttachArgs) -> Result<()> {
    require_terminal()?;
    podman_cli::require_cli()?;
    let prepare = if args.reset {
        Prepare::Reset
    } else if args.fresh {
        Prepare::Fresh
    } else {
        Prepare::Start
    };
    let name = ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        attach::resolve_running(&host, &args.name, prepare).await
    })?;

    attach::say_attaching(&name, false);
    let mode = AttachMode {
        read_only: args.read_only,
        exclusive: args.exclusive,
        ..AttachMode::default()
    };
    Err(crate::host::exec::exec_replace(&attach::attach_argv(
        &ctx.paths, &name, mode,
    )))
}

/// Attaching needs standard input to be a terminal (`podman exec -it`).
fn require_terminal() -> Result<()> {
    if std::io::stdin().is_terminal() {
        return Ok(());
    }
    Err(
        Error::usage("cannot attach: standard input is not a terminal").hint(
            "run it from a terminal, or 'ccy shell NAME -- CMD' to run a command in the session",
        ),
    )
}
