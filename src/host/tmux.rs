//! Attaching with the host's own tmux client.
//!
//! ccy's image sets `TMUX_TMPDIR=/run/ccy`, so the session's tmux server
//! (running as root in the container) listens on `/run/ccy/tmux-0/default`,
//! which is [`SOCKET_IN_STATE_DIR`] in the session's state directory on the
//! host (the bind mount). The host's `tmux -S SOCKET attach` then attaches
//! directly: about 10 ms instead of the 200-300 ms of `podman exec -it …
//! tmux attach` (a Podman process, an exec session through conmon and the
//! OCI runtime; BENCHMARKS.md). The server accepts the client because in
//! the rootless user namespace the host user *is* the container's root.
//!
//! ccy uses it only when the socket is there, a server answers on it and
//! the host has a tmux client ([`attachable_socket`], no process);
//! otherwise it attaches with `podman exec` as before (sessions from older
//! images, a user's own image, no tmux on the host, a socket path too long
//! for a Unix socket).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::contract::TMUX_SESSION;
use crate::host::podman::AttachMode;

/// The tmux server's socket relative to the session's state directory
/// (`$TMUX_TMPDIR/tmux-UID/default`, tmux(1), with UID 0 in the container).
pub const SOCKET_IN_STATE_DIR: &str = "tmux-0/default";

/// The longest path a Unix socket address holds (`sun_path` is 108 bytes
/// with the terminating NUL; unix(7)).
const MAX_SOCKET_PATH: usize = 107;

/// `tmux -S SOCKET` (the host's tmux client talking to the session's
/// server), outside any tmux of the caller's (`TMUX` removed), with
/// standard input and error closed; the caller adds the command.
fn server(socket: &Path) -> Command {
    let mut cmd = Command::new("tmux");
    cmd.arg("-S")
        .arg(socket)
        .env_remove("TMUX")
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// The session's tmux socket on the host when the host's tmux client can
/// attach through it (see the module docs); `None` otherwise.
///
/// Costs no process: the socket is there and short enough for a Unix
/// socket address, a server accepts a connection on it (a stale socket
/// of a stopped session refuses: ECONNREFUSED), and `tmux` is on `PATH`.
/// The server ends when its last session does (tmux's `exit-empty`), and
/// the session's only session is [`TMUX_SESSION`], so a server that
/// answers has it. The host's client and the image's server speak tmux's
/// client protocol (version 8 since tmux 2.4, 2017: Debian 13 and Fedora
/// ship 3.x), so it is not asked for.
#[must_use]
pub fn attachable_socket(state_dir: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::FileTypeExt;
    let socket = state_dir.join(SOCKET_IN_STATE_DIR);
    if socket.as_os_str().len() > MAX_SOCKET_PATH
        || !std::fs::metadata(&socket).is_ok_and(|m| m.file_type().is_socket())
    {
        return None;
    }
    // Connecting is all tmux's server sees of this: it accepts the
    // client, reads end-of-file and drops it (no hook runs: the client
    // never had a session).
    std::os::unix::net::UnixStream::connect(&socket).ok()?;
    crate::host::fs::find_on_path("tmux")?;
    Some(socket)
}

/// A client attached to a session's tmux server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The client's name (`client_name`, a target for `-c`).
    pub name: String,
    /// Its terminal (`client_tty`, e.g. `/dev/pts/3`).
    pub tty: PathBuf,
    /// Its process id as the client said (`client_pid`).
    pub pid: u32,
}

/// The clients attached to session `main` of the server at `socket`
/// (`tmux list-clients`); empty when the server cannot be asked.
#[must_use]
pub fn clients(socket: &Path) -> Vec<Client> {
    let Ok(out) = server(socket)
        .args([
            "list-clients",
            "-t",
            TMUX_SESSION,
            "-F",
            "#{client_name}\t#{client_tty}\t#{client_pid}",
        ])
        .output()
    else {
        return Vec::new();
    };
    if !out.status.success() {
        return Vec::new();
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some(Client {
                name: f.next()?.to_owned(),
                tty: PathBuf::from(f.next()?),
                pid: f.next()?.parse().ok()?,
            })
        })
        .collect()
}

/// Shows `message` in `client`'s status line for `ms` milliseconds
/// (`tmux display-message -c CLIENT -d MS`; `#` is doubled so tmux shows
/// it as it is) and rings the terminal's bell: BEL written to the
/// client's terminal, only when the client is a host process whose
/// standard input is that terminal (a `podman exec` client's terminal
/// path names another terminal on the host). Returns whether tmux took
/// the message.
#[must_use]
pub fn display_with_bell(socket: &Path, client: &Client, message: &str, ms: u32) -> bool {
    let shown = server(socket)
        .args(["display-message", "-c", &client.name, "-d", &ms.to_string()])
        .arg(message.replace('#', "##"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let host_client =
        std::fs::read_link(format!("/proc/{}/fd/0", client.pid)).is_ok_and(|t| t == client.tty);
    if host_client
        && client.tty.starts_with("/dev/")
        && let Ok(mut tty) = {
            use std::os::unix::fs::OpenOptionsExt as _;
            // Never the notifier's controlling terminal; never blocking.
            std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK)
                .open(&client.tty)
        }
    {
        use std::io::Write as _;
        let _ = tty.write_all(b"\x07");
    }
    shown
}

/// The session tmux's second prefix key while a client attaches from
/// inside another tmux: that outer tmux takes the first one (Ctrl-b, the
/// default of both).
pub const NESTED_PREFIX: &str = "C-a";

/// The session option that is set while the last client attached from
/// inside another tmux; the image's `tmux.conf` shows the second prefix in
/// the status line (`status-left`) when it is set.
pub const NESTED_OPTION: &str = "@ccy_nested";

/// Whether ccy runs inside a tmux (`$TMUX` set and not empty, tmux(1)).
#[must_use]
pub fn nested_in_tmux() -> bool {
    std::env::var_os("TMUX").is_some_and(|v| !v.is_empty())
}

/// The tmux commands a client runs on the session's server before it
/// attaches (each ends with a `;` argument). Nested: [`NESTED_PREFIX`] as
/// the session's `prefix2` (Ctrl-a d detaches; Ctrl-a Ctrl-a sends a
/// Ctrl-a to the pane) and [`NESTED_OPTION`] set (the status line says
/// "prefix Ctrl-a"). Not nested: both unset again, so the session behaves
/// as usual (the last client to attach decides).
#[must_use]
pub fn nesting_commands(nested: bool) -> Vec<OsString> {
    let cmds: &[&str] = if nested {
        &[
            "set-option",
            "-t",
            TMUX_SESSION,
            "prefix2",
            NESTED_PREFIX,
            ";",
            "set-option",
            "-t",
            TMUX_SESSION,
            NESTED_OPTION,
            "1",
            ";",
            "bind-key",
            NESTED_PREFIX,
            "send-prefix",
            "-2",
            ";",
        ]
    } else {
        &[
            "set-option",
            "-u",
            "-t",
            TMUX_SESSION,
            "prefix2",
            ";",
            "set-option",
            "-u",
            "-t",
            TMUX_SESSION,
            NESTED_OPTION,
            ";",
        ]
    };
    cmds.iter().map(OsString::from).collect()
}

/// `tmux -u -S SOCKET [nesting commands ;] attach -t main` (with `-r` /
/// `-d` as `mode` says; [`nesting_commands`] for `mode.nested`).
#[must_use]
pub fn attach_argv(socket: &Path, mode: AttachMode) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec!["tmux".into(), "-u".into(), "-S".into(), socket.into()];
    argv.extend(nesting_commands(mode.nested));
    argv.extend(["attach", "-t", TMUX_SESSION].map(OsString::from));
    if mode.read_only {
        argv.push("-r".into());
    }
    if mode.exclusive {
        argv.push("-d".into());
    }
    argv
}

/// The session's tmux status now, asked of its server through `socket`
/// (the host's tmux client; see the module docs): the same `key=value`
/// lines `/etc/ccy/status` writes into the state directory (`activity`,
/// `output`, `clients`, `pane`, `client_activity`), without `updated`.
/// `None` when the server cannot be asked.
#[must_use]
pub fn live_status(socket: &Path) -> Option<String> {
    let out = server(socket)
        .args([
            "display",
            "-p",
            "-t",
            TMUX_SESSION,
            "activity=#{session_activity} output=#{window_activity} clients=#{session_attached} pane=#{?@ccy_busy,busy,quiet}",
            ";",
            "list-clients",
            "-t",
            TMUX_SESSION,
            "-F",
            "client_activity=#{client_activity}",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let mut status: String = lines.next()?.replace(' ', "\n");
    status.push('\n');
    let latest = lines
        .filter_map(|l| l.strip_prefix("client_activity="))
        .filter_map(|v| v.trim().parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    status = format!("{status}client_activity={latest}\n");
    Some(status)
}

/// The visible text of session `main`'s active pane, with its colour
/// and attribute escape sequences (`tmux -S SOCKET capture-pane -p -e
/// -t main`); `None` when the server cannot be asked.
#[must_use]
pub fn capture_pane(socket: &Path) -> Option<String> {
    let out = Command::new("tmux")
        .arg("-S")
        .arg(socket)
        .args(["capture-pane", "-p", "-e", "-t", "main"])
        .env_remove("TMUX")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_follows_the_mode() {
        let s = Path::new("/h/.local/state/ccy/sessions/x/tmux-0/default");
        let argv = |m| {
            attach_argv(s, m)
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            argv(AttachMode::default()),
            "tmux -u -S /h/.local/state/ccy/sessions/x/tmux-0/default \
             set-option -u -t main prefix2 ; set-option -u -t main @ccy_nested ; attach -t main"
        );
        assert!(
            argv(AttachMode {
                read_only: true,
                exclusive: true,
                nested: false,
            })
            .ends_with("; attach -t main -r -d")
        );
        let nested = argv(AttachMode {
            nested: true,
            ..AttachMode::default()
        });
        assert!(
            nested.contains(" set-option -t main prefix2 C-a ; "),
            "{nested}"
        );
        assert!(
            nested.contains(" bind-key C-a send-prefix -2 ; attach -t main"),
            "{nested}"
        );
    }

    #[test]
    fn no_socket_no_host_attach() {
        assert_eq!(attachable_socket(Path::new("/nonexistent/ccy")), None);
    }
}
