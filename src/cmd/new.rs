//! `ccy new`: start another session for this worktree (or for a new git
//! worktree) and attach to it.

use clap::Args;

use crate::cmd::create_opts::CreateArgs;
use crate::ctx::{Ctx, notice};
use crate::error::{Error, Result};
use crate::host::git::{self, Worktree};
use crate::host::podman::cli as podman_cli;
use crate::names::SessionName;
use crate::paths::display_home;
use crate::quadlet::spec::CreatedWorktree;
use crate::session::attach::{self, Arrival};
use crate::session::{Host, checks, create, find, store};

/// Start another session for this worktree and attach to it.
///
/// Unlike `ccy`, which attaches to the worktree's session when there is
/// one, `ccy new` always creates a new session, so two agents can work on
/// one project at once. `ccy` in a worktree with several sessions then
/// asks which one to attach to.
///
/// With `--worktree BRANCH`, ccy first creates a git worktree for BRANCH
/// next to the main one (`../REPO-BRANCH`, `/` in the branch becoming `-`)
/// and runs the session there. A new branch is created from the current
/// HEAD; an existing branch that no worktree has checked out is checked
/// out; a branch checked out elsewhere, or an existing directory, is
/// refused. The session records that ccy created the worktree.
///
/// Without a terminal (or with --detach) the session is created and
/// started but not attached.
///
/// Exit status: 0 created (and attached, the exit status then being the
/// attach's); 2 invalid or taken name, invalid branch or existing worktree
/// path, a bad configuration value; 3 not in a git worktree, no user
/// manager, Podman missing or too old, a limit the cgroup cannot apply; 4
/// the image build or the unit failed (with its journal); 5 no such token
/// or network; 6 `session.max_running` sessions already run; 130
/// interrupted (SIGINT, SIGTERM, SIGHUP): ccy took back what it had made
/// of the session, or, when the signal came after the session was whole,
/// says that it was created.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The session's name (letters, digits, '-' and '_', starting with a
    /// letter or digit); `ccy-<project>-<8 hex>` when left out. Refused when
    /// a unit file, a container or a loaded unit already has it.
    pub name: Option<String>,

    /// Create a git worktree for BRANCH next to the main worktree and run
    /// the session there (new branch from HEAD, or an existing branch that
    /// is not checked out).
    #[arg(long, value_name = "BRANCH")]
    pub worktree: Option<String>,

    /// Create and start the session without attaching to it.
    #[arg(short, long)]
    pub detach: bool,

    /// Label the session `ccy.keep=true`: `ccy prune` never removes it
    /// (`ccy keep --off NAME` takes the label off).
    #[arg(long)]
    pub keep: bool,

    /// How the session is created.
    #[command(flatten)]
    pub create: CreateArgs,
}

/// Creates the session (and the git worktree) and attaches to it.
///
/// # Errors
/// See the exit status in [`NewArgs`].
pub fn run(ctx: &Ctx, args: &NewArgs) -> Result<()> {
    // From here SIGINT, SIGTERM and SIGHUP make ccy finish or take back
    // the session, never leave half of it.
    crate::host::signal::catch()?;
    let here = Worktree::discover(&ctx.cwd)?;
    podman_cli::require_cli()?;
    let name = args
        .name
        .as_deref()
        .map(SessionName::parse_new)
        .transpose()?;
    let plan = match &args.worktree {
        Some(branch) => Some(plan_worktree(&here, branch)?),
        None => None,
    };
    let name = ctx.block_on(create_session(ctx, &here, name, plan, args))?;
    create::interrupted_after(&name)?;
    attach::attach_or_explain(&ctx.paths, &name, Arrival::Created, args.detach)
}

/// A git worktree to create: where, for which branch, and whether the
/// branch is new.
#[derive(Debug)]
struct WorktreePlan {
    path: std::path::PathBuf,
    branch: String,
    new_branch: bool,
}

/// Decides where the git worktree for `branch` goes and whether the branch
/// is created or checked out; changes nothing.
fn plan_worktree(here: &Worktree, branch: &str) -> Result<WorktreePlan> {
    git::check_branch_name(branch)?;
    let path = here.linked_worktree_path(branch);
    if path.exists() || path.symlink_metadata().is_ok() {
        return Err(Error::usage(format!(
            "cannot create the worktree {}: it already exists",
            path.display()
        ))
        .hint(
            "if it is a worktree, cd into it and run 'ccy new' there; otherwise move it away or pick another branch name",
        ));
    }
    let new_branch = !here.branch_exists(branch)?;
    if !new_branch && let Some(at) = here.branch_checked_out_in(branch)? {
        return Err(Error::usage(format!(
            "branch {branch} is already checked out in {}",
            at.display()
        ))
        .hint(format!(
            "cd {} and run 'ccy new' there",
            shell_words::quote(&at.to_string_lossy())
        )));
    }
    Ok(WorktreePlan {
        path,
        branch: branch.to_owned(),
        new_branch,
    })
}

async fn create_session(
    ctx: &Ctx,
    here: &Worktree,
    name: Option<SessionName>,
    plan: Option<WorktreePlan>,
    args: &NewArgs,
) -> Result<SessionName> {
    let host = Host::connect(ctx).await?;
    if let Some(n) = &name {
        // Refuse a taken name before making a git worktree for it.
        checks::check_name_free(&ctx.paths, &host.mgr, host.api().await?, n).await?;
    }
    let (worktree, created) = match &plan {
        Some(p) => {
            // An unapproved project file here is refused before a git
            // worktree is made for it (the hint's `ccy trust` path exists).
            args.create.config(ctx, here)?;
            let wt = here.add_linked(&p.path, &p.branch, p.new_branch)?;
            notice(&format!(
                "created git worktree {} ({} {})",
                display_home(&wt.root, &ctx.paths.home),
                if p.new_branch { "new branch" } else { "branch" },
                p.branch
            ));
            let created = CreatedWorktree {
                branch: p.branch.clone(),
                new_branch: p.new_branch,
            };
            (wt, Some(created))
        }
        None => (here.clone(), None),
    };
    let result = async {
        let cfg = args.create.config(ctx, &worktree)?.config;
        let _lock = find::lock_worktree(&ctx.paths, &worktree)?;
        let mut new = args.create.new_session(name);
        new.created_worktree = created;
        new.keep = args.keep;
        let name = create::create(&host, &cfg, &worktree, new).await?;
        store::write_session_id(&worktree, &name)?;
        Ok(name)
    }
    .await;
    if result.is_err()
        && let Some(p) = &plan
    {
        create::undo_worktree(&ctx.paths, here, &p.path, &p.branch, p.new_branch);
    }
    result
}
