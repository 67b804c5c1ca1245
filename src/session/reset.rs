//! Taking a session back to a clean start: `--fresh` drops its kept layer
//! and recreates its container from the clean image, `--reset` gives it a
//! new, empty agent-state volume (its kept layer stays).

use std::path::Path;

use crate::ctx::notice;
use crate::error::{Context, Error, ExitKind, Result};
use crate::host::systemd::JobResult;
use crate::names::SessionName;
use crate::quadlet::spec::SessionMeta;
use crate::quadlet::{meta, render};
use crate::session::find::{SessionInfo, State};
use crate::session::{Host, keep, start};

/// The unit file of a session that --fresh or --reset can act on.
fn unit_file(info: &SessionInfo) -> Result<(&Path, &SessionMeta)> {
    match (&info.file, &info.meta) {
        (Some(file), Some(meta)) => Ok((file.as_path(), meta)),
        _ => Err(Error::new(
            ExitKind::Session,
            format!(
                "{} is a container without a ccy unit file: ccy cannot recreate it",
                info.name
            ),
        )
        .hint(format!("restart it with 'podman restart {}'", info.name))),
    }
}

/// `--fresh`: the one way back to the clean image. Stops the session
/// (its stop keeps the container's layer, as every stop does), drops the
/// kept layer, saying what it drops (the image and its size), and starts
/// the session in a new container from the clean image. A session made
/// before ccy kept layers is restarted (a new container) or started.
/// # Errors
/// A session without a ccy unit file ([`ExitKind::Session`]); a stop job
/// that fails; Podman errors; as [`start::start_session`] and
/// [`start::restart_unit`].
pub async fn fresh(host: &Host<'_>, info: &SessionInfo, max_running: u32) -> Result<()> {
    let (_, meta) = unit_file(info)?;
    let name = &info.name;
    if meta.kept_image.is_some() {
        stop_unit(&host.mgr, name).await?;
        let dropped = keep::drop_layer(name, &meta.image, meta.image_file.as_deref())?;
        keep::record_size(&host.paths().session_state_dir(name.as_str()), None);
        match dropped {
            Some(layer) => notice(&format!(
                "dropped the kept layer of session {name}: {} in {} (everything written outside its volumes since it was created or last made fresh)",
                crate::ui::bytes(layer.bytes),
                name.kept_image()
            )),
            None => notice(&format!(
                "session {name} had no kept layer (nothing written outside its volumes)"
            )),
        }
        start::start_session(host, name, max_running).await?;
        notice(&format!(
            "started session {name} in a new container from its clean image {}",
            meta.image
        ));
    } else if info.state() == State::Stopped {
        start::start_session(host, name, max_running).await?;
        notice(&format!("started session {name} in a new container"));
    } else {
        start::restart_unit(&host.mgr, host.paths(), name).await?;
        notice(&format!("recreated the container of session {name}"));
    }
    Ok(())
}

/// Stops `name`'s unit and waits for the job.
async fn stop_unit(mgr: &crate::host::systemd::UserManager, name: &SessionName) -> Result<()> {
    let unit = name.service_unit();
    match mgr.stop(&unit).await? {
        JobResult::Done | JobResult::Skipped => Ok(()),
        result => Err(Error::new(
            ExitKind::Session,
            format!("cannot stop {unit} (job {})", result.as_str()),
        )
        .hint(format!("see 'journalctl --user -u {unit}'"))),
    }
}

/// `--reset`: points the session's `NAME.volume` unit at a new Podman
/// volume (`NAME-state-K`, the first K from 2 that no volume has) and
/// records it in the metadata line; stops the session (and its volume
/// unit, so that it runs again), reloads the user manager once, starts
/// the session. The old volume is kept and named.
/// # Errors
/// A session without a ccy unit file or a stop job that fails
/// ([`ExitKind::Session`]); file, D-Bus and API errors as they come; as
/// [`start::start_session`].
pub async fn reset(host: &Host<'_>, info: &SessionInfo, max_running: u32) -> Result<()> {
    let (mgr, api) = (&host.mgr, host.api().await?);
    let (file, meta) = unit_file(info)?;
    let name = &info.name;
    let old = meta.current_state_volume();
    let mut k = 2u32;
    let new = loop {
        let candidate = format!("{}-{k}", name.state_volume());
        if !api.volume_exists(&candidate).await? {
            break candidate;
        }
        k += 1;
    };
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut new_meta = meta.clone();
    new_meta.state_volume = Some(new.clone());
    let container = meta::replace_meta(&text, &new_meta)
        .ok_or_else(|| Error::failure(format!("{} has no ccy metadata line", file.display())))?;
    let volume = render::state_volume(name, &new, &meta.project)?;
    stop_unit(mgr, name).await?;
    // The volume unit is a oneshot that stays active: stop it so that the
    // next start runs it again and creates the new volume.
    let _ = mgr.stop(&name.volume_unit()).await;
    let dir = &host.paths().quadlet_dir;
    crate::host::fs::write_atomic(
        &dir.join(name.volume_file()),
        volume.as_bytes(),
        crate::session::store::UNIT_FILE_MODE,
    )?;
    crate::host::fs::write_atomic(
        &dir.join(name.container_file()),
        container.as_bytes(),
        crate::session::store::UNIT_FILE_MODE,
    )?;
    mgr.reload().await?;
    start::start_session(host, name, max_running).await?;
    notice(&format!(
        "session {name} has a new agent-state volume {new}; kept the old one, {old} (remove it with 'podman volume rm {old}')"
    ));
    Ok(())
}
