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
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("podman"))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or_else(|| {
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
    let out = Command::new("podman")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error::environment("cannot run podman")
                .with_source(e)
                .hint("install Podman 5 and make sure 'podman' is on PATH")
        })?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::failure(format!(
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    )))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn shell_argv_with_and_without_a_terminal() {
        let strs = |v: Vec<OsString>| -> Vec<String> {
            v.into_iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect()
        };
        let env = vec![("TERM".to_owned(), "xterm".to_owned())];
        let shell = strs(shell_argv("s1", &[], true, &env));
        assert_eq!(
            shell,
            [
                "podman",
                "exec",
                "-i",
                "-t",
                "--detach-keys=",
                "-w",
                "/workspace",
                "-e",
                "TERM=xterm",
                "s1",
                "sh",
                "-c",
                "command -v bash >/dev/null 2>&1 && exec bash -l || exec sh -l"
            ]
        );
        let cmd = strs(shell_argv(
            "s1",
            &["cat".into(), "/etc/hostname".into()],
            false,
            &[],
        ));
        assert_eq!(
            cmd,
            [
                "podman",
                "exec",
                "-i",
                "--detach-keys=",
                "-w",
                "/workspace",
                "s1",
                "cat",
                "/etc/hostname"
            ]
        );
    }

    #[test]
    fn attach_argv_plain_and_waiting() {
        let env = vec![("TERM".to_owned(), "xterm-256color".to_owned())];
        let plain: Vec<String> = attach_argv("s1", AttachMode::default(), &env)
            .into_iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            plain,
            [
                "podman",
                "exec",
                "-it",
                "--detach-keys=",
                "-e",
                "TERM=xterm-256color",
                "s1",
                "tmux",
                "-u",
                "set-option",
                "-u",
                "-t",
                "main",
                "prefix2",
                ";",
                "set-option",
                "-u",
                "-t",
                "main",
                "@ccy_nested",
                ";",
                "attach",
                "-t",
                "main"
            ]
        );
        let ro: Vec<String> = attach_argv(
            "s1",
            AttachMode {
                read_only: true,
                exclusive: true,
                nested: false,
            },
            &[],
        )
        .into_iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
        assert_eq!(ro[4..7], ["s1", "tmux", "-u"]);
        assert_eq!(ro[ro.len() - 5..], ["attach", "-t", "main", "-r", "-d"]);
    }
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

/// What ccy reads of an image (`podman image inspect`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    /// The full image id.
    pub id: String,
    /// The size of all its layers, bytes.
    pub size: u64,
    /// How many layers it has (`RootFS.Layers`).
    pub layers: usize,
    /// Its labels.
    pub labels: std::collections::BTreeMap<String, String>,
}

/// Parses `podman image inspect --format json` output (an array; the
/// first element is the image).
///
/// # Errors
/// The reason the text is not such an array.
pub fn parse_image_facts(json: &str) -> std::result::Result<ImageFacts, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let img = v.get(0).ok_or("empty inspect output")?;
    let id = img
        .get("Id")
        .and_then(serde_json::Value::as_str)
        .ok_or("no Id")?
        .to_owned();
    let size = img
        .get("Size")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    let layers = img
        .pointer("/RootFS/Layers")
        .and_then(serde_json::Value::as_array)
        .map_or(0, Vec::len);
    let labels = img
        .get("Labels")
        .and_then(serde_json::Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Ok(ImageFacts {
        id,
        size,
        layers,
        labels,
    })
}

/// Inspects `image` (`podman image inspect --format json`); `None` when
/// there is no such image.
///
/// # Errors
/// When podman cannot run, fails otherwise, or prints what ccy cannot read.
pub fn image_facts(image: &str) -> Result<Option<ImageFacts>> {
    let out = Command::new("podman")
        .args(["image", "inspect", "--format", "json", image])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::environment("cannot run podman").with_source(e))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("image not known") || err.contains("no such image") {
            return Ok(None);
        }
        return Err(Error::failure(format!(
            "cannot inspect image {image}: {}",
            err.trim()
        )));
    }
    parse_image_facts(&String::from_utf8_lossy(&out.stdout))
        .map(Some)
        .map_err(|e| Error::failure(format!("cannot read the inspection of image {image}: {e}")))
}

/// Parses `podman diff --format json` output
/// (`{"changed": […], "added": […], "deleted": […]}`).
///
/// # Errors
/// The reason the text is not such an object.
pub fn parse_diff(json: &str) -> std::result::Result<Vec<crate::host::podman::FsChange>, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (key, kind) in [("changed", 'C'), ("added", 'A'), ("deleted", 'D')] {
        match v.get(key) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Array(paths)) => {
                for p in paths {
                    let path = p.as_str().ok_or("a path is not a string")?;
                    out.push(crate::host::podman::FsChange {
                        kind,
                        path: path.to_owned(),
                    });
                }
            }
            Some(_) => return Err(format!("{key} is not a list")),
        }
    }
    Ok(out)
}

/// The changes of `what` (a container or an image) against `against`
/// (another image; `None`: a container against its own image):
/// `podman diff --format json WHAT [AGAINST]`. For two images, the changes
/// that turn `against` into `what`.
///
/// # Errors
/// When podman cannot run or fails (no such container).
pub fn diff(what: &str, against: Option<&str>) -> Result<Vec<crate::host::podman::FsChange>> {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "diff".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        what.as_ref(),
    ];
    if let Some(a) = against {
        args.push(a.as_ref());
    }
    let out = podman_stdout(&args, &format!("cannot list the changes of {what}"))?;
    parse_diff(&out).map_err(|e| Error::failure(format!("cannot read the changes of {what}: {e}")))
}

/// Starts `podman container inspect` for the mount destinations of
/// `container` (one per line), to be read with [`mount_destinations_of`]
/// while the caller does something else.
///
/// # Errors
/// When podman cannot run.
pub fn start_mount_destinations(container: &str) -> Result<std::process::Child> {
    Command::new("podman")
        .args([
            "container",
            "inspect",
            "--format",
            "{{range .Mounts}}{{.Destination}}\n{{end}}",
            container,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::environment("cannot run podman").with_source(e))
}

/// The mount destinations [`start_mount_destinations`] printed (none when
/// it failed).
#[must_use]
pub fn mount_destinations_of(child: std::process::Child) -> Vec<String> {
    child
        .wait_with_output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Sends `signal` (`USR1`) to `container`'s main process (`podman kill
/// --signal`).
///
/// # Errors
/// When podman cannot run or fails (container not running).
pub fn signal(container: &str, signal: &str) -> Result<()> {
    podman_quiet(
        &[
            "kill".as_ref(),
            "--signal".as_ref(),
            signal.as_ref(),
            container.as_ref(),
        ],
        &format!("cannot signal {container}"),
    )
}

/// Commits `container`'s layer as `image` (`podman commit -q`), with
/// `changes` (`LABEL k=v`, …) applied to the image's configuration.
///
/// # Errors
/// When podman cannot run or fails (disk full, container gone).
pub fn commit(container: &str, image: &str, changes: &[String]) -> Result<()> {
    let mut args: Vec<&std::ffi::OsStr> = vec!["commit".as_ref(), "-q".as_ref()];
    for c in changes {
        args.push("--change".as_ref());
        args.push(c.as_ref());
    }
    args.push(container.as_ref());
    args.push(image.as_ref());
    podman_quiet(&args, &format!("cannot commit {container} as {image}"))
}

/// Tags `image` (a name or id) as `tag` too (`podman tag`), moving `tag`
/// when another image had it.
///
/// # Errors
/// When podman cannot run or fails (no such image).
pub fn tag_image(image: &str, tag: &str) -> Result<()> {
    podman_quiet(
        &["tag".as_ref(), image.as_ref(), tag.as_ref()],
        &format!("cannot tag {image} as {tag}"),
    )
}

/// Removes the image name `image` (`podman rmi --ignore`): the image goes
/// when no other name, container or child image needs it, with its parent
/// images that nothing else needs; otherwise only the name goes.
///
/// # Errors
/// When podman cannot run or refuses (a container uses the image).
pub fn remove_image(image: &str) -> Result<()> {
    podman_quiet(
        &["rmi".as_ref(), "--ignore".as_ref(), image.as_ref()],
        &format!("cannot remove image {image}"),
    )
}

/// Removes the dangling images (no name, no child) labelled `key=value`
/// that no container uses (`podman image prune --force --filter
/// label=KEY=VALUE`).
///
/// # Errors
/// When podman cannot run or fails.
pub fn prune_images(key: &str, value: &str) -> Result<()> {
    let filter = format!("label={key}={value}");
    podman_quiet(
        &[
            "image".as_ref(),
            "prune".as_ref(),
            "--force".as_ref(),
            "--filter".as_ref(),
            filter.as_ref(),
        ],
        "cannot remove unused kept-layer images",
    )
}

/// The shell script [`rebase`] runs in `podman unshare`: mounts the kept
/// image (`$1`) and the scratch container (`$2`), deletes the paths listed
/// in `$3` from the container, copies the paths listed in `$4` (relative,
/// NUL-separated, one entry each, not recursive) with owners, modes,
/// times and extended attributes, and unmounts both.
const REBASE_SCRIPT: &str = r#"set -e
src=$(podman image mount "$1")
dst=$(podman mount "$2")
trap 'podman umount "$2" >/dev/null 2>&1; podman image umount "$1" >/dev/null 2>&1' EXIT
cd "$dst"
xargs -0 -r rm -rf -- < "$3"
tar -C "$src" --null --no-recursion --numeric-owner --xattrs --xattrs-include='*' -T "$4" -cf - |
  tar -C "$dst" --numeric-owner --xattrs --xattrs-include='*' -xpf -
"#;

/// Puts the changes that turn image `base` into image `kept` into ONE
/// layer on top of `base`, tagged `out`: a scratch container `scratch`
/// from `base`, the changes copied into it in `podman unshare`
/// ([`REBASE_SCRIPT`]: deletions, then added and changed entries with tar),
/// committed with `changes` (`LABEL …`), then removed. `work` is a private
/// directory for the two path lists.
///
/// # Errors
/// When a step fails; the scratch container is removed in any case.
pub fn rebase(
    base: &str,
    kept: &str,
    out: &str,
    scratch: &str,
    work: &Path,
    changes: &[String],
) -> Result<()> {
    use std::io::Write as _;
    let diff = diff(kept, Some(base))?;
    let rel = |p: &str| p.trim_start_matches('/').to_owned();
    let mut deleted = Vec::new();
    let mut copied = Vec::new();
    for c in &diff {
        let p = rel(&c.path);
        if p.is_empty() {
            continue;
        }
        let list = if c.kind == 'D' {
            &mut deleted
        } else {
            &mut copied
        };
        list.extend_from_slice(p.as_bytes());
        list.push(0);
    }
    let (del_file, copy_file) = (work.join("deleted"), work.join("copied"));
    for (f, data) in [(&del_file, &deleted), (&copy_file, &copied)] {
        std::fs::File::create(f)
            .and_then(|mut h| h.write_all(data))
            .map_err(|e| Error::failure(format!("cannot write {}", f.display())).with_source(e))?;
    }
    remove_container(scratch)?;
    podman_quiet(
        &[
            "create".as_ref(),
            "--name".as_ref(),
            scratch.as_ref(),
            base.as_ref(),
        ],
        &format!("cannot create a container from {base}"),
    )?;
    let result = podman_quiet(
        &[
            "unshare".as_ref(),
            "sh".as_ref(),
            "-c".as_ref(),
            REBASE_SCRIPT.as_ref(),
            "sh".as_ref(),
            kept.as_ref(),
            scratch.as_ref(),
            del_file.as_os_str(),
            copy_file.as_os_str(),
        ],
        &format!("cannot copy the changes of {kept} onto {base}"),
    )
    .and_then(|()| commit(scratch, out, changes));
    let removed = remove_container(scratch);
    result.and(removed)
}
