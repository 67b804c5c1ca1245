//! `ccy attach NAME`: attach to any session, starting it when stopped.

use std::io::IsTerminal;

use clap::Args;

use std::path::Path;

use crate::ctx::{Ctx, notice};
use crate::error::{Context, Error, ExitKind, Result};
use crate::fsutil;
use crate::inventory::{self, SessionInfo, State};
use crate::lifecycle;
use crate::podman::{self, AttachMode, PodmanApi};
use crate::render;
use crate::session::{self, SessionMeta};
use crate::systemd::{JobResult, UserManager};

/// Attach to a session by name, starting it first when it is stopped.
///
/// NAME is the session's full name, or its name without the `ccy-` prefix,
/// or a prefix of either that only one session has, or its 8-hex id (4+ digits suffice; the
/// end of an automatic name). A stopped or failed session is started (its
/// unit, through your systemd user manager) and ccy waits for its tmux
/// before attaching. Detach with Ctrl-b d; the session keeps running.
///
/// With --fresh, the session's container is recreated first (its unit is
/// restarted through your user manager: a new container from the image,
/// the same volumes and worktree), for a clean agent process. With
/// --reset, the session also gets a new, empty agent-state volume
/// (`NAME-state-2`, `-3`, …; settings, prompt history): the old volume is
/// kept, and ccy prints its name. Both work on a stopped session too, and
/// both disconnect the session's attached clients.
///
/// Exit status: that of the attached client (0 after a detach); 2 NAME
/// matches several sessions, or no terminal; 3 no user manager or Podman;
/// 4 the session failed to start or restart (with its journal), or it has
/// no ccy unit file (--fresh, --reset); 5 no session matches NAME; 6
/// `session.max_running` sessions already run (starting a stopped one).
#[derive(Debug, Args)]
#[expect(clippy::struct_excessive_bools, reason = "independent clap flags")]
pub struct AttachArgs {
    /// The session: name, name without `ccy-`, unique prefix, or 8-hex id (4+ digits suffice).
    pub name: String,

    /// Attach read-only (tmux `attach -r`): you see the pane, your keys do
    /// not reach it (except detaching).
    #[arg(short, long)]
    pub read_only: bool,

    /// Detach every other client of the session first (tmux `attach -d`).
    #[arg(long)]
    pub exclusive: bool,

    /// Recreate the session's container first (restart its unit), keeping
    /// its volumes.
    #[arg(long, conflicts_with = "reset")]
    pub fresh: bool,

    /// Give the session a new, empty agent-state volume and recreate its
    /// container; the old volume is kept.
    #[arg(long)]
    pub reset: bool,
}

/// Resolves the session, starts it when needed, and replaces the ccy
/// process with a tmux client attached to it (see
/// [`lifecycle::attach_argv`]).
///
/// # Errors
/// See the exit status in [`AttachArgs`].
pub fn run(ctx: &Ctx, args: &AttachArgs) -> Result<()> {
    require_terminal()?;
    podman::require_cli()?;
    let name = ctx.block_on(async {
        let mgr = UserManager::connect(&ctx.paths).await?;
        let api = PodmanApi::connect(&ctx.paths, &mgr).await?;
        let all = inventory::all_sessions(&ctx.paths, &mgr, &api).await?;
        let info = inventory::resolve(&all, &args.name)?;
        if args.reset {
            reset(ctx, &mgr, &api, info).await?;
        } else if args.fresh {
            fresh(ctx, &mgr, &api, info).await?;
        } else if lifecycle::ensure_running(&mgr, &api, &ctx.paths, info).await? {
            notice(&format!("started session {}", info.name));
        }
        Ok::<_, Error>(info.name.clone())
    })?;
    lifecycle::say_attaching(&name, false);
    let mode = AttachMode {
        read_only: args.read_only,
        exclusive: args.exclusive,
    };
    Err(podman::exec_replace(&lifecycle::attach_argv(
        &ctx.paths, &name, mode,
    )))
}

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

/// `--fresh`: restarts the running session's unit (a new container), or
/// starts the stopped one.
async fn fresh(ctx: &Ctx, mgr: &UserManager, api: &PodmanApi, info: &SessionInfo) -> Result<()> {
    let (_, meta) = unit_file(info)?;
    if info.state() == State::Stopped {
        lifecycle::start_session(&ctx.paths, mgr, api, &info.name, &meta.worktree).await?;
        notice(&format!("started session {} in a new container", info.name));
    } else {
        lifecycle::restart_unit(mgr, &ctx.paths, &info.name).await?;
        notice(&format!("recreated the container of session {}", info.name));
    }
    Ok(())
}

/// `--reset`: points the session's `NAME.volume` unit at a new Podman
/// volume (`NAME-state-K`, the first K from 2 that no volume has) and
/// records it in the metadata line; stops the session (and its volume
/// unit, so that it runs again), reloads the user manager once, starts
/// the session. The old volume is kept and named.
async fn reset(ctx: &Ctx, mgr: &UserManager, api: &PodmanApi, info: &SessionInfo) -> Result<()> {
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
    let container = session::replace_meta(&text, &new_meta)
        .ok_or_else(|| Error::failure(format!("{} has no ccy metadata line", file.display())))?;
    let volume = render::state_volume(name, &new, &meta.project)?;
    let unit = name.service_unit();
    match mgr.stop(&unit).await? {
        JobResult::Done | JobResult::Skipped => {}
        result => {
            return Err(Error::new(
                ExitKind::Session,
                format!("cannot stop {unit} (job {})", result.as_str()),
            )
            .hint(format!("see 'journalctl --user -u {unit}'")));
        }
    }
    // The volume unit is a oneshot that stays active: stop it so that the
    // next start runs it again and creates the new volume.
    let _ = mgr.stop(&name.volume_unit()).await;
    let dir = &ctx.paths.quadlet_dir;
    fsutil::write_atomic(&dir.join(name.volume_file()), volume.as_bytes(), 0o644)?;
    fsutil::write_atomic(
        &dir.join(name.container_file()),
        container.as_bytes(),
        0o644,
    )?;
    mgr.reload().await?;
    lifecycle::start_session(&ctx.paths, mgr, api, name, &meta.worktree).await?;
    notice(&format!(
        "session {name} has a new agent-state volume {new}; kept the old one, {old} (remove it with 'podman volume rm {old}')"
    ));
    Ok(())
}

/// Attaching needs standard input to be a terminal (`podman exec -it`).
fn require_terminal() -> Result<()> {
    if std::io::stdin().is_terminal() {
        return Ok(());
    }
    Err(
        Error::usage("cannot attach: standard input is not a terminal").hint(
            "run it from a terminal, or 'ccy shell NAME -- CMD' to run a command in the session",
        ),
    )
}
