//! `podman` processes: the interactive attach and shell (`podman exec
//! -it`, replacing the ccy process), image builds whose progress the user
//! sees, and what the REST API does not model (secrets from standard
//! input, volume export/import/copy, removing a container).

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, ExitKind, Result};
use crate::host::podman::AttachMode;

/// The `podman exec` argv that runs a new shell, or `cmd` when not empty,
/// in `container`'s `/workspace`, outside tmux. `tty` adds `-t` (only when
/// standard input is a terminal; a pipe gets `-i` alone). The shell is
/// `bash -l` when the image has bash, `sh -l` otherwise. Podman's detach
/// keys are disabled so Ctrl-P reaches the shell.
#[must_use]
pub fn shell_argv(
    container: &str,
    cmd: &[String],
    tty: bool,
    env: &[(String, String)],
) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec!["podman".into(), "exec".into(), "-i".into()];
    if tty {
        argv.push("-t".into());
    }
    argv.push("--detach-keys=".into());
    argv.push("-w".into());
    argv.push("/workspace".into());
    for (k, v) in env {
        argv.push("-e".into());
        argv.push(format!("{k}={v}").into());
    }
    argv.push(container.into());
    if cmd.is_empty() {
        for a in [
            "sh",
            "-c",
            "command -v bash >/dev/null 2>&1 && exec bash -l || exec sh -l",
        ] {
            argv.push(a.into());
        }
    } else {
        argv.extend(cmd.iter().map(OsString::from));
    }
    argv
}

/// The number of tmux clients attached to `container`'s session `main`,
/// asked live (`podman exec NAME tmux list-clients`, one process, ~100 ms);
/// `None` when it cannot be asked (container gone, tmux not up).
#[must_use]
pub fn live_clients(container: &str) -> Option<u32> {
    let out = Command::new("podman")
        .args(["exec", container, "tmux", "list-clients", "-t", "main"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let n = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    u32::try_from(n).ok()
}

/// Finds the `podman` executable on `PATH` (ccy runs it for the interactive
/// attach and image builds).
///
/// # Errors
/// [`ExitKind::Environment`] when there is none, with install hints.
pub fn require_cli() -> Result<std::path::PathBuf> {
    crate::host::fs::find_on_path("podman").ok_or_else(|| {
            Error::environment("podman is not installed (not found on PATH)")
                .hint("install Podman 5: 'sudo dnf install podman' (Fedora) or 'sudo apt install podman' (Debian 13)")
        })
}

/// The `podman exec -it … tmux attach -t main` argv for `container`.
///
/// Passes the client's `TERM` and `COLORTERM` so tmux draws for the
/// terminal really attached (desktop or SSH), and disables Podman's
/// detach keys (default ctrl-p,ctrl-q) so they reach the agent; tmux's own
/// prefix-d detaches.
#[must_use]
pub fn attach_argv(container: &str, mode: AttachMode, env: &[(String, String)]) -> Vec<OsString> {
    let mut argv: Vec<OsString> = ["podman", "exec", "-it", "--detach-keys="]
        .iter()
        .map(OsString::from)
        .collect();
    for (k, v) in env {
        argv.push("-e".into());
        argv.push(format!("{k}={v}").into());
    }
    argv.push(container.into());
    argv.extend(["tmux", "-u"].map(OsString::from));
    argv.extend(crate::host::tmux::nesting_commands(mode.nested));
    let mut tmux = vec!["attach", "-t", "main"];
    if mode.read_only {
        tmux.push("-r");
    }
    if mode.exclusive {
        tmux.push("-d");
    }
    argv.extend(tmux.into_iter().map(OsString::from));
    argv
}

/// The client terminal variables passed to `podman exec` (`TERM`,
/// `COLORTERM`) taken from ccy's environment.
#[must_use]
pub fn terminal_env() -> Vec<(String, String)> {
    ["TERM", "COLORTERM"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
        .collect()
}

/// Creates or replaces the Podman secret `name` (file driver) holding
/// `value`, labelled `label`, with `podman secret create --replace NAME -`:
/// the value goes through standard input, never an argument. (The
/// `podman-api` crate's `secrets().create` sends the value JSON-encoded,
/// which libpod stores with the quotes, and has no `replace`.) Replacing
/// does not change running containers; containers created later get the
/// new value.
///
/// # Errors
/// [`ExitKind::Environment`] when podman cannot run; [`ExitKind::Failure`]
/// with Podman's message (which does not hold the value) when it fails.
pub fn create_secret(name: &str, label: (&str, &str), value: &str) -> Result<()> {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new("podman")
        .args(["secret", "create", "--replace", "--label"])
        .arg(format!("{}={}", label.0, label.1))
        .arg(name)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::environment("cannot run 'podman secret create'")
                .with_source(e)
                .hint("install Podman 5 and make sure 'podman' is on PATH")
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(value.as_bytes()).ok();
    }
    let out = child.wait_with_output().map_err(|e| {
        Error::failure(format!("'podman secret create {name}' did not finish")).with_source(e)
    })?;
    if !out.status.success() {
        return Err(Error::failure(format!(
            "cannot create the Podman secret {name}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
        .hint("check Podman with 'ccy doctor'"));
    }
    Ok(())
}

/// Runs `podman ARGS` to the end, quiet on success.
///
/// # Errors
/// [`ExitKind::Environment`] when podman cannot run; [`ExitKind::Failure`]
/// with `what` and Podman's message when it fails.
fn podman_quiet(args: &[&std::ffi::OsStr], what: &str) -> Result<()> {
    podman_stdout(args, what).map(drop)
}

/// Removes container `name` whatever its state (`podman rm --force
/// --time 0 --ignore`): for clean-up after a failed start only.
///
/// # Errors
/// When Podman cannot be run or refuses, with its message.
pub fn remove_container(name: &str) -> Result<()> {
    let out = Command::new("podman")
        .args(["rm", "--force", "--time", "0", "--ignore", name])
        .output()
        .map_err(|e| Error::environment("cannot run 'podman rm'").with_source(e))?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::failure(format!(
        "cannot remove the container {name}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// Writes the contents of volume `name` as a tar archive to `file`
/// (`podman volume export NAME --output FILE`; the REST API has no volume
/// export). A volume in use by a running container is read as it is at
/// that moment.
///
/// # Errors
/// When podman cannot run or fails (no such volume, disk full).
pub fn export_volume(name: &str, file: &Path) -> Result<()> {
    podman_quiet(
        &[
            "volume".as_ref(),
            "export".as_ref(),
            name.as_ref(),
            "--output".as_ref(),
            file.as_os_str(),
        ],
        &format!("cannot export volume {name}"),
    )
}

/// Unpacks the tar archive `file` into the existing volume `name`
/// (`podman volume import NAME FILE`).
///
/// # Errors
/// When podman cannot run or fails (no such volume, not a tar archive).
pub fn import_volume(name: &str, file: &Path) -> Result<()> {
    podman_quiet(
        &[
            "volume".as_ref(),
            "import".as_ref(),
            name.as_ref(),
            file.as_os_str(),
        ],
        &format!("cannot import into volume {name}"),
    )
}

/// Copies the contents of volume `from` into the existing volume `to`:
/// `podman volume export FROM | podman volume import TO -`, the archive
/// streamed through a pipe, never stored.
///
/// # Errors
/// When podman cannot run, or either side fails (with Podman's message).
pub fn copy_volume(from: &str, to: &str) -> Result<()> {
    use std::process::Stdio;
    let spawn_err = |e: std::io::Error| {
        Error::environment("cannot run podman")
            .with_source(e)
            .hint("install Podman 5 and make sure 'podman' is on PATH")
    };
    let mut export = Command::new("podman")
        .args(["volume", "export", from])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err)?;
    let Some(pipe) = export.stdout.take() else {
        return Err(Error::failure("podman volume export has no output pipe"));
    };
    let import = Command::new("podman")
        .args(["volume", "import", to, "-"])
        .stdin(Stdio::from(pipe))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let import = match import {
        Ok(c) => c,
        Err(e) => {
            export.kill().ok();
            export.wait().ok();
            return Err(spawn_err(e));
        }
    };
    let imported = import
        .wait_with_output()
        .map_err(|e| Error::failure("podman volume import did not finish").with_source(e))?;
    let exported = export
        .wait_with_output()
        .map_err(|e| Error::failure("podman volume export did not finish").with_source(e))?;
    if !exported.status.success() {
        return Err(Error::failure(format!(
            "cannot export volume {from}: {}",
            String::from_utf8_lossy(&exported.stderr).trim()
        )));
    }
    if !imported.status.success() {
        return Err(Error::failure(format!(
            "cannot import into volume {to}: {}",
            String::from_utf8_lossy(&imported.stderr).trim()
        )));
    }
    Ok(())
}

/// Builds `tag` from the build context `dir` with `podman build`, with
/// `--build-arg` and `--label` pairs, showing Podman's progress on the
/// terminal (stdout and stderr are inherited).
///
/// # Errors
/// [`ExitKind::Session`] when the build fails (Podman has printed why).
pub fn build_image(
    dir: &Path,
    tag: &str,
    build_args: &[(String, String)],
    labels: &[(String, String)],
) -> Result<()> {
    let mut cmd = Command::new("podman");
    cmd.arg("build").arg("--tag").arg(tag);
    for (k, v) in build_args {
        cmd.arg("--build-arg").arg(format!("{k}={v}"));
    }
    for (k, v) in labels {
        cmd.arg("--label").arg(format!("{k}={v}"));
    }
    cmd.arg(dir);
    let status = cmd.status().map_err(|e| {
        Error::environment("cannot run 'podman build'")
            .with_source(e)
            .hint("install Podman 5 and make sure 'podman' is on PATH")
    })?;
    if !status.success() {
        return Err(Error::new(
            ExitKind::Session,
            format!("building the image {tag} failed ({status})"),
        )
        .hint("read Podman's output above; fix [image] in ~/.config/ccy/config.toml or the network, then run ccy again"));
    }
    Ok(())
}

/// Runs `argv` in the running container `container` (`podman exec`), with
/// no terminal and its output discarded; whether it ran and exited 0.
#[must_use]
pub fn exec_quiet(container: &str, argv: &[&str]) -> bool {
    Command::new("podman")
        .arg("exec")
        .arg(container)
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The version `cli --version` prints ("podman version 5.4.2") as
/// `(major, minor, full)`, for when the API is not up.
///
/// # Errors
/// A message: no CLI, it cannot run, or its output is not a version.
pub fn version(cli: Option<&Path>) -> std::result::Result<(u32, u32, String), String> {
    let cli = cli.ok_or_else(|| "podman is not installed".to_owned())?;
    let out = Command::new(cli)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cli.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let full = text
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_owned();
    crate::host::podman::parse_version(&full)
        .map(|(a, b)| (a, b, full.clone()))
        .ok_or_else(|| format!("cannot parse the Podman version {:?}", text.trim()))
}

/// Runs `podman ARGS` to the end and returns its standard output.
///
/// # Errors
/// [`ExitKind::Environment`] when podman cannot run; [`ExitKind::Failure`]
/// with `what` and Podman's message when it fails.
fn podman_stdout(args: &[&std::ffi::OsStr], what: &str) -> Result<String> {
    let out = Command::new("podman")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            Error::environment("cannot run podman")
                .with_source(e)
                .hint("install Podman 5 and make sure 'podman' is on PATH")
        })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    Err(Error::failure(format!(
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

mod layers;
pub use layers::*;

#[cfg(test)]
mod tests;
