//! Replacing the ccy process with a client (tmux, `podman exec`,
//! `journalctl`): the last step of the verbs that hand the terminal over.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::error::Error;

/// Replaces the ccy process with `argv` (from [`crate::host::podman::cli::attach_argv`] or
/// [`crate::host::tmux::attach_argv`]). Returns only on failure.
#[must_use]
pub fn exec_replace(argv: &[OsString]) -> Error {
    let Some((program, rest)) = argv.split_first() else {
        return Error::failure("empty command");
    };
    crate::trace::mark("exec the tmux client");
    // The client is not nested in a tmux ccy may run in: the host's tmux
    // refuses to attach with TMUX set (podman exec never passes it on).
    let err = Command::new(program).args(rest).env_remove("TMUX").exec();
    let program = program.to_string_lossy();
    let hint = if program == "podman" {
        "install Podman 5 and make sure 'podman' is on PATH".to_owned()
    } else {
        format!("make sure '{program}' is installed and on PATH")
    };
    Error::environment(format!("cannot run {program}"))
        .with_source(err)
        .hint(hint)
}

/// Runs `argv` in the foreground on this terminal and waits for it (the
/// tmux client or `ssh -t` of `ccy ui`, which comes back when it ends).
/// Returns its exit code (`None`: killed by a signal).
///
/// # Errors
/// When the program cannot be started.
pub fn run_foreground(argv: &[OsString]) -> crate::error::Result<Option<i32>> {
    let Some((program, rest)) = argv.split_first() else {
        return Err(Error::failure("empty command"));
    };
    Command::new(program)
        .args(rest)
        .env_remove("TMUX")
        .status()
        .map(|s| s.code())
        .map_err(|e| {
            Error::environment(format!("cannot run {}", program.to_string_lossy())).with_source(e)
        })
}
