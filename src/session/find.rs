//! Every ccy session of the user, with its state, in a fixed number of
//! calls: the Quadlet directory is read (the record of every session, also
//! stopped ones), the Podman API lists containers once, the user manager
//! reports all units in one `ListUnitsByNames`, and each session's tmux
//! status is a small file its container writes into the session's state
//! directory. No process is run per session.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::contract::{
    AGENT_SOURCE_HOOK, AGENT_SOURCE_PANE, LABEL_BRANCH, LABEL_CREATED, LABEL_PROJECT,
    LABEL_WORKTREE,
};
use crate::error::{Error, ExitKind, Result};
use crate::host::git::Worktree;
use crate::host::podman::ContainerInfo;
use crate::host::podman::api::PodmanApi;
use crate::host::systemd::{ActiveState, UnitState, UserManager};
use crate::names::SessionName;
use crate::paths::Paths;
use crate::quadlet::spec::{SessionFile, SessionMeta};
pub use crate::session::agent_status::{AgentRecord, TmuxStatus};
use crate::session::{agent_status, store};

/// A session's state, from its unit (and container).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The unit is active and the container runs.
    Running,
    /// The unit is activating.
    Starting,
    /// The unit is deactivating.
    Stopping,
    /// The unit is inactive: only its files and volumes exist.
    Stopped,
    /// The unit failed (see `ccy logs`).
    Failed,
}

impl State {
    /// From the unit's `ActiveState` (systemd.unit(5) / org.freedesktop.
    /// systemd1(5)); `None` (no unit loaded) is stopped.
    #[must_use]
    pub fn from_unit(unit: Option<&UnitState>) -> Self {
        match unit.map(|u| &u.active_state) {
            Some(ActiveState::Active | ActiveState::Reloading | ActiveState::Refreshing) => {
                Self::Running
            }
            Some(ActiveState::Activating) => Self::Starting,
            Some(ActiveState::Deactivating) => Self::Stopping,
            Some(ActiveState::Failed) => Self::Failed,
            _ => Self::Stopped,
        }
    }

    /// The colour a table shows the state in.
    #[must_use]
    pub fn style(self) -> anstyle::Style {
        match self {
            Self::Running => crate::ui::GOOD,
            Self::Failed => crate::ui::BAD,
            Self::Starting | Self::Stopping | Self::Stopped => crate::ui::WARN,
        }
    }

    /// The lowercase word shown in tables.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Starting => "starting",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::Failed => "failed",
        }
    }
}

/// What the session's agent is doing, as `ccy list`, `ccy status` and
/// `ccy idle` see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentState {
    /// Started, or finished, and waiting for nothing in particular.
    Idle,
    /// Working on a prompt (or, from the pane, printing).
    Busy,
    /// Waiting for an answer: a permission prompt or a question.
    Waiting,
    /// Finished its turn; waits for the next prompt.
    Done,
    /// The agent ended its session (the container stops next).
    Exited,
    /// The session does not run.
    Stopped,
    /// Nothing is known (starting, stopping, or no status yet).
    Unknown,
}

impl AgentState {
    /// The state a hook wrote ([`crate::contract::AGENT_STATES`]).
    #[must_use]
    pub fn from_hook(word: &str) -> Option<Self> {
        Some(match word {
            "idle" => Self::Idle,
            "busy" => Self::Busy,
            "waiting" => Self::Waiting,
            "done" => Self::Done,
            "exited" => Self::Exited,
            _ => return None,
        })
    }

    /// The lowercase word shown in tables and JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Busy => "busy",
            Self::Waiting => "waiting",
            Self::Done => "done",
            Self::Exited => "exited",
            Self::Stopped => "stopped",
            Self::Unknown => "unknown",
        }
    }

    /// The colour a table shows the state in.
    #[must_use]
    pub fn style(self) -> anstyle::Style {
        match self {
            Self::Busy => crate::ui::GOOD,
            Self::Waiting => crate::ui::BAD,
            Self::Done => crate::ui::WARN,
            Self::Idle | Self::Exited | Self::Stopped | Self::Unknown => anstyle::Style::new(),
        }
    }

    /// Whether `ccy idle` must leave the session running: the agent works
    /// or waits for an answer.
    #[must_use]
    pub fn is_active(self) -> bool {
        matches!(self, Self::Busy | Self::Waiting)
    }
}

/// How long after the pane's last output an agent without hooks counts
/// as busy, seconds.
pub const PANE_BUSY_SECS: u64 = 30;

/// The agent's state with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentView {
    /// The state.
    pub state: AgentState,
    /// When it began, seconds since the epoch, when known.
    pub since: Option<u64>,
    /// [`AGENT_SOURCE_HOOK`] or [`AGENT_SOURCE_PANE`]; `None` for a
    /// session that does not run or reports nothing.
    pub source: Option<&'static str>,
    /// The hook event that set it.
    pub event: Option<String>,
    /// The agent's message, if any.
    pub message: Option<String>,
}

/// One session, as much as is known of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session name.
    pub name: SessionName,
    /// Its metadata (from the unit file), when ccy's file exists.
    pub meta: Option<SessionMeta>,
    /// Its `.container` file, when it exists.
    pub file: Option<PathBuf>,
    /// Its container, when one exists.
    pub container: Option<ContainerInfo>,
    /// Its unit's state.
    pub unit: Option<UnitState>,
    /// The last status its tmux wrote, when there is one.
    pub tmux: Option<TmuxStatus>,
    /// What its agent's hook last recorded, when there is a record.
    pub agent: Option<AgentRecord>,
}

impl SessionInfo {
    /// Session `name` as far as its unit file `file` (when there is one)
    /// tells: no container, unit state, tmux status or agent record yet.
    fn from_file(name: SessionName, file: Option<SessionFile>) -> Self {
        let (meta, file) = match file {
            Some(f) => (Some(f.meta), Some(f.path)),
            None => (None, None),
        };
        Self {
            name,
            meta,
            file,
            container: None,
            unit: None,
            tmux: None,
            agent: None,
        }
    }

    /// Whether the session is kept (`ccy keep`, `ccy new --keep`): the
    /// label `ccy.keep=true` in its unit file
    /// ([`crate::quadlet::keep::is_kept`]; `ccy keep` sets it there, the
    /// container gets it at its next start) or on its running container.
    /// Reads the unit file.
    #[must_use]
    pub fn kept(&self) -> bool {
        use crate::quadlet::keep;
        let on_container = self
            .container
            .as_ref()
            .and_then(|c| c.labels.get(keep::LABEL_KEEP))
            .is_some_and(|v| v == "true");
        on_container
            || self
                .file
                .as_ref()
                .and_then(|f| std::fs::read_to_string(f).ok())
                .is_some_and(|t| keep::is_kept(&t))
    }

    /// The session's state.
    #[must_use]
    pub fn state(&self) -> State {
        let state = State::from_unit(self.unit.as_ref());
        if state == State::Stopped
            && self
                .container
                .as_ref()
                .is_some_and(ContainerInfo::is_running)
        {
            // A running container with no unit of ours loaded.
            State::Running
        } else {
            state
        }
    }

    /// What the agent is doing at `now` (seconds since the epoch): the
    /// hook's record while the session runs; without one (an agent
    /// without ccy's hooks), busy when the pane printed within
    /// [`PANE_BUSY_SECS`], else idle since its last output; `stopped` when
    /// the session does not run.
    #[must_use]
    pub fn agent(&self, now: u64) -> AgentView {
        let view = |state, since, source| AgentView {
            state,
            since,
            source,
            event: None,
            message: None,
        };
        match self.state() {
            State::Running => {}
            State::Stopped | State::Failed => return view(AgentState::Stopped, None, None),
            State::Starting | State::Stopping => return view(AgentState::Unknown, None, None),
        }
        if let Some(r) = &self.agent
            && let Some(state) = AgentState::from_hook(&r.state)
        {
            return AgentView {
                state,
                since: Some(r.since),
                source: Some(AGENT_SOURCE_HOOK),
                event: (!r.event.is_empty()).then(|| r.event.clone()),
                message: r.message.clone(),
            };
        }
        match self.tmux {
            // The hooks' word: busy since the spell began, quiet since the
            // last output.
            Some(t) if t.output > 0 && t.pane_busy.is_some() => {
                if t.pane_busy == Some(true) {
                    view(AgentState::Busy, Some(t.output), Some(AGENT_SOURCE_PANE))
                } else {
                    view(AgentState::Idle, Some(t.output), Some(AGENT_SOURCE_PANE))
                }
            }
            Some(t) if t.output > 0 => {
                if now.saturating_sub(t.output) < PANE_BUSY_SECS {
                    view(AgentState::Busy, None, Some(AGENT_SOURCE_PANE))
                } else {
                    view(AgentState::Idle, Some(t.output), Some(AGENT_SOURCE_PANE))
                }
            }
            _ => view(AgentState::Unknown, None, None),
        }
    }

    /// Attached tmux clients, 0 unless running.
    #[must_use]
    pub fn clients(&self) -> u32 {
        match (self.state(), self.tmux) {
            (State::Running, Some(t)) => t.clients,
            _ => 0,
        }
    }

    /// The metadata value of a label, falling back to the container's label.
    fn field(&self, meta: impl Fn(&SessionMeta) -> String, label: &str) -> String {
        self.meta.as_ref().map_or_else(
            || {
                self.container
                    .as_ref()
                    .and_then(|c| c.labels.get(label).cloned())
                    .unwrap_or_default()
            },
            meta,
        )
    }

    /// The worktree its unit file records, when ccy's file exists: where
    /// its project configuration is read from.
    #[must_use]
    pub fn worktree_path(&self) -> Option<&std::path::Path> {
        self.meta.as_ref().map(|m| m.worktree.as_path())
    }

    /// The project.
    #[must_use]
    pub fn project(&self) -> String {
        self.field(|m| m.project.clone(), LABEL_PROJECT)
    }

    /// The worktree path.
    #[must_use]
    pub fn worktree(&self) -> String {
        self.field(
            |m| m.worktree.to_string_lossy().into_owned(),
            LABEL_WORKTREE,
        )
    }

    /// The branch at creation.
    #[must_use]
    pub fn branch(&self) -> String {
        self.field(|m| m.branch.clone(), LABEL_BRANCH)
    }

    /// Creation time, RFC 3339.
    #[must_use]
    pub fn created(&self) -> String {
        self.field(|m| m.created.clone(), LABEL_CREATED)
    }

    /// The image: for a session that keeps its layer, the clean image its
    /// own image (`localhost/ccy-kept:NAME`) grew from, as its unit file
    /// records it; else the container's when there is one, else the one the
    /// unit file names (empty when neither is known).
    #[must_use]
    pub fn image(&self) -> String {
        match (&self.container, &self.meta) {
            (_, Some(m)) if m.kept_image.is_some() => m.image.clone(),
            (Some(c), _) if !c.image.is_empty() => c.image.clone(),
            (_, Some(m)) => m.image.clone(),
            _ => String::new(),
        }
    }

    /// The last activity tmux reported (input, output or a client), seconds
    /// since the Unix epoch; `None` when there is no status or it says
    /// nothing. A stopped session keeps its last report.
    #[must_use]
    pub fn last_active(&self) -> Option<u64> {
        self.tmux.map(|t| t.last_active()).filter(|t| *t > 0)
    }
}

/// Lists every session: ccy's unit files merged by name with ccy's
/// containers (one API call), unit states (one D-Bus `ListUnitsByNames`
/// call, for the sessions that have a unit file) and each session's state
/// directory ([`read_state_dir`]). A container without a unit file of ccy's
/// gets no unit state; its state comes from the container. Sorted by name.
///
/// The three sources are asked at once: the unit names come from the
/// Quadlet directory's file names, so the user manager and Podman answer
/// while the unit files and state directories are read ([`read_ahead`], on
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
    let (containers, states, read) =
        tokio::join!(api.session_containers(None), mgr.unit_states(&units), read);
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
            Some(tmux) => {
                info.tmux = tmux;
                read_running_state(paths, info);
            }
            None => read_state_dir(paths, info),
        }
    }
    crate::trace::mark("list: merged");
    Ok(all)
}

/// What [`read_ahead`] read: ccy's unit files, and the tmux status files
/// ([`agent_status::read_tmux`]) of the sessions they name, by session
/// name.
struct ReadAhead {
    files: Vec<SessionFile>,
    dirs: BTreeMap<String, Option<TmuxStatus>>,
}

/// Sessions below which [`read_ahead`] stays on one thread (a thread
/// costs more than reading a few files).
const READ_AHEAD_PER_THREAD: usize = 64;

/// Reads the unit files `paths` (those that are ccy's:
/// [`store::read_session_file`]) and their sessions' tmux status files,
/// on up to 4 threads (`available_parallelism`) when there are
/// more than [`READ_AHEAD_PER_THREAD`] files.
fn read_ahead(paths: &Paths, files: Vec<PathBuf>) -> ReadAhead {
    let read_one = |path: PathBuf| {
        let file = store::read_session_file(path)?;
        let status = agent_status::read_tmux(&paths.session_state_dir(&file.meta.name));
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

/// Fills `info`'s tmux status and agent record from its state directory
/// ([`agent_status`]). With a client attached, tmux's activity alerts are
/// off (they would ring its terminal), so for the few sessions someone has
/// open the tmux server itself is asked, through the host's tmux client.
/// Call it after `info.unit` (or its container) is set: it needs the state.
pub fn read_state_dir(paths: &Paths, info: &mut SessionInfo) {
    info.tmux = agent_status::read_tmux(&paths.session_state_dir(info.name.as_str()));
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
fn merge(
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
/// (the first thing [`resolve`] matches): their files, unit states (one
/// `ListUnitsByNames` call) and tmux status files, without reading the
/// other sessions or asking Podman (whose API service may first have to
/// start). `None` when `names` is empty or one of them is not such a name:
/// then use [`all_sessions`] and [`resolve`]. The sessions found have no
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

/// Finds the one session `query` names: the exact name; else `ccy-QUERY`;
/// else the only session whose name (or name without `ccy-`) starts with
/// `query`; else the only one whose 8-hex id starts with `query` (at
/// least 4 hex digits).
///
/// # Errors
/// [`ExitKind::NotFound`] when none matches; [`ExitKind::Usage`] when
/// several do, listing them.
pub fn resolve<'a>(sessions: &'a [SessionInfo], query: &str) -> Result<&'a SessionInfo> {
    let name_of = |s: &&SessionInfo| s.name.as_str().to_owned();
    if let Some(s) = sessions
        .iter()
        .find(|s| s.name.as_str() == query || s.name.as_str() == format!("ccy-{query}"))
    {
        return Ok(s);
    }
    let stripped = |s: &SessionInfo| s.name.as_str().strip_prefix("ccy-").map(str::to_owned);
    let mut matches: Vec<&SessionInfo> = sessions
        .iter()
        .filter(|s| {
            s.name.as_str().starts_with(query) || stripped(s).is_some_and(|n| n.starts_with(query))
        })
        .collect();
    if matches.is_empty() && query.len() >= 4 && query.bytes().all(|b| b.is_ascii_hexdigit()) {
        let id = |s: &SessionInfo| {
            s.name
                .as_str()
                .rsplit_once('-')
                .map(|(_, id)| id.to_owned())
                .filter(|id| id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        matches = sessions
            .iter()
            .filter(|s| id(s).is_some_and(|id| id.starts_with(query)))
            .collect();
    }
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(
            Error::new(ExitKind::NotFound, format!("no session matches {query:?}"))
                .hint("list sessions with 'ccy list'"),
        ),
        many => Err(Error::usage(format!(
            "{query:?} matches {} sessions: {}",
            many.len(),
            many.iter().map(name_of).collect::<Vec<_>>().join(", ")
        ))
        .hint("give more of the name")),
    }
}

/// Seconds since the Unix epoch, now.
#[must_use]
pub fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// The lock file serialising lookup-or-create in one worktree.
#[must_use]
pub fn worktree_lock_path(paths: &Paths, worktree: &Worktree) -> PathBuf {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in worktree.root.as_os_str().as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    paths.lock_dir().join(format!("worktree-{h:016x}.lock"))
}

/// The worktree of the current directory, which a verb acts on when it
/// is given no session names; `None` when `named` (names were given, or
/// `--all`), without looking.
///
/// # Errors
/// Not in a git worktree ([`Worktree::discover`]).
pub fn here_unless(ctx: &crate::ctx::Ctx, named: bool) -> Result<Option<Worktree>> {
    if named {
        Ok(None)
    } else {
        Worktree::discover(&ctx.cwd).map(Some)
    }
}

/// Takes the worktree's lock (see [`worktree_lock_path`]).
///
/// # Errors
/// When the lock file cannot be created or locked.
pub fn lock_worktree(paths: &Paths, worktree: &Worktree) -> Result<crate::host::fs::Lock> {
    crate::host::fs::lock(&worktree_lock_path(paths, worktree))
}

/// The sessions a verb acts on: each of `names` resolved with
/// [`resolve`] (duplicates dropped, order kept), or when
/// `names` is empty, the sessions of the worktree `here` (its unit files'
/// metadata or its containers' label; none when `here` is `None`).
///
/// # Errors
/// As [`resolve`]; [`ExitKind::NotFound`] when `names` is empty
/// and the worktree has no session.
pub fn select<'a>(
    all: &'a [SessionInfo],
    names: &[String],
    here: Option<&Worktree>,
) -> Result<Vec<&'a SessionInfo>> {
    if names.is_empty() {
        let Some(here) = here else {
            return Ok(Vec::new());
        };
        let root = here.root.to_string_lossy();
        let mine: Vec<&SessionInfo> = all.iter().filter(|s| s.worktree() == root).collect();
        if mine.is_empty() {
            return Err(Error::new(
                ExitKind::NotFound,
                format!("the worktree {root} has no session"),
            )
            .hint("name the session (see 'ccy list'), or run ccy in its worktree"));
        }
        return Ok(mine);
    }
    let mut out: Vec<&SessionInfo> = Vec::new();
    for q in names {
        let s = resolve(all, q)?;
        if !out.iter().any(|o| o.name == s.name) {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn info(name: &str) -> SessionInfo {
        SessionInfo::from_file(SessionName::parse(name).unwrap(), None)
    }

    #[test]
    fn states_from_units() {
        let u = |a: &str| UnitState::example("x.service", "loaded", a);
        assert_eq!(State::from_unit(Some(&u("active"))), State::Running);
        assert_eq!(State::from_unit(Some(&u("failed"))), State::Failed);
        assert_eq!(State::from_unit(Some(&u("inactive"))), State::Stopped);
        assert_eq!(State::from_unit(Some(&u("activating"))), State::Starting);
        assert_eq!(State::from_unit(None), State::Stopped);
    }

    #[test]
    fn agent_records_parse_and_rank_above_the_pane() {
        let text = r#"{"state":"busy","since":100,"updated":160,"event":"PreToolUse","message":null,"source":"hook"}"#;
        let r = AgentRecord::parse(text).unwrap();
        assert_eq!((r.state.as_str(), r.since, r.updated), ("busy", 100, 160));
        assert_eq!(r.message, None);
        assert_eq!(
            AgentRecord::parse(r#"{"state":"sleepy","since":1,"updated":1}"#),
            None
        );
        assert_eq!(AgentRecord::parse("{"), None);
        assert_eq!(AgentRecord::parse(""), None);

        let u = |a: &str| UnitState::example("x.service", "loaded", a);
        let mut i = info("ccy-app-0123abcd");
        i.unit = Some(u("active"));
        // Nothing known yet.
        assert_eq!(i.agent(1000).state, AgentState::Unknown);
        // The pane: busy while it printed within PANE_BUSY_SECS, then idle
        // since its last output.
        i.tmux = Some(TmuxStatus {
            output: 1000,
            ..TmuxStatus::default()
        });
        let v = i.agent(1000 + PANE_BUSY_SECS - 1);
        assert_eq!(
            (v.state, v.since, v.source),
            (AgentState::Busy, None, Some("pane"))
        );
        let v = i.agent(1000 + PANE_BUSY_SECS);
        assert_eq!(
            (v.state, v.since, v.source),
            (AgentState::Idle, Some(1000), Some("pane"))
        );
        // tmux's hooks say when a printing spell began and ended.
        for (busy, now, state) in [
            (true, 9000, AgentState::Busy),
            (false, 1001, AgentState::Idle),
        ] {
            i.tmux = Some(TmuxStatus {
                output: 1000,
                pane_busy: Some(busy),
                ..TmuxStatus::default()
            });
            let v = i.agent(now);
            assert_eq!((v.state, v.since), (state, Some(1000)), "pane busy: {busy}");
        }
        // The hook's record wins over the pane.
        i.agent = Some(r);
        let v = i.agent(5000);
        assert_eq!(
            (v.state, v.since, v.source),
            (AgentState::Busy, Some(100), Some("hook"))
        );
        assert_eq!(v.event.as_deref(), Some("PreToolUse"));
        assert!(v.state.is_active());
        // A session that does not run is stopped, whatever the last record.
        i.unit = Some(u("inactive"));
        assert_eq!(i.agent(5000).state, AgentState::Stopped);
        i.unit = Some(u("failed"));
        assert_eq!(i.agent(5000).state, AgentState::Stopped);
        assert_eq!(i.agent(5000).source, None);
    }

    #[test]
    fn resolve_by_name_prefix_and_id() {
        let all = vec![
            info("ccy-app-0123abcd"),
            info("ccy-app-89abcdef"),
            info("ccy-web-0123ffff"),
            info("mine"),
        ];
        let name = |q: &str| resolve(&all, q).map(|s| s.name.to_string());
        assert_eq!(name("mine").unwrap(), "mine");
        assert_eq!(name("ccy-web-0123ffff").unwrap(), "ccy-web-0123ffff");
        assert_eq!(name("web").unwrap(), "ccy-web-0123ffff");
        assert_eq!(name("app-89").unwrap(), "ccy-app-89abcdef");
        assert_eq!(name("89abcdef").unwrap(), "ccy-app-89abcdef");
        assert_eq!(name("mi").unwrap(), "mine");
        assert_eq!(name("89ab").unwrap(), "ccy-app-89abcdef");
        assert_eq!(
            name("89a").unwrap_err().kind(),
            ExitKind::NotFound,
            "too short"
        );
        let two = name("0123").unwrap_err();
        assert_eq!(two.kind(), ExitKind::Usage, "two ids start with 0123");
        assert!(two.message().contains("ccy-app-0123abcd, ccy-web-0123ffff"));
        let amb = name("app").unwrap_err();
        assert_eq!(amb.kind(), ExitKind::Usage);
        assert!(amb.message().contains("ccy-app-0123abcd, ccy-app-89abcdef"));
        assert_eq!(name("nope").unwrap_err().kind(), ExitKind::NotFound);
    }

    fn file(name: &str) -> SessionFile {
        SessionFile {
            meta: SessionMeta {
                project: "p".into(),
                worktree: "/w".into(),
                created: "2026-01-01T00:00:00Z".into(),
                image: "i".into(),
                ..crate::quadlet::spec::example_meta(name)
            },
            path: format!("/q/{name}.container").into(),
        }
    }

    fn container(name: &str) -> ContainerInfo {
        ContainerInfo {
            id: format!("id-{name}"),
            name: name.into(),
            state: "running".into(),
            labels: BTreeMap::new(),
            image: "i".into(),
            started_at: Some(1),
        }
    }

    #[test]
    fn merge_joins_files_and_containers_by_name() {
        let found = merge(
            [file("b"), file("a")],
            [container("b"), container("orphan"), container("bad name")],
        );
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "orphan"]);
        assert!(found[0].file.is_some() && found[0].container.is_none());
        assert!(found[1].file.is_some() && found[1].container.is_some());
        assert!(found[2].file.is_none() && found[2].container.is_some());
    }

    #[test]
    fn lock_path_depends_on_the_worktree() {
        let paths = Paths::new(1, "/h".into(), None, None, None);
        let wt = |p: &str| Worktree {
            root: p.into(),
            git_dir: format!("{p}/.git").into(),
            common_dir: format!("{p}/.git").into(),
        };
        let a = worktree_lock_path(&paths, &wt("/a"));
        assert_eq!(a, worktree_lock_path(&paths, &wt("/a")));
        assert_ne!(a, worktree_lock_path(&paths, &wt("/b")));
        assert!(a.starts_with("/run/user/1/ccy"));
    }
}
