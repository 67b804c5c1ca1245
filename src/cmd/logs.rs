//! `ccy logs NAME`: a session unit's journal.

use std::ffi::OsString;

use clap::Args;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::inventory;
use crate::names::SessionName;
use crate::podman::PodmanApi;
use crate::systemd::UserManager;

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
        let mgr = UserManager::connect(&ctx.paths).await?;
        let api = PodmanApi::connect(&ctx.paths, &mgr).await?;
        let all = inventory::all_sessions(&ctx.paths, &mgr, &api).await?;
        match inventory::resolve(&all, &args.name) {
            Ok(info) => Ok(info.name.clone()),
            // A removed session's journal is still there: a full, valid
            // name is taken as it is.
            Err(e) => SessionName::parse(&args.name)
                .ok()
                .filter(has_journal)
                .ok_or(e),
        }
    })?;
    Err(exec(&journalctl_argv(&name, args.lines, args.follow)))
}

/// The `journalctl` argv for `name`'s unit: the last `lines` lines, and
/// following when `follow`.
#[must_use]
pub fn journalctl_argv(name: &SessionName, lines: u32, follow: bool) -> Vec<OsString> {
    let mut argv: Vec<OsString> = ["journalctl", "--user", "--no-pager", "-n"]
        .iter()
        .map(OsString::from)
        .collect();
    argv.push(lines.to_string().into());
    if follow {
        argv.push("-f".into());
    }
    argv.push("-u".into());
    argv.push(name.service_unit().into());
    argv
}

/// Whether the journal has any line of `name`'s unit.
fn has_journal(name: &SessionName) -> bool {
    std::process::Command::new("journalctl")
        .args(["--user", "-q", "-n", "1", "-o", "cat", "-u"])
        .arg(name.service_unit())
        .output()
        .is_ok_and(|o| !o.stdout.is_empty())
}

fn exec(argv: &[OsString]) -> Error {
    use std::os::unix::process::CommandExt;
    let Some((program, rest)) = argv.split_first() else {
        return Error::failure("empty command");
    };
    let err = std::process::Command::new(program).args(rest).exec();
    Error::environment("cannot run journalctl")
        .with_source(err)
        .hint("install systemd's journalctl (Debian: package systemd) and make sure it is on PATH")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn journalctl_arguments() {
        let n = SessionName::parse("ccy-app-0123abcd").unwrap();
        let s = |v: Vec<OsString>| -> Vec<String> {
            v.into_iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            s(journalctl_argv(&n, 5, false)),
            [
                "journalctl",
                "--user",
                "--no-pager",
                "-n",
                "5",
                "-u",
                "ccy-app-0123abcd.service"
            ]
        );
        assert_eq!(
            s(journalctl_argv(&n, 50, true)),
            [
                "journalctl",
                "--user",
                "--no-pager",
                "-n",
                "50",
                "-f",
                "-u",
                "ccy-app-0123abcd.service"
            ]
        );
    }
}
