//! `ccy` with no verb: attach to this worktree's session, creating it when
//! there is none.

use clap::Args;

use crate::cmd::create_opts::CreateArgs;
use crate::ctx::{Ctx, notice};
use crate::error::{Error, Result};
use crate::host::git::Worktree;
use crate::host::podman::cli as podman_cli;
use crate::host::systemd::ActiveState;
use crate::names::SessionName;
use crate::session::attach::{self, Arrival};
use crate::session::find::{self, SessionInfo, State};
use crate::session::{Host, create, start, store};
use crate::ui;

/// Options of `ccy` without a verb.
#[derive(Debug, Args)]
pub struct HereArgs {
    /// How a session is created when the worktree has none.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// Finds this worktree's session and attaches to it; creates it first when
/// there is none. Replaces the ccy process with a tmux client attached to
/// it ([`attach::attach_or_explain`]); without a terminal on standard
/// input, only makes sure the session runs.
///
/// # Errors
/// Not in a git worktree, no user bus, Podman unusable, the unit failing
/// to start, several sessions for the worktree and no terminal to choose
/// on.
pub fn run(ctx: &Ctx, args: &HereArgs) -> Result<()> {
    let worktree = Worktree::discover(&ctx.cwd)?;
    podman_cli::require_cli()?;
    if let Some(name) = running_here(ctx, &worktree, args)? {
        return attach::attach_or_explain(&ctx.paths, &name, Arrival::Quiet, false);
    }
    let (name, arrival) = ctx.block_on(find_or_create(ctx, &worktree, args))?;
    if arrival == Arrival::Created {
        create::interrupted_after(&name)?;
    }
    attach::attach_or_explain(&ctx.paths, &name, arrival, false)
}

/// The fastest path, with no D-Bus and no Podman: the session last used
/// ([`last_used`]) when its tmux server answers on the host
/// ([`crate::host::tmux::attachable_socket`]: its container runs). `None`
/// sends `ccy` down the path that asks the user manager.
///
/// # Errors
/// When the Quadlet directory cannot be read.
fn running_here(ctx: &Ctx, worktree: &Worktree, args: &HereArgs) -> Result<Option<SessionName>> {
    let Some(name) = last_used(ctx, worktree)? else {
        return Ok(None);
    };
    if crate::host::tmux::attachable_socket(&ctx.paths.session_state_dir(name.as_str())).is_none() {
        return Ok(None);
    }
    crate::trace::mark("fast path: tmux answers");
    resuming_quietly(ctx, worktree, &name, args)?;
    Ok(Some(name))
}

/// The session named in `.claude/ccy/.session-id` (the one last used),
/// when its unit file is ccy's and names this worktree; the file is the
/// repository's, so it is not trusted further than that.
///
/// # Errors
/// When the unit file exists but cannot be read.
fn last_used(ctx: &Ctx, worktree: &Worktree) -> Result<Option<SessionName>> {
    let Some(name) = store::read_session_id(worktree) else {
        return Ok(None);
    };
    let ours = store::read_session(&ctx.paths.quadlet_dir, &name)?
        .is_some_and(|f| f.meta.worktree == worktree.root);
    Ok(ours.then_some(name))
}

/// What `ccy` says when it resumes the last used session `name` without
/// asking: the options it ignores, and one line when the worktree has
/// other sessions.
///
/// # Errors
/// When the Quadlet directory cannot be read.
fn resuming_quietly(
    ctx: &Ctx,
    worktree: &Worktree,
    name: &SessionName,
    args: &HereArgs,
) -> Result<()> {
    warn_ignored_args(args);
    let n = store::count_worktree_sessions(&ctx.paths.quadlet_dir, &worktree.root)?;
    if n > 1 {
        notice(&last_used_line(n, name));
    }
    Ok(())
}

async fn find_or_create(
    ctx: &Ctx,
    worktree: &Worktree,
    args: &HereArgs,
) -> Result<(SessionName, Arrival)> {
    let host = Host::connect(ctx).await?;

    // The last used session when its unit runs but its tmux cannot be
    // reached from the host (an image without the host socket): one
    // D-Bus call, no Podman.
    if let Some(name) = last_used(ctx, worktree)?
        && host
            .mgr
            .unit_state(&name.service_unit())
            .await?
            .active_state
            == ActiveState::Active
    {
        crate::trace::mark("fast path: session running");
        resuming_quietly(ctx, worktree, &name, args)?;
        return Ok((name, Arrival::Quiet));
    }

    let _lock = find::lock_worktree(&ctx.paths, worktree)?;
    let found =
        find::sessions_for_worktree(&ctx.paths, &host.mgr, host.api().await?, worktree).await?;
    crate::trace::mark("worktree sessions listed");
    let outcome = match found.as_slice() {
        [] => {
            // From here SIGINT, SIGTERM, SIGHUP finish or take back the
            // new session, as in `ccy new`.
            crate::host::signal::catch()?;
            let cfg = args.create.config(ctx, worktree)?.config;
            let new = args.create.new_session(None);
            (
                create::create(&host, &cfg, worktree, new).await?,
                Arrival::Created,
            )
        }
        [one] => {
            warn_ignored_args(args);
            resume(ctx, &host, worktree, one).await?;
            (one.name.clone(), Arrival::Found)
        }
        many => {
            // The one last used (.session-id), else the user chooses.
            let last = store::read_session_id(worktree);
            let chosen = match many.iter().find(|s| Some(&s.name) == last.as_ref()) {
                Some(s) => {
                    notice(&last_used_line(many.len(), &s.name));
                    s
                }
                None => choose(many)?,
            };
            warn_ignored_args(args);
            resume(ctx, &host, worktree, chosen).await?;
            (chosen.name.clone(), Arrival::Found)
        }
    };
    store::write_session_id(worktree, &outcome.0)?;
    Ok(outcome)
}

/// The one line `ccy` prints when it attaches to the last used of `n`
/// sessions of the worktree.
fn last_used_line(n: usize, name: &SessionName) -> String {
    format!(
        "this worktree has {n} sessions; attaching to {name}, the last one used ('ccy attach' picks another)"
    )
}

/// Picks one of several sessions of the worktree: a numbered list on a
/// terminal ([`ui::choose`]); without one, an error listing them.
fn choose(many: &[SessionInfo]) -> Result<&SessionInfo> {
    let lines: Vec<String> = many
        .iter()
        .map(|s| {
            let created = s
                .meta
                .as_ref()
                .map(|m| format!(", created {}", m.created))
                .unwrap_or_default();
            format!("{}  ({}{created})", s.name, s.state().as_str())
        })
        .collect();
    if ui::can_prompt() {
        let i = ui::choose(
            &format!(
                "this worktree has {} sessions; attach to which?",
                many.len()
            ),
            &lines,
        )?;
        return many
            .get(i)
            .ok_or_else(|| Error::failure("the choice is out of range"));
    }
    let mut err = Error::usage(format!(
        "this worktree has {} sessions; say which one to attach to:",
        many.len()
    ));
    for line in &lines {
        err = err.detail(line.clone());
    }
    Err(err
        .hint("attach to one with 'ccy attach NAME'")
        .hint("or run 'ccy' on a terminal to choose from a list"))
}

/// Starts a found session's unit when it is not running (through
/// [`start::start_session`]: `session.max_running`, token secrets).
async fn resume(
    ctx: &Ctx,
    host: &Host<'_>,
    worktree: &Worktree,
    found: &SessionInfo,
) -> Result<()> {
    if found.file.is_none() || found.state() == State::Running {
        // A running container labelled for this worktree but no unit file
        // is not ours to manage, but attachable.
        return Ok(());
    }
    let max = ctx
        .config(Some(&worktree.root))?
        .finish()?
        .config
        .session
        .max_running;
    start::warn_network(found);
    start::start_session(host, &found.name, max).await
}

fn warn_ignored_args(args: &HereArgs) {
    if args.create.any() {
        notice(
            "the session already exists: creation options apply to new sessions only (use 'ccy new')",
        );
    }
}
