//! `ccy rm`: remove sessions: stop them, remove their unit files and state.

use std::path::Path;

use clap::Args;

use crate::cmd::stop::{refuse_foreign, stop_one};
use crate::ctx::Ctx;
use crate::error::{Context, Error, ExitKind, Result};
use crate::git::Worktree;
use crate::inventory::{self, SessionInfo, State};
use crate::lifecycle;
use crate::paths::{Paths, display_home};
use crate::podman::PodmanApi;
use crate::session;
use crate::systemd::UserManager;

/// Remove sessions: stop them and delete their unit files and state.
///
/// For each session: its unit is stopped (as `ccy stop` does, asking first
/// when clients are attached), its Quadlet files `NAME.container` and
/// `NAME.volume` are deleted, your systemd user manager is reloaded once
/// for all of them, and the session's state directory
/// (`~/.local/state/ccy/sessions/NAME`) and its worktree's
/// `.claude/ccy/.session-id` (when it names the session) are removed.
///
/// The agent-state volume (`NAME-state`: conversation history for `claude
/// --resume`, settings) is kept unless --volumes is given; a git worktree
/// made by `ccy new --worktree` is kept. ccy says what it removed and what
/// it kept. Without NAME, the session of the worktree you are in is removed
/// (when it has several, name them).
///
/// Exit status: 0 all removed; 2 NAME matches several sessions, or the
/// worktree has several; 3 no user manager, or not in a worktree without
/// NAME; 4 a stop job failed; 5 no such session; 6 refused (clients
/// attached and no --force, or declined).
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Sessions to remove: name, name without `ccy-`, unique prefix, or
    /// 8-hex id (4+ digits suffice). Default: this worktree's session.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Also remove each session's volume (the agent's state); it cannot be
    /// recovered.
    #[arg(long)]
    pub volumes: bool,

    /// Remove sessions with attached clients without asking.
    #[arg(short, long)]
    pub force: bool,
}

/// Removes the selected sessions, reporting what was removed and kept.
///
/// # Errors
/// See the exit status in [`RmArgs`].
pub fn run(ctx: &Ctx, args: &RmArgs) -> Result<()> {
    let here = if args.names.is_empty() {
        Some(Worktree::discover(&ctx.cwd)?)
    } else {
        None
    };
    ctx.block_on(async {
        let mgr = UserManager::connect(&ctx.paths).await?;
        let api = PodmanApi::connect(&ctx.paths, &mgr).await?;
        let all = inventory::all_sessions(&ctx.paths, &mgr, &api).await?;
        let targets = lifecycle::select(&all, &args.names, here.as_ref())?;
        if here.is_some() && targets.len() > 1 {
            let mut err = Error::usage(format!(
                "this worktree has {} sessions; name the ones to remove:",
                targets.len()
            ));
            for t in &targets {
                err = err.detail(t.name.to_string());
            }
            return Err(err.hint("e.g. 'ccy rm NAME' (several names are fine)"));
        }
        refuse_foreign(&targets)?;
        lifecycle::check_clients(&targets, args.force, "remove")?;

        // Stop everything first; a session whose stop fails keeps its files.
        let mut stopped: Vec<&SessionInfo> = Vec::new();
        let mut failed: Vec<String> = Vec::new();
        for info in &targets {
            if info.state() == State::Stopped {
                stopped.push(info);
                continue;
            }
            match stop_one(&mgr, info).await {
                Ok(()) => stopped.push(info),
                Err(e) => {
                    eprintln!("ccy: {e}");
                    failed.push(info.name.to_string());
                }
            }
        }
        for info in &stopped {
            // The volume unit is a oneshot that stays active; stop it so
            // the reload unloads it. Not loaded: nothing to do.
            let _ = mgr.stop(&info.name.volume_unit()).await;
            remove_unit_files(&ctx.paths, info)?;
            mgr.reset_failed(&info.name.service_unit()).await?;
            mgr.reset_failed(&info.name.volume_unit()).await?;
        }
        if !stopped.is_empty() {
            mgr.reload().await?;
        }
        for info in &stopped {
            report_removal(ctx, &api, info, args.volumes).await?;
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(Error::new(
                ExitKind::Session,
                format!("could not stop, so did not remove: {}", failed.join(", ")),
            )
            .hint("see why with 'ccy logs NAME', then run 'ccy rm' again"))
        }
    })
}

/// Deletes `NAME.container` and `NAME.volume` (absent ones are fine).
fn remove_unit_files(paths: &Paths, info: &SessionInfo) -> Result<()> {
    for file in [info.name.container_file(), info.name.volume_file()] {
        remove_file(&paths.quadlet_dir.join(file))?;
    }
    Ok(())
}

/// Removes the state directory, the `.session-id` file and (with
/// `volumes`) the volume, then prints what was removed and what was kept.
async fn report_removal(
    ctx: &Ctx,
    api: &PodmanApi,
    info: &SessionInfo,
    volumes: bool,
) -> Result<()> {
    let home = &ctx.paths.home;
    let name = &info.name;
    let mut removed = vec![format!(
        "unit files {} and {}",
        name.container_file(),
        name.volume_file()
    )];
    let mut kept = Vec::new();

    let state_dir = ctx.paths.session_state_dir(name.as_str());
    if state_dir.exists() {
        std::fs::remove_dir_all(&state_dir)
            .with_context(|| format!("cannot remove {}", state_dir.display()))?;
        removed.push(format!(
            "state directory {}",
            display_home(&state_dir, home)
        ));
    }

    if let Some(meta) = &info.meta {
        let id_file = meta.worktree.join(session::SESSION_ID_FILE);
        let names_it = std::fs::read_to_string(&id_file).is_ok_and(|s| s.trim() == name.as_str());
        if names_it {
            remove_file(&id_file)?;
            removed.push(display_home(&id_file, home));
        }
        if let Some(created) = &meta.created_worktree {
            let shown = display_home(&meta.worktree, home);
            kept.push(format!(
                "git worktree {shown} (branch {}; remove it with 'git worktree remove {}')",
                created.branch,
                shell_words::quote(&meta.worktree.to_string_lossy())
            ));
        }
    }

    let volume = name.state_volume();
    if api.volume_exists(&volume).await? {
        if volumes {
            api.remove_volume(&volume).await?;
            removed.push(format!("volume {volume}"));
        } else {
            kept.push(format!("volume {volume} (use --volumes to remove it)"));
        }
    }

    println!("removed {name}: {}", removed.join(", "));
    for k in kept {
        println!("  kept {k}");
    }
    Ok(())
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}
