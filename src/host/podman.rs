//! Podman: the facts ccy reads from it, as named structs, and the two ways
//! it talks to it: [`api`], queries over the rootless REST API socket
//! (`$XDG_RUNTIME_DIR/podman/podman.sock`, a few ms each once
//! `podman.service` is up), and [`cli`], `podman` processes for what the
//! user watches or what the API does not model (the interactive TTY,
//! image builds, secrets, volume import/export).

pub mod api;
pub mod cli;

use std::collections::BTreeMap;

/// The oldest Podman ccy supports (Quadlet keys used need 5.0).
pub const MIN_PODMAN: (u32, u32) = (5, 0);

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

impl FsChange {
    /// A change of `kind` (`C`, `A`, `D`) at `path`, for tests.
    #[cfg(test)]
    pub(crate) fn new(kind: char, path: &str) -> Self {
        Self {
            kind,
            path: path.to_owned(),
        }
    }

    /// What `podman diff` shows for a fresh session on Podman 5.4: mount
    /// points and their parents, tmux's socket, `/etc` for Podman's
    /// `/etc/hosts`, and the SSH key directory. Shared by the tests of
    /// what a removal would lose and what a stop keeps.
    #[cfg(test)]
    pub(crate) fn fresh_session() -> Vec<Self> {
        [
            ('C', "/etc"),
            ('C', "/root"),
            ('A', "/root/.claude"),
            ('A', "/run/ccy"),
            ('C', "/tmp"),
            ('A', "/tmp/tmux-0"),
            ('A', "/tmp/tmux-0/default"),
            ('A', "/workspace"),
            ('A', "/root/.ssh"),
            ('A', "/root/.ssh/ccy-keys"),
        ]
        .into_iter()
        .map(|(k, p)| Self::new(k, p))
        .collect()
    }
}

/// An image as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageSummary {
    /// The full image id.
    pub id: String,
    /// The size of all its layers, bytes.
    pub size: u64,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its names (`localhost/ccy:latest`); empty for an intermediate image.
    pub names: Vec<String>,
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

/// The `(major, minor)` of a Podman version string (`5.4.2`, `5.0.0-rc1`).
#[must_use]
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// How to attach to a session's tmux.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttachMode {
    /// tmux `attach -r`: the client cannot type into the pane.
    pub read_only: bool,
    /// tmux `attach -d`: detach every other client first.
    pub exclusive: bool,
    /// The client runs inside another tmux (`$TMUX` set): the session's
    /// tmux gets a second prefix ([`crate::host::tmux::NESTED_PREFIX`]),
    /// shown in its status line ([`crate::host::tmux::nesting_commands`]).
    pub nested: bool,
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
}
