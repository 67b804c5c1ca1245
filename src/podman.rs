//! Podman: queries over the REST API, processes for the interactive TTY.
//!
//! Queries (list, inspect, version, image and volume existence) go to the
//! rootless API socket `$XDG_RUNTIME_DIR/podman/podman.sock` through the
//! `podman-api` crate: a few ms each once `podman.service` is up, against
//! ~80 ms per `podman` CLI process. When the socket is missing ccy starts
//! `podman.socket` through the user manager (podman-system-service(1)).
//! The interactive attach is `podman exec -it` replacing the ccy process, and
//! image builds are `podman build` processes whose progress the user sees.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use podman_api::Podman;
use podman_api::opts::{ContainerListFilter, ContainerListOpts};

use crate::error::{Error, ExitKind, Result};
use crate::paths::Paths;
use crate::systemd::{JobResult, UserManager};

/// The oldest Podman ccy supports (Quadlet keys used need 5.0).
pub const MIN_PODMAN: (u32, u32) = (5, 0);

/// The label every ccy session container carries; its value is the project.
pub const LABEL_PROJECT: &str = "ccy.project";
/// Label: the absolute, canonical worktree path.
pub const LABEL_WORKTREE: &str = "ccy.worktree";
/// Label: the branch checked out when the session was created.
pub const LABEL_BRANCH: &str = "ccy.branch";
/// Label: creation time, RFC 3339 UTC.
pub const LABEL_CREATED: &str = "ccy.created";
/// Label Quadlet sets on every container it runs: the systemd unit name
/// (podman-systemd.unit(5)).
pub const LABEL_SYSTEMD_UNIT: &str = "PODMAN_SYSTEMD_UNIT";

/// A client of the rootless Podman API.
#[derive(Debug, Clone)]
pub struct PodmanApi {
    api: Podman,
}

/// A session container as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    /// Full container id.
    pub id: String,
    /// Container name (the session name).
    pub name: String,
    /// Podman's state: `running`, `exited`, `created`, `stopping`, …
    pub state: String,
    /// All labels.
    pub labels: BTreeMap<String, String>,
    /// The image as the container was created from it
    /// (`localhost/ccy:latest`).
    pub image: String,
    /// When the container last started, seconds since the Unix epoch;
    /// `None` when it never ran (the API's `StartedAt` is 0 or absent).
    pub started_at: Option<u64>,
}

impl ContainerInfo {
    /// Whether the container is running.
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.state == "running"
    }
}

fn api_error(what: &str, e: &podman_api::Error) -> Error {
    Error::failure(format!("{what}: {e}")).hint("check Podman with 'ccy doctor'")
}

impl PodmanApi {
    /// Connects to the API socket, first starting `podman.socket` through
    /// `manager` when the socket file does not exist.
    ///
    /// # Errors
    /// [`ExitKind::Environment`] when the socket cannot be made available.
    pub async fn connect(paths: &Paths, manager: &UserManager) -> Result<Self> {
        let socket = paths.podman_socket();
        // A stopped podman.socket leaves its file behind (systemd's
        // RemoveOnStop= defaults to no), so existence proves nothing: ask
        // the socket itself. Connecting costs microseconds; a listening
        // socket unit then starts podman.service as it would anyway.
        if !listening(&socket) {
            let result = manager.start("podman.socket").await.map_err(|e| {
                Error::environment("cannot start podman.socket in your user manager")
                    .with_source(e)
                    .hint("install Podman 5 (it ships podman.socket) and run 'ccy doctor'")
            })?;
            if result != JobResult::Done || !listening(&socket) {
                return Err(Error::environment(format!(
                    "podman.socket did not provide {} (job {})",
                    socket.display(),
                    result.as_str()
                ))
                .hint("run 'systemctl --user status podman.socket'"));
            }
        }
        Ok(Self {
            api: Podman::unix(socket),
        })
    }

    /// A client of the API socket at `socket`, without checking that it
    /// exists or starting anything (`ccy doctor` looks, never changes).
    #[must_use]
    pub fn at(socket: &Path) -> Self {
        Self {
            api: Podman::unix(socket),
        }
    }

    /// The server's version as `(major, minor, full string)`.
    ///
    /// # Errors
    /// When the API call fails or the version is not `X.Y…`.
    pub async fn version(&self) -> Result<(u32, u32, String)> {
        let v = self
            .api
            .version()
            .await
            .map_err(|e| api_error("cannot ask Podman for its version", &e))?;
        let full = v.version.unwrap_or_default();
        parse_version(&full)
            .map(|(a, b)| (a, b, full.clone()))
            .ok_or_else(|| Error::failure(format!("cannot parse Podman version {full:?}")))
    }

    /// Checks that the server is at least [`MIN_PODMAN`].
    ///
    /// # Errors
    /// [`ExitKind::Environment`] naming the version found.
    pub async fn check_version(&self) -> Result<()> {
        // `_ping` answers from headers (`Libpod-API-Version` is Podman's
        // own version) in a few ms; `/version` also runs conmon and the OCI
        // runtime to ask theirs: 100-200 ms on a busy machine (BENCHMARKS.md).
        // A server without that header (not Podman) is asked the slow way.
        let (major, minor, full) = match self.api.ping().await {
            Ok(ping) => match parse_version(&ping.libpod_api_version) {
                Some((a, b)) => (a, b, ping.libpod_api_version),
                None => self.version().await?,
            },
            Err(_) => self.version().await?,
        };
        if (major, minor) < MIN_PODMAN {
            return Err(Error::environment(format!(
                "Podman {full} is too old: ccy needs Podman {}.{} or newer",
                MIN_PODMAN.0, MIN_PODMAN.1
            ))
            .hint("upgrade Podman from your distribution (Fedora 40+, Debian 13+)"));
        }
        Ok(())
    }

    /// All ccy session containers (label `ccy.project` present), optionally
    /// only those with label `key=value`. One API call.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn session_containers(
        &self,
        label: Option<(&str, &str)>,
    ) -> Result<Vec<ContainerInfo>> {
        let filter = match label {
            Some((k, v)) => ContainerListFilter::LabelKeyVal(k.to_owned(), v.to_owned()),
            None => ContainerListFilter::LabelKey(LABEL_PROJECT.to_owned()),
        };
        let opts = ContainerListOpts::builder()
            .all(true)
            .filter([filter])
            .build();
        let list = self
            .api
            .containers()
            .list(&opts)
            .await
            .map_err(|e| api_error("cannot list containers", &e))?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let labels: BTreeMap<String, String> =
                    c.labels.unwrap_or_default().into_iter().collect();
                if !labels.contains_key(LABEL_PROJECT) {
                    return None;
                }
                Some(ContainerInfo {
                    id: c.id.unwrap_or_default(),
                    name: c
                        .names
                        .and_then(|n| n.into_iter().next())
                        .unwrap_or_default(),
                    state: c.state.unwrap_or_default(),
                    labels,
                    image: c.image.unwrap_or_default(),
                    started_at: c
                        .started_at
                        .and_then(|t| u64::try_from(t).ok())
                        .filter(|t| *t > 0),
                })
            })
            .collect())
    }

    /// Whether `image` exists in local storage.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn image_exists(&self, image: &str) -> Result<bool> {
        self.api
            .images()
            .get(image)
            .exists()
            .await
            .map_err(|e| api_error(&format!("cannot look up image {image}"), &e))
    }

    /// The labels of `image`, or `None` when it does not exist.
    ///
    /// # Errors
    /// When the API call fails for another reason than absence.
    pub async fn image_labels(&self, image: &str) -> Result<Option<BTreeMap<String, String>>> {
        if !self.image_exists(image).await? {
            return Ok(None);
        }
        let inspect = self
            .api
            .images()
            .get(image)
            .inspect()
            .await
            .map_err(|e| api_error(&format!("cannot inspect image {image}"), &e))?;
        Ok(Some(
            inspect.labels.unwrap_or_default().into_iter().collect(),
        ))
    }

    /// The id of `image`, or `None` when it does not exist.
    ///
    /// # Errors
    /// When the API call fails for another reason than absence.
    pub async fn image_id(&self, image: &str) -> Result<Option<String>> {
        if !self.image_exists(image).await? {
            return Ok(None);
        }
        let inspect = self
            .api
            .images()
            .get(image)
            .inspect()
            .await
            .map_err(|e| api_error(&format!("cannot inspect image {image}"), &e))?;
        Ok(inspect.id)
    }

    /// Whether the Podman network `name` exists.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn network_exists(&self, name: &str) -> Result<bool> {
        self.api
            .networks()
            .get(name)
            .exists()
            .await
            .map_err(|e| api_error(&format!("cannot look up network {name}"), &e))
    }

    /// Creates volume `name` with `labels` unless it exists. Returns whether
    /// it was created.
    ///
    /// # Errors
    /// When an API call fails.
    pub async fn ensure_volume(&self, name: &str, labels: &[(&str, &str)]) -> Result<bool> {
        if self.volume_exists(name).await? {
            return Ok(false);
        }
        let opts = podman_api::opts::VolumeCreateOpts::builder()
            .name(name)
            .labels(labels.iter().copied())
            .build();
        match self.api.volumes().create(&opts).await {
            Ok(_) => Ok(true),
            // Another ccy created it since the check (sessions of one
            // project created at once share it): that is what we wanted.
            Err(_) if self.volume_exists(name).await? => Ok(false),
            Err(e) => Err(api_error(&format!("cannot create volume {name}"), &e)),
        }
    }

    /// The names of the secrets carrying label `key`, with its value.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn secrets_with_label(&self, key: &str) -> Result<Vec<(String, String)>> {
        let list = self
            .api
            .secrets()
            .list()
            .await
            .map_err(|e| api_error("cannot list secrets", &e))?;
        Ok(list
            .into_iter()
            .filter_map(|s| {
                let spec = s.spec?;
                let value = spec.labels?.get(key)?.clone();
                Some((spec.name?, value))
            })
            .collect())
    }

    /// One sample of `container`'s resource use (libpod
    /// `GET /containers/stats?stream=false`, the numbers of `podman stats
    /// --no-stream`). One API call.
    ///
    /// # Errors
    /// When the API call fails or reports an error (for example the
    /// container is not running).
    pub async fn stats(&self, container: &str) -> Result<ContainerStats> {
        let v = self
            .api
            .containers()
            .get(container)
            .stats()
            .await
            .map_err(|e| api_error(&format!("cannot read the resource use of {container}"), &e))?;
        ContainerStats::from_json(&v).map_err(|why| {
            Error::failure(format!(
                "cannot read the resource use of {container}: {why}"
            ))
        })
    }

    /// Whether volume `name` exists.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn volume_exists(&self, name: &str) -> Result<bool> {
        self.api
            .volumes()
            .get(name)
            .exists()
            .await
            .map_err(|e| api_error(&format!("cannot look up volume {name}"), &e))
    }
}

impl PodmanApi {
    /// Whether a container named (or with id) `name` exists, in any state.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn container_exists(&self, name: &str) -> Result<bool> {
        self.api
            .containers()
            .get(name)
            .exists()
            .await
            .map_err(|e| api_error(&format!("cannot look up container {name}"), &e))
    }

    /// Removes volume `name` (`DELETE /libpod/volumes/NAME`, not forced: a
    /// volume still used by a container is refused).
    ///
    /// # Errors
    /// When the API refuses, with Podman's reason.
    pub async fn remove_volume(&self, name: &str) -> Result<()> {
        self.api.volumes().get(name).delete().await.map_err(|e| {
            Error::failure(format!("cannot remove volume {name}: {e}")).hint(format!(
                "see what uses it with 'podman ps -a --filter volume={name}'"
            ))
        })
    }
}

/// One change in a container's filesystem against its image, as `podman
/// diff` reports it (`GET /libpod/containers/NAME/changes`). Volumes and
/// bind mounts are not part of the container's layer and never appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsChange {
    /// `C` changed, `A` added, `D` deleted (podman-diff(1)).
    pub kind: char,
    /// The absolute path in the container.
    pub path: String,
}

impl PodmanApi {
    /// The filesystem changes of container `name` since it was created
    /// (podman-diff(1)); one API call.
    ///
    /// # Errors
    /// When the API call fails (no such container, for one).
    pub async fn changes(&self, name: &str) -> Result<Vec<FsChange>> {
        let list = self
            .api
            .containers()
            .get(name)
            .changes(&podman_api::opts::ChangesOpts::builder().build())
            .await
            .map_err(|e| api_error(&format!("cannot list the changes of container {name}"), &e))?;
        Ok(list
            .into_iter()
            .map(|c| FsChange {
                kind: match c.kind {
                    0 => 'C',
                    1 => 'A',
                    2 => 'D',
                    _ => '?',
                },
                path: c.path,
            })
            .collect())
    }

    /// The names of all volumes (one API call).
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn volume_names(&self) -> Result<std::collections::BTreeSet<String>> {
        let list = self
            .api
            .volumes()
            .list(&podman_api::opts::VolumeListOpts::builder().build())
            .await
            .map_err(|e| api_error("cannot list volumes", &e))?;
        Ok(list.into_iter().map(|v| v.name).collect())
    }

    /// Where container `name` has volumes and bind mounts (`Mounts[].
    /// Destination` of its inspection; Podman's own `/etc/hosts` and the
    /// like are not listed). One API call.
    ///
    /// # Errors
    /// When the API call fails.
    pub async fn mount_destinations(&self, name: &str) -> Result<Vec<String>> {
        let data = self
            .api
            .containers()
            .get(name)
            .inspect()
            .await
            .map_err(|e| api_error(&format!("cannot inspect container {name}"), &e))?;
        Ok(data
            .mounts
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| m.destination)
            .collect())
    }
}

/// Whether something accepts connections on the Unix socket `path` (a
/// connect(2) that succeeds; `ECONNREFUSED` when the file is a leftover of
/// a stopped socket unit, `ENOENT` when there is none).
fn listening(path: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(path).is_ok()
}

/// A container's resource use, one sample (libpod's `ContainerStats`,
/// pkg/domain/entities/types).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct ContainerStats {
    /// Memory in use, bytes (cgroup `memory.current`; 0 when the memory
    /// controller is not delegated).
    pub mem_usage: u64,
    /// The memory limit, bytes (the host's memory when there is none).
    pub mem_limit: u64,
    /// CPU use in percent of one CPU, averaged since the container started
    /// (a one-shot sample has no earlier sample to compare with).
    pub cpu_percent: f64,
    /// CPU time used, nanoseconds.
    pub cpu_nanos: u64,
    /// Processes and threads in the container.
    pub pids: u64,
}

impl ContainerStats {
    /// Parses the libpod stats response `{"Error": …, "Stats": [{…}]}`.
    ///
    /// # Errors
    /// The error text Podman reported, or what is missing.
    pub fn from_json(v: &serde_json::Value) -> std::result::Result<Self, String> {
        if let Some(err) = v.get("Error").filter(|e| !e.is_null()) {
            return Err(err.as_str().map_or_else(|| err.to_string(), str::to_owned));
        }
        let s = v
            .get("Stats")
            .and_then(|s| s.get(0))
            .ok_or_else(|| "the response has no statistics".to_owned())?;
        let n = |k: &str| s.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
        Ok(Self {
            mem_usage: n("MemUsage"),
            mem_limit: n("MemLimit"),
            cpu_percent: s
                .get("CPU")
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(0.0),
            cpu_nanos: n("CPUNano"),
            pids: n("PIDs"),
        })
    }
}

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

/// The `(major, minor)` of a Podman version string (`5.4.2`, `5.0.0-rc1`).
#[must_use]
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
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

/// How to attach to a session's tmux.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttachMode {
    /// tmux `attach -r`: the client cannot type into the pane.
    pub read_only: bool,
    /// tmux `attach -d`: detach every other client first.
    pub exclusive: bool,
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
    let mut tmux = vec!["tmux", "-u", "attach", "-t", "main"];
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

/// Replaces the ccy process with `argv` (from [`attach_argv`] or
/// [`crate::tmux::attach_argv`]). Returns only on failure.
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn stats_from_libpod_json() {
        let v = serde_json::json!({"Error": null, "Stats": [{
            "ContainerID": "abc", "CPU": 1.5, "CPUNano": 123_000, "MemUsage": 4096,
            "MemLimit": 8192, "MemPerc": 50.0, "PIDs": 7
        }]});
        assert_eq!(
            ContainerStats::from_json(&v).unwrap(),
            ContainerStats {
                mem_usage: 4096,
                mem_limit: 8192,
                cpu_percent: 1.5,
                cpu_nanos: 123_000,
                pids: 7
            }
        );
        let err = serde_json::json!({"Error": "no such container", "Stats": null});
        assert_eq!(
            ContainerStats::from_json(&err).unwrap_err(),
            "no such container"
        );
        assert!(ContainerStats::from_json(&serde_json::json!({"Stats": []})).is_err());
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("5.4.2"), Some((5, 4)));
        assert_eq!(parse_version("5.0.0-rc1"), Some((5, 0)));
        assert_eq!(parse_version("4.9"), Some((4, 9)));
        assert_eq!(parse_version("dev"), None);
    }

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
            },
            &[],
        )
        .into_iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
        assert_eq!(
            ro[4..],
            ["s1", "tmux", "-u", "attach", "-t", "main", "-r", "-d"]
        );
    }
}
