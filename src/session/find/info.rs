//! One session as the listing sees it ([`SessionInfo`]), with the states
//! of its unit ([`State`]) and of its agent ([`AgentState`]) derived from
//! what was read.

use std::path::PathBuf;

use serde::Serialize;

use crate::contract::{
    AGENT_SOURCE_HOOK, AGENT_SOURCE_PANE, LABEL_BRANCH, LABEL_CREATED, LABEL_PROJECT,
    LABEL_WORKTREE,
};
use crate::host::podman::ContainerInfo;
use crate::host::systemd::{ActiveState, UnitState};
use crate::names::SessionName;
use crate::quadlet::spec::{SessionFile, SessionMeta};
use crate::session::agent_status::{AgentRecord, TmuxStatus};

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
    /// The size of its kept layer, bytes, as its last stop recorded it
    /// ([`crate::session::keep::recorded_size`]; 0 when not recorded),
    /// read with its state directory when its unit file names a kept
    /// image; `None` otherwise (a session made before ccy kept layers).
    pub kept_layer_bytes: Option<u64>,
}

impl SessionInfo {
    /// Session `name` as far as its unit file `file` (when there is one)
    /// tells: no container, unit state, tmux status or agent record yet.
    pub(super) fn from_file(name: SessionName, file: Option<SessionFile>) -> Self {
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
            kept_layer_bytes: None,
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
