//! The kept layer: nothing written in a session's container is lost when
//! it stops.
//!
//! Quadlet always runs containers with `--rm` and appends its own
//! `ExecStop=podman rm …`; an `ExecStop=` in the `.container` file's
//! `[Service]` section comes out before it, so it runs on every stop
//! (`ccy stop`, idle stop, `systemctl --user stop`, shutdown) while the
//! container still runs. ccy's is `ccy keep-layer NAME STATE_DIR`
//! ([`keep_layer`]): it asks `/etc/ccy/start` to save the panes and end
//! tmux (so shells write their history) without ending the container,
//! then commits the container's layer into the session's own image,
//! `localhost/ccy-kept:NAME`, which the unit runs from then on.
//!
//! Which image the unit runs: a session whose clean image is local
//! (`localhost/…`, as `ccy image build` names it) has
//! `Image=localhost/${CCY_IMAGE}`, with `CCY_IMAGE` set to the clean
//! image in the unit's `[Service]` and overridden by the session's image
//! file (`EnvironmentFile=-`, [`crate::paths::Paths::kept_image_file`]),
//! which the first commit writes ([`write_image_file`]). So a new session
//! has no tag and runs its clean image; creating and removing sessions
//! costs Podman no image-store rewrite until a stop keeps something. The
//! file is in `~/.local/state/ccy/kept/`, mounted into no container: an
//! agent cannot choose the image its unit runs next; ccy still refuses
//! to start a session whose file holds anything but its own kept image
//! ([`image_file_names_kept`]). A session made before image files, or
//! whose clean image is not local, runs `Image=localhost/ccy-kept:NAME`
//! literally, tagged from the clean image when it was made
//! ([`start_clean`]): Quadlet warns about every unqualified `Image=`, and
//! `DOMAIN/${CCY_IMAGE}` would name the kept image under a registry.
//!
//! A stop with nothing changed commits nothing (one `podman diff`). Each
//! commit adds a layer; above [`MAX_KEPT_LAYERS`] layers the kept layers are
//! rebased into one on the clean image ([`cli::rebase`]), which keeps
//! the chain short (overlay refuses more than about 128 layers) and drops
//! the old copies of files changed again.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::contract::{
    HISTORY_MOUNT, KEPT_IMAGE_REPO, KEPT_IMAGE_VAR, KEPT_SIZE_FILE, LABEL_KEPT_BASE,
    LABEL_KEPT_SESSION, LOCAL_IMAGE_PREFIX, MAX_KEPT_LAYERS, QUIET_FILE, QUIET_SIGNAL, READY_FILE,
    RESERVED_DESTINATIONS, RUNTIME_PATHS,
};
use crate::ctx::notice;
use crate::error::{Context, Error, ExitKind, Result};
use crate::host::podman::api::PodmanApi;
use crate::host::podman::cli::{self, ImageFacts};
use crate::host::podman::{FsChange, ImageSummary};
use crate::names::SessionName;
use crate::quadlet::spec::SessionMeta;

/// How long [`keep_layer`] waits for a starting session's tmux to be ready.
const READY_WAIT: Duration = Duration::from_secs(5);

/// How long [`keep_layer`] waits for the session's tmux to end.
const QUIET_TIMEOUT: Duration = Duration::from_secs(15);

/// What [`keep_layer`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// Nothing outside runtime paths and mount points changed: no commit.
    Unchanged,
    /// The layer was committed; the image now has `layers` kept layers.
    Committed {
        /// Kept layers above the clean image.
        layers: usize,
    },
    /// The layer was committed and the kept layers rebased into one.
    Rebased,
}

/// Whether a change of a container's layer is worth keeping: not under
/// [`RUNTIME_PATHS`], not a mount point (ccy's own and `mounts`, the
/// container's) or a parent of one (Podman creates those on every start
/// of a clean image).
#[must_use]
pub fn worth_keeping(change: &FsChange, mounts: &[String]) -> bool {
    let under =
        |p: &str, base: &str| p == base || p.strip_prefix(base).is_some_and(|r| r.starts_with('/'));
    let p = change.path.as_str();
    if RUNTIME_PATHS.iter().any(|r| under(p, r)) {
        return false;
    }
    let mount_or_parent = RESERVED_DESTINATIONS
        .iter()
        .copied()
        .chain([HISTORY_MOUNT])
        .chain(mounts.iter().map(String::as_str))
        .any(|m| p == m || m.strip_prefix(p).is_some_and(|r| r.starts_with('/')));
    if mount_or_parent && change.kind != 'D' {
        return false;
    }
    // `/etc` changes when Podman bind-mounts its files there.
    !(p == "/etc" && change.kind == 'C')
}

/// Keeps the layer of session `name`'s running container: sends
/// [`QUIET_SIGNAL`] and waits (up to 15 s) for `STATE_DIR/quiet`
/// ([`QUIET_FILE`]: panes saved, tmux ended); commits the container into
/// [`SessionName::kept_image`] when [`worth_keeping`] finds a change,
/// labelled with the session and the clean image's id (the `ccy.kept.base`
/// label of the image the container runs, else that image's own id, as
/// `podman container inspect` gives it); with `image_file` (the session's
/// image file, [`SessionMeta::image_file`]) makes the file name the kept
/// image ([`write_image_file`]) so the next start runs it; rebases when
/// the image has more than [`MAX_KEPT_LAYERS`] kept layers; removes kept
/// images nothing needs any more.
///
/// # Errors
/// When a Podman step fails (the container is gone, the disk is full), or
/// the image file cannot be written.
pub fn keep_layer(name: &SessionName, state_dir: &Path, image_file: Option<&Path>) -> Result<Kept> {
    let container = name.as_str();
    let quiet = state_dir.join(QUIET_FILE);
    let _ = std::fs::remove_file(&quiet);
    // A session stopped while it starts: `/etc/ccy/start` traps the signal
    // before its tmux reports ready.
    let ready = state_dir.join(READY_FILE);
    let deadline = Instant::now() + READY_WAIT;
    while !ready.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    crate::trace::mark("keep-layer: quieting");
    // The image the container runs and its mount points (a linked
    // worktree's git directory, the user's mounts) are asked for while
    // tmux ends.
    let running = cli::start_running_facts(container)?;
    if cli::signal(container, QUIET_SIGNAL).is_ok() {
        let deadline = Instant::now() + QUIET_TIMEOUT;
        while !quiet.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    crate::trace::mark("keep-layer: quiet");
    let changes = cli::diff(container, None)?;
    let running = cli::running_facts_of(running);
    let mounts = running.mounts;
    crate::trace::mark("keep-layer: diffed");
    if !changes.iter().any(|c| worth_keeping(c, &mounts)) {
        return Ok(Kept::Unchanged);
    }
    let image = name.kept_image();
    // The clean image: recorded by an earlier commit in the image the
    // container runs, or that image itself (the clean one).
    let facts = match &running.image {
        Some(id) => cli::image_facts(id)?,
        None => cli::image_facts(&image)?,
    };
    let base = facts.as_ref().and_then(|f| {
        f.labels
            .get(LABEL_KEPT_BASE)
            .cloned()
            .or_else(|| Some(f.id.clone()))
    });
    let mut labels = vec![format!("LABEL {LABEL_KEPT_SESSION}={container}")];
    if let Some(b) = &base {
        labels.push(format!("LABEL {LABEL_KEPT_BASE}={b}"));
    }
    cli::commit(container, &image, &labels)?;
    crate::trace::mark("keep-layer: committed");
    if let Some(file) = image_file
        && !image_file_names_kept(file, name).unwrap_or(false)
    {
        write_image_file(file, name)?;
    }
    let layers = match &base {
        Some(b) => kept_layers(&image, b)?,
        None => 0,
    };
    let kept = match base {
        Some(b) if layers > MAX_KEPT_LAYERS => {
            let work = tempfile::tempdir().map_err(|e| {
                crate::error::Error::failure("cannot create a temporary directory").with_source(e)
            })?;
            // A scratch container whose name no session can have (session
            // names have no '.'): the rebase removes it first.
            cli::rebase(
                &b,
                &image,
                &image,
                &format!("ccy-rebase.{container}"),
                work.path(),
                &labels,
            )?;
            crate::trace::mark("keep-layer: rebased");
            Kept::Rebased
        }
        _ => Kept::Committed { layers },
    };
    // Earlier kept images that nothing needs any more (after a rebase, or
    // `attach --fresh`); the one the container runs goes next time.
    let _ = cli::prune_images(LABEL_KEPT_SESSION, container);
    let bytes = kept_layer(name)?.map_or(0, |k| k.bytes);
    record_size(state_dir, Some(bytes));
    Ok(kept)
}

/// Records the kept layer's size in the session's state directory
/// ([`KEPT_SIZE_FILE`]); `None` removes the record (no kept layer). A
/// failure only costs the figure `ccy list` shows.
pub fn record_size(state_dir: &Path, bytes: Option<u64>) {
    let file = state_dir.join(KEPT_SIZE_FILE);
    match bytes {
        Some(b) => {
            let _ = crate::host::fs::write_atomic(&file, format!("{b}\n").as_bytes(), 0o644);
        }
        None => {
            let _ = std::fs::remove_file(&file);
        }
    }
}

/// The kept layer's size recorded in the session's state directory by its
/// last stop ([`record_size`]); 0 when there is no record.
#[must_use]
pub fn recorded_size(state_dir: &Path) -> u64 {
    crate::host::fs::read_small(&state_dir.join(KEPT_SIZE_FILE))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

/// The number of layers `image` has above the image `base` (0 when `base`
/// is gone).
///
/// # Errors
/// When an inspection fails.
pub fn kept_layers(image: &str, base: &str) -> Result<usize> {
    let Some(top) = cli::image_facts(image)? else {
        return Ok(0);
    };
    let Some(bottom) = cli::image_facts(base)? else {
        return Ok(0);
    };
    Ok(top.layers.saturating_sub(bottom.layers))
}

/// The kept layer of session `name`, when it has one: its size in bytes
/// (the image's size less its clean image's) and its number of layers.
///
/// # Errors
/// When an inspection fails.
pub fn kept_layer(name: &SessionName) -> Result<Option<KeptLayer>> {
    let Some(top) = cli::image_facts(&name.kept_image())? else {
        return Ok(None);
    };
    kept_layer_of(&top, cli::image_facts)
}

/// The kept layer of the image `top`, measured against its
/// [`LABEL_KEPT_BASE`] image, inspected with `inspect`.
fn kept_layer_of(
    top: &ImageFacts,
    inspect: impl Fn(&str) -> Result<Option<ImageFacts>>,
) -> Result<Option<KeptLayer>> {
    let Some(base) = top.labels.get(LABEL_KEPT_BASE) else {
        return Ok(None);
    };
    if *base == top.id {
        return Ok(None);
    }
    let Some(bottom) = inspect(base)? else {
        return Ok(Some(KeptLayer {
            bytes: top.size,
            layers: 0,
        }));
    };
    Ok(Some(KeptLayer {
        bytes: top.size.saturating_sub(bottom.size),
        layers: top.layers.saturating_sub(bottom.layers),
    }))
}

/// A session's kept layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct KeptLayer {
    /// Its size, bytes.
    pub bytes: u64,
    /// How many layers it is (at most [`MAX_KEPT_LAYERS`] + 1).
    pub layers: usize,
}

/// The one line of session `name`'s image file:
/// `CCY_IMAGE=ccy-kept:NAME` ([`KEPT_IMAGE_VAR`]; the unit's `Image=`
/// adds `localhost/`).
#[must_use]
pub fn image_file_line(name: &SessionName) -> String {
    let image = name.kept_image();
    let local = image.strip_prefix(LOCAL_IMAGE_PREFIX).unwrap_or(&image);
    format!("{KEPT_IMAGE_VAR}={local}\n")
}

/// Whether session `name`'s image file `file` names its kept image
/// (`false` when there is no file: the session runs its clean image).
/// ccy writes nothing else there ([`write_image_file`]), and the file is
/// in no directory a container can write; anything else in it (another
/// image, an option, more lines) was put there by hand and is refused
/// rather than run.
///
/// # Errors
/// When the file cannot be read, or holds anything but
/// [`image_file_line`] ([`ExitKind::Session`]).
pub fn image_file_names_kept(file: &Path, name: &SessionName) -> Result<bool> {
    let Some(text) = crate::host::fs::read_if_exists(file)? else {
        return Ok(false);
    };
    let want = image_file_line(name);
    if text == want.as_bytes() || text == want.trim_end().as_bytes() {
        return Ok(true);
    }
    let shown: String = String::from_utf8_lossy(&text).chars().take(120).collect();
    Err(Error::new(
        ExitKind::Session,
        format!(
            "refusing to start session {name}: its image file {} does not name its own kept image (it holds {shown:?}; ccy writes only {:?})",
            file.display(),
            want.trim_end()
        ),
    )
    .hint(format!(
        "remove the file to start {name} from its clean image ('rm {}'; its kept layer, if any, stays in {} until 'ccy attach --fresh {name}' or 'ccy rm {name}')",
        file.display(),
        name.kept_image()
    )))
}

/// Writes session `name`'s image file `file` ([`image_file_line`]):
/// atomically (a temporary file renamed over it), mode 0600, in a
/// directory made private (0700) when missing.
///
/// # Errors
/// When the directory or the file cannot be written.
pub fn write_image_file(file: &Path, name: &SessionName) -> Result<()> {
    if let Some(dir) = file.parent() {
        crate::session::store::ensure_private_dir(dir)?;
    }
    crate::host::fs::write_atomic(file, image_file_line(name).as_bytes(), 0o600)
}

/// Removes session `name`'s image file `file` (missing is fine).
///
/// # Errors
/// When it exists and cannot be removed.
pub fn remove_image_file(file: &Path) -> Result<()> {
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::failure(format!("cannot remove {}", file.display())).with_source(e))
        }
        _ => Ok(()),
    }
}

/// Whether session `meta` runs its kept image
/// ([`SessionMeta::kept_image`]) at its next start: always for a unit that
/// names it literally, else when its image file names it (a file ccy
/// would refuse counts as not). Reads at most one small file; whether the
/// image exists is not asked.
#[must_use]
pub fn runs_kept_image(meta: &SessionMeta) -> bool {
    let Ok(name) = SessionName::parse(&meta.name) else {
        return false;
    };
    match (&meta.kept_image, &meta.image_file) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(_), Some(file)) => image_file_names_kept(file, &name).unwrap_or(false),
    }
}

/// Makes sure session `name` has its image: tags `clean` (the session's
/// image, e.g. `localhost/ccy:latest`) as [`SessionName::kept_image`] when
/// it is missing. Returns whether it tagged.
///
/// # Errors
/// When Podman fails.
pub fn ensure_image(name: &SessionName, clean: &str) -> Result<bool> {
    if cli::image_facts(&name.kept_image())?.is_some() {
        return Ok(false);
    }
    cli::tag_image(clean, &name.kept_image())?;
    Ok(true)
}

/// Gives a new session `name` its image (through the API: no process).
/// With an image file (`image_file`, [`SessionMeta::image_file`]) it runs
/// `clean` itself: nothing is tagged, and a kept image or image file left
/// by an earlier session of that name is dropped. Without, `clean` is
/// tagged as [`SessionName::kept_image`], which the unit names. A kept
/// layer left by an earlier session of that name (not removed with it)
/// is dropped either way, saying so.
///
/// # Errors
/// When the API fails, or the earlier image file cannot be removed.
pub async fn start_clean(
    api: &PodmanApi,
    name: &SessionName,
    clean: &str,
    image_file: Option<&Path>,
) -> Result<()> {
    let image = name.kept_image();
    let labels = api.image_labels(&image).await?;
    if let Some(l) = &labels
        && l.contains_key(LABEL_KEPT_BASE)
    {
        notice(&format!(
            "dropping {image}, the kept layer of an earlier session named {name}"
        ));
    }
    let Some(file) = image_file else {
        return api.tag_image(clean, KEPT_IMAGE_REPO, name.as_str()).await;
    };
    remove_image_file(file)?;
    if labels.is_some() {
        api.remove_images(&[image]).await?;
    }
    Ok(())
}

/// The size in bytes of every session's kept layer, by session name, from
/// one image list: an image `localhost/ccy-kept:NAME` less its clean image
/// ([`LABEL_KEPT_BASE`]); 0 when the session runs its clean image.
///
/// # Errors
/// When the API fails.
pub async fn kept_sizes(api: &PodmanApi) -> Result<BTreeMap<String, u64>> {
    Ok(kept_sizes_of(&api.images().await?))
}

/// [`kept_sizes`] from an image list.
#[must_use]
pub fn kept_sizes_of(images: &[ImageSummary]) -> BTreeMap<String, u64> {
    let prefix = format!("{KEPT_IMAGE_REPO}:");
    let size_of = |id: &str| images.iter().find(|i| i.id == id).map(|i| i.size);
    let mut out = BTreeMap::new();
    for img in images {
        for n in &img.names {
            let Some(session) = n.strip_prefix(&prefix) else {
                continue;
            };
            let bytes = match img.labels.get(LABEL_KEPT_BASE) {
                Some(base) if *base != img.id => {
                    img.size.saturating_sub(size_of(base).unwrap_or(0))
                }
                _ => 0,
            };
            out.insert(session.to_owned(), bytes);
        }
    }
    out
}

/// `attach --fresh`: drops session `name`'s kept layer (the session must
/// be stopped). With an image file (`image_file`) the file is removed,
/// so the unit runs its clean image again, and the kept image with it
/// (whatever the file held); without, `clean` is tagged as the session's
/// image again. Returns the layer dropped (`None` when the session ran
/// its clean image).
///
/// # Errors
/// When Podman fails or the file cannot be removed.
pub fn drop_layer(
    name: &SessionName,
    clean: &str,
    image_file: Option<&Path>,
) -> Result<Option<KeptLayer>> {
    let Some(file) = image_file else {
        let layer = kept_layer(name)?;
        cli::tag_image(clean, &name.kept_image())?;
        let _ = cli::prune_images(LABEL_KEPT_SESSION, name.as_str());
        return Ok(layer);
    };
    let ran_kept = image_file_names_kept(file, name).unwrap_or(false);
    let layer = if ran_kept { kept_layer(name)? } else { None };
    remove_image_file(file)?;
    if cli::image_facts(&name.kept_image())?.is_some() {
        cli::remove_image(&name.kept_image())?;
    }
    let _ = cli::prune_images(LABEL_KEPT_SESSION, name.as_str());
    Ok(layer)
}

/// `ccy rm` and `ccy prune`: removes the images of the sessions `names`
/// that have one (their kept layers, `localhost/ccy-kept:NAME`, as one
/// image list says, [`kept_sizes`]) in one API call, then the kept
/// images nothing uses any more. A session that never kept a change has
/// no image: Podman rewrites its image store once per name removed, so
/// names that do not exist are not asked for. Returns the kept-layer size
/// of every session that had an image, measured before.
///
/// # Errors
/// When the API fails.
pub async fn remove_images(
    api: &PodmanApi,
    names: &[SessionName],
) -> Result<BTreeMap<String, u64>> {
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut sizes = kept_sizes(api).await?;
    sizes.retain(|k, _| names.iter().any(|n| n.as_str() == k));
    if sizes.is_empty() {
        return Ok(sizes);
    }
    let images: Vec<String> = sizes
        .keys()
        .map(|n| format!("{KEPT_IMAGE_REPO}:{n}"))
        .collect();
    api.remove_images(&images).await?;
    api.prune_images_labelled(LABEL_KEPT_SESSION).await?;
    Ok(sizes)
}

/// Removes session `name`'s image (its kept layer) and the kept
/// images before it. Returns the kept layer it removed, if any.
///
/// # Errors
/// When Podman fails.
pub fn remove_image(name: &SessionName) -> Result<Option<KeptLayer>> {
    let image = name.kept_image();
    let Some(top) = cli::image_facts(&image)? else {
        return Ok(None);
    };
    let had = kept_layer_of(&top, cli::image_facts)?;
    cli::remove_image(&image)?;
    let _ = cli::prune_images(LABEL_KEPT_SESSION, name.as_str());
    Ok(had)
}

/// Sets (`want`) or clears the keep label (`ccy.keep=true`, which `ccy
/// prune` respects) in the unit file at `path`. Returns whether the file
/// changed; the caller reloads the user manager once for all its changes.
///
/// # Errors
/// When the file cannot be read or written, or has no `[Container]`
/// section to carry the label.
pub fn set_label(path: &Path, want: bool) -> Result<bool> {
    use crate::quadlet::keep;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if keep::is_kept(&text) == want {
        return Ok(false);
    }
    let new = keep::set_kept(&text, want);
    if keep::is_kept(&new) != want {
        return Err(Error::failure(format!(
            "cannot set the keep label in {}: no [Container] section",
            path.display()
        )));
    }
    crate::host::fs::write_atomic(path, new.as_bytes(), crate::session::store::UNIT_FILE_MODE)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use crate::host::podman::FsChange;

    fn ch(kind: char, path: &str) -> FsChange {
        FsChange::new(kind, path)
    }

    #[test]
    fn a_fresh_container_has_nothing_worth_keeping() {
        let fresh = FsChange::fresh_session();
        assert!(!fresh.iter().any(|c| worth_keeping(c, &[])));
        // A linked worktree's git directory, mounted at its own path.
        let linked = [
            ch('C', "/home"),
            ch('A', "/home/dev"),
            ch('A', "/home/dev/src"),
            ch('A', "/home/dev/src/app/.git"),
        ];
        let mounts = ["/home/dev/src/app/.git".to_owned()];
        assert!(!linked.iter().any(|c| worth_keeping(c, &mounts)));
        assert!(linked.iter().any(|c| worth_keeping(c, &[])));
        for kept in [
            ch('A', "/root/.config/gh/hosts.yml"),
            ch('A', "/root/.bash_history"),
            ch('C', "/etc/motd"),
            ch('A', "/usr/local/bin/tool"),
            ch('D', "/usr/share/doc/tmux"),
            ch('A', "/root/.cache/pip"),
            ch('A', "/var/tmp/x"),
            ch('A', "/tmpfile"),
        ] {
            assert!(worth_keeping(&kept, &[]), "{kept:?}");
        }
    }

    fn facts(id: &str, size: u64, layers: usize, base: Option<&str>) -> ImageFacts {
        ImageFacts {
            id: id.into(),
            size,
            layers,
            labels: base
                .map(|b| [(LABEL_KEPT_BASE.to_owned(), b.to_owned())].into())
                .unwrap_or_default(),
        }
    }

    #[test]
    fn the_kept_layer_is_measured_against_the_clean_image() {
        let clean = facts("c", 1000, 3, None);
        let inspect = |id: &str| Ok((id == "c").then(|| clean.clone()));
        assert_eq!(kept_layer_of(&clean, inspect).unwrap(), None, "clean");
        let top = facts("k", 1500, 5, Some("c"));
        assert_eq!(
            kept_layer_of(&top, inspect).unwrap(),
            Some(KeptLayer {
                bytes: 500,
                layers: 2
            })
        );
        let orphan = facts("k", 1500, 5, Some("gone"));
        assert_eq!(
            kept_layer_of(&orphan, inspect).unwrap().unwrap().bytes,
            1500
        );
    }

    #[test]
    fn the_image_file_names_the_kept_image_or_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let name = SessionName::parse("ccy-app-0123abcd").unwrap();
        let file = dir.path().join("kept/ccy-app-0123abcd.env");
        assert_eq!(
            image_file_line(&name),
            "CCY_IMAGE=ccy-kept:ccy-app-0123abcd\n"
        );
        assert!(!image_file_names_kept(&file, &name).unwrap(), "no file");
        write_image_file(&file, &name).unwrap();
        assert!(image_file_names_kept(&file, &name).unwrap());
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&file), 0o600);
            assert_eq!(mode(file.parent().unwrap()), 0o700);
        }
        for hostile in [
            "CCY_IMAGE=--privileged\n",
            "CCY_IMAGE=ccy-kept:other\n",
            "CCY_IMAGE=ccy:latest\n",
            "CCY_IMAGE=ccy-kept:ccy-app-0123abcd\nCCY_IMAGE=x\n",
            "CCY_IMAGE=ccy-kept:ccy-app-0123abcd\nPATH=/tmp\n",
            "",
        ] {
            std::fs::write(&file, hostile).unwrap();
            let e = image_file_names_kept(&file, &name).unwrap_err();
            assert_eq!(e.kind(), ExitKind::Session, "{hostile:?}");
            assert!(e.message().contains("refusing to start"), "{e}");
        }
        remove_image_file(&file).unwrap();
        remove_image_file(&file).unwrap();
        assert!(!image_file_names_kept(&file, &name).unwrap());
    }

    #[test]
    fn kept_sizes_from_one_image_list() {
        let img = |id: &str, size: u64, base: Option<&str>, names: &[&str]| ImageSummary {
            id: id.into(),
            size,
            labels: base
                .map(|b| [(LABEL_KEPT_BASE.to_owned(), b.to_owned())].into())
                .unwrap_or_default(),
            names: names.iter().map(|n| (*n).to_owned()).collect(),
        };
        let list = [
            img(
                "c",
                1000,
                None,
                &["localhost/ccy:latest", "localhost/ccy-kept:clean"],
            ),
            img("k", 1500, Some("c"), &["localhost/ccy-kept:Dirty"]),
            img("k0", 1200, Some("c"), &[]),
            img("o", 10, None, &["localhost/other:1"]),
        ];
        let sizes = kept_sizes_of(&list);
        assert_eq!(sizes.len(), 2, "{sizes:?}");
        assert_eq!(sizes["clean"], 0);
        assert_eq!(sizes["Dirty"], 500);
    }
}
