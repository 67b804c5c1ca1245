//! Removing sessions: stop them, delete their unit files with one reload
//! for all, their state directories, volumes when asked, and the git
//! worktrees ccy made for them when nothing would be lost. Shared by
//! `ccy rm` and `ccy prune`.

use std::collections::BTreeMap;
use std::path::Path;

use futures_util::StreamExt;

use crate::ctx::Ctx;
use crate::error::{Context, Error, ExitKind, Result};
use crate::host::git::Worktree;
use crate::host::podman::api::PodmanApi;
use crate::host::systemd::ActiveState;
use crate::host::systemd::UserManager;
use crate::paths::{Paths, display_home};
use crate::quadlet::spec;
use crate::session::find::{SessionInfo, State};
use crate::session::safety::{Checker, Loss};
use crate::session::stop::stop_one;

/// The refusal of `verb` (`rm`) for sessions whose removal would lose
/// work: exit status 6, each session's losses and items as details.
#[must_use]
pub fn refusal(paths: &Paths, refused: &[(&SessionInfo, Vec<Loss>)], verb: &str) -> Error {
    let names: Vec<String> = refused.iter().map(|(i, _)| i.name.to_string()).collect();
    let mut err = Error::new(
        ExitKind::Refused,
        format!("not removing {}: work would be lost", names.join(", ")),
    );
    for (info, losses) in refused {
        for line in loss_lines(paths, info, losses) {
            err = err.detail(line);
        }
    }
    err.hint("commit the changes (or copy the files out), then run it again")
        .hint(format!(
            "or remove anyway, losing it: 'ccy {verb} --force {}'",
            names.join(" ")
        ))
}

/// `NAME: SUMMARY` and the indented items of each loss.
#[must_use]
pub fn loss_lines(paths: &Paths, info: &SessionInfo, losses: &[Loss]) -> Vec<String> {
    let mut out = Vec::new();
    for loss in losses {
        out.push(format!("{}: {}", info.name, loss.summary(&paths.home)));
        for item in loss.items() {
            out.push(format!("    {item}"));
        }
    }
    out
}

/// What happens to a removed session's agent-state volume, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeFate {
    /// Remove it; the reason is shown after the volume name when not empty.
    Remove(String),
    /// Keep it; the reason is shown in parentheses.
    Keep(String),
}

/// A session to remove and what happens to its volume.
#[derive(Debug)]
pub struct Doomed<'a> {
    /// The session.
    pub info: &'a SessionInfo,
    /// Its volume's fate.
    pub volume: VolumeFate,
    /// `--force`: remove the git worktree ccy created for it even with
    /// uncommitted changes.
    pub force: bool,
}

/// Removes sessions: stops the running ones (a session whose stop fails is
/// left alone and its name returned), resets failed units and stops the
/// volume units in two `ListUnitsByNames` calls' worth of work, removes
/// each one's volume (per its [`VolumeFate`]; Podman removes them while
/// ccy does the rest), state directory, `.session-id` and the git
/// worktree ccy created for it (see [`worktree_fate`]), then — last,
/// once every volume removal has ended, so that a removal cut short leaves
/// the session listed and a second run finishes it — its Quadlet files,
/// reloads the user manager ONCE for all of them, and prints what was
/// removed and kept. A session whose state directory cannot be removed
/// keeps its unit files and its name is returned. `all` is every
/// session (to see which remain); `checker` caches git facts.
///
/// # Errors
/// When a file cannot be removed or the user manager or API fails.
pub async fn remove_sessions(
    ctx: &Ctx,
    mgr: &UserManager,
    api: &PodmanApi,
    all: &[SessionInfo],
    doomed: &[Doomed<'_>],
    checker: &mut Checker,
) -> Result<Vec<String>> {
    // Stop everything first; a session whose stop fails keeps its files.
    let mut stopped: Vec<&Doomed> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    for d in doomed {
        if matches!(d.info.state(), State::Stopped | State::Failed) {
            stopped.push(d);
            continue;
        }
        match stop_one(mgr, d.info).await {
            Ok(()) => stopped.push(d),
            Err(e) => {
                crate::errln!("ccy: {e}");
                failed.push(d.info.name.to_string());
            }
        }
    }
    if stopped.is_empty() {
        return Ok(failed);
    }
    let (failed_units, volume_units) = units_to_settle(mgr, &mut stopped, &mut failed).await?;
    if stopped.is_empty() {
        return Ok(failed);
    }
    // Everything but the unit files goes first, the unit files last: a
    // removal that stops halfway (an error, a signal, a crash) leaves a
    // session that `ccy list` still shows and that `ccy rm` or `ccy prune`
    // run again finishes, never files nothing lists. Podman removes the
    // volumes while the rest is done (their removal is most of the time).
    let gone: Vec<&str> = stopped.iter().map(|d| d.info.name.as_str()).collect();
    let existing = api.volume_names().await?;
    crate::trace::mark("remove: volumes listed");
    let volumes = remove_volumes(api, &stopped, &existing);
    let rest = async {
        for unit in &failed_units {
            mgr.reset_failed(unit).await?;
        }
        mgr.stop_many(&volume_units).await?;
        crate::trace::mark("remove: volume units stopped");
        let images = remove_kept_images(api, &stopped).await;
        let mut parts = Vec::new();
        for d in &stopped {
            parts.push((d, remove_parts(ctx, all, &gone, d, checker)));
            // Let the volume removals go on between sessions.
            tokio::task::yield_now().await;
        }
        crate::trace::mark("remove: state directories removed");
        Ok::<_, Error>((images, parts))
    };
    let (mut volume_errors, rest) = tokio::join!(volumes, rest);
    let (images, parts) = rest?;
    let mut reports = Vec::new();
    for (d, part) in parts {
        let notes = image_and_earlier_volumes(d, &images, &existing, &mut volume_errors);
        let state = VolumeState::of(&state_volume(d.info), &existing, &mut volume_errors);
        match part {
            Ok((mut removed, mut kept)) => {
                volume_line(d, state, &mut removed, &mut kept);
                reports.push((d, (removed, kept, notes)));
            }
            Err(e) => {
                crate::errln!(
                    "ccy: {e}\nccy: kept the unit files of {}: run the removal again to finish it",
                    d.info.name
                );
                failed.push(d.info.name.to_string());
            }
        }
    }
    let mut unit_file_errors = Vec::new();
    reports.retain(|(d, _)| match remove_unit_files(&ctx.paths, d.info) {
        Ok(()) => true,
        Err(e) => {
            unit_file_errors.push(e);
            failed.push(d.info.name.to_string());
            false
        }
    });
    crate::trace::mark("remove: files removed");
    mgr.reload().await?;
    for ((removed, kept, notes), name) in reports.into_iter().map(|(d, r)| (r, &d.info.name)) {
        crate::outln!("removed {name}: {}", removed.join(", "));
        for n in notes {
            crate::outln!("  {n}");
        }
        for k in kept {
            crate::outln!("  kept {k}");
        }
    }
    if let Some(e) = unit_file_errors.into_iter().next() {
        return Err(e);
    }
    Ok(failed)
}

/// The units of the `stopped` sessions to settle before their files go:
/// the failed ones (to reset, so that they leave the failed list) and the
/// active volume units (a oneshot that stays active: stopped so that the
/// reload unloads it); one `ListUnitsByNames` call for all. A session
/// started since it was found stopped (someone ran `ccy` there
/// meanwhile) is taken out of `stopped` and its name added to `failed`.
///
/// # Errors
/// When the user manager cannot list the units.
async fn units_to_settle(
    mgr: &UserManager,
    stopped: &mut Vec<&Doomed<'_>>,
    failed: &mut Vec<String>,
) -> Result<(Vec<String>, Vec<String>)> {
    let units: Vec<String> = stopped
        .iter()
        .flat_map(|d| [d.info.name.service_unit(), d.info.name.volume_unit()])
        .collect();
    let states = mgr.unit_states(&units).await?;
    crate::trace::mark("remove: unit states read");
    // A session started since it was found stopped (someone ran `ccy`
    // there meanwhile) is left alone.
    let started: Vec<String> = states
        .iter()
        .filter(|s| s.is_up() && !s.name.ends_with("-volume.service"))
        .filter_map(|s| s.name.strip_suffix(".service").map(str::to_owned))
        .collect();
    stopped.retain(|d| {
        let up = started.iter().any(|n| n == d.info.name.as_str());
        if up {
            crate::errln!(
                "ccy: {} was started meanwhile; not removing it",
                d.info.name
            );
            failed.push(d.info.name.to_string());
        }
        !up
    });
    let mut failed_units = Vec::new();
    let mut volume_units = Vec::new();
    for state in states {
        let session = state.name.strip_suffix(".service").unwrap_or(&state.name);
        let session = session.strip_suffix("-volume").unwrap_or(session);
        if started.iter().any(|n| n == session) {
            continue;
        }
        if state.active_state == ActiveState::Failed {
            failed_units.push(state.name);
        } else if state.is_up() && state.name.ends_with("-volume.service") {
            volume_units.push(state.name);
        }
    }
    Ok((failed_units, volume_units))
}

/// Removes the volumes of `stopped` whose fate is [`VolumeFate::Remove`]
/// among those `existing` (one list call made before), a few at a time.
/// Returns the removals that failed, by volume.
async fn remove_volumes(
    api: &PodmanApi,
    stopped: &[&Doomed<'_>],
    existing: &std::collections::BTreeSet<String>,
) -> BTreeMap<String, Error> {
    let to_remove: Vec<String> = stopped
        .iter()
        .filter(|d| matches!(d.volume, VolumeFate::Remove(_)))
        .flat_map(|d| session_volumes(d.info, existing))
        .collect();
    let removed_volumes: Vec<(String, Result<()>)> = futures_util::stream::iter(to_remove)
        .map(|v| async move {
            let r = api.remove_volume(&v).await;
            (v, r)
        })
        .buffer_unordered(VOLUME_REMOVALS_AT_ONCE)
        .collect()
        .await;
    let mut volume_errors = BTreeMap::new();
    for (v, r) in removed_volumes {
        if let Err(e) = r {
            volume_errors.insert(v, e);
        }
    }
    crate::trace::mark("remove: volumes removed");
    volume_errors
}

/// How many volume removals are in flight at once.
const VOLUME_REMOVALS_AT_ONCE: usize = 8;

/// A removed session's volume after the removals: absent (never existed),
/// present (removed per its fate `Remove`, or kept), or a removal that
/// failed.
enum VolumeState {
    Absent,
    Present,
    Failed(Error),
}

impl VolumeState {
    /// The state of `volume`, given the volumes that `existed` before the
    /// removals and the removals that `failed` (its error is taken out).
    fn of(
        volume: &str,
        existed: &std::collections::BTreeSet<String>,
        failed: &mut BTreeMap<String, Error>,
    ) -> Self {
        if !existed.contains(volume) {
            Self::Absent
        } else if let Some(e) = failed.remove(volume) {
            Self::Failed(e)
        } else {
            Self::Present
        }
    }
}

/// Every agent-state volume session `info` ever had that exists: its
/// current one, `NAME-state`, and the `NAME-state-K` that `ccy attach
/// --reset` made.
fn session_volumes(
    info: &SessionInfo,
    existing: &std::collections::BTreeSet<String>,
) -> Vec<String> {
    let base = info.name.state_volume();
    let current = state_volume(info);
    // The names that start with `base`, from the sorted set (not a pass
    // over every volume for every session removed).
    let mut out: Vec<String> = existing
        .range::<str, _>((
            std::ops::Bound::Included(base.as_str()),
            std::ops::Bound::Unbounded,
        ))
        .take_while(|v| v.starts_with(&base))
        .filter(|v| {
            **v == current
                || **v == base
                || v.strip_prefix(&base)
                    .and_then(|r| r.strip_prefix('-'))
                    .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
        })
        .cloned()
        .collect();
    if !current.starts_with(&base) && existing.contains(&current) {
        out.push(current);
    }
    out
}

/// Removes the images of the `stopped` sessions that keep their layer
/// and have an image (`localhost/ccy-kept:NAME`, as one image list says:
/// a session with an image file has none until a stop kept a change);
/// the kept-layer size of each, by name.
async fn remove_kept_images(
    api: &PodmanApi,
    stopped: &[&Doomed<'_>],
) -> Result<BTreeMap<String, u64>> {
    let names: Vec<_> = stopped
        .iter()
        .filter(|d| d.info.meta.as_ref().is_some_and(|m| m.kept_image.is_some()))
        .map(|d| d.info.name.clone())
        .collect();
    let sizes = crate::session::keep::remove_images(api, &names).await;
    crate::trace::mark("remove: kept images removed");
    sizes
}

/// What happened to the session's kept layer (removed by
/// [`remove_kept_images`]) and to its earlier `--reset` volumes (removed
/// with the current one, else kept): one report line each. The earlier
/// volumes' removal errors are taken out of `errors`.
fn image_and_earlier_volumes(
    d: &Doomed<'_>,
    images: &Result<BTreeMap<String, u64>>,
    existing: &std::collections::BTreeSet<String>,
    errors: &mut BTreeMap<String, Error>,
) -> Vec<String> {
    let name = &d.info.name;
    let mut lines = Vec::new();
    match images {
        Ok(kept) => {
            if let Some(bytes) = kept.get(name.as_str()).filter(|b| **b > 0) {
                lines.push(format!(
                    "removed the kept layer of {name} ({}, image {})",
                    crate::ui::bytes(*bytes),
                    name.kept_image()
                ));
            }
        }
        Err(e) if d.info.meta.as_ref().is_some_and(|m| m.kept_image.is_some()) => {
            lines.push(format!("kept image {}: {}", name.kept_image(), e.message()));
        }
        Err(_) => {}
    }
    let current = state_volume(d.info);
    for v in session_volumes(d.info, existing)
        .iter()
        .filter(|v| **v != current)
    {
        match (&d.volume, errors.remove(v)) {
            (_, Some(e)) => lines.push(format!("kept earlier volume {v}: {}", e.message())),
            (VolumeFate::Remove(_), None) => {
                lines.push(format!(
                    "removed earlier volume {v} (from 'ccy attach --reset')"
                ));
            }
            (VolumeFate::Keep(why), None) => {
                lines.push(format!("kept earlier volume {v} ({why})"));
            }
        }
    }
    lines
}

/// The session's current agent-state volume: `NAME-state`, or the one
/// `ccy attach --reset` gave it (recorded in its metadata line).
pub fn state_volume(info: &SessionInfo) -> String {
    info.meta.as_ref().map_or_else(
        || info.name.state_volume(),
        spec::SessionMeta::current_state_volume,
    )
}

/// Deletes `NAME.container` and `NAME.volume` (absent ones are fine).
fn remove_unit_files(paths: &Paths, info: &SessionInfo) -> Result<()> {
    for file in [info.name.container_file(), info.name.volume_file()] {
        remove_file(&paths.quadlet_dir.join(file))?;
    }
    Ok(())
}

/// What a removal did: the things removed, and those kept (with why).
type Report = (Vec<String>, Vec<String>);

/// Removes the state directory, the `.session-id` file and the created
/// git worktree (per [`worktree_fate`]); returns what was removed (the
/// unit files, removed after this, first) and what was kept. The volume
/// is accounted for by [`volume_line`].
///
/// # Errors
/// When the state directory or `.session-id` cannot be removed; the
/// caller then keeps the unit files.
fn remove_parts(
    ctx: &Ctx,
    all: &[SessionInfo],
    gone: &[&str],
    d: &Doomed<'_>,
    checker: &mut Checker,
) -> Result<Report> {
    let home = &ctx.paths.home;
    let info = d.info;
    let name = &info.name;
    let mut removed = vec![format!(
        "unit files {} and {}",
        name.container_file(),
        name.volume_file()
    )];
    let mut kept = Vec::new();

    // The image file goes with the state directory (before the unit
    // files, as everything else).
    if let Some(file) = info.meta.as_ref().and_then(|m| m.image_file.as_deref()) {
        crate::session::keep::remove_image_file(file)?;
    }
    let state_dir = ctx.paths.session_state_dir(name.as_str());
    if state_dir.exists() {
        std::fs::remove_dir_all(&state_dir)
            .with_context(|| format!("cannot remove {}", state_dir.display()))?;
        removed.push(format!(
            "state directory {}",
            display_home(&state_dir, home)
        ));
    }

    if let Some(meta) = &info.meta {
        let id_file = meta.worktree.join(crate::contract::worktree::SESSION_ID);
        let names_it = std::fs::read_to_string(&id_file).is_ok_and(|s| s.trim() == name.as_str());
        if names_it {
            remove_file(&id_file)?;
            removed.push(display_home(&id_file, home));
        }
        if let Some(created) = &meta.created_worktree {
            let shown = display_home(&meta.worktree, home);
            match worktree_fate(all, gone, info, checker, d.force)? {
                Ok(()) => {
                    let note = checker
                        .worktree(&meta.worktree)?
                        .branch_note()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default();
                    match remove_worktree(&meta.worktree) {
                        Ok(()) => removed.push(format!(
                            "git worktree {shown} (branch {} kept{note})",
                            created.branch
                        )),
                        Err(e) => kept.push(format!(
                            "git worktree {shown} (branch {}): {}",
                            created.branch,
                            e.message()
                        )),
                    }
                }
                Err(why) => kept.push(format!(
                    "git worktree {shown} (branch {}): {why}; remove it with 'git worktree remove {}'",
                    created.branch,
                    shell_words::quote(&meta.worktree.to_string_lossy())
                )),
            }
        }
    }

    Ok((removed, kept))
}

/// Adds what happened to the session's current volume (removed per its
/// fate before, kept, or a removal that failed) to a [`remove_parts`]
/// report: last in `removed` or `kept`.
fn volume_line(
    d: &Doomed<'_>,
    volume_state: VolumeState,
    removed: &mut Vec<String>,
    kept: &mut Vec<String>,
) {
    let volume = state_volume(d.info);
    match (volume_state, &d.volume) {
        (VolumeState::Absent, _) => {}
        (VolumeState::Failed(e), _) => kept.push(format!("volume {volume}: {}", e.message())),
        (VolumeState::Present, VolumeFate::Remove(why)) if why.is_empty() => {
            removed.push(format!("volume {volume}"));
        }
        (VolumeState::Present, VolumeFate::Remove(why)) => {
            removed.push(format!("volume {volume} ({why})"));
        }
        (VolumeState::Present, VolumeFate::Keep(why)) => {
            kept.push(format!("volume {volume} ({why})"));
        }
    }
}

/// Whether the git worktree ccy created for `info` may go with it: no
/// session outside `gone` uses it, and (unless `force`) it is clean
/// ([`crate::session::safety::WorktreeGit::removable`]); its branch always
/// stays. The inner `Err` says why not.
///
/// # Errors
/// When git cannot be run.
pub fn worktree_fate(
    all: &[SessionInfo],
    gone: &[&str],
    info: &SessionInfo,
    checker: &mut Checker,
    force: bool,
) -> Result<std::result::Result<(), String>> {
    let worktree = info.worktree();
    if let Some(other) = all
        .iter()
        .find(|s| s.worktree() == worktree && !gone.contains(&s.name.as_str()))
    {
        return Ok(Err(format!("session {} still uses it", other.name)));
    }
    if force {
        return Ok(Ok(()));
    }
    Ok(checker.worktree(Path::new(&worktree))?.removable())
}

/// `git worktree remove --force PATH`, run in the main worktree, after
/// ccy's own untracked files are gone (the caller checked that nothing
/// else is uncommitted, or the user said `--force`).
fn remove_worktree(path: &Path) -> Result<()> {
    let wt = Worktree::discover(path)?;
    let main = Worktree::discover(wt.main_root())?;
    main.git(&["worktree", "remove", "--force", &path.to_string_lossy()])?;
    Ok(())
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::names::SessionName;

    fn info(name: &str, state_volume: Option<&str>) -> SessionInfo {
        SessionInfo {
            name: SessionName::parse(name).unwrap(),
            meta: Some(spec::SessionMeta {
                state_volume: state_volume.map(str::to_owned),
                ..spec::example_meta(name)
            }),
            file: None,
            container: None,
            unit: None,
            tmux: None,
            agent: None,
            kept_layer_bytes: None,
        }
    }

    #[test]
    fn a_sessions_volumes_are_its_own_and_its_resets() {
        let existing: std::collections::BTreeSet<String> = [
            "a-state",
            "a-state-2",
            "a-state-12",
            "a-state-x",
            "a-state-",
            "a-statefoo",
            "a-state-2-state",
            "ab-state",
            "b-state",
            "other",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(
            session_volumes(&info("a", None), &existing),
            ["a-state", "a-state-12", "a-state-2"]
        );
        assert_eq!(
            session_volumes(&info("a", Some("a-state-12")), &existing),
            ["a-state", "a-state-12", "a-state-2"]
        );
        assert_eq!(
            session_volumes(&info("a", Some("other")), &existing),
            ["a-state", "a-state-12", "a-state-2", "other"]
        );
        assert!(session_volumes(&info("c", None), &existing).is_empty());
    }
}
