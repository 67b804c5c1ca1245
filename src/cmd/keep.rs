//! `ccy keep`: label sessions `ccy.keep=true` so `ccy prune` leaves them.

use clap::Args;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::quadlet::keep;
use crate::session::Host;
use crate::session::find::{self, State};
use crate::session::stop::refuse_foreign;

/// Keep sessions from being pruned or idle-stopped (label `ccy.keep=true`).
///
/// Adds the label `ccy.keep=true` to each session's unit file (a `Label=`
/// line in `NAME.container`, rewritten atomically) and reloads your systemd
/// user manager once. `ccy prune` and `ccy idle` read the unit file, so
/// they skip the session from now on; a running container gets the label
/// itself on its next start. With --off the label is taken off again. `ccy new --keep`
/// creates a session with the label. Without NAME, the sessions of the
/// worktree you are in.
///
/// Exit status: 0 labelled (or already so); 2 NAME matches several
/// sessions, or a container without a ccy unit file; 3 no user manager, or
/// not in a worktree without NAME; 5 no such session.
#[derive(Debug, Args)]
pub struct KeepArgs {
    /// Sessions to keep: name, name without `ccy-`, unique prefix, or 8-hex
    /// id (4+ digits suffice). Default: this worktree's sessions.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Take the label off: `ccy prune` may remove the sessions again.
    #[arg(long)]
    pub off: bool,
}

/// Sets or clears the keep label of the selected sessions.
///
/// # Errors
/// See the exit status in [`KeepArgs`].
pub fn run(ctx: &Ctx, args: &KeepArgs) -> Result<()> {
    let here = find::here_unless(ctx, !args.names.is_empty())?;
    ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        let mgr = &host.mgr;
        let all = host.sessions().await?;
        let targets = find::select(&all, &args.names, here.as_ref())?;
        refuse_foreign(&targets)?;
        let want = !args.off;
        let mut changed = 0;
        for info in &targets {
            let Some(path) = &info.file else { continue };
            let running = matches!(info.state(), State::Running | State::Starting);
            if !crate::session::keep::set_label(path, want)? {
                crate::outln!(
                    "{} is already {}",
                    info.name,
                    if want { "kept" } else { "not kept" }
                );
                continue;
            }
            changed += 1;
            let verb = if want {
                "kept: ccy prune will not remove it"
            } else {
                "no longer kept: ccy prune may remove it"
            };
            crate::outln!("{} {verb}", info.name);
            if running {
                crate::outln!(
                    "  its running container {} the label {} on its next start",
                    if want { "gets" } else { "loses" },
                    keep::LABEL_KEEP
                );
            }
        }
        if changed > 0 {
            mgr.reload().await?;
        }
        Ok(())
    })
}
