//! The agent's state as its hooks write it: `agent.json`
//! ([`crate::contract::AGENT_STATUS_FILE`]) in the session's state
//! directory (`/run/ccy` in the container), replaced atomically by rename.
//! One JSON object: `{"state":"idle|busy|waiting|done|exited","since":S,
//! "updated":S,"event":"HOOK EVENT","message":TEXT|null,"source":"hook"}`
//! (times in seconds since the Unix epoch).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::contract::{AGENT_STATUS_FILE, STATUS_FILE};

/// The agent's state, from the session's `agent.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AgentStatus {
    /// `idle`, `busy`, `waiting`, `done` or `exited`.
    pub state: String,
    /// When the agent entered `state`, seconds since the Unix epoch.
    pub since: u64,
    /// When the file was last written, seconds since the Unix epoch.
    #[serde(default)]
    pub updated: u64,
    /// The hook event that wrote it (`Stop`, `Notification`, …).
    #[serde(default)]
    pub event: String,
    /// The agent's message (a `Notification`'s text), if any.
    #[serde(default)]
    pub message: Option<String>,
    /// Who wrote it: `hook` (the agent's hooks) or `pane` (pane activity).
    #[serde(default)]
    pub source: String,
}

/// Reads `STATE_DIR/agent.json`; `None` when it is missing or not valid
/// (a session without hooks, an older image, a file being replaced).
#[must_use]
pub fn read(state_dir: &Path) -> Option<AgentStatus> {
    let text = std::fs::read(state_dir.join(AGENT_STATUS_FILE)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The number of tmux clients attached to the session, from its tmux
/// status file (`clients=N`); 0 when it is missing.
#[must_use]
pub fn clients(state_dir: &Path) -> u32 {
    std::fs::read_to_string(state_dir.join(STATUS_FILE))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("clients="))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), None);
        assert_eq!(clients(dir.path()), 0);
        std::fs::write(
            dir.path().join("agent.json"),
            r#"{"state":"waiting","since":10,"updated":12,"event":"Notification","message":"May I run ls?","source":"hook"}"#,
        )
        .unwrap();
        let s = read(dir.path()).unwrap();
        assert_eq!(s.state, "waiting");
        assert_eq!(s.since, 10);
        assert_eq!(s.message.as_deref(), Some("May I run ls?"));
        std::fs::write(dir.path().join("agent.json"), "{not json").unwrap();
        assert_eq!(read(dir.path()), None);
        std::fs::write(
            dir.path().join("status"),
            "activity=1\noutput=2\nclients=2\nupdated=3\n",
        )
        .unwrap();
        assert_eq!(clients(dir.path()), 2);
    }
}
