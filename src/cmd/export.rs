//! `ccy export NAME FILE.tar`: write a session (metadata, options, agent
//! state) into one archive that `ccy import` reads.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::ctx::{Ctx, notice};
use crate::error::{Context, Error, ExitKind, Result};
use crate::host::podman::cli as podman_cli;
use crate::session::Host;
use crate::session::archive::{self, Manifest};
use crate::session::find::{self, State};
use crate::session::store;

/// Write a session into one archive file, for `ccy import`.
///
/// The archive (a tar file) holds a manifest (`manifest.json`: the archive
/// format version, the ccy version, and the session's metadata — project,
/// worktree, branch, creation time, image — with the options it was made
/// with: agent command, mounts, environment, limits, network, autostart),
/// the session's unit files for reference (`units/`), and the contents of
/// its agent-state volume (`state.tar`, from `podman volume export`). The
/// worktree itself is not in it: it is in git.
///
/// The session may be running: its volume is then read as it is at that
/// moment (files the agent is writing may be caught half-way; ccy says
/// so). Stop it first (`ccy stop NAME`) for an exact copy. The archive is
/// written to a temporary file next to FILE and renamed into place; an
/// existing FILE is refused unless --force is given.
///
/// Exit status: 0 written; 2 NAME matches several sessions, FILE exists
/// (without --force); 3 no user manager or Podman; 4 the session has no
/// ccy unit file; 5 no session matches NAME; 1 the volume or the file
/// could not be read or written.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The session: name, name without `ccy-`, unique prefix, or 8-hex id
    /// (4+ digits suffice).
    pub name: String,

    /// The archive to write (a tar file).
    #[arg(value_name = "FILE.tar")]
    pub file: PathBuf,

    /// Replace FILE when it exists.
    #[arg(short, long)]
    pub force: bool,
}

/// Exports the session.
///
/// # Errors
/// See the exit status in [`ExportArgs`].
pub fn run(ctx: &Ctx, args: &ExportArgs) -> Result<()> {
    podman_cli::require_cli()?;
    let file = ctx.cwd.join(&args.file);
    if !args.force && file.symlink_metadata().is_ok() {
        return Err(
            Error::usage(format!("{} exists", file.display())).hint(format!(
                "choose another file, or add --force to replace it: 'ccy export --force {} {}'",
                args.name,
                shell_words::quote(&args.file.to_string_lossy())
            )),
        );
    }
    let (name, meta, live) = ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        let all = host.sessions().await?;
        let info = find::resolve(&all, &args.name)?;
        let (Some(meta), Some(_)) = (&info.meta, &info.file) else {
            return Err(Error::new(
                ExitKind::Session,
                format!(
                    "{} is a container without a ccy unit file: ccy cannot export it",
                    info.name
                ),
            )
            .hint("export a session listed by 'ccy list'"));
        };
        let live = info.state() != State::Stopped;
        Ok::<_, Error>((info.name.clone(), meta.clone(), live))
    })?;
    if live {
        notice(&format!(
            "{name} is running: exporting its agent state as it is now (files being written may be caught half-way; 'ccy stop {name}' first for an exact copy)"
        ));
    }
    let volume = meta.current_state_volume();
    let dir = file.parent().unwrap_or(Path::new("."));
    let tmp_state = tempfile::Builder::new()
        .prefix(".ccy-export-state-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    podman_cli::export_volume(&volume, tmp_state.path())?;
    let mut units = Vec::new();
    for unit in [name.container_file(), name.volume_file()] {
        let path = ctx.paths.quadlet_dir.join(&unit);
        if let Ok(text) = std::fs::read_to_string(&path) {
            units.push((unit, text));
        }
    }
    let manifest = Manifest {
        format: archive::FORMAT,
        ccy_version: env!("CARGO_PKG_VERSION").to_owned(),
        exported: store::now_rfc3339(),
        session: meta,
        state_volume: volume.clone(),
        live,
    };
    let out = tempfile::Builder::new()
        .prefix(".ccy-export-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    archive::write(out.as_file(), &manifest, &units, tmp_state.path())?;
    out.persist(&file).map_err(|e| {
        Error::failure(format!("cannot write {}", file.display())).with_source(e.error)
    })?;
    crate::outln!("exported session {name} to {}", file.display());
    notice(&format!(
        "it holds the agent state (volume {volume}) and the session's options; import it with 'ccy import {}'",
        shell_words::quote(&args.file.to_string_lossy())
    ));
    Ok(())
}
