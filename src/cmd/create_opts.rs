//! Options for creating a session, shared by `ccy` (which creates one when
//! the worktree has none) and `ccy new`.

use clap::Args;

use crate::config::{self, Loaded};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::git::Worktree;
use crate::lifecycle::NewSession;
use crate::names::SessionName;

/// How a new session is made.
#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Arguments for the agent of a new session, after `--` (appended to
    /// the configured agent command, e.g. `ccy -- --model opus`).
    #[arg(last = true, value_name = "AGENT_ARGS")]
    pub agent_args: Vec<String>,
}

impl CreateArgs {
    /// The effective configuration for `worktree`: defaults, user file,
    /// project file, `CCY_*` environment, then these flags.
    ///
    /// # Errors
    /// As [`config::load`].
    pub fn config(&self, ctx: &Ctx, worktree: &Worktree) -> Result<Loaded> {
        config::load(&ctx.paths.user_config_file(), Some(&worktree.root))?.finish()
    }

    /// The plain description of the session to create.
    #[must_use]
    pub fn new_session(&self, name: Option<SessionName>) -> NewSession {
        NewSession {
            name,
            agent_args: self.agent_args.clone(),
            ..NewSession::default()
        }
    }

    /// Whether any option was given that only matters for a new session.
    #[must_use]
    pub fn any(&self) -> bool {
        !self.agent_args.is_empty()
    }
}
