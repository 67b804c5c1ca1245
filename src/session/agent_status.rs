//! The records in a session's state directory (`STATE_DIR/sessions/NAME`,
//! `/run/ccy` in the container), and the one place that reads them: the
//! agent's state as its hooks write it ([`AGENT_FILE`], replaced atomically
//! by rename) and tmux's status ([`STATUS_FILE`], written by
//! `/etc/ccy/status` on tmux's events). `ccy list`, `ccy status`, `ccy
//! idle` (through [`crate::session::find`]) and the notifier all read them
//! here. Times are seconds since the Unix epoch.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::contract::{AGENT_FILE, AGENT_STATES, STATUS_FILE};

/// What the session's tmux last reported (`/etc/ccy/status` in the image
/// writes `STATE_DIR/sessions/NAME/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TmuxStatus {
    /// tmux `session_activity`: last input, seconds since the epoch.
    pub activity: u64,
    /// tmux `window_activity`: last pane output, seconds since the epoch.
    pub output: u64,
    /// The latest `client_activity` of attached clients (0: none).
    pub client_activity: u64,
    /// tmux `session_attached`: attached clients.
    pub clients: u32,
    /// When the file was written, seconds since the epoch.
    pub updated: u64,
    /// The pane's printing spell as tmux's hooks saw it (`pane=busy` or
    /// `quiet`); `None` from an image older than the event-driven status.
    pub pane_busy: Option<bool>,
}

impl TmuxStatus {
    /// Parses the `key=value` lines of a status file; unknown keys are
    /// ignored, missing ones are 0.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let mut s = Self::default();
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            if k.trim() == "pane" {
                s.pane_busy = match v.trim() {
                    "busy" => Some(true),
                    "quiet" => Some(false),
                    _ => None,
                };
                continue;
            }
            let n = v.trim().parse::<u64>().unwrap_or(0);
            match k.trim() {
                "activity" => s.activity = n,
                "output" => s.output = n,
                "client_activity" => s.client_activity = n,
                "clients" => s.clients = u32::try_from(n).unwrap_or(u32::MAX),
                "updated" => s.updated = n,
                _ => {}
            }
        }
        s
    }

    /// The last activity of any kind (input, output, client), seconds since
    /// the epoch; 0 when unknown.
    #[must_use]
    pub fn last_active(&self) -> u64 {
        self.activity.max(self.output).max(self.client_activity)
    }
}

/// What the agent's hook last recorded: [`crate::contract::AGENT_FILE`]
/// in the session's state directory (written by `/etc/ccy/agent-hook`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AgentRecord {
    /// One of [`crate::contract::AGENT_STATES`].
    pub state: String,
    /// When this state began, seconds since the epoch.
    pub since: u64,
    /// The last event, seconds since the epoch (0 when the file lacks it).
    #[serde(default)]
    pub updated: u64,
    /// The hook event's name (`Stop`, `PreToolUse`, …).
    #[serde(default)]
    pub event: String,
    /// The agent's message (a notification's text), if any.
    #[serde(default)]
    pub message: Option<String>,
}

impl AgentRecord {
    /// Parses the file's JSON; `None` when it is not such an object or its
    /// state is not one of [`crate::contract::AGENT_STATES`].
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let r: Self = serde_json::from_str(text).ok()?;
        AGENT_STATES.contains(&r.state.as_str()).then_some(r)
    }
}

/// Reads `STATE_DIR/agent.json` ([`AGENT_FILE`]); `None` when it is
/// missing or not valid (a session without hooks, an older image, a state
/// this version does not know).
#[must_use]
pub fn read_agent(state_dir: &Path) -> Option<AgentRecord> {
    crate::host::fs::read_small(&state_dir.join(AGENT_FILE))
        .ok()
        .and_then(|t| AgentRecord::parse(&t))
}

/// Reads `STATE_DIR/status` ([`STATUS_FILE`]); `None` when it is missing.
#[must_use]
pub fn read_tmux(state_dir: &Path) -> Option<TmuxStatus> {
    crate::host::fs::read_small(&state_dir.join(STATUS_FILE))
        .ok()
        .map(|t| TmuxStatus::parse(&t))
}

/// The number of tmux clients attached to the session, from its tmux
/// status file (`clients=N`); 0 when it is missing.
#[must_use]
pub fn clients(state_dir: &Path) -> u32 {
    read_tmux(state_dir).map_or(0, |t| t.clients)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_agent(dir.path()), None);
        assert_eq!(clients(dir.path()), 0);
        std::fs::write(
            dir.path().join("agent.json"),
            r#"{"state":"waiting","since":10,"updated":12,"event":"Notification","message":"May I run ls?","source":"hook"}"#,
        )
        .unwrap();
        let s = read_agent(dir.path()).unwrap();
        assert_eq!(s.state, "waiting");
        assert_eq!(s.since, 10);
        assert_eq!(s.message.as_deref(), Some("May I run ls?"));
        std::fs::write(dir.path().join("agent.json"), "{not json").unwrap();
        assert_eq!(read_agent(dir.path()), None);
        std::fs::write(
            dir.path().join("status"),
            "activity=1\noutput=2\nclients=2\nupdated=3\n",
        )
        .unwrap();
        assert_eq!(clients(dir.path()), 2);
    }

    #[test]
    fn status_files_parse() {
        let s = TmuxStatus::parse(
            "activity=100\noutput=250\nclients=2\nclient_activity=200\nupdated=300\npane=busy\njunk\nx=y\n",
        );
        assert_eq!(
            s,
            TmuxStatus {
                activity: 100,
                output: 250,
                client_activity: 200,
                clients: 2,
                updated: 300,
                pane_busy: Some(true),
            }
        );
        assert_eq!(TmuxStatus::parse("pane=quiet\n").pane_busy, Some(false));
        assert_eq!(s.last_active(), 250);
        assert_eq!(TmuxStatus::parse(""), TmuxStatus::default());
    }
}
