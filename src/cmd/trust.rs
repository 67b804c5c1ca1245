//! `ccy trust [PATH]`: approve a project's configuration file or an
//! archive's manifest, list approvals, revoke them.

use std::path::PathBuf;

use clap::Args;

use crate::ctx::{Ctx, notice};
use crate::error::{Error, ExitKind, Result};
use crate::paths::display_home;
use crate::session::trust::{self, Approval};

/// Approve a project's configuration or an archive, so ccy applies the keys
/// in it that reach beyond the worktree.
///
/// A project's `.claude/ccy/config.toml` comes with the repository, and an
/// archive for `ccy import` comes from anywhere. Their keys that give a
/// session more than its worktree are honoured only once you approved the
/// file's exact content with `ccy trust`: `session.mounts` (host paths),
/// `session.ssh_keys`, `session.env` entries `NAME` (which pass your
/// environment's value) and a `session.network` other than "" or `none`.
/// Until then `ccy`, `ccy new` and `ccy clone` refuse to create a session
/// from it, listing those keys and this command. An agent command, image
/// or Dockerfile alone runs only inside the container with the worktree
/// mounted, so it needs no approval.
///
/// ccy records the SHA-256 of the content in
/// `~/.local/state/ccy/trusted.json` (mode 0600). A changed file no longer
/// matches: review it and approve it again. A project file's approval holds
/// in every worktree of its repository; an archive's, for that file (then
/// `ccy import` does not ask). Network modes that share or open the host's
/// network (`host`, `container:NAME`, any `MODE:ARG`) are never taken from
/// a project file or an archive, approved or not: set them yourself.
///
/// PATH is a directory in a git worktree (its `.claude/ccy/config.toml`;
/// default: the current directory), that file, or an archive made by `ccy
/// export`.
///
/// Exit status: 0 approved, listed or revoked; 2 the file is not a valid
/// configuration file or archive; 3 not in a git worktree; 5 no such file,
/// no project file, or nothing to revoke.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// A worktree directory, a project file or an archive (default: the
    /// current worktree).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,

    /// List the approvals: file, content hash, when, and whether the file
    /// still matches.
    #[arg(long, conflicts_with_all = ["revoke", "path"])]
    pub list: bool,

    /// Withdraw the approvals of PATH (every approved content of that
    /// repository or archive).
    #[arg(long)]
    pub revoke: bool,
}

/// Approves, lists or revokes.
///
/// # Errors
/// See the exit status in [`TrustArgs`].
pub fn run(ctx: &Ctx, args: &TrustArgs) -> Result<()> {
    let store = trust::store_path(&ctx.paths);
    if args.list {
        list(ctx, &trust::load(&store)?);
        return Ok(());
    }
    let home = &ctx.paths.home;
    if args.revoke {
        // A file that is gone: its approvals are revoked by its path.
        let scope = if let Ok(t) = trust::target(&ctx.cwd, args.path.as_deref()) {
            t.scope
        } else {
            let p = args
                .path
                .as_ref()
                .map_or_else(|| ctx.cwd.clone(), |p| ctx.cwd.join(p));
            std::fs::canonicalize(&p).unwrap_or(p)
        };
        let gone = trust::revoke(&store, &ctx.paths.lock_dir(), &scope)?;
        if gone.is_empty() {
            return Err(Error::new(
                ExitKind::NotFound,
                format!("nothing approved for {}", display_home(&scope, home)),
            )
            .hint("'ccy trust --list' shows the approvals"));
        }
        for a in &gone {
            crate::outln!(
                "revoked {} (sha256 {})",
                display_home(&a.file, home),
                short(&a.sha256)
            );
        }
        return Ok(());
    }
    let t = trust::target(&ctx.cwd, args.path.as_deref())?;
    let sha = trust::sha256_hex(&t.bytes);
    trust::approve(
        &store,
        &ctx.paths.lock_dir(),
        Approval {
            scope: t.scope.clone(),
            file: t.file.clone(),
            sha256: sha.clone(),
            keys: t.widening.iter().map(|w| w.key.clone()).collect(),
            approved: crate::ui::rfc3339(now()),
        },
    )?;
    let archive = t.scope == t.file;
    crate::outln!(
        "approved {} (sha256 {}){}",
        display_home(&t.file, home),
        short(&sha),
        if archive {
            String::new()
        } else {
            format!(" for every worktree of {}", display_home(&t.scope, home))
        }
    );
    for line in trust::describe(&t.widening) {
        crate::outln!("  {line}");
    }
    if let Some(cmd) = &t.command {
        crate::outln!("  agent.command = {}", shell_words::join(cmd));
    }
    if t.widening.is_empty() {
        notice("it sets no keys that reach beyond the worktree: ccy would have used it anyway");
    }
    if let Some(net) = &t.refused_network {
        notice(&format!(
            "warning: its network {net:?} is still refused: ccy takes it only from your own configuration or --network"
        ));
    }
    Ok(())
}

/// Prints the approvals as a table.
fn list(ctx: &Ctx, all: &[Approval]) {
    if all.is_empty() {
        notice("nothing approved ('ccy trust PATH' approves a project file or an archive)");
        return;
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|a| {
            let state = match trust::still_matches(a) {
                Some(true) => "approved",
                Some(false) => "changed",
                None => "missing",
            };
            vec![
                display_home(&a.file, &ctx.paths.home),
                short(&a.sha256).to_owned(),
                a.approved.clone(),
                state.to_owned(),
                a.keys.join(" "),
            ]
        })
        .collect();
    crate::out!(
        "{}",
        crate::ui::table(&["FILE", "SHA256", "APPROVED", "NOW", "KEYS"], &rows)
    );
}

/// The first 12 hex digits of a hash, for display.
fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Seconds since the Unix epoch.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
