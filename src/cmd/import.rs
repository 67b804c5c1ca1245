//! `ccy import FILE.tar [NAME]`: make a session from an archive written by
//! `ccy export`, on this machine.

use std::path::PathBuf;

use clap::Args;

use crate::config::Config;
use crate::ctx::{Ctx, notice};
use crate::error::{Context, Error, ExitKind, Result};
use crate::host::git::Worktree;
use crate::host::podman::cli as podman_cli;
use crate::names::SessionName;
use crate::paths::display_home;
use crate::session::Host;
use crate::session::archive;
use crate::session::create::{self, NewSession, StateSource};
use crate::session::find;
use crate::session::store;
use crate::session::trust;

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
/// An archive comes from outside, so ccy shows what it would apply (the
/// worktree, the agent command, the image, the network, the mounts, SSH
/// keys and environment) and asks before it changes anything: on a
/// terminal it asks y/N; with --yes it imports; without a terminal and
/// without --yes it refuses (exit 2), unless you approved this archive's
/// manifest before with `ccy trust FILE.tar`. An archive whose
/// `session.ssh_keys` name anything but a file under `~/.ssh` (the Claude
/// token file among them), whose `session.env` would pass this machine's
/// variables, or that asks for a network that shares or opens the host's
/// (`host`, `container:NAME`, any `MODE:ARG`) is refused; --network
/// replaces the archive's network with one you choose.
///
/// The session keeps its name unless NAME is given; an existing name is
/// refused. It runs in the worktree the manifest names, which must be a git
/// worktree on this machine; when it is not (another machine, another
/// path), give the worktree with --worktree PATH. The worktree's files are
/// not in the archive: clone or check out the branch there first.
///
/// Exit status: 0 imported; 2 the archive is not a ccy archive or its
/// manifest is malformed, NAME invalid or taken, the state volume exists,
/// a value that does not pass the checks, an entry that is refused, no
/// terminal to ask on and no --yes; 3 the archive's format is newer
/// than this ccy, the worktree is missing or not a git worktree, no user
/// manager or Podman; 4 the image build or the unit failed (with its
/// journal); 5 no such token or network; 6 you answered no, or
/// `session.max_running` sessions already run; 130 interrupted (SIGINT,
/// SIGTERM, SIGHUP) after you approved: ccy took back what it had made of
/// the session, or, when the signal came after the session was whole,
/// says that it was imported.
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

    /// Import without asking: you reviewed what the archive applies.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// The Podman network for the session instead of the archive's (""
    /// for Podman's default, `none`, a network name; `host` only if you
    /// mean it).
    #[arg(long, value_name = "NET")]
    pub network: Option<String>,
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
    let (manifest, manifest_bytes) = archive::read(&file, &state)?;
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
    let loaded = ctx.config(Some(&worktree.root))?.finish()?;
    if let Some(options) = &meta.options {
        trust::check_archive_options(
            &args.file,
            options,
            &ctx.paths.home,
            args.network.as_deref(),
        )?;
    } else {
        // Without options the project file's keys apply, as for `ccy new`.
        trust::check_project(&ctx.paths, &loaded, &worktree)?;
    }
    let mut cfg = loaded.config;
    if let Some(options) = &meta.options {
        options.apply(&mut cfg)?;
    } else {
        notice(
            "the archive has no session options (an older session): using this worktree's configuration",
        );
    }
    if let Some(net) = &args.network {
        cfg.session.network.clone_from(net);
    }
    approve(ctx, args, &file, &manifest_bytes, &name, &worktree, &cfg)?;
    // From here (after the question, which Ctrl-C must still end) SIGINT,
    // SIGTERM and SIGHUP make ccy finish the import or take it back, never
    // leave half a session.
    crate::host::signal::catch()?;
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
    if let Some(signal) = crate::host::signal::caught() {
        return Err(Error::new(
            ExitKind::Interrupted,
            format!("interrupted by {signal} after session {name} was imported: it is complete"),
        )
        .hint(format!(
            "attach with 'ccy attach {name}', or remove it with 'ccy rm {name}'"
        )));
    }
    notice(&format!("attach with 'ccy attach {name}'"));
    Ok(())
}

/// Shows what the archive would apply, then gets the user's approval: an
/// earlier `ccy trust FILE.tar` of this exact manifest, `--yes`, or a y/N
/// answer on the terminal.
///
/// # Errors
/// [`ExitKind::Usage`] with no terminal and no `--yes`; [`ExitKind::Refused`]
/// when the user answers no.
fn approve(
    ctx: &Ctx,
    args: &ImportArgs,
    file: &std::path::Path,
    manifest: &[u8],
    name: &SessionName,
    worktree: &Worktree,
    cfg: &Config,
) -> Result<()> {
    let home = &ctx.paths.home;
    let s = &cfg.session;
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    let shown = args.file.display();
    crate::errln!("ccy: {shown} makes session {name}:");
    for (what, value) in [
        ("worktree", display_home(&worktree.root, home)),
        ("command", shell_words::join(&cfg.agent.command)),
        ("image", cfg.image.name.clone()),
        (
            "network",
            match s.network.trim() {
                "" => "Podman's default".to_owned(),
                n => n.to_owned(),
            },
        ),
        ("mounts", list(&s.mounts)),
        ("ssh keys", list(&s.ssh_keys)),
        ("env", list(&s.env)),
    ] {
        crate::errln!("  {what:<9} {value}");
    }
    if trust::privileged_network(&s.network) {
        trust::warn_network(&s.network);
    }
    let scope = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let sha = trust::sha256_hex(manifest);
    if args.yes || trust::is_approved(&trust::load(&trust::store_path(&ctx.paths))?, &scope, &sha) {
        return Ok(());
    }
    if !crate::ui::can_prompt() {
        return Err(Error::usage(format!(
            "not importing {shown} without your approval (no terminal to ask on)"
        ))
        .hint(format!(
            "review the above, then run 'ccy import {} --yes' (or approve the archive first with 'ccy trust {}')",
            shell_words::quote(&args.file.to_string_lossy()),
            shell_words::quote(&args.file.to_string_lossy())
        )));
    }
    if crate::ui::confirm("import it?") {
        Ok(())
    } else {
        Err(Error::new(
            ExitKind::Refused,
            "not imported: nothing changed",
        ))
    }
}
