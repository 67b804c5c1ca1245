//! `ccy clone SRC [NEW]`: a new session from another session's state, in a
//! new git worktree on a new branch.

use clap::Args;

use crate::cmd::create_opts::CreateArgs;
use crate::ctx::{Ctx, notice};
use crate::error::{Error, ExitKind, Result};
use crate::host::git::{self, Worktree};
use crate::host::podman::cli as podman_cli;
use crate::names::SessionName;
use crate::paths::display_home;
use crate::quadlet::spec::{CreatedWorktree, SessionMeta};
use crate::session::attach::{self, Arrival};
use crate::session::create::{self, NewSession, StateSource};
use crate::session::find::{self, State};
use crate::session::{Host, checks, store, trust};

/// Start a new session from another session's state, on a new branch.
///
/// ccy copies SRC's agent-state volume (settings, prompt history) into the
/// new session's volume (`podman volume export | podman volume import`),
/// creates a git worktree next to the main one (`../REPO-BRANCH`, `/` in
/// the branch becoming `-`) on a new branch that starts at the commit SRC's
/// worktree has checked out (its HEAD: uncommitted changes are not
/// copied), and starts the new session there with SRC's agent command and
/// session options (mounts, environment, limits, network; the Claude token
/// and image come from the configuration, as for `ccy new`). The creation
/// flags (`--memory`, `--mount`, `--token`, …, and agent arguments after
/// `--`) apply on top of SRC's options, as for `ccy new`. A kept SRC (`ccy
/// keep`) makes a kept clone; `--keep` keeps the clone of any SRC. Then it
/// attaches, as `ccy new` does.
///
/// The branch is --branch, else NEW; without either, the new session gets
/// an automatic name and the branch is that name. SRC may be running: its
/// volume is then copied as it is at that moment, and files the agent is
/// writing may be caught half-way; stop it first (`ccy stop SRC`) for an
/// exact copy. When the session cannot be made, the git worktree and
/// branch are removed again.
///
/// Without a terminal (or with --detach) the session is created and
/// started but not attached.
///
/// Exit status: 0 created (and attached, the exit status then being the
/// attach's); 2 NEW invalid or taken, the branch invalid or existing, the
/// worktree path exists, SRC's worktree has no commit or its volume is
/// taken; 3 no user manager, Podman missing, SRC's worktree is gone; 4 the
/// image build or the unit failed (with its journal), or SRC is a container
/// without a ccy unit file; 5 no session matches SRC; 6
/// `session.max_running` sessions already run; 130 interrupted (SIGINT,
/// SIGTERM, SIGHUP): the new session taken back, or said to be whole.
#[derive(Debug, Args)]
pub struct CloneArgs {
    /// The session to copy: name, name without `ccy-`, unique prefix, or
    /// 8-hex id (4+ digits suffice).
    #[arg(value_name = "SRC")]
    pub src: String,

    /// The new session's name (letters, digits, '-' and '_'); automatic
    /// when left out. Also the branch name unless --branch is given.
    #[arg(value_name = "NEW")]
    pub new: Option<String>,

    /// The new branch (must not exist yet); default: NEW, or the automatic
    /// session name.
    #[arg(short, long, value_name = "BRANCH")]
    pub branch: Option<String>,

    /// Create and start the session without attaching to it.
    #[arg(short, long)]
    pub detach: bool,

    /// Label the new session `ccy.keep=true` (prune never removes it, idle
    /// never stops it); a clone of a kept session is kept anyway.
    #[arg(long)]
    pub keep: bool,

    /// Creation options, on top of SRC's.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// Clones the session and attaches to the new one.
///
/// # Errors
/// See the exit status in [`CloneArgs`].
pub fn run(ctx: &Ctx, args: &CloneArgs) -> Result<()> {
    // SIGINT, SIGTERM, SIGHUP: finish or take back, as `ccy new`.
    crate::host::signal::catch()?;
    podman_cli::require_cli()?;
    let new_name = args
        .new
        .as_deref()
        .map(SessionName::parse_new)
        .transpose()?;
    if let Some(b) = &args.branch {
        git::check_branch_name(b)?;
    }
    let name = ctx.block_on(clone(ctx, args, new_name))?;
    create::interrupted_after(&name)?;
    attach::attach_or_explain(&ctx.paths, &name, Arrival::Created, args.detach)
}

async fn clone(ctx: &Ctx, args: &CloneArgs, new_name: Option<SessionName>) -> Result<SessionName> {
    let host = Host::connect(ctx).await?;
    let all = host.sessions().await?;
    let src = find::resolve(&all, &args.src)?;
    let (meta, src_wt, head) = source(ctx, src)?;
    let name = match new_name {
        Some(n) => n,
        None => SessionName::generate(&src_wt.project())?,
    };
    // Refuse a taken name before making a git worktree for it.
    checks::check_name_free(&ctx.paths, &host.mgr, host.api().await?, &name).await?;
    let branch = args.branch.clone().unwrap_or_else(|| name.to_string());
    git::check_branch_name(&branch)?;
    if src_wt.branch_exists(&branch)? {
        return Err(Error::usage(format!("the branch {branch} exists")).hint(
            "clone onto a new branch: choose another with '--branch BRANCH' (or another NEW)",
        ));
    }
    let path = src_wt.linked_worktree_path(&branch);
    if path.symlink_metadata().is_ok() {
        return Err(Error::usage(format!(
            "cannot create the worktree {}: it already exists",
            display_home(&path, &ctx.paths.home)
        ))
        .hint("move it away, or choose another branch with '--branch BRANCH'"));
    }
    if src.state() != State::Stopped {
        notice(&format!(
            "{} is running: copying its agent state as it is now (files being written may be caught half-way; 'ccy stop {}' first for an exact copy)",
            src.name, src.name
        ));
    }
    let worktree = src_wt.add_linked_from(&path, &branch, &head)?;
    notice(&format!(
        "created git worktree {} (new branch {branch} at {})",
        display_home(&worktree.root, &ctx.paths.home),
        head.get(..12).unwrap_or(&head)
    ));
    let result = async {
        let mut loader = ctx.config(Some(&worktree.root))?;
        if let Some(options) = &meta.options {
            loader = options.layer(loader, &format!("session {}", src.name))?;
        }
        let finished = args.create.apply(loader)?.finish()?;
        // Without options (an older session) the project file's keys apply.
        if meta.options.is_none() {
            trust::check_project(&ctx.paths, &finished, &worktree)?;
        }
        let cfg = finished.config;
        let _lock = find::lock_worktree(&ctx.paths, &worktree)?;
        let new = NewSession {
            created_worktree: Some(CreatedWorktree {
                branch: branch.clone(),
                new_branch: true,
            }),
            state_from: Some(StateSource::Volume(meta.current_state_volume())),
            keep: args.keep || src.kept(),
            ..args.create.new_session(Some(name.clone()))
        };
        let name = create::create(&host, &cfg, &worktree, new).await?;
        store::write_session_id(&worktree, &name)?;
        Ok(name)
    }
    .await;
    if result.is_err() {
        create::undo_worktree(&ctx.paths, &src_wt, &path, &branch, true);
    }
    result
}

/// SRC's metadata, its worktree and the commit checked out there.
fn source<'a>(
    ctx: &Ctx,
    src: &'a find::SessionInfo,
) -> Result<(&'a SessionMeta, Worktree, String)> {
    let Some(meta) = &src.meta else {
        return Err(Error::new(
            ExitKind::Session,
            format!(
                "{} is a container without a ccy unit file: ccy cannot clone it",
                src.name
            ),
        )
        .hint("clone a session listed by 'ccy list'"));
    };
    if !meta.worktree.is_dir() {
        return Err(Error::environment(format!(
            "the worktree of {} ({}) is gone",
            src.name,
            display_home(&meta.worktree, &ctx.paths.home)
        ))
        .hint(format!(
            "export its agent state with 'ccy export {} FILE.tar' instead",
            src.name
        )));
    }
    let src_wt = Worktree::discover(&meta.worktree)?;
    let head = src_wt.head_commit().map_err(|e| {
        Error::usage(format!(
            "the worktree of {} has no commit to branch from: {}",
            src.name,
            e.message()
        ))
        .hint("commit something first")
    })?;
    Ok((meta, src_wt, head))
}
