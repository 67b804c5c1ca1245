//! `ccy stop`: stop sessions; their unit files and volumes stay.

use clap::Args;

use crate::ctx::Ctx;
use crate::error::{self, Result};
use crate::session::Host;
use crate::session::find::{self, SessionInfo, State};
use crate::session::stop::{self, refuse_foreign, stop_one};

/// Stop sessions: the container ends, the unit files and volumes stay.
///
/// Each session's unit is stopped through your systemd user manager
/// (`StopUnit`) and ccy waits for the job: the unit saves the panes, keeps
/// what the container wrote outside its volumes in the session's image
/// (`localhost/ccy-kept:NAME`; nothing is committed when nothing changed),
/// and Quadlet removes the container. `ccy`, `ccy attach` or `ccy new`
/// start it again with its home, installed tools and agent state kept. Without NAME, the sessions of the
/// worktree you are in are stopped.
///
/// A session with attached clients (someone is looking at it) is stopped
/// only after you confirm on a terminal, or with --force; without a
/// terminal it is refused.
///
/// Exit status: 0 all stopped (or already stopped); 2 NAME matches several
/// sessions; 3 no user manager, or not in a worktree without NAME; 4 a
/// stop job failed; 5 no such session; 6 refused (clients attached and no
/// --force, or declined).
#[derive(Debug, Args)]
pub struct StopArgs {
    /// Sessions to stop: name, name without `ccy-`, unique prefix, or
    /// 8-hex id (4+ digits suffice). Default: this worktree's sessions.
    #[arg(value_name = "NAME", conflicts_with = "all")]
    pub names: Vec<String>,

    /// Stop every running session of yours.
    #[arg(short, long)]
    pub all: bool,

    /// Stop sessions with attached clients without asking.
    #[arg(short, long)]
    pub force: bool,
}

/// Stops the selected sessions, reporting each.
///
/// # Errors
/// See the exit status in [`StopArgs`].
pub fn run(ctx: &Ctx, args: &StopArgs) -> Result<()> {
    let here = find::here_unless(ctx, args.all || !args.names.is_empty())?;
    ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        let mgr = &host.mgr;
        // Exact names need neither the other sessions nor Podman.
        let named = if args.all {
            None
        } else {
            find::named_sessions(&ctx.paths, mgr, &args.names).await?
        };
        let all = if let Some(found) = named {
            found
        } else {
            host.sessions().await?
        };
        crate::trace::mark("stop: sessions found");
        let targets: Vec<&SessionInfo> = if args.all {
            all.iter()
                .filter(|s| s.file.is_some() && is_up(s.state()))
                .collect()
        } else {
            find::select(&all, &args.names, here.as_ref())?
        };
        if targets.is_empty() {
            crate::outln!("no running sessions");
            return Ok(());
        }
        refuse_foreign(&targets)?;
        stop::check_clients(&targets, args.force, "stop")?;
        let mut failed = Vec::new();
        for info in targets {
            if let Err(e) = stop_one(mgr, info).await {
                crate::errln!("ccy: {e}");
                failed.push(info.name.to_string());
            }
        }
        error::session_failures(&failed, |names| format!("could not stop {names}")).map_err(|e| {
            e.hint(format!(
                "see why with 'ccy logs {}'",
                failed.first().map_or("NAME", String::as_str)
            ))
        })
    })
}

fn is_up(state: State) -> bool {
    matches!(state, State::Running | State::Starting | State::Stopping)
}
