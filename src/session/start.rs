//! Starting a session's unit and waiting until its tmux is ready.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::contract::{PANES_DIR, PANES_FAILED, READY_FILE};
use crate::ctx::notice;
use crate::error::{Context, Error, ExitKind, Result};
use crate::host::systemd::{JobResult, UserManager, journal};
use crate::names::SessionName;
use crate::paths::Paths;
use crate::session::checks::check_capacity;
use crate::session::find::{SessionInfo, State};
use crate::session::image::{self, ImageSpec};
use crate::session::{Host, token};

/// Starts `name`'s unit (clearing a previous failed state), waits for the
/// start job, then for the session's tmux to report ready (see
/// [`wait_ready`]).
///
/// # Errors
/// [`ExitKind::Session`] when the job does not end `done` or the unit stops
/// before tmux is ready, with the last journal lines of the unit and hints;
/// D-Bus errors as they come.
pub async fn start_unit(mgr: &UserManager, paths: &Paths, name: &SessionName) -> Result<()> {
    run_unit(mgr, paths, name, false).await
}

/// Restarts `name`'s unit (`RestartUnit`: Quadlet removes the container
/// and creates a new one from the image, with the same volumes), waits for
/// the job and for the new tmux to report ready, as [`start_unit`] does.
/// A stopped unit is started.
///
/// # Errors
/// As [`start_unit`].
pub async fn restart_unit(mgr: &UserManager, paths: &Paths, name: &SessionName) -> Result<()> {
    run_unit(mgr, paths, name, true).await
}

async fn run_unit(
    mgr: &UserManager,
    paths: &Paths,
    name: &SessionName,
    restart: bool,
) -> Result<()> {
    let unit = name.service_unit();
    let state_dir = paths.session_state_dir(name.as_str());
    // The unit bind-mounts the state directory: one deleted by hand (or by
    // a clean-up tool) would make the start fail with `statfs … no such
    // file`. ccy's own directories are recreated, private to the user.
    crate::session::store::ensure_private_dir(&state_dir)?;
    crate::session::store::make_unit_files_private(&paths.quadlet_dir, name);
    let ready = state_dir.join(READY_FILE);
    match std::fs::remove_file(&ready) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("cannot remove {}", ready.display()));
        }
        _ => {}
    }
    mgr.reset_failed(&unit).await?;
    crate::trace::mark("start: queueing the start job");
    let job = if restart {
        mgr.restart(&unit).await?
    } else {
        mgr.start(&unit).await?
    };
    match job {
        JobResult::Done => {
            crate::trace::mark("start: job done");
            let r = wait_ready(mgr, name, &ready).await;
            crate::trace::mark("start: tmux ready");
            r
        }
        result => Err(unit_failed(name, &format!("job {}", result.as_str()))),
    }
}

/// How long a started session may take to create its tmux session.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Waits until the session's tmux has created session `main`: its
/// configuration's last command creates `ready` in the session's state
/// directory (a host directory, so this costs no process). The start job
/// ends when the container is running (Quadlet's default `--sdnotify=conmon`),
/// which is before its main process has proven itself; if the unit leaves
/// the active state first, the session failed.
///
/// # Errors
/// [`ExitKind::Session`] with the journal when the unit stops first or
/// `READY_TIMEOUT` (30 s) passes.
pub async fn wait_ready(mgr: &UserManager, name: &SessionName, ready: &Path) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut polls: u32 = 0;
    loop {
        if ready.exists() {
            return Ok(());
        }
        // File checks are cheap; ask the manager every 50 ms.
        if polls.is_multiple_of(10) {
            let state = mgr.unit_state(&name.service_unit()).await?;
            if !state.is_up() {
                return Err(unit_failed(
                    name,
                    &format!(
                        "the unit became {} before tmux was ready",
                        state.active_state
                    ),
                ));
            }
        }
        if Instant::now() > deadline {
            return Err(unit_failed(
                name,
                &format!(
                    "tmux did not report ready within {} s",
                    READY_TIMEOUT.as_secs()
                ),
            ));
        }
        polls += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The error for a unit that failed to start: last journal lines as details.
#[must_use]
pub fn unit_failed(name: &SessionName, why: &str) -> Error {
    let unit = name.service_unit();
    let mut err = Error::new(
        ExitKind::Session,
        format!("session {name} failed to start ({why}); last lines of its journal:"),
    );
    for line in journal::tail(&unit, 15) {
        err = err.detail(line);
    }
    err.hint(format!(
        "see the whole log with 'journalctl --user -u {unit}'"
    ))
    .hint("check the setup with 'ccy doctor'")
}

/// Makes sure a session found by [`crate::session::find`] runs: starts
/// its unit (through [`start_session`]) when it is stopped or failed,
/// warning first when it shares or opens the host's network
/// ([`crate::session::trust::warn_network`]).
/// Returns whether it started it.
///
/// # Errors
/// [`ExitKind::Session`] when a session without a unit file is not
/// running (ccy cannot start it), or the start fails; as
/// [`start_session`].
pub async fn ensure_running(host: &Host<'_>, info: &SessionInfo, max_running: u32) -> Result<bool> {
    if info.state() == State::Running {
        return Ok(false);
    }
    if info.file.is_none() {
        return Err(Error::new(
            ExitKind::Session,
            format!(
                "{} is a container without a ccy unit file, and it is not running",
                info.name
            ),
        )
        .hint(format!("start it with 'podman start {}'", info.name)));
    }
    warn_network(info);
    start_session(host, &info.name, max_running).await?;
    Ok(true)
}

/// Warns (before a start) when the session `info` shares or opens the
/// host's network, as its unit file's options say
/// ([`crate::session::trust::warn_network`]).
pub fn warn_network(info: &SessionInfo) {
    if let Some(o) = info.meta.as_ref().and_then(|m| m.options.as_ref()) {
        crate::session::trust::warn_network(&o.network);
    }
}

/// Starts a stopped session: refused when `max_running`
/// (`session.max_running` from the configuration of the session's
/// worktree) sessions run ([`check_capacity`]); the Claude token secrets
/// are refreshed first so a renewed token is used
/// ([`token::refresh_secrets`]); then [`start_unit`]. Points the user at
/// the panes saved when it last stopped.
///
/// # Errors
/// As [`check_capacity`] and [`start_unit`].
pub async fn start_session(host: &Host<'_>, name: &SessionName, max_running: u32) -> Result<()> {
    let (paths, mgr, api) = (host.paths(), &host.mgr, host.api().await?);
    check_capacity(paths, mgr, api, max_running, Some(name)).await?;
    token::refresh_secrets(api, &paths.home).await;
    ensure_image(host, name).await?;
    ensure_kept_image(api, paths, name).await?;
    // Read before the start: the marker stays until a save works.
    let save_failed = panes_save_failed(paths, name);
    start_unit(mgr, paths, name).await?;
    match (save_failed, last_panes(paths, name)) {
        (false, Some(file)) => notice(&format!(
            "the panes as they were when {name} stopped are in {}",
            file.display()
        )),
        (false, None) => {}
        (true, file) => notice(&format!(
            "warning: the panes could not be saved when {name} last stopped (a full disk? see 'journalctl --user -u {}'); {}",
            name.service_unit(),
            file.map_or_else(
                || "there is no earlier save".to_owned(),
                |f| format!("the newest earlier save is {}", f.display())
            )
        )),
    }
    Ok(())
}

/// Builds the image of session `name` again when it is gone (removed by
/// `podman rmi` or `podman system prune -a`), so the start does not try
/// to pull a local image from a registry. The image is ccy's agent image
/// (or the project's, built on it from `.claude/ccy/Dockerfile`) as the
/// configuration of the session's worktree describes it now; a session
/// whose image that configuration no longer names is refused. A session
/// whose kept image ([`ensure_kept_image`]) exists needs nothing.
///
/// # Errors
/// When the API fails, the configuration is invalid, the build fails, or
/// the configuration no longer makes the session's image
/// ([`ExitKind::Session`]).
async fn ensure_image(host: &Host<'_>, name: &SessionName) -> Result<()> {
    let (paths, api) = (host.paths(), host.api().await?);
    let Some(file) = crate::session::store::read_session(&paths.quadlet_dir, name)? else {
        return Ok(());
    };
    let (image, worktree) = (&file.meta.image, &file.meta.worktree);
    // A session that runs its own image (it kept a layer) has the clean
    // one's layers in it: only when that is gone too is a build needed
    // (then ensure_kept_image starts it from the rebuilt clean image).
    if let Some(kept) = &file.meta.kept_image
        && crate::session::keep::runs_kept_image(&file.meta)
        && api.image_exists(kept).await?
    {
        return Ok(());
    }
    if api.image_exists(image).await? {
        return Ok(());
    }
    notice(&format!(
        "the image {image} of session {name} is gone: building it again"
    ));
    let config = host.ctx.config(Some(worktree))?.finish()?.config;
    let spec = ImageSpec {
        name: config.image.name.clone(),
        base: config.image.base.clone(),
        agent_install: config.image.agent_install.clone(),
    };
    image::ensure(api, &spec, &mut std::io::stderr()).await?;
    let built = if *image == spec.name {
        spec.name.clone()
    } else {
        image::ensure_project(
            api,
            worktree,
            &file.meta.project,
            &spec.name,
            &mut std::io::stderr(),
        )
        .await?
    };
    if built == *image && api.image_exists(image).await? {
        return Ok(());
    }
    Err(Error::new(
        ExitKind::Session,
        format!("cannot build the image {image} of session {name} again: the configuration of its worktree now makes {built}"),
    )
    .hint(format!(
        "make a new session instead ('ccy new'), and remove this one with 'ccy rm {name}'"
    )))
}

/// Whether saving the panes failed when `name` last stopped: the image's
/// `save-panes` left [`PANES_FAILED`] in [`panes_dir`] (it removes it
/// after a save that works).
#[must_use]
pub fn panes_save_failed(paths: &Paths, name: &SessionName) -> bool {
    panes_dir(paths, name)
        .join(PANES_FAILED)
        .symlink_metadata()
        .is_ok()
}

/// Makes sure a session that keeps its layer has its image before its
/// unit starts: one removed by hand (`podman rmi`, `podman image prune
/// -a`) is the clean image again, saying so (the unit would fail to pull
/// it otherwise): for a session with an image file
/// ([`crate::quadlet::spec::SessionMeta::image_file`]) by removing the
/// file, for one whose unit names its image literally by tagging the
/// clean image. An image file that names anything but the session's own
/// kept image is refused ([`crate::session::keep::image_file_names_kept`]):
/// the session is not started.
///
/// # Errors
/// When the unit file cannot be read, the API fails, or the image file
/// is refused or cannot be removed.
async fn ensure_kept_image(
    api: &crate::host::podman::api::PodmanApi,
    paths: &Paths,
    name: &SessionName,
) -> Result<()> {
    let Some(file) = crate::session::store::read_session(&paths.quadlet_dir, name)? else {
        return Ok(());
    };
    let Some(image) = &file.meta.kept_image else {
        return Ok(());
    };
    let image_file = file.meta.image_file.as_deref();
    if let Some(f) = image_file
        && !crate::session::keep::image_file_names_kept(f, name)?
    {
        return Ok(()); // runs its clean image
    }
    if api.image_exists(image).await? {
        return Ok(());
    }
    notice(&format!(
        "the image {image} of session {name} is gone (its kept layer with it); starting from {}",
        file.meta.image
    ));
    crate::session::keep::record_size(&paths.session_state_dir(name.as_str()), None);
    crate::session::keep::start_clean(api, name, &file.meta.image, image_file).await
}

/// The directory where a session's panes are saved when it stops, on the
/// host: `STATE_DIR/sessions/NAME/panes` (`/run/ccy/panes` in the
/// container; written by the image's `/etc/ccy/save-panes`).
#[must_use]
pub fn panes_dir(paths: &Paths, name: &SessionName) -> PathBuf {
    paths.session_state_dir(name.as_str()).join(PANES_DIR)
}

/// The newest saved pane file of `name` (`panes/YYYYmmddTHHMMSSZ.txt`, see
/// [`panes_dir`]), or `None` when the session never stopped since it was
/// created (or the directory cannot be read).
#[must_use]
pub fn last_panes(paths: &Paths, name: &SessionName) -> Option<PathBuf> {
    let dir = panes_dir(paths, name);
    std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| is_pane_file(n))
        .max()
        .map(|n| dir.join(n))
}

/// Whether `name` is a saved pane file's name: `YYYYmmddTHHMMSSZ.txt`.
fn is_pane_file(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 20
        && name.ends_with("Z.txt")
        && b[8] == b'T'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn newest_pane_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(1, dir.path().into(), None, None, None);
        let name = SessionName::parse("s").unwrap();
        assert_eq!(last_panes(&paths, &name), None);
        let panes = panes_dir(&paths, &name);
        std::fs::create_dir_all(&panes).unwrap();
        for f in [
            "20261121T080000Z.txt",
            "20261121T090000Z.txt",
            ".saving",
            "notes.txt",
        ] {
            std::fs::write(panes.join(f), "x").unwrap();
        }
        assert_eq!(
            last_panes(&paths, &name),
            Some(panes.join("20261121T090000Z.txt"))
        );
    }
}
