//! Reading the sessions: the Quadlet directory's unit files, ccy's
//! containers (one Podman API call), the units' states (one D-Bus
//! `ListUnitsByNames`) and each session's state directory, merged by
//! session name.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{SessionInfo, State, now_epoch};
use crate::contract::LABEL_WORKTREE;
use crate::error::{Error, Result};
use crate::host::git::Worktree;
use crate::host::podman::ContainerInfo;
use crate::host::podman::api::PodmanApi;
use crate::host::systemd::{UnitState, UserManager};
use crate::names::SessionName;
use crate::paths::Paths;
use crate::quadlet::spec::{SessionFile, SessionMeta};
use crate::session::agent_status::{self, TmuxStatus};
use crate::session::{keep, store};

/// Lists every session: ccy's unit files merged by name with ccy's
/// containers (one API call), unit states (one D-Bus `ListUnitsByNames`
/// call, for the sessions that have a unit file) and each session's state
/// directory ([`read_state_dir`]). A container without a unit file of ccy's
/// gets no unit state; its state comes from the container. Sorted by name.
///
/// The three sources are asked at once: the unit names come from the
/// Quadlet directory's file names, so the user manager and Podman answer
/// while the unit files and state directories are read (`read_ahead`, on
/// a blocking thread, split over the CPUs when there are many sessions).
///
/// # Errors
/// When the Quadlet directory, the API or the user manager fails.
pub async fn all_sessions(
    paths: &Paths,
    mgr: &UserManager,
    api: &PodmanApi,
) -> Result<Vec<SessionInfo>> {
    let files = store::container_files(&paths.quadlet_dir)?;
    let units: Vec<String> = files
        .iter()
        .filter_map(|p| SessionName::parse(p.file_stem()?.to_str()?).ok())
        .map(|n| n.service_unit())
        .collect();
    let read = {
        let paths = paths.clone();
        tokio::task::spawn_blocking(move || read_ahead(&paths, files))
    };
    let (containers, states, read) = tokio::join!(
        async {
            let c = api.session_containers(None).await;
            crate::trace::mark("list: containers listed");
            c
        },
        async {
            let s = mgr.unit_states(&units).await;
            crate::trace::mark("list: unit states read");
            s
        },
        async {
            let r = read.await;
            crate::trace::mark("list: unit files and state directories read");
            r
        }
    );
    crate::trace::mark("list: files, containers and unit states read");
    let ReadAhead {
        mut files,
        mut dirs,
    } = read.map_err(|e| Error::failure("cannot read the unit files").with_source(e))?;
    files.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    let mut all = merge(files, containers?);
    let mut states: BTreeMap<String, UnitState> =
        states?.into_iter().map(|u| (u.name.clone(), u)).collect();
    // A file whose metadata names another session than its file name (an
    // edited file) was not asked for.
    let missing: Vec<String> = all
        .iter()
        .filter(|i| i.file.is_some() && !states.contains_key(&i.name.service_unit()))
        .map(|i| i.name.service_unit())
        .collect();
    if !missing.is_empty() {
        states.extend(
            mgr.unit_states(&missing)
                .await?
                .into_iter()
                .map(|u| (u.name.clone(), u)),
        );
    }
    for info in &mut all {
        if info.file.is_some() {
            info.unit = states.remove(&info.name.service_unit());
        }
        match dirs.remove(info.name.as_str()) {
            Some(read) => {
                read.fill(info);
                read_running_state(paths, info);
            }
            None => read_state_dir(paths, info),
        }
    }
    crate::trace::mark("list: merged");
    Ok(all)
}

/// What [`read_ahead`] read: ccy's unit files, and the state directories
/// ([`StateFiles`]) of the sessions they name, by session name.
struct ReadAhead {
    files: Vec<SessionFile>,
    dirs: BTreeMap<String, StateFiles>,
}

/// What a session's state directory holds whether or not it runs: the
/// last tmux status ([`agent_status::read_tmux`]) and, for a session that
/// keeps its layer, that layer's recorded size ([`keep::recorded_size`]).
struct StateFiles {
    tmux: Option<TmuxStatus>,
    kept_layer_bytes: Option<u64>,
}

impl StateFiles {
    /// Reads the state directory of session `name`, whose unit file's
    /// metadata is `meta` (when it has one).
    fn read(paths: &Paths, name: &str, meta: Option<&SessionMeta>) -> Self {
        let dir = paths.session_state_dir(name);
        Self {
            tmux: agent_status::read_tmux(&dir),
            kept_layer_bytes: meta
                .is_some_and(|m| m.kept_image.is_some())
                .then(|| keep::recorded_size(&dir)),
        }
    }

    /// Sets `info`'s fields from what was read.
    fn fill(self, info: &mut SessionInfo) {
        info.tmux = self.tmux;
        info.kept_layer_bytes = self.kept_layer_bytes;
    }
}

/// Sessions below which [`read_ahead`] stays on one thread (a thread
/// costs more than reading a few files).
const READ_AHEAD_PER_THREAD: usize = 64;

/// Reads the unit files `paths` (those that are ccy's:
/// [`store::read_session_file`]) and their sessions' state directories
/// ([`StateFiles`]),
/// on up to 4 threads (`available_parallelism`) when there are
/// more than [`READ_AHEAD_PER_THREAD`] files.
fn read_ahead(paths: &Paths, files: Vec<PathBuf>) -> ReadAhead {
    let read_one = |path: PathBuf| {
        let file = store::read_session_file(path)?;
        let status = StateFiles::read(paths, &file.meta.name, Some(&file.meta));
        Some((file, status))
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(4)
        .min(files.len().div_ceil(READ_AHEAD_PER_THREAD))
        .max(1);
    let read: Vec<_> = if threads == 1 {
        files.into_iter().filter_map(read_one).collect()
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = files
                .chunks(files.len().div_ceil(threads))
                .map(|c| {
                    s.spawn(move || c.iter().cloned().filter_map(read_one).collect::<Vec<_>>())
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        })
    };
    let mut out = ReadAhead {
        files: Vec::with_capacity(read.len()),
        dirs: BTreeMap::new(),
    };
    for (file, status) in read {
        out.dirs.insert(file.meta.name.clone(), status);
        out.files.push(file);
    }
    out
}

/// The sessions of `worktree`: ccy unit files whose metadata names it,
/// merged by name with containers labelled `ccy.worktree=ROOT` (one API
/// call), with their unit states and tmux status as [`all_sessions`] has
/// them, sorted by name.
///
/// # Errors
/// When the Quadlet directory, the API or the user manager fails.
pub async fn sessions_for_worktree(
    paths: &Paths,
    mgr: &UserManager,
    api: &PodmanApi,
    worktree: &Worktree,
) -> Result<Vec<SessionInfo>> {
    let root = worktree.root.to_string_lossy();
    let files = store::read_sessions(&paths.quadlet_dir)?
        .into_iter()
        .filter(|f| f.meta.worktree == worktree.root)
        .collect();
    gather(
        paths,
        mgr,
        files,
        api.session_containers(Some((LABEL_WORKTREE, &root))),
    )
    .await
}

/// `files` merged with the containers `containers` lists ([`merge`]), the
/// unit states of the files' units asked for while the containers are
/// listed, and each session's tmux status file.
async fn gather(
    paths: &Paths,
    mgr: &UserManager,
    files: Vec<SessionFile>,
    containers: impl Future<Output = Result<Vec<ContainerInfo>>>,
) -> Result<Vec<SessionInfo>> {
    let units: Vec<String> = files
        .iter()
        .filter_map(|f| f.name().ok())
        .map(|n| n.service_unit())
        .collect();
    let (containers, states) = tokio::join!(containers, mgr.unit_states(&units));
    let mut all = merge(files, containers?);
    let mut states: BTreeMap<String, UnitState> =
        states?.into_iter().map(|u| (u.name.clone(), u)).collect();
    for info in &mut all {
        if info.file.is_some() {
            info.unit = states.remove(&info.name.service_unit());
        }
        read_state_dir(paths, info);
    }
    Ok(all)
}

/// Fills `info`'s tmux status, kept layer's size
/// ([`keep::recorded_size`]) and agent record from its state directory
/// ([`agent_status`]). With a client attached, tmux's activity alerts are
/// off (they would ring its terminal), so for the few sessions someone has
/// open the tmux server itself is asked, through the host's tmux client.
/// Call it after `info.unit` (or its container) is set: it needs the state.
pub fn read_state_dir(paths: &Paths, info: &mut SessionInfo) {
    StateFiles::read(paths, info.name.as_str(), info.meta.as_ref()).fill(info);
    read_running_state(paths, info);
}

/// The second half of [`read_state_dir`], for a running session only (a
/// stopped one shows `stopped`: [`SessionInfo::agent`]): its agent record,
/// and with a client attached (per its status file) the status asked of
/// its tmux server now.
fn read_running_state(paths: &Paths, info: &mut SessionInfo) {
    if info.state() != State::Running {
        return;
    }
    let dir = paths.session_state_dir(info.name.as_str());
    info.agent = agent_status::read_agent(&dir);
    if info.tmux.is_some_and(|t| t.clients > 0) {
        let socket = dir.join(crate::host::tmux::SOCKET_IN_STATE_DIR);
        if let Some(live) = crate::host::tmux::live_status(&socket) {
            let mut t = TmuxStatus::parse(&live);
            t.updated = now_epoch();
            info.tmux = Some(t);
        }
    }
}

/// Sessions from unit files and containers, joined by name and sorted by
/// name: a file whose name ccy would not accept is skipped, a container
/// whose name is not a session name too. No unit state or tmux status yet.
pub(super) fn merge(
    files: impl IntoIterator<Item = SessionFile>,
    containers: impl IntoIterator<Item = ContainerInfo>,
) -> Vec<SessionInfo> {
    let mut by_name: BTreeMap<String, SessionInfo> = BTreeMap::new();
    for f in files {
        let Ok(name) = f.name() else { continue };
        by_name.insert(name.to_string(), SessionInfo::from_file(name, Some(f)));
    }
    for c in containers {
        let Ok(name) = SessionName::parse(&c.name) else {
            continue;
        };
        by_name
            .entry(name.to_string())
            .or_insert_with(|| SessionInfo::from_file(name, None))
            .container = Some(c);
    }
    by_name.into_values().collect()
}

/// The sessions `names` when each is exactly the name of a ccy unit file
/// (the first thing [`resolve`](super::resolve) matches): their files, unit states (one
/// `ListUnitsByNames` call) and tmux status files, without reading the
/// other sessions or asking Podman (whose API service may first have to
/// start). `None` when `names` is empty or one of them is not such a name:
/// then use [`all_sessions`] and [`resolve`](super::resolve). The sessions found have no
/// container information; their state comes from their units.
///
/// # Errors
/// When a unit file cannot be read or the user manager fails.
pub async fn named_sessions(
    paths: &Paths,
    mgr: &UserManager,
    names: &[String],
) -> Result<Option<Vec<SessionInfo>>> {
    let mut found = Vec::new();
    for query in names {
        let Ok(name) = SessionName::parse(query) else {
            return Ok(None);
        };
        let Some(file) = store::read_session(&paths.quadlet_dir, &name)? else {
            return Ok(None);
        };
        found.push(SessionInfo::from_file(name, Some(file)));
    }
    if found.is_empty() {
        return Ok(None);
    }
    let units: Vec<String> = found.iter().map(|s| s.name.service_unit()).collect();
    for (info, state) in found.iter_mut().zip(mgr.unit_states(&units).await?) {
        info.unit = Some(state);
        read_state_dir(paths, info);
    }
    Ok(Some(found))
}
