//! The checks that refuse a session before anything is made or started:
//! the name is free, `session.max_running`, the cgroup can apply the
//! limits, the network exists.

use std::path::PathBuf;

use crate::error::{Error, ExitKind, Result};
use crate::host::podman::api::PodmanApi;
use crate::host::systemd::{LoadState, UserManager};
use crate::names::SessionName;
use crate::paths::{Paths, display_home};
use crate::quadlet::runopts::Limits;
use crate::session::find::{self, State};
use crate::session::store;

/// Checks that no session, container or unit already uses `name`: its
/// Quadlet files (`NAME.container`, `NAME.volume`), a container of that
/// name (any state), or a loaded unit `NAME.service` / `NAME-volume.service`
/// (one API call, one D-Bus call).
///
/// # Errors
/// [`ExitKind::Usage`] saying what holds the name, with what to do.
pub async fn check_name_free(
    paths: &Paths,
    mgr: &UserManager,
    api: &PodmanApi,
    name: &SessionName,
) -> Result<()> {
    let taken = |why: String| {
        Error::usage(format!("the name {name} is taken: {why}")).hint(format!(
            "choose another name, e.g. 'ccy new {name}-2', or leave it out for an automatic one"
        ))
    };
    for file in [name.container_file(), name.volume_file()] {
        let path = paths.quadlet_dir.join(&file);
        if path.exists() {
            let err = taken(format!(
                "the unit file {} exists",
                display_home(&path, &paths.home)
            ));
            return Err(
                if store::read_session(&paths.quadlet_dir, name)?.is_some() {
                    err.hint(format!(
                    "it is a ccy session: attach with 'ccy attach {name}' or remove it with 'ccy rm {name}'"
                ))
                } else {
                    err
                },
            );
        }
    }
    if api.container_exists(name.as_str()).await? {
        return Err(taken(format!("a container named {name} exists"))
            .hint(format!("see it with 'podman ps -a --filter name=^{name}$'")));
    }
    let units = [name.service_unit(), name.volume_unit()];
    for state in mgr.unit_states(&units).await? {
        if state.load_state != LoadState::NotFound {
            return Err(taken(format!(
                "your user manager has a unit {} ({}, {})",
                state.name, state.load_state, state.active_state
            ))
            .hint(format!(
                "see it with 'systemctl --user status {}'",
                state.name
            )));
        }
    }
    Ok(())
}

/// Refuses to start another session when `max` (`session.max_running`;
/// 0: no limit) are already running or starting (`starting`, the session
/// about to start, is not counted). One API and one D-Bus call
/// ([`find::all_sessions`]).
///
/// # Errors
/// [`ExitKind::Refused`] listing the running sessions, with the command
/// that stops one.
pub async fn check_capacity(
    paths: &Paths,
    mgr: &UserManager,
    api: &PodmanApi,
    max: u32,
    starting: Option<&SessionName>,
) -> Result<()> {
    if max == 0 {
        return Ok(());
    }
    let all = find::all_sessions(paths, mgr, api).await?;
    let running: Vec<&find::SessionInfo> = all
        .iter()
        .filter(|s| {
            matches!(s.state(), State::Running | State::Starting) && Some(&s.name) != starting
        })
        .collect();
    if running.len() < usize::try_from(max).unwrap_or(usize::MAX) {
        return Ok(());
    }
    let mut err = Error::new(
        ExitKind::Refused,
        format!(
            "refusing to start another session: {} running, session.max_running allows {max}:",
            running.len()
        ),
    );
    for s in &running {
        err = err.detail(format!("{}  {}  {}", s.name, s.project(), s.worktree()));
    }
    let first = running.first().map_or("NAME", |s| s.name.as_str());
    Err(err
        .hint(format!("stop one with 'ccy stop {first}'"))
        .hint("or raise session.max_running in ~/.config/ccy/config.toml (0: no limit)"))
}

/// The cgroup controllers Podman needs for `limits` (cgroup v2 names), with
/// what needs each.
fn needed_controllers(limits: &Limits) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(m) = &limits.memory {
        out.push((
            "memory",
            format!("memory limit {} (session.memory, --memory)", m.text),
        ));
    }
    if let Some(c) = limits.cpus_text() {
        out.push(("cpu", format!("CPU limit {c} (session.cpus, --cpus)")));
    }
    if let Some(p) = limits.pids {
        out.push(("pids", format!("process limit {p} (session.pids, --pids)")));
    }
    out
}

/// Checks that the user manager's cgroup has the controllers `limits`
/// need (systemd delegates `cpu memory pids` to `user@.service` by
/// default; a container whose limit cannot be applied fails to start with
/// a crun error). Skipped when the cgroup v2 file cannot be read.
///
/// # Errors
/// [`ExitKind::Environment`] naming the missing controller and the limit
/// that needs it.
pub fn check_limits_supported(paths: &Paths, limits: &Limits) -> Result<()> {
    let needed = needed_controllers(limits);
    if needed.is_empty() {
        return Ok(());
    }
    let uid = paths.uid;
    let file = PathBuf::from(format!(
        "/sys/fs/cgroup/user.slice/user-{uid}.slice/user@{uid}.service/cgroup.controllers"
    ));
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(());
    };
    let have: Vec<&str> = text.split_whitespace().collect();
    match needed.iter().find(|(c, _)| !have.contains(c)) {
        None => Ok(()),
        Some((controller, what)) => Err(Error::environment(format!(
            "the {what} cannot be applied: your systemd user manager's cgroup has no '{controller}' controller ({} lists: {})",
            file.display(),
            if have.is_empty() { "none".to_owned() } else { have.join(" ") }
        ))
        .hint("delegate it: 'sudo systemctl edit user@.service', add '[Service]' and 'Delegate=cpu memory pids', then log in again")
        .hint("or create the session without that limit")),
    }
}

/// Podman's network modes that are not network names.
const NETWORK_MODES: [&str; 6] = ["none", "host", "private", "bridge", "pasta", "slirp4netns"];

/// Checks that `network` exists (`podman network ls`), unless it is a
/// mode (`none`, `host`, `pasta:…`, …) or a Quadlet `.network` unit.
///
/// # Errors
/// [`ExitKind::NotFound`] with hints to list or create networks.
pub async fn check_network(api: &PodmanApi, network: &str) -> Result<()> {
    if NETWORK_MODES.contains(&network)
        || network.contains(':')
        || network.ends_with(".network")
        || api.network_exists(network).await?
    {
        return Ok(());
    }
    Err(Error::new(
        ExitKind::NotFound,
        format!("there is no Podman network {network}"),
    )
    .hint("list networks with 'podman network ls'")
    .hint(format!(
        "create it with 'podman network create {network}', or use --no-network"
    )))
}
