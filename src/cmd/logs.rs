//! `ccy logs NAME`: a session unit's journal.

use clap::Args;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::host::systemd::journal;
use crate::names::SessionName;
use crate::session::{Host, find};

/// Show a session's log: its unit's journal.
///
/// Runs `journalctl --user -u NAME.service` (replacing the ccy process):
/// what systemd and Podman logged about starting and stopping the session,
/// and what the container wrote to its standard output and error (the
/// agent's own screen is in tmux, not here). Also works for a session that
/// was removed, by its full name, as long as the journal keeps its lines.
///
/// Exit status: that of journalctl; 2 NAME matches several sessions; 3 no
/// user manager, or journalctl missing; 5 no session matches NAME.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The session: name, name without `ccy-`, unique prefix, or 8-hex id (4+ digits suffice).
    pub name: String,

    /// Keep printing new lines as they are logged (`journalctl -f`); stop
    /// with Ctrl-C.
    #[arg(short, long)]
    pub follow: bool,

    /// How many of the last lines to show.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 50)]
    pub lines: u32,
}

/// Resolves the session and replaces the ccy process with `journalctl`.
///
/// # Errors
/// See the exit status in [`LogsArgs`].
pub fn run(ctx: &Ctx, args: &LogsArgs) -> Result<()> {
    let name = ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        let all = host.sessions().await?;
        match find::resolve(&all, &args.name) {
            Ok(info) => Ok::<_, Error>(info.name.clone()),
            // A removed session's journal is still there: a full, valid
            // name is taken as it is.
            Err(e) => SessionName::parse(&args.name)
                .ok()
                .filter(|n| journal::has_lines(&n.service_unit()))
                .ok_or(e),
        }
    })?;
    Err(journal::exec(&name.service_unit(), args.lines, args.follow))
}
