//! Every ccy session of the user, with its state, in a fixed number of
//! calls: the Quadlet directory is read (the record of every session, also
//! stopped ones), the Podman API lists containers once, the user manager
//! reports all units in one `ListUnitsByNames`, and each session's tmux
//! status is a small file its container writes into the session's state
//! directory. No process is run per session.
//!
//! [`SessionInfo`] is one session and what it shows (`info`); reading and
//! merging the sources is `read`; which sessions a verb's names mean is
//! `resolve`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod info;
mod read;
mod resolve;

pub use info::{AgentState, AgentView, PANE_BUSY_SECS, SessionInfo, State};
pub use read::{all_sessions, named_sessions, read_state_dir, sessions_for_worktree};
pub use resolve::{here_unless, lock_worktree, resolve, select, worktree_lock_path};

pub use crate::session::agent_status::{AgentRecord, TmuxStatus};

/// Seconds since the Unix epoch, now.
#[must_use]
pub fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

#[cfg(test)]
mod tests;
