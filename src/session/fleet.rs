//! The fleet's rows: one session of any host as `ccy list` (its table,
//! also with `--all-hosts`) and `ccy ui` show it. A session of this
//! machine is first an [`Entry`] (the documented `--json` object, built
//! from [`SessionInfo`]); another host sends its entries as JSON. Both
//! become one [`Row`], the only model the tables and the UI draw.

use serde::{Serialize, Serializer};

use std::path::PathBuf;

use crate::session::find::{AgentState, SessionInfo, State};
use crate::ui;

/// One session as `ccy list` shows it; its serialisation is the documented
/// `--json` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The session name.
    pub name: String,
    /// Its state.
    pub state: State,
    /// The project.
    pub project: String,
    /// The branch at creation.
    pub branch: String,
    /// The worktree, absolute.
    pub worktree: String,
    /// Creation time, RFC 3339.
    pub created: Option<String>,
    /// Last tmux activity, seconds since the Unix epoch (RFC 3339 in JSON).
    #[serde(serialize_with = "epoch_as_rfc3339")]
    pub last_active: Option<u64>,
    /// Attached tmux clients.
    pub clients: u32,
    /// The systemd unit, `NAME.service`.
    pub unit: String,
    /// The Quadlet `.container` file.
    pub unit_file: Option<PathBuf>,
    /// The full container id, when there is a container.
    pub container_id: Option<String>,
    /// The image.
    pub image: Option<String>,
    /// The size of the kept layer, bytes; `None` for a session that keeps
    /// no layer (made before ccy kept layers).
    pub kept_layer_bytes: Option<u64>,
    /// What the agent does.
    pub agent_state: AgentState,
    /// When that began, seconds since the Unix epoch (RFC 3339 in JSON).
    #[serde(serialize_with = "epoch_as_rfc3339")]
    pub agent_since: Option<u64>,
    /// Where the agent state came from: `hook` or `pane`.
    pub agent_source: Option<&'static str>,
    /// The agent's last message.
    pub agent_message: Option<String>,
}

#[expect(
    clippy::ref_option,
    reason = "serde's serialize_with passes a reference to the field"
)]
fn epoch_as_rfc3339<S: Serializer>(t: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&ui::rfc3339(*t)),
        None => s.serialize_none(),
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl Entry {
    /// What `ccy list` shows of `info` at `now` (seconds since the Unix
    /// epoch).
    #[must_use]
    pub fn from_info(info: &SessionInfo, now: u64) -> Self {
        let agent = info.agent(now);
        Self {
            name: info.name.to_string(),
            state: info.state(),
            project: info.project(),
            branch: info.branch(),
            worktree: info.worktree(),
            created: non_empty(info.created()),
            last_active: info.last_active(),
            clients: info.clients(),
            unit: info.name.service_unit(),
            unit_file: info.file.clone(),
            container_id: info
                .container
                .as_ref()
                .and_then(|c| non_empty(c.id.clone())),
            image: non_empty(info.image()),
            kept_layer_bytes: None,
            agent_state: agent.state,
            agent_since: agent.since,
            agent_source: agent.source,
            agent_message: agent.message,
        }
    }
}

/// One session as the tables and `ccy ui` show it, from any host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The host (`local` for this machine, else its name in `[hosts]`);
    /// `None` in `ccy list` without `--all-hosts`.
    pub host: Option<String>,
    /// The session name.
    pub name: String,
    /// Its state's word (`running`, `stopped`, …; a newer ccy on another
    /// host may send words this one does not know).
    pub state: String,
    /// The agent's state word; `None` from a ccy too old to send it.
    pub agent: Option<String>,
    /// When the agent's state began, seconds since the Unix epoch.
    pub agent_since: Option<u64>,
    /// The agent's last message (what a permission prompt asks).
    pub agent_message: Option<String>,
    /// The project.
    pub project: String,
    /// The branch at creation.
    pub branch: String,
    /// The worktree, absolute.
    pub worktree: String,
    /// Creation time, seconds since the Unix epoch.
    pub created: Option<u64>,
    /// Last tmux activity, seconds since the Unix epoch.
    pub last_active: Option<u64>,
    /// Attached tmux clients.
    pub clients: u32,
}

impl Row {
    /// The row of this machine's `entry`, on `host` when given.
    #[must_use]
    pub fn from_entry(host: Option<&str>, e: &Entry) -> Self {
        Self {
            host: host.map(str::to_owned),
            name: e.name.clone(),
            state: e.state.as_str().to_owned(),
            agent: Some(e.agent_state.as_str().to_owned()),
            agent_since: e.agent_since,
            agent_message: e.agent_message.clone(),
            project: e.project.clone(),
            branch: e.branch.clone(),
            worktree: e.worktree.clone(),
            created: e.created.as_deref().and_then(ui::parse_rfc3339),
            last_active: e.last_active,
            clients: e.clients,
        }
    }

    /// The row of one object of `ccy list --json` as `host` sent it;
    /// missing or mistyped fields are empty (an older ccy there).
    #[must_use]
    pub fn from_json(host: &str, r: &serde_json::Map<String, serde_json::Value>) -> Self {
        let text = |k: &str| {
            r.get(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let time = |k: &str| {
            r.get(k)
                .and_then(serde_json::Value::as_str)
                .and_then(ui::parse_rfc3339)
        };
        let agent = text("agent_state");
        Self {
            host: Some(host.to_owned()),
            name: text("name"),
            state: text("state"),
            agent: (!agent.is_empty()).then_some(agent),
            agent_since: time("agent_since"),
            agent_message: r
                .get("agent_message")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            project: text("project"),
            branch: text("branch"),
            worktree: text("worktree"),
            created: time("created"),
            last_active: time("last_active"),
            clients: r
                .get("clients")
                .and_then(serde_json::Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
        }
    }

    /// The colour of the state: green running, red failed, else yellow.
    #[must_use]
    pub fn state_style(&self) -> anstyle::Style {
        match self.state.as_str() {
            "running" => ui::GOOD,
            "failed" => ui::BAD,
            _ => ui::WARN,
        }
    }

    /// Whether the session runs (or is on its way up or down): `stop`
    /// has something to do.
    #[must_use]
    pub fn is_up(&self) -> bool {
        matches!(self.state.as_str(), "running" | "starting" | "stopping")
    }

    /// The agent column without colour: the state and how long it has
    /// held at `now` (`busy 3m`); `-` when the host did not say.
    #[must_use]
    pub fn agent_text(&self, now: u64) -> String {
        match (&self.agent, self.agent_since) {
            (None, _) => "-".to_owned(),
            (Some(w), Some(t)) => format!("{w} {}", ui::span(now.saturating_sub(t))),
            (Some(w), None) => w.clone(),
        }
    }

    /// The colour of the agent's state word ([`AgentState::style`]).
    #[must_use]
    pub fn agent_style(&self) -> anstyle::Style {
        agent_word(self.agent.as_deref().unwrap_or(""))
            .map_or_else(anstyle::Style::new, AgentState::style)
    }
}

/// The agent state a word of `ccy list --json` names.
fn agent_word(word: &str) -> Option<AgentState> {
    AgentState::from_hook(word).or(match word {
        "stopped" => Some(AgentState::Stopped),
        "unknown" => Some(AgentState::Unknown),
        _ => None,
    })
}
