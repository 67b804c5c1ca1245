//! `ccy import FILE.tar [NAME]`: make a session from an archive written by
//! `ccy export`, on this machine.

use std::path::PathBuf;

use clap::Args;

use crate::ctx::{Ctx, notice};
use crate::error::{Context, Error, Result};
use crate::host::git::Worktree;
use crate::host::podman::cli as podman_cli;
use crate::names::SessionName;
use crate::paths::display_home;
use crate::session::Host;
use crate::session::archive;
use crate::session::create::{self, NewSession, StateSource};
use crate::session::find;
use crate::session::store;

/// Make a session from an archive written by `ccy export`.
///
/// ccy checks the archive's manifest first (a newer format version than
/// this ccy reads, or a missing or malformed manifest, is refused before
/// anything changes), then makes the session as `ccy new` does, for this
/// machine: the unit files are rendered anew from the manifest's metadata
/// and options, each value passing the same checks as for `ccy new`
/// (mount sources and SSH keys must exist here; the image, the Claude
/// token and `session.max_running` come from this machine's
/// configuration). The session's agent-state volume is created by its
/// volume unit and filled with the archive's contents, and the session is
/// started (not attached); with --no-start it is left stopped.
///
/// The session keeps its name unless NAME is given; an existing name is
/// refused. It runs in the worktree the manifest names, which must be a git
/// worktree on this machine; when it is not (another machine, another
/// path), give the worktree with --worktree PATH. The worktree's files are
/// not in the archive: clone or check out the branch there first.
///
/// Exit status: 0 imported; 2 the archive is not a ccy archive or its
/// manifest is malformed, NAME invalid or taken, the state volume exists,
/// a value that does not pass the checks; 3 the archive's format is newer
/// than this ccy, the worktree is missing or not a git worktree, no user
/// manager or Podman; 4 the image build or the unit failed (with its
/// journal); 5 no such token or network; 6 `session.max_running` sessions
/// already run.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The archive (`ccy export NAME FILE.tar`).
    #[arg(value_name = "FILE.tar")]
    pub file: PathBuf,

    /// The session's name here; default: the name in the archive.
    pub name: Option<String>,

    /// The git worktree the session runs in, when the archive's path does
    /// not exist on this machine.
    #[arg(long, value_name = "PATH")]
    pub worktree: Option<PathBuf>,

    /// Create the session but leave it stopped (start it with `ccy attach
    /// NAME`).
    #[arg(long)]
    pub no_start: bool,
}

/// Imports the archive.
///
/// # Errors
/// See the exit status in [`ImportArgs`].
pub fn run(ctx: &Ctx, args: &ImportArgs) -> Result<()> {
    podman_cli::require_cli()?;
    let file = ctx.cwd.join(&args.file);
    let tmp = tempfile::Builder::new()
        .prefix("ccy-import-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let state = tmp.path().join(archive::STATE);
    let manifest = archive::read(&file, &state)?;
    let meta = &manifest.session;
    let name = SessionName::parse(args.name.as_deref().unwrap_or(&meta.name))?;
    let worktree = match &args.worktree {
        Some(p) => Worktree::discover(&ctx.cwd.join(p))?,
        None if meta.worktree.is_dir() => Worktree::discover(&meta.worktree)?,
        None => {
            return Err(Error::environment(format!(
                "the session's worktree {} does not exist on this machine",
                display_home(&meta.worktree, &ctx.paths.home)
            ))
            .hint(format!(
                "clone the repository and check out branch {}, then pass its path: 'ccy import {} --worktree PATH'",
                meta.branch,
                shell_words::quote(&args.file.to_string_lossy())
            )));
        }
    };
    let mut cfg = ctx.config(Some(&worktree.root))?.finish()?.config;
    if let Some(options) = &meta.options {
        options.apply(&mut cfg)?;
    } else {
        notice(
            "the archive has no session options (an older session): using this worktree's configuration",
        );
    }
    let name = ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        let _lock = find::lock_worktree(&ctx.paths, &worktree)?;
        let new = NewSession {
            name: Some(name),
            state_from: Some(StateSource::Archive(state.clone())),
            no_start: args.no_start,
            ..NewSession::default()
        };
        create::create(&host, &cfg, &worktree, new).await
    })?;
    store::write_session_id(&worktree, &name)?;
    crate::outln!(
        "imported session {name} ({}) in {}",
        if args.no_start { "stopped" } else { "running" },
        display_home(&worktree.root, &ctx.paths.home)
    );
    notice(&format!("attach with 'ccy attach {name}'"));
    Ok(())
}
