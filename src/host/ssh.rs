//! `ssh`: running ccy on another workstation (`ccy --host H`, `H:NAME`,
//! `ccy list --all-hosts`). ccy starts the user's own `ssh` client, so the
//! user's `~/.ssh/config`, keys and agent apply; ccy adds only the options
//! configured for the host (`[hosts]`) and, for captured runs,
//! `BatchMode=yes` (never a password prompt that nobody sees) and a
//! connect timeout.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::error::Error;

/// How to reach one host with `ssh`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// The ssh destination (`[user@]host`, or a `Host` of the user's ssh
    /// config).
    pub dest: String,
    /// Extra `ssh` options given before the destination (`-p 2222`,
    /// `-o IdentitiesOnly=yes`).
    pub options: Vec<String>,
}

/// What a captured remote command answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The command ran to its end: its exit status (`None` when a signal
    /// ended it, 255 when `ssh` itself failed), standard output and error.
    Exited {
        /// Exit status of `ssh` (the remote command's, or 255 for ssh's
        /// own failures).
        status: Option<i32>,
        /// Standard output, lossily decoded.
        stdout: String,
        /// Standard error, lossily decoded.
        stderr: String,
    },
    /// No answer within the timeout; `ssh` was killed.
    TimedOut,
    /// `ssh` could not be started (not installed).
    NoSsh(String),
}

/// The argv of `ssh` running `remote` (one shell command line, already
/// quoted) on `target`. `tty`: `-t` (a terminal for attaching) or `-T`.
/// `batch`: `BatchMode=yes` and `ConnectTimeout` of `timeout` (whole
/// seconds, at least 1), for runs nobody can answer a prompt in.
#[must_use]
pub fn argv(target: &SshTarget, remote: &str, tty: bool, batch: Option<Duration>) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec!["ssh".into(), if tty { "-t" } else { "-T" }.into()];
    if let Some(timeout) = batch {
        let secs = timeout.as_secs_f64().ceil().max(1.0);
        argv.push("-o".into());
        argv.push("BatchMode=yes".into());
        argv.push("-o".into());
        argv.push(format!("ConnectTimeout={secs}").into());
    }
    argv.extend(target.options.iter().map(OsString::from));
    // `--`: the destination can never be read as an option.
    argv.push("--".into());
    argv.push(target.dest.clone().into());
    argv.push(remote.into());
    argv
}

/// Runs `remote` on `target` with standard input closed, capturing its
/// output, for at most `timeout` (then kills `ssh`).
pub async fn capture(target: &SshTarget, remote: &str, timeout: Duration) -> Answer {
    let argv = argv(target, remote, false, Some(timeout));
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Answer::NoSsh(e.to_string()),
    };
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => Answer::Exited {
            status: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        Ok(Err(e)) => Answer::NoSsh(e.to_string()),
        Err(_) => Answer::TimedOut,
    }
}

/// Replaces the ccy process with `ssh` running `remote` on `target`, with
/// ccy's standard input, output and error: the remote command's exit
/// status becomes ccy's (255 when ssh itself fails). `tty`: `ssh -t`.
/// Returns only when `ssh` cannot be started.
#[must_use]
pub fn exec(target: &SshTarget, remote: &str, tty: bool) -> Error {
    let argv = argv(target, remote, tty, None);
    crate::trace::mark("exec ssh");
    let err = Command::new(&argv[0]).args(&argv[1..]).exec();
    Error::environment("cannot run ssh")
        .with_source(err)
        .hint("install the OpenSSH client and make sure 'ssh' is on PATH")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_puts_options_before_the_destination() {
        let t = SshTarget {
            dest: "dev@lab1".into(),
            options: vec!["-p".into(), "2222".into()],
        };
        let a = argv(&t, "ccy list", false, Some(Duration::from_millis(2500)));
        let a: Vec<String> = a.iter().map(|s| s.to_string_lossy().into_owned()).collect();
        assert_eq!(
            a,
            [
                "ssh",
                "-T",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=3",
                "-p",
                "2222",
                "--",
                "dev@lab1",
                "ccy list"
            ]
        );
        let a = argv(&t, "ccy", true, None);
        assert_eq!(a[1], "-t");
        assert_eq!(a.len(), 7);
    }
}
