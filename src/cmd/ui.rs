//! `ccy ui`: a full-screen terminal UI over every session of every
//! configured host. The state and keys are `app` (pure), the drawing
//! `view` (pure), the terminal and the waiting `term`.

mod app;
mod term;
mod view;

use std::time::Duration;

use clap::Args;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::session::remote;

/// Full-screen UI: every session of every host; attach, new, stop, rm, keep
///
/// Lists the sessions of this machine and of every host in `[hosts]`
/// (as `ccy list --all-hosts`): name, host, state, what the agent does
/// and for how long, project, branch, attached clients; below the list,
/// the selected session's pane, taken from its tmux on this machine (a
/// session of another host is not previewed). Works in 80×24 and over
/// SSH.
///
/// Keys:
///   Enter        attach (a stopped session is started first; another
///                host's over `ssh -t`); detaching (Ctrl-b d) returns
///                to the list
///   n            a new session: asks for its worktree (a path on this
///                machine), creates it as `ccy new` does and attaches
///   s            stop (asks first when clients are attached)
///   d            remove as `ccy rm` does (the volume is kept), after a
///                confirmation that shows what `rm` would refuse for:
///                uncommitted or unpushed work, the kept layer, writes
///                in the container; `y` then removes anyway
///   k            keep, or no longer keep (`ccy keep`, `ccy keep --off`)
///   /            filter by name, host, project, branch, state or agent;
///                Enter keeps it, Esc clears it
///   r            ask every host again
///   ?            help
///   q, Esc       quit
///
/// This machine's list follows the state directories through inotify
/// (a session created, started, stopped or removed; its agent's state;
/// its tmux's status): no polling, no CPU while nothing changes. The ages
/// (`busy 3m`) are those of the last redraw. Other hosts are asked again
/// every `--poll` seconds, in the background; a host that does not
/// answer within `hosts.timeout` is named with the reason, and the
/// others are shown.
///
/// Exit status: 0 on quit; 2 standard input or output is not a terminal;
/// 3 no user manager or Podman API; 1 on any other failure.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct UiArgs {
    /// How often other hosts are asked again, in seconds (they have no
    /// inotify to tell this machine).
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub poll: f64,

    /// This machine's sessions only: do not ask the hosts of `[hosts]`.
    #[arg(long)]
    pub local: bool,
}

/// Runs the UI until the user quits.
///
/// # Errors
/// See the exit status in [`UiArgs`].
pub fn run(ctx: &Ctx, args: &UiArgs) -> Result<()> {
    if !(args.poll.is_finite() && args.poll >= 0.5) {
        return Err(Error::usage(format!(
            "--poll {} is too short: at least 0.5 seconds",
            args.poll
        )));
    }
    let (remotes, timeout) = if args.local {
        (Vec::new(), Duration::from_secs(3))
    } else {
        let hosts = ctx.config(None)?.finish()?.config.hosts;
        (
            remote::configured(&hosts, &ctx.paths.lock_dir())?,
            remote::timeout(&hosts),
        )
    };
    term::run(
        ctx,
        &term::Options {
            remotes,
            timeout,
            poll: Duration::from_secs_f64(args.poll),
        },
    )
}
