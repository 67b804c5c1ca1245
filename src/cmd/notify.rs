//! `ccy notify enable|disable|status`: ccy's notifier,
//! `ccy-notify.service`, and the hidden `ccy notify-daemon` it runs. The
//! work is in [`crate::session::notify`].

use clap::{Args, Subcommand};

use crate::ctx::Ctx;
use crate::error::Result;
use crate::host::systemd::{ActiveState, LoadState};
use crate::paths::display_home;
use crate::session::{Host, notify};

/// Tell you when an agent waits or is done (a systemd user service)
///
/// `ccy-notify.service` (in `~/.config/systemd/user/`) runs this ccy
/// binary as `ccy notify-daemon`. It watches every session's agent state
/// (`~/.local/state/ccy/sessions/NAME/agent.json`, written by the agent's
/// hooks) with inotify, so it does nothing while nothing changes. When an
/// agent enters a state `[notify] on` names (default `waiting` and
/// `done`) it sends one desktop notification naming the session, its
/// project and the agent's message (`org.freedesktop.Notifications` on
/// your session bus). Without a notification server (a machine you reach
/// over SSH) it shows the message, with a bell, in the tmux clients
/// attached to your other sessions. It stays silent while a client is
/// attached to the session and was attached when the turn began (your
/// own prompt). The first `ccy` that creates a session installs it
/// unless `[notify] enabled = false`, which also silences it.
///
/// Exit status: 0 success; 3 no user manager; 4 the service failed to
/// load, start or stop.
#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// What to do with the notifier.
    #[command(subcommand)]
    pub command: NotifyCommand,
}

/// The `ccy notify` verbs.
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Write, enable and (re)start ccy-notify.service
    ///
    /// Run it again after moving ccy.
    ///
    /// Exit status: 0 enabled and started; 3 no user manager; 4 the
    /// service failed to load or start.
    Enable,
    /// Stop and disable ccy-notify.service and remove its unit file
    ///
    /// The next `ccy` that creates a session installs it again unless
    /// `[notify] enabled = false`.
    ///
    /// Exit status: 0 disabled (or was not enabled); 3 no user manager; 4
    /// the service failed to stop.
    Disable,
    /// Show whether ccy-notify.service is installed and running
    ///
    /// Exit status: 0 (also when it is not installed: the output says
    /// so); 3 no user manager.
    Status,
}

/// Run ccy's notifier (run by ccy-notify.service, not by people).
///
/// Watches the sessions' agent states and notifies; see `ccy notify`.
/// Runs until it is stopped.
///
/// Exit status: 1 when inotify cannot be used.
#[derive(Debug, Args)]
pub struct NotifyDaemonArgs {}

/// Runs a `ccy notify` verb.
///
/// # Errors
/// See the exit status in [`NotifyArgs`].
pub fn run(ctx: &Ctx, args: &NotifyArgs) -> Result<()> {
    match args.command {
        NotifyCommand::Enable => ctx.block_on(async {
            let host = Host::connect(ctx).await?;
            let ccy = notify::enable(&host).await?;
            crate::outln!(
                "enabled {}: runs '{} notify-daemon'",
                notify::UNIT,
                ccy.display()
            );
            Ok(())
        }),
        NotifyCommand::Disable => ctx.block_on(async {
            let host = Host::connect(ctx).await?;
            if notify::disable(&host).await? {
                crate::outln!(
                    "disabled {} and removed it from {}",
                    notify::UNIT,
                    display_home(&ctx.paths.systemd_user_dir(), &ctx.paths.home)
                );
            } else {
                crate::outln!("{} is not enabled", notify::UNIT);
            }
            crate::outln!(
                "hint: the next new session installs it again unless notify.enabled = false"
            );
            Ok(())
        }),
        NotifyCommand::Status => {
            let loaded = ctx.config(None)?.finish()?;
            let state = ctx.block_on(async {
                let host = Host::connect(ctx).await?;
                notify::unit_state(&host.mgr).await
            })?;
            let dir = ctx.paths.systemd_user_dir();
            if state.load_state == LoadState::Loaded {
                crate::outln!(
                    "{}: {}, {}",
                    notify::UNIT,
                    if notify::enabled(&dir) {
                        "enabled"
                    } else {
                        "disabled"
                    },
                    state.active_state
                );
                if state.active_state != ActiveState::Active {
                    crate::outln!("  see 'journalctl --user -u {}'", notify::UNIT);
                }
            } else {
                crate::outln!("{}: not enabled (not installed)", notify::UNIT);
                crate::outln!("  hint: enable it with 'ccy notify enable'");
            }
            let n = &loaded.config.notify;
            if n.enabled {
                crate::outln!("  notifies on: {}", n.on.join(", "));
            } else {
                crate::outln!("  off: config notify.enabled is false");
            }
            Ok(())
        }
    }
}

/// Runs the notifier until it is stopped.
///
/// # Errors
/// As [`notify::run_daemon`].
pub fn run_daemon(ctx: &Ctx, _args: &NotifyDaemonArgs) -> Result<()> {
    notify::run_daemon(ctx)
}
