//! Configuration: defaults, then `~/.config/ccy/config.toml`, then the
//! project's `.claude/ccy/config.toml`, then `CCY_*` environment variables,
//! then command-line flags. Later layers win key by key.
//!
//! Every layer is checked against the schema on its own, so an unknown key
//! is reported with the file (or variable) it came from. The effective value
//! of each key remembers its [`Source`] for `ccy config show`.
//!
//! The parts: `schema` (the sections' structs), `defaults` (the built-in
//! values, also the reference text), `loader` (the layers), `project`
//! (what a project file widens, for the trust check) and `table` (dotted
//! keys over TOML tables).

mod defaults;
mod loader;
mod project;
mod schema;
mod table;

use std::path::{Path, PathBuf};

pub use defaults::DEFAULTS;
pub use loader::{Loaded, Loader};
pub use project::{ProjectFile, Widening, widening_keys};
pub use schema::{
    AgentConfig, Config, HostEntry, HostsConfig, IdleConfig, ImageConfig, NOTIFY_STATES,
    NotifyConfig, PruneConfig, SessionConfig, Source,
};
pub use table::env_name;

use crate::error::Result;

/// Loads the configuration for a worktree from the standard layers (no
/// flags): defaults, `user_file`, `WORKTREE/.claude/ccy/config.toml`, the
/// process environment.
///
/// # Errors
/// As [`Loader::file`] and [`Loader::env`].
pub fn load(user_file: &Path, worktree: Option<&Path>) -> Result<Loader> {
    let mut loader = Loader::new().file(user_file)?;
    if let Some(wt) = worktree {
        loader = loader.project_file(&project_file(wt))?;
    }
    loader.env(std::env::vars())
}

/// The project configuration file of a worktree.
#[must_use]
pub fn project_file(worktree: &Path) -> PathBuf {
    worktree.join(".claude/ccy/config.toml")
}

#[cfg(test)]
mod tests;
