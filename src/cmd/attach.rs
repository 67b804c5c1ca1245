//! `ccy attach NAME`: attach to any session, starting it when stopped.

use std::io::IsTerminal;

use clap::Args;

use crate::ctx::{Ctx, notice};
use crate::error::{Error, Result};
use crate::inventory;
use crate::lifecycle;
use crate::podman::{self, AttachMode, PodmanApi};
use crate::systemd::UserManager;

/// Attach to a session by name, starting it first when it is stopped.
///
/// NAME is the session's full name, or its name without the `ccy-` prefix,
/// or a prefix of either that only one session has, or its 8-hex id (4+ digits suffice; the
/// end of an automatic name). A stopped or failed session is started (its
/// unit, through your systemd user manager) and ccy waits for its tmux
/// before attaching. Detach with Ctrl-b d; the session keeps running.
///
/// Exit status: that of the attached client (0 after a detach); 2 NAME
/// matches several sessions, or no terminal; 3 no user manager or Podman;
/// 4 the session failed to start (with its journal); 5 no session matches
/// NAME.
#[derive(Debug, Args)]
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
}

/// Resolves the session, starts it when needed, and replaces the ccy
/// process with a tmux client attached to it (see
/// [`lifecycle::attach_argv`]).
///
/// # Errors
/// See the exit status in [`AttachArgs`].
pub fn run(ctx: &Ctx, args: &AttachArgs) -> Result<()> {
    require_terminal()?;
    podman::require_cli()?;
    let name = ctx.block_on(async {
        let mgr = UserManager::connect(&ctx.paths).await?;
        let api = PodmanApi::connect(&ctx.paths, &mgr).await?;
        let all = inventory::all_sessions(&ctx.paths, &mgr, &api).await?;
        let info = inventory::resolve(&all, &args.name)?;
        if lifecycle::ensure_running(&mgr, &api, &ctx.paths, info).await? {
            notice(&format!("started session {}", info.name));
        }
        Ok::<_, Error>(info.name.clone())
    })?;
    lifecycle::say_attaching(&name, false);
    let mode = AttachMode {
        read_only: args.read_only,
        exclusive: args.exclusive,
    };
    Err(podman::exec_replace(&lifecycle::attach_argv(
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
