//! What every command gets: resolved paths, the working directory and an
//! async runtime for the D-Bus and Podman API clients.

use std::future::Future;
use std::io::IsTerminal;
use std::path::PathBuf;

use crate::error::{Context, Result};
use crate::paths::Paths;

/// The context of one ccy run.
#[derive(Debug)]
pub struct Ctx {
    /// Host paths.
    pub paths: Paths,
    /// The directory ccy was started in.
    pub cwd: PathBuf,
    /// Whether standard input and output are terminals (prompts, colour).
    pub interactive: bool,
    runtime: tokio::runtime::Runtime,
}

impl Ctx {
    /// Builds the context from the process environment. zbus 6 and
    /// podman-api are async only; a current-thread tokio runtime drives them
    /// (ccy does one thing at a time, and it starts in microseconds).
    ///
    /// # Errors
    /// When the home directory, working directory or runtime is unavailable.
    pub fn from_env() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(Self {
            paths: Paths::from_env()?,
            cwd: current_dir_or_root(),
            interactive: std::io::stdin().is_terminal() && std::io::stdout().is_terminal(),
            runtime,
        })
    }

    /// The configuration for a session in `worktree` (the user's file, the
    /// project's `.claude/ccy/config.toml`, `CCY_*` variables), or the
    /// user's alone with `None`, ready for flags to be layered on before
    /// [`crate::config::Loader::finish`]. The one place ccy reads its
    /// configuration; verbs read it once and pass the values down.
    ///
    /// # Errors
    /// As [`crate::config::load`].
    pub fn config(&self, worktree: Option<&std::path::Path>) -> Result<crate::config::Loader> {
        crate::config::load(&self.paths.user_config_file(), worktree)
    }

    /// Runs `fut` to completion on the context's runtime.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.runtime.block_on(fut)
    }
}

/// The current directory; when it was deleted (or cannot be read), `/`,
/// made the process's directory too, so verbs given session names (`ccy
/// rm --force NAME`) and the processes they start still work, and verbs
/// that need a worktree say that `/` is none.
fn current_dir_or_root() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| {
        let root = PathBuf::from("/");
        std::env::set_current_dir(&root).ok();
        root
    })
}

/// Prints a one-line notice for the user on standard error (`ccy: …`).
pub fn notice(msg: &str) {
    crate::errln!("ccy: {msg}");
}
