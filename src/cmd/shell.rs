//! `ccy shell NAME`: a new shell (or command) in a session's container.

use std::io::IsTerminal;

use clap::Args;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::host::podman::cli as podman_cli;
use crate::session::Host;
use crate::session::attach::{self, Prepare};

/// Open a shell in a session's container, beside the agent's tmux pane.
///
/// Runs `bash -l` (or `sh -l` when the image has no bash) in `/workspace`
/// of the session's container with `podman exec`, replacing the ccy
/// process; with `-- CMD…`, runs CMD instead. The agent's pane is not
/// touched. A stopped session is started first (ccy says so). Without a
/// terminal on standard input, no pseudo-terminal is allocated, so
/// `ccy shell NAME -- CMD < file` and pipes work.
///
/// Exit status: that of the shell or CMD (Podman's 125-127 when it cannot
/// run it); 2 NAME matches several sessions; 3 no user manager or Podman;
/// 4 the session failed to start; 5 no session matches NAME.
#[derive(Debug, Args)]
pub struct ShellArgs {
    /// The session: name, name without `ccy-`, unique prefix, or 8-hex id (4+ digits suffice).
    pub name: String,

    /// A command to run instead of the shell, after `--` (e.g. `ccy shell
    /// NAME -- git status`).
    #[arg(last = true, value_name = "CMD")]
    pub cmd: Vec<String>,
}

/// Resolves the session, starts it when needed, and replaces the ccy
/// process with `podman exec`.
///
/// # Errors
/// See the exit status in [`ShellArgs`].
pub fn run(ctx: &Ctx, args: &ShellArgs) -> Result<()> {
    podman_cli::require_cli()?;
    let name = ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        attach::resolve_running(&host, &args.name, Prepare::Start).await
    })?;

    let tty = std::io::stdin().is_terminal();
    let shell = podman_cli::shell_argv(name.as_str(), &args.cmd, tty, &podman_cli::terminal_env());
    Err(crate::host::exec::exec_replace(&shell))
}
