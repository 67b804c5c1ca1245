//! Creating a session: check everything that can be refused, then build
//! the image, store the token secret, write the unit files atomically,
//! load them into the user manager and start the unit; take it all back
//! when any step fails.

use std::path::PathBuf;

mod undo;

use undo::undo_create;
pub use undo::undo_worktree;

use crate::config::Config;
use crate::contract::LABEL_HISTORY;
use crate::ctx::{Ctx, notice};
use crate::error::{Context, Error, ExitKind, Result};
use crate::host::git::Worktree;
use crate::host::podman::api::PodmanApi;
use crate::host::podman::cli as podman_cli;
use crate::host::systemd::LoadState;
use crate::host::systemd::linger::{self, Linger};
use crate::host::systemd::{JobResult, UserManager, generator};
use crate::names::{ProjectName, SessionName};
use crate::paths::Paths;
use crate::quadlet::render;
use crate::quadlet::runopts::RunOptions;
use crate::quadlet::spec::{CreatedWorktree, KeepLayer, SessionSpec, local_image};
use crate::session::checks::{
    check_capacity, check_limits_supported, check_name_free, check_network,
};
use crate::session::image::{self, ImageSpec};
use crate::session::start::start_unit;
use crate::session::{Host, keep, options, store, token};

/// What a new session is made from, besides the configuration.
#[derive(Debug, Clone, Default)]
pub struct NewSession {
    /// A name chosen by the user; an automatic one otherwise.
    pub name: Option<SessionName>,
    /// Arguments appended to the agent command.
    pub agent_args: Vec<String>,
    /// Set when ccy created the worktree for this session (`ccy new
    /// --worktree`); recorded in the session's metadata line.
    pub created_worktree: Option<CreatedWorktree>,
    /// Label the session `ccy.keep=true` (`ccy new --keep`).
    pub keep: bool,
    /// What to fill the new agent-state volume with before the session
    /// starts (`ccy clone`, `ccy import`); `None`: it starts empty.
    pub state_from: Option<StateSource>,
    /// Leave the session stopped after creating it (`ccy import
    /// --no-start`); its volume is still created (and filled).
    pub no_start: bool,
}

/// Where a new session's agent state comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateSource {
    /// Another session's volume, copied ([`podman_cli::copy_volume`]).
    Volume(String),
    /// A tar archive of a volume's contents ([`podman_cli::import_volume`]).
    Archive(PathBuf),
}

/// Creates a session for `worktree`: checks Podman and everything the
/// configuration asks for (mounts, SSH keys, limits, network, token,
/// `session.max_running`), turns linger on (one line when it does), builds
/// the image if needed and the project image when the worktree has
/// `.claude/ccy/Dockerfile`, stores the Claude token as a Podman secret and
/// makes sure the project's history volume exists, while it writes the
/// `.volume` and `.container` files atomically, loads them into the user
/// manager and creates the state volume through its unit (the two halves
/// need nothing of each other: `prepare_podman` and `install_units`);
/// then starts the unit and waits for its job. Returns the session name.
///
/// # Errors
/// Podman too old or a limit the cgroup cannot apply
/// ([`ExitKind::Environment`]); a bad configuration value or name taken
/// ([`ExitKind::Usage`]); no such token or network ([`ExitKind::NotFound`]);
/// too many sessions running ([`ExitKind::Refused`]); image build or unit
/// start failure ([`ExitKind::Session`], with the unit's last journal
/// lines); [`ExitKind::Interrupted`] when a stop signal (SIGINT, SIGTERM,
/// SIGHUP; [`crate::host::signal`]) arrived: looked at between the steps,
/// it ends the creation before anything is made and takes back what was
/// made after, as a failure does.
pub async fn create(
    host: &Host<'_>,
    config: &Config,
    worktree: &Worktree,
    new: NewSession,
) -> Result<SessionName> {
    let (ctx, mgr, api) = (host.ctx, &host.mgr, host.api().await?);
    if let Some(n) = &new.name {
        SessionName::parse_new(n.as_str())?; // no reserved name, however made
    }
    // Everything that can be refused is checked before anything is built
    // or written.
    let (mut run, token) = preflight(ctx, mgr, api, config).await?;
    check_interrupt(None)?;
    options::add_linked_worktree_git(&mut run, worktree);
    crate::trace::mark("create: preflight done");
    let name = match new.name {
        Some(n) => n,
        None => SessionName::generate(&worktree.project())?,
    };
    // Two ccy processes creating the same name (in different worktrees)
    // must not both pass the check: hold the name until the files exist.
    let _name_lock = crate::host::fs::lock(
        &ctx.paths
            .lock_dir()
            .join(format!("session-{}.lock", name.as_str())),
    )?;
    check_name_free(&ctx.paths, mgr, api, &name).await?;
    if new.state_from.is_some() {
        check_state_volume_free(api, &name).await?;
    }
    let image = ImageSpec {
        name: config.image.name.clone(),
        base: config.image.base.clone(),
        agent_install: config.image.agent_install.clone(),
    };
    let project = worktree.project();
    // The unit names the image, which is known without Podman unless the
    // worktree has its own Dockerfile (a project image whose build may
    // fail back to the base image): then it is made first.
    let project_image = if image::has_project_dockerfile(&worktree.root) {
        image::ensure(api, &image, &mut std::io::stderr()).await?;
        let made = image::ensure_project(
            api,
            &worktree.root,
            project.as_str(),
            &image.name,
            &mut std::io::stderr(),
        )
        .await?;
        check_interrupt(Some(&name))?;
        Some(made)
    } else {
        None
    };
    let image_name = project_image.clone().unwrap_or_else(|| image.name.clone());
    let gitconfig = ctx.paths.home.join(".gitconfig");
    let mut agent = config.agent.command.clone();
    agent.extend(new.agent_args);
    let spec = SessionSpec {
        name: name.clone(),
        project: project.to_string(),
        worktree: worktree.root.clone(),
        branch: worktree.branch(),
        created: store::now_rfc3339(),
        image: image_name.clone(),
        agent,
        autostart: config.session.autostart,
        gitconfig: gitconfig.is_file().then_some(gitconfig),
        state_dir: ctx.paths.session_state_dir(name.as_str()),
        created_worktree: new.created_worktree,
        run,
        token_secret: token.as_ref().map(|(t, _)| token::secret_name(t)),
        history_volume: Some(history_volume_name(&project)),
        keep: new.keep,
        keep_layer: Some(keep_layer(&ctx.paths, &name, &image_name)?),
    };
    let units = render::session(&spec)?;
    crate::trace::mark("create: rendered");
    let work = PodmanWork {
        image: project_image.is_none().then_some(&image),
        token: token.as_ref(),
        spec: &spec,
        project: &project,
    };
    let (made, result) =
        make_and_start(host, &units, work, new.state_from.as_ref(), new.no_start).await;
    match result {
        Ok(()) => Ok(name),
        Err(err) => Err(keep_or_undo(ctx, mgr, api, &name, &made, err).await),
    }
}

/// Gives the new session `spec` its image ([`keep::start_clean`]).
/// Returns whether it tagged one (a session without an image file).
async fn give_image(api: &PodmanApi, spec: &SessionSpec) -> Result<bool> {
    let file = spec
        .keep_layer
        .as_ref()
        .and_then(|k| k.image_file.as_deref());
    keep::start_clean(api, &spec.name, &spec.image, file).await?;
    Ok(file.is_none())
}

/// After `err` in [`create`]: a running unit that only missed the
/// readiness deadline is a session, slow to start: it is kept (unless a
/// stop signal was the error). Anything else would leave a half-made
/// session (files the next `ccy` finds, a failed unit, an empty state
/// volume): it is taken back ([`undo_create`]). Returns the error to show.
async fn keep_or_undo(
    ctx: &Ctx,
    mgr: &UserManager,
    api: &PodmanApi,
    name: &SessionName,
    made: &Made,
    err: Error,
) -> Error {
    let up = err.kind() != ExitKind::Interrupted
        && mgr
            .unit_state(&name.service_unit())
            .await
            .is_ok_and(|s| s.is_up());
    if up {
        return err.hint(format!(
            "the session is still starting: attach with 'ccy attach {name}' once it is ready, or remove it with 'ccy rm {name}'"
        ));
    }
    undo_create(ctx, mgr, api, name, made).await.apply(err)
}

/// How session `name` keeps its layer: its own image, the absolute path
/// of the running ccy binary, which the unit's `ExecStop=` runs (`ccy
/// keep-layer`), and, when its clean image `clean` is local
/// ([`local_image`]), its image file
/// ([`Paths::kept_image_file`](crate::paths::Paths::kept_image_file)),
/// so that it runs `clean` itself until a stop keeps a change; a clean
/// image of a registry is tagged as the session's image instead
/// ([`keep::start_clean`]).
fn keep_layer(paths: &crate::paths::Paths, name: &SessionName, clean: &str) -> Result<KeepLayer> {
    let ccy = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .context("cannot find the path of the ccy binary (for the unit's ExecStop=)")?;
    Ok(KeepLayer {
        image: name.kept_image(),
        ccy,
        image_file: local_image(clean).map(|_| paths.kept_image_file(name.as_str())),
    })
}

/// Whether `name`'s state volume exists already (the agent state of an
/// earlier session of that name), saying it is reused when it does.
///
/// # Errors
/// When the API fails.
async fn state_volume_existed(api: &PodmanApi, name: &SessionName) -> Result<bool> {
    let existed = api.volume_exists(&name.state_volume()).await?;
    if existed {
        notice(&format!(
            "reusing the existing volume {} (the agent state of an earlier session named {name})",
            name.state_volume()
        ));
    }
    Ok(existed)
}

/// What [`create`] made so far, for [`undo_create`].
#[derive(Debug, Default)]
struct Made {
    /// The session's state directory did not exist before.
    state_dir: bool,
    /// The state volume did not exist before (the volume unit creates it).
    volume: bool,
    /// The project's history volume, when this creation made it (no
    /// earlier session of the project had).
    history: Option<String>,
    /// Unit files written, in order.
    files: Vec<PathBuf>,
    /// The session's image (`localhost/ccy-kept:NAME`) was tagged (a
    /// session without an image file).
    image: bool,
}

/// Makes the session rendered as `units` from `work.spec` (everything of
/// it is made after the last refusal, so a refusal leaves nothing): the
/// units ([`install_units`]: files, loading, the volume unit's `podman
/// volume create`) and what Podman's API makes ready ([`prepare_podman`]:
/// the image, the token secret, the history volume) need nothing of each
/// other, so both go at once; then the state volume is filled from
/// `state_from` and the unit started unless `no_start`
/// ([`fill_and_start`]). Returns what was made, for [`keep_or_undo`], and
/// how it went.
async fn make_and_start(
    host: &Host<'_>,
    units: &render::SessionUnits,
    work: PodmanWork<'_>,
    state_from: Option<&StateSource>,
    no_start: bool,
) -> (Made, Result<()>) {
    let (ctx, mgr, spec) = (host.ctx, &host.mgr, work.spec);
    let mut made = Made {
        state_dir: !spec.state_dir.exists(),
        ..Made::default()
    };
    let Made {
        files,
        volume,
        history,
        image: tagged,
        ..
    } = &mut made;
    let make_volume = !no_start || state_from.is_some();
    let (installed, prepared) = tokio::join!(
        install_units(host, spec, units, files, volume, make_volume),
        prepare_podman(host, work, history, tagged),
    );
    crate::trace::mark("create: units and image ready");
    let result = match prepared.and(installed) {
        Ok(()) => match fill_and_start(mgr, &ctx.paths, &spec.name, state_from, no_start).await {
            Ok(()) => check_interrupt(Some(&spec.name)), // whole, but asked to stop
            err => err,
        },
        err => err,
    };
    (made, result)
}

/// What [`prepare_podman`] makes ready for a new session.
struct PodmanWork<'a> {
    /// The image to build when missing or stale ([`image::ensure`]);
    /// `None` when the caller made the project image already.
    image: Option<&'a ImageSpec>,
    /// The Claude token (`(name, value)`) to store as a Podman secret.
    token: Option<&'a (String, String)>,
    /// The session.
    spec: &'a SessionSpec,
    /// Its project, for the history volume.
    project: &'a ProjectName,
}

/// The half of [`create`] that does not touch the session's units:
/// turns linger on, installs ccy's timers, builds the image when needed,
/// stores the token secret, gives the session its image and makes sure
/// the project's history volume exists, recording in `history` and
/// `tagged` what it made (see [`Made`]).
///
/// # Errors
/// As [`image::ensure`], [`podman_cli::create_secret`], [`give_image`] and
/// [`ensure_history_volume`]; [`ExitKind::Interrupted`] after a stop signal.
async fn prepare_podman(
    host: &Host<'_>,
    work: PodmanWork<'_>,
    history: &mut Option<String>,
    tagged: &mut bool,
) -> Result<()> {
    let api = host.api().await?;
    ensure_linger(host.ctx.paths.uid).await;
    crate::session::timer::ensure_for_user(host).await;
    if let Some(image) = work.image {
        image::ensure(api, image, &mut std::io::stderr()).await?;
        check_interrupt(Some(&work.spec.name))?;
    }
    if let (Some((token_name, value)), Some(secret)) = (work.token, &work.spec.token_secret) {
        podman_cli::create_secret(secret, (token::LABEL_TOKEN, token_name), value)?;
    }
    *tagged = give_image(api, work.spec).await?;
    if ensure_history_volume(api, work.project).await? {
        *history = Some(history_volume_name(work.project));
    }
    crate::trace::mark("create: image, secret, history volume ready");
    Ok(())
}

/// The other half of [`create`]: creates the session's state directory,
/// writes its unit files atomically and loads them into the user manager,
/// recording in `files` what it wrote; then looks up the state volume
/// (`volume`: whether it did not exist) and, when `make_volume`, starts
/// the volume unit, which creates it.
///
/// # Errors
/// File, D-Bus and API errors; [`ExitKind::Session`] when the manager did
/// not load the unit (with Quadlet's complaints) or the volume unit
/// failed; [`ExitKind::Interrupted`] after a stop signal.
async fn install_units(
    host: &Host<'_>,
    spec: &SessionSpec,
    units: &render::SessionUnits,
    files: &mut Vec<PathBuf>,
    volume: &mut bool,
    make_volume: bool,
) -> Result<()> {
    let (ctx, mgr, name) = (host.ctx, &host.mgr, &spec.name);
    check_interrupt(Some(name))?;
    store::ensure_private_dir(&spec.state_dir)?;
    let dir = &ctx.paths.quadlet_dir;
    for (file, text) in [
        (name.volume_file(), &units.volume),
        (name.container_file(), &units.container),
    ] {
        let path = dir.join(file);
        crate::host::fs::write_atomic(&path, text.as_bytes(), store::UNIT_FILE_MODE)?;
        files.push(path);
    }
    crate::trace::mark("create: unit files written");
    load_new_units(&ctx.paths, mgr, name).await?;
    check_interrupt(Some(name))?;
    let state = mgr.unit_state(&name.service_unit()).await?;
    if state.load_state != LoadState::Loaded {
        let mut err = Error::new(
            ExitKind::Session,
            format!(
                "the user manager has no unit {} ({}): Quadlet did not generate it",
                name.service_unit(),
                state.load_state
            ),
        );
        // The files go away with the rest of the half-made session: keep
        // Quadlet's reason here.
        for line in generator::complaints(dir, name.as_str()) {
            err = err.detail(line);
        }
        return Err(err.hint(format!(
            "run 'QUADLET_UNIT_DIRS={} /usr/libexec/podman/quadlet -dryrun -user' to see why {} is rejected",
            dir.display(),
            name.container_file()
        )));
    }
    *volume = !state_volume_existed(host.api().await?, name).await?;
    if make_volume {
        start_volume_unit(mgr, name).await?;
        crate::trace::mark("create: volume unit done");
    }
    Ok(())
}

/// [`ExitKind::Interrupted`] when a stop signal arrived
/// ([`crate::host::signal::caught`]) while session `name` (when known) was
/// being made; the caller takes back what was made.
///
/// # Errors
/// That error, when a signal arrived.
pub fn check_interrupt(name: Option<&SessionName>) -> Result<()> {
    let Some(signal) = crate::host::signal::caught() else {
        return Ok(());
    };
    let what = name.map_or_else(|| "a session".to_owned(), |n| format!("session {n}"));
    Err(Error::new(
        ExitKind::Interrupted,
        format!("interrupted by {signal} while making {what}"),
    ))
}

/// The end of a verb that made session `name`: when a stop signal arrived
/// after [`create`] returned (too late to take the session back), prints
/// `created session NAME` on standard output and returns
/// [`ExitKind::Interrupted`] saying the session is whole; otherwise `Ok`.
///
/// # Errors
/// That error, when a signal arrived.
pub fn interrupted_after(name: &SessionName) -> Result<()> {
    let Some(signal) = crate::host::signal::caught() else {
        return Ok(());
    };
    crate::outln!("created session {name}");
    Err(Error::new(
        ExitKind::Interrupted,
        format!("interrupted by {signal} after session {name} was made: it is complete and runs"),
    )
    .hint(format!(
        "attach with 'ccy attach {name}', or remove it with 'ccy rm {name}'"
    )))
}

/// The end of [`create`]: fills the state volume from `state_from` (see
/// [`fill_state_volume`]), then starts the unit unless `no_start`.
async fn fill_and_start(
    mgr: &UserManager,
    paths: &Paths,
    name: &SessionName,
    state_from: Option<&StateSource>,
    no_start: bool,
) -> Result<()> {
    if let Some(source) = state_from {
        fill_state_volume(mgr, name, source).await?;
    }
    if no_start {
        return Ok(());
    }
    start_unit(mgr, paths, name).await
}

/// Refuses to fill a new session's state volume when a volume of that name
/// is left from an earlier session (its contents would be mixed in).
async fn check_state_volume_free(api: &PodmanApi, name: &SessionName) -> Result<()> {
    if !api.volume_exists(&name.state_volume()).await? {
        return Ok(());
    }
    Err(Error::usage(format!(
        "the volume {} exists (the agent state of an earlier session named {name}); it would be mixed with the state being copied in",
        name.state_volume()
    ))
    .hint(format!(
        "remove it with 'podman volume rm {}', or choose another name",
        name.state_volume()
    )))
}

/// Fills session `name`'s agent-state volume from `source` before the
/// container first starts; the volume is created through its volume unit
/// ([`start_volume_unit`]; already done by [`install_units`]).
async fn fill_state_volume(
    mgr: &UserManager,
    name: &SessionName,
    source: &StateSource,
) -> Result<()> {
    start_volume_unit(mgr, name).await?;
    match source {
        StateSource::Volume(from) => podman_cli::copy_volume(from, &name.state_volume()),
        StateSource::Archive(file) => podman_cli::import_volume(&name.state_volume(), file),
    }
}

/// Starts session `name`'s volume unit (`NAME-volume.service`, so the
/// volume gets the unit's name and labels) and waits for its job; the
/// unit stays active, so a second call returns at once.
///
/// # Errors
/// [`ExitKind::Session`] when the job does not end `done`; D-Bus errors.
async fn start_volume_unit(mgr: &UserManager, name: &SessionName) -> Result<()> {
    let unit = name.volume_unit();
    match mgr.start(&unit).await? {
        JobResult::Done => Ok(()),
        result => Err(Error::new(
            ExitKind::Session,
            format!(
                "cannot create the volume {} (job {})",
                name.state_volume(),
                result.as_str()
            ),
        )
        .hint(format!("see 'journalctl --user -u {unit}'"))),
    }
}

/// Makes the user manager load `name`'s new units (`NAME.service`,
/// `NAME-volume.service`): through Quadlet's generator run by ccy
/// ([`generator::install`], no daemon-reload) when that applies and the
/// manager then loads both; with `Reload` otherwise, or when
/// `CCY_FULL_RELOAD=1`.
///
/// # Errors
/// When `Reload` fails.
async fn load_new_units(paths: &Paths, mgr: &UserManager, name: &SessionName) -> Result<()> {
    let units = [name.service_unit(), name.volume_unit()];
    let source = paths.quadlet_dir.join(name.container_file());
    let fast = std::env::var_os("CCY_FULL_RELOAD").is_none_or(|v| v != "1")
        && generator::install(paths, &source, &units).unwrap_or(false);
    if fast {
        crate::trace::mark("create: units generated");
        let states = mgr.unit_states(&units).await?;
        if states.iter().all(|s| s.load_state == LoadState::Loaded) {
            crate::trace::mark("create: units loaded without a reload");
            return Ok(());
        }
    }
    mgr.reload().await?;
    crate::trace::mark("create: reloaded");
    Ok(())
}

/// The checks of [`create`] that need no change anywhere: Podman's
/// version, the `[session]` values, limits the cgroup can apply, the
/// network, the token, `session.max_running`. Returns the run options and
/// the token (`(name, value)`).
async fn preflight(
    ctx: &Ctx,
    mgr: &UserManager,
    api: &PodmanApi,
    config: &Config,
) -> Result<(RunOptions, Option<(String, String)>)> {
    api.check_version().await?;
    let run = options::resolve(&config.session, &ctx.paths.home, |n| std::env::var(n).ok())?;
    check_limits_supported(&ctx.paths, &run.limits)?;
    if let Some(net) = &run.network {
        check_network(api, net).await?;
        crate::session::trust::warn_network(net);
    }
    let token = token::for_session(&ctx.paths.home, &config.agent.token)?;
    check_capacity(&ctx.paths, mgr, api, config.session.max_running, None).await?;
    Ok((run, token))
}

/// The name of the project's conversation-history volume,
/// `ccy-history-PROJECT`. Every session of the project mounts it at
/// [`crate::contract::HISTORY_MOUNT`], so `claude --resume` in a new session lists
/// the conversations of earlier ones.
#[must_use]
pub fn history_volume_name(project: &ProjectName) -> String {
    format!("ccy-history-{project}")
}

/// Creates the project's history volume ([`history_volume_name`], label
/// `ccy.history=PROJECT`) when missing; `true` when this call created it
/// (so a rollback removes it again).
///
/// # Errors
/// When the API fails.
pub async fn ensure_history_volume(api: &PodmanApi, project: &ProjectName) -> Result<bool> {
    api.ensure_volume(
        &history_volume_name(project),
        &[(LABEL_HISTORY, project.as_str())],
    )
    .await
}

/// Turns linger on through logind, printing one line when it does and a
/// warning (sessions then stop at logout) when it cannot.
pub async fn ensure_linger(uid: u32) {
    match linger::ensure_linger(uid).await {
        Ok(Linger::AlreadyOn) => {}
        Ok(Linger::Enabled) => notice(
            "enabled linger for your user (logind): sessions keep running after logout and start at boot",
        ),
        Err(e) => notice(&format!(
            "warning: sessions will stop when you log out: {}",
            e.to_string().replace('\n', "\n  ")
        )),
    }
}
