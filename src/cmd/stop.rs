//! `ccy stop`: stop sessions; their unit files and volumes stay.

use clap::Args;

use crate::ctx::Ctx;
use crate::error::{Error, ExitKind, Result};
use crate::git::Worktree;
use crate::inventory::{self, SessionInfo, State};
use crate::lifecycle;
use crate::podman::PodmanApi;
use crate::systemd::{JobResult, UserManager};

/// Stop sessions: the container ends, the unit files and volumes stay.
///
/// Each session's unit is stopped through your systemd user manager
/// (`StopUnit`) and ccy waits for the job; Quadlet then removes the
/// container. `ccy`, `ccy attach` or `ccy new` start it again with its
/// agent state (the volume) kept. Without NAME, the sessions of the
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
    let here = if args.all || !args.names.is_empty() {
        None
    } else {
        Some(Worktree::discover(&ctx.cwd)?)
    };
    ctx.block_on(async {
        let mgr = UserManager::connect(&ctx.paths).await?;
        // Exact names need neither the other sessions nor Podman.
        let named = if args.all {
            None
        } else {
            inventory::named_sessions(&ctx.paths, &mgr, &args.names).await?
        };
        let all = if let Some(found) = named {
            found
        } else {
            let api = PodmanApi::connect(&ctx.paths, &mgr).await?;
            inventory::all_sessions(&ctx.paths, &mgr, &api).await?
        };
        crate::trace::mark("stop: sessions found");
        let targets: Vec<&SessionInfo> = if args.all {
            all.iter()
                .filter(|s| s.file.is_some() && is_up(s.state()))
                .collect()
        } else {
            lifecycle::select(&all, &args.names, here.as_ref())?
        };
        if targets.is_empty() {
            println!("no running sessions");
            return Ok(());
        }
        refuse_foreign(&targets)?;
        lifecycle::check_clients(&targets, args.force, "stop")?;
        let mut failed = Vec::new();
        for info in targets {
            if let Err(e) = stop_one(&mgr, info).await {
                eprintln!("ccy: {e}");
                failed.push(info.name.to_string());
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(Error::new(
                ExitKind::Session,
                format!("could not stop {}", failed.join(", ")),
            )
            .hint(format!(
                "see why with 'ccy logs {}'",
                failed.first().map_or("NAME", String::as_str)
            )))
        }
    })
}

fn is_up(state: State) -> bool {
    matches!(state, State::Running | State::Starting | State::Stopping)
}

/// Refuses containers that have no ccy unit file: ccy did not start them
/// through the user manager, so it does not stop them either.
pub(crate) fn refuse_foreign(targets: &[&SessionInfo]) -> Result<()> {
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
pub(crate) async fn stop_one(mgr: &UserManager, info: &SessionInfo) -> Result<()> {
    let unit = info.name.service_unit();
    match info.state() {
        State::Stopped => {
            println!("{} is already stopped", info.name);
            return Ok(());
        }
        State::Failed => {
            mgr.reset_failed(&unit).await?;
            println!(
                "{} was not running (it had failed; see 'ccy logs {}')",
                info.name, info.name
            );
            return Ok(());
        }
        _ => {}
    }
    match mgr.stop(&unit).await? {
        JobResult::Done => {
            println!("stopped {}", info.name);
            Ok(())
        }
        other => Err(Error::new(
            ExitKind::Session,
            format!(
                "stopping {} ended with job result {}",
                info.name,
                other.as_str()
            ),
        )),
    }
}
