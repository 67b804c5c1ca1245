//! Session operations shared by the verbs: find, create, start, attach.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::ctx::{Ctx, notice};
use crate::error::{Context, Error, ExitKind, Result};
use crate::fsutil;
use crate::generator;
use crate::git::Worktree;
use crate::image::{self, ImageSpec};
use crate::inventory::{self, SessionInfo, State};
use crate::names::{ProjectName, SessionName};
use crate::paths::Paths;
use crate::podman::{self, AttachMode, ContainerInfo, LABEL_WORKTREE, PodmanApi};
use crate::render;
use crate::runopts::{self, Limits};
use crate::session::{self, CreatedWorktree, SessionFile, SessionSpec};
use crate::systemd::{self, JobResult, Linger, UserManager};
use crate::token;

/// A session as ccy found it: its unit file and/or its running container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The session name.
    pub name: SessionName,
    /// Its `.container` file, when ccy's file is there.
    pub file: Option<SessionFile>,
    /// Its container, when one exists (Quadlet removes stopped ones).
    pub container: Option<ContainerInfo>,
}

/// The sessions of `worktree`: ccy unit files whose metadata names it,
/// merged by name with containers labelled `ccy.worktree=ROOT` (one API
/// call), sorted by name.
///
/// # Errors
/// When the Quadlet directory or the API cannot be read.
pub async fn sessions_for_worktree(
    paths: &Paths,
    api: &PodmanApi,
    worktree: &Worktree,
) -> Result<Vec<Found>> {
    let root = worktree.root.to_string_lossy();
    let containers = api
        .session_containers(Some((LABEL_WORKTREE, &root)))
        .await?;
    let files = session::read_sessions(&paths.quadlet_dir)?
        .into_iter()
        .filter(|f| f.meta.worktree == worktree.root);
    Ok(merge(files, containers))
}

fn merge(
    files: impl IntoIterator<Item = SessionFile>,
    containers: impl IntoIterator<Item = ContainerInfo>,
) -> Vec<Found> {
    let mut by_name: BTreeMap<String, Found> = BTreeMap::new();
    for f in files {
        if let Ok(name) = f.name() {
            by_name.insert(
                name.to_string(),
                Found {
                    name,
                    file: Some(f),
                    container: None,
                },
            );
        }
    }
    for c in containers {
        let Ok(name) = SessionName::parse(&c.name) else {
            continue;
        };
        let key = c.name.clone();
        by_name
            .entry(key)
            .or_insert_with(|| Found {
                name,
                file: None,
                container: None,
            })
            .container = Some(c);
    }
    by_name.into_values().collect()
}

/// The lock file serialising lookup-or-create in one worktree.
#[must_use]
pub fn worktree_lock_path(paths: &Paths, worktree: &Worktree) -> PathBuf {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in worktree.root.as_os_str().as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    paths.lock_dir().join(format!("worktree-{h:016x}.lock"))
}

/// Takes the worktree's lock (see [`worktree_lock_path`]).
///
/// # Errors
/// When the lock file cannot be created or locked.
pub fn lock_worktree(paths: &Paths, worktree: &Worktree) -> Result<fsutil::Lock> {
    fsutil::lock(&worktree_lock_path(paths, worktree))
}

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
    /// Another session's volume, copied ([`podman::copy_volume`]).
    Volume(String),
    /// A tar archive of a volume's contents ([`podman::import_volume`]).
    Archive(PathBuf),
}

/// Checks that no session, container or unit already uses `name`: its
/// Quadlet files (`NAME.container`, `NAME.volume`), a container of that
/// name (any state), or a loaded unit `NAME.service` / `NAME-volume.service`
/// (one API call, one D-Bus call).
///
/// # Errors
/// [`ExitKind::Usage`] saying what holds the name, with what to do.
pub async fn check_name_free(
    paths: &Paths,
    mgr: &UserManager,
    api: &PodmanApi,
    name: &SessionName,
) -> Result<()> {
    let taken = |why: String| {
        Error::usage(format!("the name {name} is taken: {why}")).hint(format!(
            "choose another name, e.g. 'ccy new {name}-2', or leave it out for an automatic one"
        ))
    };
    for file in [name.container_file(), name.volume_file()] {
        let path = paths.quadlet_dir.join(&file);
        if path.exists() {
            let err = taken(format!(
                "the unit file {} exists",
                crate::paths::display_home(&path, &paths.home)
            ));
            return Err(
                if session::read_session(&paths.quadlet_dir, name)?.is_some() {
                    err.hint(format!(
                    "it is a ccy session: attach with 'ccy attach {name}' or remove it with 'ccy rm {name}'"
                ))
                } else {
                    err
                },
            );
        }
    }
    if api.container_exists(name.as_str()).await? {
        return Err(taken(format!("a container named {name} exists"))
            .hint(format!("see it with 'podman ps -a --filter name=^{name}$'")));
    }
    let units = [name.service_unit(), name.volume_unit()];
    for state in mgr.unit_states(&units).await? {
        if state.load_state != "not-found" {
            return Err(taken(format!(
                "your user manager has a unit {} ({}, {})",
                state.name, state.load_state, state.active_state
            ))
            .hint(format!(
                "see it with 'systemctl --user status {}'",
                state.name
            )));
        }
    }
    Ok(())
}

/// Creates a session for `worktree`: checks Podman and everything the
/// configuration asks for (mounts, SSH keys, limits, network, token,
/// `session.max_running`), turns linger on (one line when it does), builds
/// the image if needed and the project image when the worktree has
/// `.claude/ccy/Dockerfile`, stores the Claude token as a Podman secret,
/// makes sure the project's history volume exists, writes the `.volume` and
/// `.container` files atomically, reloads the user manager, starts the unit
/// and waits for its job. Returns the session name.
///
/// # Errors
/// Podman too old or a limit the cgroup cannot apply
/// ([`ExitKind::Environment`]); a bad configuration value or name taken
/// ([`ExitKind::Usage`]); no such token or network ([`ExitKind::NotFound`]);
/// too many sessions running ([`ExitKind::Refused`]); image build or unit
/// start failure ([`ExitKind::Session`], with the unit's last journal
/// lines).
pub async fn create(
    ctx: &Ctx,
    mgr: &UserManager,
    api: &PodmanApi,
    config: &Config,
    worktree: &Worktree,
    new: NewSession,
) -> Result<SessionName> {
    // Everything that can be refused is checked before anything is built
    // or written.
    let (mut run, token) = preflight(ctx, mgr, api, config).await?;
    runopts::add_linked_worktree_git(&mut run, worktree);
    crate::trace::mark("create: preflight done");
    let name = match new.name {
        Some(n) => n,
        None => SessionName::generate(&worktree.project())?,
    };
    // Two ccy processes creating the same name (in different worktrees)
    // must not both pass the check: hold the name until the files exist.
    let _name_lock = fsutil::lock(
        &ctx.paths
            .lock_dir()
            .join(format!("session-{}.lock", name.as_str())),
    )?;
    check_name_free(&ctx.paths, mgr, api, &name).await?;
    if new.state_from.is_some() {
        check_state_volume_free(api, &name).await?;
    }
    ensure_linger(ctx.paths.uid).await;
    let image = ImageSpec {
        name: config.image.name.clone(),
        base: config.image.base.clone(),
        agent_install: config.image.agent_install.clone(),
    };
    image::ensure(api, &image, &mut std::io::stderr()).await?;
    let project = worktree.project();
    let image_name = image::ensure_project(
        api,
        &worktree.root,
        project.as_str(),
        &image.name,
        &mut std::io::stderr(),
    )
    .await?;
    let token_secret = match token {
        Some((token_name, value)) => {
            let secret = token::secret_name(&token_name);
            podman::create_secret(&secret, (token::LABEL_TOKEN, &token_name), &value)?;
            Some(secret)
        }
        None => None,
    };
    let history = history_volume(api, &project).await?;
    let volume_existed = api.volume_exists(&name.state_volume()).await?;
    if volume_existed {
        notice(&format!(
            "reusing the existing volume {} (the agent state of an earlier session named {name})",
            name.state_volume()
        ));
    }
    let gitconfig = ctx.paths.home.join(".gitconfig");
    let mut agent = config.agent.command.clone();
    agent.extend(new.agent_args);
    let spec = SessionSpec {
        name: name.clone(),
        project: project.to_string(),
        worktree: worktree.root.clone(),
        branch: worktree.branch(),
        created: session::now_rfc3339(),
        image: image_name,
        agent,
        autostart: config.session.autostart,
        gitconfig: gitconfig.is_file().then_some(gitconfig),
        state_dir: ctx.paths.session_state_dir(name.as_str()),
        created_worktree: new.created_worktree,
        run,
        token_secret,
        history_volume: Some(history),
        keep: new.keep,
    };
    let units = render::session(&spec)?;
    let mut made = Made {
        state_dir: !spec.state_dir.exists(),
        volume: !volume_existed,
        files: Vec::new(),
    };
    let result = install_and_start(
        ctx,
        mgr,
        &spec,
        &units,
        &mut made,
        new.state_from.as_ref(),
        new.no_start,
    )
    .await;
    if let Err(err) = result {
        // A running unit that only missed the readiness deadline is a
        // session, slow to start: keep it. Anything else that failed here
        // would leave a half-made session (files the next `ccy` finds, a
        // failed unit, an empty state volume): take it back.
        let up = mgr
            .unit_state(&name.service_unit())
            .await
            .is_ok_and(|s| s.is_up());
        if up {
            return Err(err.hint(format!(
                "the session is still starting: attach with 'ccy attach {name}' once it is ready, or remove it with 'ccy rm {name}'"
            )));
        }
        return Err(undo_create(ctx, mgr, api, &name, &made).await.apply(err));
    }
    Ok(name)
}

/// What [`create`] made so far, for [`undo_create`].
#[derive(Debug, Default)]
struct Made {
    /// The session's state directory did not exist before.
    state_dir: bool,
    /// The state volume did not exist before (the volume unit creates it).
    volume: bool,
    /// Unit files written, in order.
    files: Vec<PathBuf>,
}

/// Creates the session's state directory, writes its unit files
/// atomically, reloads the user manager and starts the unit, recording in
/// `made` what it created.
async fn install_and_start(
    ctx: &Ctx,
    mgr: &UserManager,
    spec: &SessionSpec,
    units: &render::SessionUnits,
    made: &mut Made,
    state_from: Option<&StateSource>,
    no_start: bool,
) -> Result<()> {
    let name = &spec.name;
    std::fs::create_dir_all(&spec.state_dir)
        .with_context(|| format!("cannot create {}", spec.state_dir.display()))?;
    let dir = &ctx.paths.quadlet_dir;
    for (file, text) in [
        (name.volume_file(), &units.volume),
        (name.container_file(), &units.container),
    ] {
        let path = dir.join(file);
        fsutil::write_atomic(&path, text.as_bytes(), 0o644)?;
        made.files.push(path);
    }
    crate::trace::mark("create: unit files written");
    load_new_units(&ctx.paths, mgr, name).await?;
    let state = mgr.unit_state(&name.service_unit()).await?;
    if state.load_state != "loaded" {
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
        for line in quadlet_complaints(dir, name) {
            err = err.detail(line);
        }
        return Err(err.hint(format!(
            "run 'QUADLET_UNIT_DIRS={} /usr/libexec/podman/quadlet -dryrun -user' to see why {} is rejected",
            dir.display(),
            name.container_file()
        )));
    }
    fill_and_start(mgr, &ctx.paths, name, state_from, no_start).await
}

/// What Quadlet's generator says about `name`'s files (`quadlet -dryrun`,
/// lines naming the session), for an error message; empty when it cannot
/// run.
fn quadlet_complaints(dir: &Path, name: &SessionName) -> Vec<String> {
    Command::new("/usr/libexec/podman/quadlet")
        .args(["-dryrun", "-user"])
        .env("QUADLET_UNIT_DIRS", dir)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .filter(|l| l.contains(name.as_str()))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// How [`undo_create`] went.
struct Undone {
    name: SessionName,
    problems: Vec<String>,
}

impl Undone {
    /// `err`, saying that the session was removed again, or what of it
    /// could not be.
    fn apply(self, err: Error) -> Error {
        let name = &self.name;
        if self.problems.is_empty() {
            return err.hint(format!(
                "ccy removed the half-made session {name} again (its journal stays); fix the cause and run ccy again"
            ));
        }
        let mut err = err.detail(format!("removing the half-made session {name} failed:"));
        for p in self.problems {
            err = err.detail(format!("  {p}"));
        }
        err.hint(format!(
            "remove what is left with 'ccy rm {name} --volumes'"
        ))
    }
}

/// Takes back what [`create`] made for a session that did not start:
/// stops its volume unit, clears the failed state of both units, removes
/// the unit files it wrote and reloads, removes its container if Quadlet's
/// clean-up did not, its state volume and state directory if this
/// creation made them. Never touches what existed before. The unit's
/// journal stays (`journalctl --user -u NAME.service`).
async fn undo_create(
    ctx: &Ctx,
    mgr: &UserManager,
    api: &PodmanApi,
    name: &SessionName,
    made: &Made,
) -> Undone {
    let mut problems = Vec::new();
    if !made.files.is_empty() {
        let units = [name.service_unit(), name.volume_unit()];
        let states = mgr.unit_states(&units).await.unwrap_or_default();
        for state in states.iter().filter(|s| s.load_state != "not-found") {
            if state.is_up()
                && let Err(e) = mgr.stop(&state.name).await
            {
                problems.push(format!("stop {}: {}", state.name, e.message()));
            }
            if let Err(e) = mgr.reset_failed(&state.name).await {
                problems.push(e.message().to_owned());
            }
        }
        for f in made.files.iter().rev() {
            match std::fs::remove_file(f) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    problems.push(format!("remove {}: {e}", f.display()));
                }
                _ => {}
            }
        }
        if let Err(e) = mgr.reload().await {
            problems.push(e.message().to_owned());
        }
    }
    if api.container_exists(name.as_str()).await.unwrap_or(false)
        && let Err(e) = podman::remove_container(name.as_str())
    {
        problems.push(e.message().to_owned());
    }
    if made.volume
        && api
            .volume_exists(&name.state_volume())
            .await
            .unwrap_or(false)
        && let Err(e) = api.remove_volume(&name.state_volume()).await
    {
        problems.push(e.message().to_owned());
    }
    let dir = ctx.paths.session_state_dir(name.as_str());
    if made.state_dir
        && let Err(e) = std::fs::remove_dir_all(&dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        problems.push(format!("remove {}: {e}", dir.display()));
    }
    Undone {
        name: name.clone(),
        problems,
    }
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

/// Creates the session's agent-state volume through its volume unit
/// (`NAME-volume.service`, so it gets the unit's name and labels) and
/// fills it from `source`, before the container first starts.
async fn fill_state_volume(
    mgr: &UserManager,
    name: &SessionName,
    source: &StateSource,
) -> Result<()> {
    let unit = name.volume_unit();
    match mgr.start(&unit).await? {
        JobResult::Done => {}
        result => {
            return Err(Error::new(
                ExitKind::Session,
                format!(
                    "cannot create the volume {} (job {})",
                    name.state_volume(),
                    result.as_str()
                ),
            )
            .hint(format!("see 'journalctl --user -u {unit}'")));
        }
    }
    match source {
        StateSource::Volume(from) => podman::copy_volume(from, &name.state_volume()),
        StateSource::Archive(file) => podman::import_volume(&name.state_volume(), file),
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
        if states.iter().all(|s| s.load_state == "loaded") {
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
) -> Result<(runopts::RunOptions, Option<(String, String)>)> {
    api.check_version().await?;
    let run = runopts::resolve(&config.session, &ctx.paths.home, |n| std::env::var(n).ok())?;
    check_limits_supported(&ctx.paths, &run.limits)?;
    if let Some(net) = &run.network {
        check_network(api, net).await?;
    }
    let token = token::for_session(&ctx.paths.home, &config.agent.token)?;
    check_capacity(&ctx.paths, mgr, api, config.session.max_running, None).await?;
    Ok((run, token))
}

/// The project's conversation-history volume `ccy-history-PROJECT`
/// (label `ccy.history=PROJECT`), created when missing. Every session of
/// the project mounts it at [`render::HISTORY_MOUNT`], so `claude --resume`
/// in a new session lists the conversations of earlier ones.
///
/// # Errors
/// When the API fails.
pub async fn history_volume(api: &PodmanApi, project: &ProjectName) -> Result<String> {
    let name = format!("ccy-history-{project}");
    api.ensure_volume(&name, &[(render::LABEL_HISTORY, project.as_str())])
        .await?;
    Ok(name)
}

/// Refuses to start another session when `max` (`session.max_running`;
/// 0: no limit) are already running or starting (`starting`, the session
/// about to start, is not counted). One API and one D-Bus call
/// ([`inventory::all_sessions`]).
///
/// # Errors
/// [`ExitKind::Refused`] listing the running sessions, with the command
/// that stops one.
pub async fn check_capacity(
    paths: &Paths,
    mgr: &UserManager,
    api: &PodmanApi,
    max: u32,
    starting: Option<&SessionName>,
) -> Result<()> {
    if max == 0 {
        return Ok(());
    }
    let all = inventory::all_sessions(paths, mgr, api).await?;
    let running: Vec<&inventory::SessionInfo> = all
        .iter()
        .filter(|s| {
            matches!(s.state(), State::Running | State::Starting) && Some(&s.name) != starting
        })
        .collect();
    if running.len() < usize::try_from(max).unwrap_or(usize::MAX) {
        return Ok(());
    }
    let mut err = Error::new(
        ExitKind::Refused,
        format!(
            "refusing to start another session: {} running, session.max_running allows {max}:",
            running.len()
        ),
    );
    for s in &running {
        err = err.detail(format!("{}  {}  {}", s.name, s.project(), s.worktree()));
    }
    let first = running.first().map_or("NAME", |s| s.name.as_str());
    Err(err
        .hint(format!("stop one with 'ccy stop {first}'"))
        .hint("or raise session.max_running in ~/.config/ccy/config.toml (0: no limit)"))
}

/// The cgroup controllers Podman needs for `limits` (cgroup v2 names), with
/// what needs each.
fn needed_controllers(limits: &Limits) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(m) = &limits.memory {
        out.push((
            "memory",
            format!("memory limit {} (session.memory, --memory)", m.text),
        ));
    }
    if let Some(c) = limits.cpus_text() {
        out.push(("cpu", format!("CPU limit {c} (session.cpus, --cpus)")));
    }
    if let Some(p) = limits.pids {
        out.push(("pids", format!("process limit {p} (session.pids, --pids)")));
    }
    out
}

/// Checks that the user manager's cgroup has the controllers `limits`
/// need (systemd delegates `cpu memory pids` to `user@.service` by
/// default; a container whose limit cannot be applied fails to start with
/// a crun error). Skipped when the cgroup v2 file cannot be read.
///
/// # Errors
/// [`ExitKind::Environment`] naming the missing controller and the limit
/// that needs it.
pub fn check_limits_supported(paths: &Paths, limits: &Limits) -> Result<()> {
    let needed = needed_controllers(limits);
    if needed.is_empty() {
        return Ok(());
    }
    let uid = paths.uid;
    let file = PathBuf::from(format!(
        "/sys/fs/cgroup/user.slice/user-{uid}.slice/user@{uid}.service/cgroup.controllers"
    ));
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(());
    };
    let have: Vec<&str> = text.split_whitespace().collect();
    match needed.iter().find(|(c, _)| !have.contains(c)) {
        None => Ok(()),
        Some((controller, what)) => Err(Error::environment(format!(
            "the {what} cannot be applied: your systemd user manager's cgroup has no '{controller}' controller ({} lists: {})",
            file.display(),
            if have.is_empty() { "none".to_owned() } else { have.join(" ") }
        ))
        .hint("delegate it: 'sudo systemctl edit user@.service', add '[Service]' and 'Delegate=cpu memory pids', then log in again")
        .hint("or create the session without that limit")),
    }
}

/// Podman's network modes that are not network names.
const NETWORK_MODES: [&str; 6] = ["none", "host", "private", "bridge", "pasta", "slirp4netns"];

/// Checks that `network` exists (`podman network ls`), unless it is a
/// mode (`none`, `host`, `pasta:…`, …) or a Quadlet `.network` unit.
///
/// # Errors
/// [`ExitKind::NotFound`] with hints to list or create networks.
pub async fn check_network(api: &PodmanApi, network: &str) -> Result<()> {
    if NETWORK_MODES.contains(&network)
        || network.contains(':')
        || network.ends_with(".network")
        || api.network_exists(network).await?
    {
        return Ok(());
    }
    Err(Error::new(
        ExitKind::NotFound,
        format!("there is no Podman network {network}"),
    )
    .hint("list networks with 'podman network ls'")
    .hint(format!(
        "create it with 'podman network create {network}', or use --no-network"
    )))
}

/// Turns linger on through logind, printing one line when it does and a
/// warning (sessions then stop at logout) when it cannot.
pub async fn ensure_linger(uid: u32) {
    match systemd::ensure_linger(uid).await {
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
    let ready = paths
        .session_state_dir(name.as_str())
        .join(session::READY_FILE);
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
/// [`READY_TIMEOUT`] passes.
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
    for line in journal_tail(&unit, 15) {
        err = err.detail(line);
    }
    err.hint(format!(
        "see the whole log with 'journalctl --user -u {unit}'"
    ))
    .hint("check the setup with 'ccy doctor'")
}

/// The last `lines` journal lines of a user unit (`journalctl --user -u`),
/// empty when the journal cannot be read. Used on error paths only.
#[must_use]
pub fn journal_tail(unit: &str, lines: u32) -> Vec<String> {
    Command::new("journalctl")
        .args(["--user", "--no-pager", "-o", "cat", "-n"])
        .arg(lines.to_string())
        .arg("-u")
        .arg(unit)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Makes sure a session found by the inventory runs: starts its unit
/// (through [`start_session`]: `session.max_running`, token secrets, then
/// [`start_unit`], which waits for tmux) when it is stopped or failed.
/// Returns whether it started it.
///
/// # Errors
/// [`ExitKind::Session`] when a session without a unit file is not
/// running (ccy cannot start it), or the start fails; as
/// [`start_session`].
pub async fn ensure_running(
    mgr: &UserManager,
    api: &PodmanApi,
    paths: &Paths,
    info: &SessionInfo,
) -> Result<bool> {
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
    let worktree = info.worktree();
    start_session(paths, mgr, api, &info.name, Path::new(&worktree)).await?;
    Ok(true)
}

/// Starts a stopped session: refused when `session.max_running` sessions
/// run (the limit from the user's and the session's project configuration
/// and `CCY_*` variables; see [`check_capacity`]); the Claude token secrets
/// are refreshed first so a renewed token is used
/// ([`token::refresh_secrets`]); then [`start_unit`].
///
/// # Errors
/// An invalid configuration ([`ExitKind::Usage`]); as [`check_capacity`]
/// and [`start_unit`].
pub async fn start_session(
    paths: &Paths,
    mgr: &UserManager,
    api: &PodmanApi,
    name: &SessionName,
    worktree: &Path,
) -> Result<()> {
    let max = crate::config::load(&paths.user_config_file(), Some(worktree))?
        .finish()?
        .config
        .session
        .max_running;
    check_capacity(paths, mgr, api, max, Some(name)).await?;
    token::refresh_secrets(api, &paths.home).await;
    start_unit(mgr, paths, name).await?;
    if let Some(file) = last_panes(paths, name) {
        notice(&format!(
            "the panes as they were when {name} stopped are in {}",
            file.display()
        ));
    }
    Ok(())
}

/// The directory where a session's panes are saved when it stops, on the
/// host: `STATE_DIR/sessions/NAME/panes` (`/run/ccy/panes` in the
/// container; written by the image's `/etc/ccy/save-panes`).
#[must_use]
pub fn panes_dir(paths: &Paths, name: &SessionName) -> PathBuf {
    paths.session_state_dir(name.as_str()).join("panes")
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

/// The sessions a verb acts on: each of `names` resolved with
/// [`inventory::resolve`] (duplicates dropped, order kept), or when
/// `names` is empty, the sessions of the worktree `here` (its unit files'
/// metadata or its containers' label; none when `here` is `None`).
///
/// # Errors
/// As [`inventory::resolve`]; [`ExitKind::NotFound`] when `names` is empty
/// and the worktree has no session.
pub fn select<'a>(
    all: &'a [SessionInfo],
    names: &[String],
    here: Option<&Worktree>,
) -> Result<Vec<&'a SessionInfo>> {
    if names.is_empty() {
        let Some(here) = here else {
            return Ok(Vec::new());
        };
        let root = here.root.to_string_lossy();
        let mine: Vec<&SessionInfo> = all.iter().filter(|s| s.worktree() == root).collect();
        if mine.is_empty() {
            return Err(Error::new(
                ExitKind::NotFound,
                format!("the worktree {root} has no session"),
            )
            .hint("name the session (see 'ccy list'), or run ccy in its worktree"));
        }
        return Ok(mine);
    }
    let mut out: Vec<&SessionInfo> = Vec::new();
    for q in names {
        let s = inventory::resolve(all, q)?;
        if !out.iter().any(|o| o.name == s.name) {
            out.push(s);
        }
    }
    Ok(out)
}

/// Attached tmux clients of a running session: the status file's count
/// (written by the session on every attach and detach), confirmed live
/// with [`podman::live_clients`] when it says there are some (a detach
/// that the file has not caught up with yet must not block a stop). 0 when
/// the session is not running.
#[must_use]
pub fn attached_clients(info: &SessionInfo) -> u32 {
    match info.clients() {
        0 => 0,
        n => podman::live_clients(info.name.as_str()).unwrap_or(n),
    }
}

/// Refuses to `verb` (stop, remove) sessions that have attached clients
/// unless `force`: asks on a terminal ([`crate::ui::confirm`]), refuses
/// otherwise.
///
/// # Errors
/// [`ExitKind::Refused`] when the user declines, or without a terminal and
/// without `force`.
pub fn check_clients(sessions: &[&SessionInfo], force: bool, verb: &str) -> Result<()> {
    if force {
        return Ok(());
    }
    for info in sessions {
        let n = attached_clients(info);
        if n == 0 {
            continue;
        }
        let what = format!(
            "session {} has {n} attached client{}",
            info.name,
            if n == 1 { "" } else { "s" }
        );
        if crate::ui::can_prompt() {
            if !crate::ui::confirm(&format!("{what}; {verb} it anyway?")) {
                return Err(Error::new(
                    ExitKind::Refused,
                    format!("not {} session {}: declined", gerund(verb), info.name),
                )
                .hint(format!("add --force to {verb} it without asking")));
            }
        } else {
            return Err(Error::new(
                ExitKind::Refused,
                format!("{what}: not {} it", gerund(verb)),
            )
            .hint(format!(
                "detach those clients first (Ctrl-b d), or add --force to {verb} it anyway"
            )));
        }
    }
    Ok(())
}

/// `stop` → `stopping`, `remove` → `removing`.
fn gerund(verb: &str) -> String {
    match verb.strip_suffix('e') {
        Some(stem) => format!("{stem}ing"),
        None if verb.ends_with('p') => format!("{verb}ping"),
        None => format!("{verb}ing"),
    }
}

/// The argv that attaches this terminal to `name`'s tmux: the host's tmux
/// client on the session's socket when it can ([`crate::tmux`]), else
/// `podman exec -it … tmux attach`.
#[must_use]
pub fn attach_argv(paths: &Paths, name: &SessionName, mode: AttachMode) -> Vec<OsString> {
    match crate::tmux::attachable_socket(&paths.session_state_dir(name.as_str())) {
        Some(socket) => crate::tmux::attach_argv(&socket, mode),
        None => podman::attach_argv(name.as_str(), mode, &podman::terminal_env()),
    }
}

/// Tells the user which session they are attaching to, on standard error.
pub fn say_attaching(name: &SessionName, created: bool) {
    let mut err = std::io::stderr();
    let verb = if created { "created" } else { "attaching to" };
    writeln!(err, "ccy: {verb} session {name} (detach: Ctrl-b d)").ok();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::session::SessionMeta;

    fn file(name: &str) -> SessionFile {
        SessionFile {
            meta: SessionMeta {
                name: name.into(),
                project: "p".into(),
                worktree: "/w".into(),
                branch: "main".into(),
                created: "2026-01-01T00:00:00Z".into(),
                image: "i".into(),
                created_worktree: None,
                options: None,
                state_volume: None,
            },
            path: format!("/q/{name}.container").into(),
        }
    }

    fn container(name: &str) -> ContainerInfo {
        ContainerInfo {
            id: format!("id-{name}"),
            name: name.into(),
            state: "running".into(),
            labels: BTreeMap::new(),
            image: "i".into(),
            started_at: Some(1),
        }
    }

    #[test]
    fn merge_joins_files_and_containers_by_name() {
        let found = merge(
            [file("b"), file("a")],
            [container("b"), container("orphan"), container("bad name")],
        );
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "orphan"]);
        assert!(found[0].file.is_some() && found[0].container.is_none());
        assert!(found[1].file.is_some() && found[1].container.is_some());
        assert!(found[2].file.is_none() && found[2].container.is_some());
    }

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

    #[test]
    fn gerunds() {
        assert_eq!(gerund("stop"), "stopping");
        assert_eq!(gerund("remove"), "removing");
    }

    #[test]
    fn lock_path_depends_on_the_worktree() {
        let paths = Paths::new(1, "/h".into(), None, None, None);
        let wt = |p: &str| Worktree {
            root: p.into(),
            git_dir: format!("{p}/.git").into(),
            common_dir: format!("{p}/.git").into(),
        };
        let a = worktree_lock_path(&paths, &wt("/a"));
        assert_eq!(a, worktree_lock_path(&paths, &wt("/a")));
        assert_ne!(a, worktree_lock_path(&paths, &wt("/b")));
        assert!(a.starts_with("/run/user/1/ccy"));
    }
}
