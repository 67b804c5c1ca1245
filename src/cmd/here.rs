//! `ccy` with no verb: attach to this worktree's session, creating it when
//! there is none.

use std::io::IsTerminal;

use clap::Args;

use crate::cmd::create_opts::CreateArgs;
use crate::ctx::{Ctx, notice};
use crate::error::{Error, Result};
use crate::git::Worktree;
use crate::inventory::State;
use crate::lifecycle::{self, Found};
use crate::names::SessionName;
use crate::paths::Paths;
use crate::podman::{self, AttachMode, PodmanApi};
use crate::session;
use crate::systemd::UserManager;
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
/// it ([`lifecycle::attach_argv`]); without a terminal on standard input,
/// only makes sure the session runs.
///
/// # Errors
/// Not in a git worktree, no user bus, Podman unusable, the unit failing
/// to start, several sessions for the worktree and no terminal to choose
/// on.
pub fn run(ctx: &Ctx, args: &HereArgs) -> Result<()> {
    let worktree = Worktree::discover(&ctx.cwd)?;
    podman::require_cli()?;
    let (name, how) = ctx.block_on(find_or_create(ctx, &worktree, args))?;
    if !std::io::stdin().is_terminal() {
        // As `ccy new`: without a terminal there is nothing to attach (and
        // `podman exec -it` would fail), but the session now runs.
        println!(
            "{} session {name}",
            if how == How::Created {
                "created"
            } else {
                "running"
            }
        );
        notice(
            "standard input is not a terminal: not attaching; run 'ccy' on a terminal to attach",
        );
        return Ok(());
    }
    if how != How::Fast {
        lifecycle::say_attaching(&name, how == How::Created);
    }
    Err(podman::exec_replace(&lifecycle::attach_argv(
        &ctx.paths,
        &name,
        AttachMode::default(),
    )))
}

/// How [`find_or_create`] found the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    /// Through `.claude/ccy/.session-id`, running.
    Fast,
    /// Among the worktree's sessions (started if it was not running).
    Existing,
    /// Created now.
    Created,
}

async fn find_or_create(
    ctx: &Ctx,
    worktree: &Worktree,
    args: &HereArgs,
) -> Result<(SessionName, How)> {
    let mgr = UserManager::connect(&ctx.paths).await?;
    crate::trace::mark("user manager connected");

    // Fast path: the session named in .claude/ccy/.session-id, verified
    // against its unit file and running unit, when it is the worktree's
    // only unit file (with several, the user chooses); no Podman call.
    if let Some(name) = session::read_session_id(worktree) {
        let files: Vec<_> = session::read_sessions(&ctx.paths.quadlet_dir)?
            .into_iter()
            .filter(|f| f.meta.worktree == worktree.root)
            .collect();
        let ours = matches!(files.as_slice(), [only] if only.meta.name == name.as_str());
        if ours && mgr.unit_state(&name.service_unit()).await?.active_state == "active" {
            crate::trace::mark("fast path: session running");
            warn_ignored_args(args);
            return Ok((name, How::Fast));
        }
    }

    let _lock = lifecycle::lock_worktree(&ctx.paths, worktree)?;
    let api = PodmanApi::connect(&ctx.paths, &mgr).await?;
    let found = lifecycle::sessions_for_worktree(&ctx.paths, &api, worktree).await?;
    crate::trace::mark("worktree sessions listed");
    let outcome = match found.as_slice() {
        [] => {
            let cfg = args.create.config(ctx, worktree)?.config;
            let new = args.create.new_session(None);
            (
                lifecycle::create(ctx, &mgr, &api, &cfg, worktree, new).await?,
                How::Created,
            )
        }
        [one] => {
            warn_ignored_args(args);
            resume(&mgr, &api, &ctx.paths, worktree, one).await?;
            (one.name.clone(), How::Existing)
        }
        many => {
            let chosen = choose(&mgr, many).await?;
            warn_ignored_args(args);
            resume(&mgr, &api, &ctx.paths, worktree, chosen).await?;
            (chosen.name.clone(), How::Existing)
        }
    };
    session::write_session_id(worktree, &outcome.0)?;
    Ok(outcome)
}

/// Picks one of several sessions of the worktree: a numbered list on a
/// terminal ([`ui::choose`]); without one, an error listing them.
async fn choose<'a>(mgr: &UserManager, many: &'a [Found]) -> Result<&'a Found> {
    let units: Vec<String> = many.iter().map(|f| f.name.service_unit()).collect();
    let states = mgr.unit_states(&units).await?;
    let lines: Vec<String> = many
        .iter()
        .zip(&states)
        .map(|(f, u)| {
            let created = f
                .file
                .as_ref()
                .map(|f| format!(", created {}", f.meta.created))
                .unwrap_or_default();
            format!(
                "{}  ({}{created})",
                f.name,
                State::from_unit(Some(u)).as_str()
            )
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
/// [`lifecycle::start_session`]: `session.max_running`, token secrets).
async fn resume(
    mgr: &UserManager,
    api: &PodmanApi,
    paths: &Paths,
    worktree: &Worktree,
    found: &Found,
) -> Result<()> {
    if found.file.is_none() {
        // A running container labelled for this worktree but no unit file:
        // not ours to manage, but attachable.
        return Ok(());
    }
    let state = mgr.unit_state(&found.name.service_unit()).await?;
    if state.active_state == "active" {
        return Ok(());
    }
    lifecycle::start_session(paths, mgr, api, &found.name, &worktree.root).await
}

fn warn_ignored_args(args: &HereArgs) {
    if args.create.any() {
        notice(
            "the session already exists: creation options apply to new sessions only (use 'ccy new')",
        );
    }
}
