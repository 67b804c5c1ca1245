//! `ssh`: running ccy on another workstation (`ccy --host H`, `H:NAME`,
//! `ccy list --all-hosts`). ccy starts the user's own `ssh` client, so the
//! user's `~/.ssh/config`, keys and agent apply; ccy adds only the options
//! configured for the host (`[hosts]`), connection sharing (below) and,
//! for captured runs, `BatchMode=yes` (never a password prompt that nobody
//! sees) and a connect timeout.
//!
//! Connection sharing: a login (key exchange, authentication, the PAM
//! session) costs far more than `ccy list` there, so ccy keeps one ssh
//! connection per host open for [`PERSIST_SECS`] after its last use and
//! runs later commands through it (`ControlMaster=auto`, `ControlPath` in
//! ccy's runtime directory, `ControlPersist`; `ssh_config(5)`). ccy leaves
//! sharing alone when the host's `[hosts.NAME] options` mention any
//! `Control…` option (or `-M`, `-S`), or when the user's ssh
//! configuration sets a `ControlPath` or `ControlMaster` for the
//! destination (`ssh -G`). A control socket with no master behind it is
//! removed by ssh itself; a master that does not answer makes the run time
//! out, and ccy then removes its socket, so the next run logs in afresh.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::Error;

/// Seconds an idle shared connection stays open after its last use
/// (`ControlPersist`).
pub const PERSIST_SECS: u64 = 600;

/// The longest control socket path ccy uses: a unix socket path holds 107
/// bytes, and ssh binds a temporary name 17 bytes longer first.
const MAX_CONTROL_PATH: usize = 107 - 17;

/// How to reach one host with `ssh`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// The ssh destination (`[user@]host`, or a `Host` of the user's ssh
    /// config).
    pub dest: String,
    /// Extra `ssh` options given before the destination (`-p 2222`,
    /// `-o IdentitiesOnly=yes`).
    pub options: Vec<String>,
    /// The control socket of the connection ccy shares for this host
    /// (`ControlPath`), or `None` for no sharing: see [`control_path`].
    pub control: Option<PathBuf>,
}

/// The control socket ccy uses for `dest` with `options`, in `dir` (ccy's
/// runtime directory, `$XDG_RUNTIME_DIR/ccy`): `DIR/ssh-HASH`, HASH the
/// first 16 hex digits of the SHA-256 of the destination and the options,
/// so two hosts that differ in any option (another key, another port)
/// never share a connection. `None` when the options set up sharing
/// themselves (any `Control…` option, `-M`, `-S`), or when the path cannot
/// serve as one (longer than a socket path allows, or with `%`, white
/// space or quotes, which ssh would read as more than a path).
#[must_use]
pub fn control_path(dir: &Path, dest: &str, options: &[String]) -> Option<PathBuf> {
    let own = options
        .iter()
        .any(|o| o.to_ascii_lowercase().contains("control") || o == "-M" || o.starts_with("-S"));
    if own {
        return None;
    }
    let mut hash = Sha256::new();
    hash.update(dest.as_bytes());
    for o in options {
        hash.update([0]);
        hash.update(o.as_bytes());
    }
    let name = hash.finalize()[..8]
        .iter()
        .fold(String::from("ssh-"), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        });
    let path = dir.join(name);
    let text = path.to_str()?;
    let plain = !text
        .chars()
        .any(|c| c == '%' || c == '"' || c == '\'' || c.is_whitespace());
    (plain && text.len() <= MAX_CONTROL_PATH).then_some(path)
}

/// Whether the user's ssh configuration, as `ssh -G` printed it
/// (`g_output`: one `keyword value` per line, keywords in lower case),
/// leaves connection sharing to ccy: no `controlpath` (or `none`) and
/// `controlmaster` `false` (ssh's default).
#[must_use]
pub fn config_leaves_sharing(g_output: &str) -> bool {
    let value = |key: &str| {
        g_output.lines().find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == key).then(|| v.trim())
        })
    };
    matches!(value("controlpath"), None | Some("none"))
        && matches!(value("controlmaster"), None | Some("false" | "no"))
}

/// The argv of `ssh -G` for `target`: the configuration ssh would use,
/// printed without connecting.
fn g_argv(target: &SshTarget) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec!["ssh".into(), "-G".into()];
    argv.extend(target.options.iter().map(OsString::from));
    argv.push("--".into());
    argv.push(target.dest.clone().into());
    argv
}

/// The first half of [`sharing`]: `Ok(path)` when ccy's control socket
/// is there already (ccy decided to share before, and the master, if
/// alive, serves this run), `Err(Some(path))` when the user's ssh
/// configuration must be asked, `Err(None)` for no sharing (no control
/// path, or ccy's runtime directory cannot be made).
fn known_sharing(target: &SshTarget) -> Result<&Path, Option<&Path>> {
    let Some(path) = target.control.as_deref() else {
        return Err(None);
    };
    if path.symlink_metadata().is_ok() {
        return Ok(path);
    }
    // ssh does not make the directory, and fails when it is missing; the
    // runtime directory itself is logind's, never made here.
    if let Some(dir) = path.parent() {
        use std::os::unix::fs::DirBuilderExt;
        match std::fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(_) => return Err(None),
        }
    }
    Err(Some(path))
}

/// The control socket this run of ssh shares, or `None`: see the module
/// documentation. May run `ssh -G` (no connection).
async fn sharing(target: &SshTarget) -> Option<&Path> {
    let path = match known_sharing(target) {
        Ok(p) => return Some(p),
        Err(p) => p?,
    };
    let argv = g_argv(target);
    crate::trace::mark("ssh -G: the user's ssh config");
    let out = tokio::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .ok()?;
    (out.status.success() && config_leaves_sharing(&String::from_utf8_lossy(&out.stdout)))
        .then_some(path)
}

/// The control socket of `target`'s shared connection when ccy shares
/// it (see [`argv`]'s `share`), else `None`: `sharing`, blocking (it may
/// run `ssh -G` once).
#[must_use]
pub fn sharing_blocking(target: &SshTarget) -> Option<&Path> {
    let path = match known_sharing(target) {
        Ok(p) => return Some(p),
        Err(p) => p?,
    };
    let argv = g_argv(target);
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    (out.status.success() && config_leaves_sharing(&String::from_utf8_lossy(&out.stdout)))
        .then_some(path)
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
/// `share`: the control socket of a shared connection
/// (`ControlMaster=auto`, `ControlPath`, `ControlPersist` of
/// [`PERSIST_SECS`]), or `None`.
#[must_use]
pub fn argv(
    target: &SshTarget,
    remote: &str,
    tty: bool,
    batch: Option<Duration>,
    share: Option<&Path>,
) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec!["ssh".into(), if tty { "-t" } else { "-T" }.into()];
    if let Some(timeout) = batch {
        let secs = timeout.as_secs_f64().ceil().max(1.0);
        argv.push("-o".into());
        argv.push("BatchMode=yes".into());
        argv.push("-o".into());
        argv.push(format!("ConnectTimeout={secs}").into());
    }
    if let Some(path) = share {
        let mut control = OsString::from("ControlPath=");
        control.push(path);
        argv.extend([
            "-o".into(),
            "ControlMaster=auto".into(),
            "-o".into(),
            control,
            "-o".into(),
            format!("ControlPersist={PERSIST_SECS}").into(),
        ]);
    }
    argv.extend(target.options.iter().map(OsString::from));
    // `--`: the destination can never be read as an option.
    argv.push("--".into());
    argv.push(target.dest.clone().into());
    argv.push(remote.into());
    argv
}

/// Runs `remote` on `target` with standard input closed, capturing its
/// output, for at most `timeout` (then kills `ssh`, and removes the
/// shared connection's control socket, whose master may be what did not
/// answer: the next run logs in afresh).
pub async fn capture(target: &SshTarget, remote: &str, timeout: Duration) -> Answer {
    let deadline = tokio::time::Instant::now() + timeout;
    let Ok(share) = tokio::time::timeout_at(deadline, sharing(target)).await else {
        return Answer::TimedOut;
    };
    let argv = argv(target, remote, false, Some(timeout), share);
    crate::trace::mark(if share.is_some() {
        "ssh: spawning (shared connection)"
    } else {
        "ssh: spawning (no sharing)"
    });
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
    crate::trace::mark("ssh: spawned");
    match tokio::time::timeout_at(deadline, child.wait_with_output()).await {
        Ok(Ok(out)) => {
            crate::trace::mark("ssh: exited");
            Answer::Exited {
                status: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        }
        Ok(Err(e)) => Answer::NoSsh(e.to_string()),
        Err(_) => {
            if let Some(path) = share {
                // Best effort: gone already is as good.
                let _ = std::fs::remove_file(path);
            }
            Answer::TimedOut
        }
    }
}

/// Replaces the ccy process with `ssh` running `remote` on `target`, with
/// ccy's standard input, output and error: the remote command's exit
/// status becomes ccy's (255 when ssh itself fails). `tty`: `ssh -t`.
/// Shares the connection as [`capture`] does. Returns only when `ssh`
/// cannot be started.
#[must_use]
pub fn exec(target: &SshTarget, remote: &str, tty: bool) -> Error {
    let share = sharing_blocking(target);
    let argv = argv(target, remote, tty, None, share);
    crate::trace::mark("exec ssh");
    let err = Command::new(&argv[0]).args(&argv[1..]).exec();
    Error::environment("cannot run ssh")
        .with_source(err)
        .hint("install the OpenSSH client and make sure 'ssh' is on PATH")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn target() -> SshTarget {
        SshTarget {
            dest: "dev@lab1".into(),
            options: vec!["-p".into(), "2222".into()],
            control: None,
        }
    }

    fn strings(a: &[OsString]) -> Vec<String> {
        a.iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn argv_puts_options_before_the_destination() {
        let t = target();
        let a = argv(
            &t,
            "ccy list",
            false,
            Some(Duration::from_millis(2500)),
            None,
        );
        assert_eq!(
            strings(&a),
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
        let a = argv(&t, "ccy", true, None, None);
        assert_eq!(a[1], "-t");
        assert_eq!(a.len(), 7);
    }

    #[test]
    fn argv_shares_before_the_users_options() {
        let a = argv(
            &target(),
            "ccy",
            false,
            None,
            Some(Path::new("/run/user/1000/ccy/ssh-0123456789abcdef")),
        );
        assert_eq!(
            strings(&a)[2..9],
            [
                "-o",
                "ControlMaster=auto",
                "-o",
                "ControlPath=/run/user/1000/ccy/ssh-0123456789abcdef",
                "-o",
                "ControlPersist=600",
                "-p"
            ]
        );
    }

    #[test]
    fn control_paths_differ_by_destination_and_options() {
        let dir = Path::new("/run/user/1000/ccy");
        let opts = |o: &[&str]| o.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let a = control_path(dir, "dev@lab1", &opts(&["-p", "2222"])).unwrap();
        assert_eq!(a.parent(), Some(dir));
        let name = a.file_name().unwrap().to_str().unwrap();
        assert!(
            name.len() == 20
                && name.starts_with("ssh-")
                && name[4..].chars().all(|c| c.is_ascii_hexdigit()),
            "{name}"
        );
        assert_eq!(
            Some(a.clone()),
            control_path(dir, "dev@lab1", &opts(&["-p", "2222"]))
        );
        for other in [
            control_path(dir, "dev@lab2", &opts(&["-p", "2222"])),
            control_path(dir, "dev@lab1", &opts(&["-p", "2223"])),
            control_path(dir, "dev@lab1", &opts(&["-p2222"])),
            control_path(dir, "dev@lab1", &opts(&["-p", "2222", "-i", "k"])),
        ] {
            assert_ne!(other.unwrap(), a);
        }
        // The user's own sharing options: ccy adds none.
        for own in [
            &["-o", "ControlMaster=no"][..],
            &["-oControlPath=/tmp/x"],
            &["-o", "controlpersist=60"],
            &["-M"],
            &["-S", "/tmp/x"],
            &["-S/tmp/x"],
        ] {
            assert_eq!(control_path(dir, "dev@lab1", &opts(own)), None, "{own:?}");
        }
        // Paths ssh would not take whole.
        for bad in [
            "/run/user/1 000",
            "/run/%u",
            "/run/'x",
            &format!("/{}", "d".repeat(80)),
        ] {
            assert_eq!(control_path(Path::new(bad), "h", &[]), None, "{bad}");
        }
    }

    #[test]
    fn the_users_ssh_config_can_take_sharing_over() {
        let g = "user dev\nhostname lab1\nport 22\ncontrolmaster false\nforwardagent no\n";
        assert!(config_leaves_sharing(g));
        assert!(config_leaves_sharing(
            "controlpath none\ncontrolmaster false\n"
        ));
        assert!(!config_leaves_sharing(
            "controlmaster auto\ncontrolpath /tmp/cm-%C\n"
        ));
        assert!(!config_leaves_sharing(
            "controlmaster false\ncontrolpath /tmp/cm\n"
        ));
        assert!(!config_leaves_sharing("controlmaster true\n"));
        assert!(!config_leaves_sharing("controlmaster ask\n"));
    }
}
