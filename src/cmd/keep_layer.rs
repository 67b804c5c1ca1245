//! `ccy keep-layer NAME STATE_DIR [IMAGE_FILE]` (hidden): the session unit's
//! `ExecStop=`, run by the user manager on every stop of the session.

use std::path::PathBuf;

use clap::Args;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::names::SessionName;
use crate::session::keep::{self, Kept};

/// Keep a stopping session's container layer (run by its unit's
/// `ExecStop=`, not by people).
///
/// Ends the session's tmux (the panes are saved first), then commits the
/// container's changes outside its volumes into the session's image
/// `localhost/ccy-kept:NAME`, which the unit runs next time (given the
/// session's image file, by naming that image in the file, which the
/// unit reads at every start); nothing is committed when nothing
/// changed. Above 10 kept layers they are rebased
/// into one on the clean image. One line goes to the unit's journal.
///
/// Exit status: 0 kept (or nothing to keep); 1 a Podman step failed (the
/// unit's stop goes on: its `ExecStop=` ignores the status).
#[derive(Debug, Args)]
pub struct KeepLayerArgs {
    /// The session (its full name).
    pub name: String,
    /// The session's state directory on the host (mounted at /run/ccy).
    pub state_dir: PathBuf,
    /// The session's image file (read by its unit at every start; in a
    /// directory no container can write); absent for units that name
    /// their image literally.
    pub image_file: Option<PathBuf>,
}

/// Runs [`keep::keep_layer`] and says what it did.
///
/// # Errors
/// An invalid name; as [`keep::keep_layer`].
pub fn run(_ctx: &Ctx, args: &KeepLayerArgs) -> Result<()> {
    let name = SessionName::parse(&args.name)?;
    match keep::keep_layer(&name, &args.state_dir, args.image_file.as_deref())? {
        Kept::Unchanged => {
            crate::outln!("{name}: nothing changed outside the volumes; no layer kept");
        }
        Kept::Committed { layers } => crate::outln!(
            "{name}: kept the container's changes in {} ({layers} kept layer{})",
            name.kept_image(),
            if layers == 1 { "" } else { "s" }
        ),
        Kept::Rebased => crate::outln!(
            "{name}: kept the container's changes in {} (kept layers rebased into one)",
            name.kept_image()
        ),
    }
    Ok(())
}
