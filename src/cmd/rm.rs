//! `ccy rm`: remove sessions: stop them, remove their unit files and state.
//! The removal itself ([`remove_sessions`]) is shared with `ccy prune`.

use clap::Args;

use crate::ctx::Ctx;
use crate::error::{self, Error, Result};
use crate::session::Host;
use crate::session::find::{self};
use crate::session::remove::{Doomed, VolumeFate, refusal, remove_sessions};
use crate::session::safety::Checker;
use crate::session::stop;
use crate::session::stop::refuse_foreign;

/// Remove sessions: stop them and delete their unit files and state.
///
/// For each session: its unit is stopped (as `ccy stop` does, asking first
/// when clients are attached), its Quadlet files `NAME.container` and
/// `NAME.volume` are deleted, your systemd user manager is reloaded once
/// for all of them, and the session's state directory
/// (`~/.local/state/ccy/sessions/NAME`) and its worktree's
/// `.claude/ccy/.session-id` (when it names the session) are removed.
///
/// rm refuses, unless --force, only for what it would delete: uncommitted
/// changes (untracked files included) in a git worktree ccy created for
/// the session (`ccy new --worktree`) that would go with it, files a
/// running container wrote outside its volumes and mounts (podman diff),
/// or the session's kept layer (what earlier runs wrote outside the
/// volumes, kept at each stop in its image `localhost/ccy-kept:NAME`). ccy
/// lists what would be lost. Your own worktree is never touched, so its
/// changes and commits do not count.
///
/// The session's image (`localhost/ccy-kept:NAME`, its kept layer, when a
/// stop kept one) is removed with it, with its image file
/// (`~/.local/state/ccy/kept/NAME.env`). The agent-state volume (`NAME-state`: settings, and
/// conversation history when the project has no shared history volume) is
/// kept unless --volumes is given, which also removes the earlier volumes
/// `ccy attach --reset` gave the session (`NAME-state-2`, …). A git
/// worktree made by `ccy new --worktree` is removed (`git worktree
/// remove`) when no other session uses it; its branch always stays, and
/// ccy says how many commits it has that are on no remote branch (without
/// a remote: not on the main branch). ccy says what it removed and what it
/// kept. Without NAME, the session of the worktree you are in is removed
/// (when it has several, name them).
///
/// Exit status: 0 all removed; 2 NAME matches several sessions, or the
/// worktree has several; 3 no user manager, or not in a worktree without
/// NAME; 4 a stop job failed; 5 no such session; 6 refused (work would be
/// lost, or clients attached, and no --force; or declined).
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Sessions to remove: name, name without `ccy-`, unique prefix, or
    /// 8-hex id (4+ digits suffice). Default: this worktree's session.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Also remove each session's volumes (the agent's state, and the
    /// earlier ones from `attach --reset`); they cannot be recovered.
    #[arg(long)]
    pub volumes: bool,

    /// Remove even when work would be lost (uncommitted changes in a
    /// worktree ccy created, container writes, a kept layer), and sessions with attached
    /// clients without asking.
    #[arg(short, long)]
    pub force: bool,
}

/// Removes the selected sessions, reporting what was removed and kept.
///
/// # Errors
/// See the exit status in [`RmArgs`].
pub fn run(ctx: &Ctx, args: &RmArgs) -> Result<()> {
    let here = find::here_unless(ctx, !args.names.is_empty())?;
    ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        let (mgr, api) = (&host.mgr, host.api().await?);
        let all = host.sessions().await?;
        let targets = find::select(&all, &args.names, here.as_ref())?;
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
        let mut checker = Checker::new();
        if !args.force {
            let mut refused = Vec::new();
            for info in &targets {
                let losses = checker.losses(api, info, &all).await?;
                if !losses.is_empty() {
                    refused.push((*info, losses));
                }
            }
            if !refused.is_empty() {
                return Err(refusal(&ctx.paths, &refused, "rm"));
            }
        }
        stop::check_clients(&targets, args.force, "remove")?;
        let doomed: Vec<Doomed> = targets
            .iter()
            .map(|info| Doomed {
                info,
                volume: if args.volumes {
                    VolumeFate::Remove(String::new())
                } else {
                    VolumeFate::Keep("use --volumes to remove it".to_owned())
                },
                force: args.force,
            })
            .collect();
        let failed = remove_sessions(ctx, mgr, api, &all, &doomed, &mut checker).await?;
        error::session_failures(&failed, |names| {
            format!("did not remove: {names} (see above why)")
        })
        .map_err(|e| e.hint("fix the cause ('ccy logs NAME' when it could not stop), then run 'ccy rm' again: it finishes the removal"))
    })
}
