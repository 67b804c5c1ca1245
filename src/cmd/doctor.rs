//! `ccy doctor`: checks what ccy needs from the host and says how to fix
//! what is missing. It only looks: it starts, enables and writes nothing.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use crate::config;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::host::git::Worktree;
use crate::host::podman::MIN_PODMAN;
use crate::host::podman::api::PodmanApi;
use crate::host::podman::cli as podman_cli;
use crate::host::systemd::ActiveState;
use crate::host::systemd::LoadState;
use crate::host::systemd::details::TimerDetails;
use crate::host::systemd::generator::{self, DryRun};
use crate::host::systemd::{self, UnitState, UserManager};
use crate::paths::{Paths, display_home};
use crate::quadlet::dryrun;
use crate::quadlet::render::Task;
use crate::session::image::{ImageSpec, LABEL_ASSETS};
use crate::session::{options, orphans, store};
use crate::ui;

mod checks;

#[allow(clippy::wildcard_imports)]
use checks::*;

/// Check the host: Podman, Quadlet, systemd, linger, subuids, cgroups, image
///
/// Runs these checks and prints one line each: `ok`, `warning` (ccy works,
/// with a limit) or `problem` (ccy, or its sessions, will not work), with
/// a one-line explanation and, where something can be done, the command
/// that fixes it. It only looks: it starts, enables and writes nothing.
///
///   podman          `podman` is on PATH (ccy runs it to attach and
///                   build)
///   podman-version  Podman is 5.0 or newer (asked over the API, else
///                   the CLI)
///   podman-socket   the rootless API socket
///                   $XDG_RUNTIME_DIR/podman/podman.sock and its unit
///                   podman.socket (ccy starts it when needed)
///   quadlet         Quadlet's generator is installed and turns every
///                   ccy session file into a unit (`quadlet -dryrun
///                   -user`)
///   user-bus        your systemd user manager answers on its D-Bus
///                   socket
///   linger          logind keeps your user manager, and so your
///                   sessions, running after logout and starts it at
///                   boot
///   subuid, subgid  /etc/subuid and /etc/subgid give your user a range
///                   of ids (rootless Podman maps the container's users
///                   to it)
///   cgroups         cgroup v2 with the memory, cpu and pids controllers
///                   delegated to your user manager (without them
///                   session limits cannot be enforced and memory use is
///                   unknown)
///   config          the configuration files and CCY_* variables are
///                   valid
///   image           the image sessions run exists and was built from
///                   this ccy's assets (else ccy builds it for the next
///                   new session)
///   timers          ccy-prune.timer (and ccy-idle.timer while
///                   `[idle] stop` is not "off") is installed, enabled,
///                   active and on the configured schedule (a warning
///                   when not: the fix is `ccy timer enable`)
///   notify          ccy-notify.service is installed, enabled and
///                   active while `[notify] enabled` is true (a warning
///                   when not: the fix is `ccy notify enable`)
///   mounts          no session mounts / or your home directory (allowed,
///                   but the agent then reaches all of it: a warning)
///   leftovers       no state directory, volume or token secret is left
///                   of a removed session (`ccy prune` removes them;
///                   volumes only with --volumes)
///
/// Exit status: 0 when no check is a problem (warnings allowed); 3 when
/// any is; 1 when ccy itself fails.
// The doc comment is the `--help` text: field names read better bare.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DoctorArgs {
    /// Print a JSON object instead: `ok` (bool), `problems`, `warnings`
    /// (numbers) and `checks`, an array of {`name`, `level` ("ok" |
    /// "warning" | "problem"), `message`, `fix` (string or null)}.
    #[arg(long)]
    pub json: bool,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fine.
    Ok,
    /// ccy works, with a limit.
    Warning,
    /// ccy or its sessions will not work.
    Problem,
}

impl Level {
    /// The word printed.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Problem => "problem",
        }
    }

    fn style(self) -> anstyle::Style {
        match self {
            Self::Ok => ui::GOOD,
            Self::Warning => ui::WARN,
            Self::Problem => ui::BAD,
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The check's stable name (`linger`).
    pub name: &'static str,
    /// How it came out.
    pub level: Level,
    /// One line saying what was found.
    pub message: String,
    /// The command (or step) that fixes it.
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, message: impl Into<String>) -> Self {
        Self {
            name,
            level: Level::Ok,
            message: message.into(),
            fix: None,
        }
    }

    fn warning(name: &'static str, message: impl Into<String>, fix: Option<String>) -> Self {
        Self {
            name,
            level: Level::Warning,
            message: message.into(),
            fix,
        }
    }

    fn problem(name: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name,
            level: Level::Problem,
            message: message.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Where Podman packages install Quadlet's generator (Debian and Fedora,
/// then Arch and others).
pub const QUADLET_GENERATORS: [&str; 2] =
    ["/usr/libexec/podman/quadlet", "/usr/lib/podman/quadlet"];

const INSTALL_PODMAN: &str =
    "install Podman 5: 'sudo dnf install podman' (Fedora) or 'sudo apt install podman' (Debian 13)";

/// Runs every check and prints the report.
///
/// # Errors
/// [`crate::error::ExitKind::Environment`] when a check is a problem.
pub fn run(ctx: &Ctx, args: &DoctorArgs) -> Result<()> {
    let checks = ctx.block_on(gather(ctx));
    let problems = checks.iter().filter(|c| c.level == Level::Problem).count();
    if args.json {
        let warnings = checks.iter().filter(|c| c.level == Level::Warning).count();
        let report = serde_json::json!({
            "ok": problems == 0,
            "problems": problems,
            "warnings": warnings,
            "checks": checks,
        });
        let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
        text.push('\n');
        ui::print(&text);
    } else {
        ui::print(&render(&checks));
    }
    if problems == 0 {
        Ok(())
    } else {
        Err(Error::environment(format!(
            "{problems} {} found",
            plural(problems, "problem", "problems")
        ))
        .hint("run the fix commands above, then 'ccy doctor' again"))
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// The report: one line per check, a `fix:` line under those that have
/// one, and a summary line.
#[must_use]
pub fn render(checks: &[Check]) -> String {
    let name_w = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let level_w = "problem".len();
    let mut out = String::new();
    for c in checks {
        let level = c.level.as_str();
        writeln!(
            out,
            "{}{:pad$}  {:name_w$}  {}",
            ui::paint(c.level.style(), level),
            "",
            c.name,
            c.message,
            pad = level_w - level.len()
        )
        .ok();
        if let Some(fix) = &c.fix {
            writeln!(
                out,
                "{:indent$}fix: {fix}",
                "",
                indent = level_w + 2 + name_w + 2
            )
            .ok();
        }
    }
    let problems = checks.iter().filter(|c| c.level == Level::Problem).count();
    let warnings = checks.iter().filter(|c| c.level == Level::Warning).count();
    let summary = match (problems, warnings) {
        (0, 0) => "all checks passed".to_owned(),
        (0, w) => format!("no problems, {w} {}", plural(w, "warning", "warnings")),
        (p, w) => format!(
            "{p} {}, {w} {}",
            plural(p, "problem", "problems"),
            plural(w, "warning", "warnings")
        ),
    };
    writeln!(out, "\n{summary}").ok();
    out
}

async fn gather(ctx: &Ctx) -> Vec<Check> {
    let paths = &ctx.paths;
    let cli = podman_cli::require_cli().ok();
    let mgr = UserManager::connect(paths).await;
    let socket = paths.podman_socket();
    let socket_unit = match &mgr {
        Ok(m) => m.unit_state("podman.socket").await.ok(),
        Err(_) => None,
    };
    // Only talk to the API when its socket is there: connecting to it is
    // what any Podman client does, but starting podman.socket is a change.
    let api = socket.exists().then(|| PodmanApi::at(&socket));
    let version = match &api {
        Some(api) => api.version().await.map_err(|e| e.to_string()),
        None => podman_cli::version(cli.as_deref()),
    };
    let worktree = Worktree::discover(&ctx.cwd).ok();
    let loaded = ctx
        .config(worktree.as_ref().map(|w| w.root.as_path()))
        .and_then(config::Loader::finish);
    let image = match (&loaded, &api) {
        (Ok(l), Some(api)) => {
            let spec = ImageSpec {
                name: l.config.image.name.clone(),
                base: l.config.image.base.clone(),
                agent_install: l.config.image.agent_install.clone(),
            };
            let labels = api
                .image_labels(&spec.name)
                .await
                .map_err(|e| e.to_string());
            Some((spec, labels))
        }
        _ => None,
    };
    // The timers follow the user's own configuration, never a project's.
    let user_config = ctx.config(None).and_then(config::Loader::finish);
    let opted_out = user_config.as_ref().is_ok_and(|l| !l.config.prune.timer);
    let timer_states = match (&mgr, &user_config) {
        (Ok(m), Ok(l)) => timer_states(m, &l.config).await,
        (Err(e), _) => Err(e.to_string()),
        (_, Err(e)) => Err(format!("invalid configuration: {e}")),
    };
    let notify_state = match &mgr {
        Ok(m) => crate::session::notify::unit_state(m)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let notify_wanted = user_config.as_ref().ok().map(|l| l.config.notify.enabled);
    let user = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(paths.uid))
        .ok()
        .flatten()
        .map_or_else(|| paths.uid.to_string(), |u| u.name);
    vec![
        podman_cli(cli.as_deref()),
        podman_version(&version),
        podman_socket(&socket, socket.exists(), socket_unit.as_ref(), mgr.is_ok()),
        quadlet(paths),
        user_bus(paths, mgr.as_ref().err().map(ToString::to_string)),
        linger(
            systemd::linger::linger(paths.uid)
                .await
                .map_err(|e| e.to_string()),
        ),
        subids("subuid", read("/etc/subuid"), &user, paths.uid),
        subids("subgid", read("/etc/subgid"), &user, paths.uid),
        cgroups(
            Path::new("/sys/fs/cgroup/cgroup.controllers").exists(),
            read(user_cgroup_controllers(paths.uid)).ok(),
            paths.uid,
        ),
        config_check(loaded.as_ref().map(|_| ()), paths, worktree.as_ref()),
        image_check(image.as_ref().map(|(s, l)| (s, l)), api.is_some()),
        timers(opted_out, timer_states),
        notify_check(
            notify_wanted,
            crate::session::notify::enabled(&paths.systemd_user_dir()),
            notify_state,
        ),
        mounts_check(paths),
        leftovers_check(
            paths,
            match &api {
                Some(api) => Some(orphans::find(paths, api).await.map_err(|e| e.to_string())),
                None => None,
            },
        ),
    ]
}

/// Check `mounts`: the sessions (from their unit files' metadata) that
/// mount `/`, the home directory or a directory above it.
fn mounts_check(paths: &Paths) -> Check {
    let sessions = store::read_sessions(&paths.quadlet_dir).unwrap_or_default();
    let broad: Vec<String> = sessions
        .iter()
        .flat_map(|f| {
            let mounts = f
                .meta
                .options
                .as_ref()
                .map_or(&[][..], |o| o.mounts.as_slice());
            options::broad_mounts(mounts, &paths.home)
                .into_iter()
                .map(move |m| format!("{} mounts {m}", f.meta.name))
        })
        .collect();
    if broad.is_empty() {
        Check::ok("mounts", "no session mounts / or your home directory")
    } else {
        Check::warning(
            "mounts",
            format!("{}: its agent reaches everything there", broad.join("; ")),
            Some("if that was not meant, remove the session ('ccy rm NAME') and create it without the mount".to_owned()),
        )
    }
}

/// Check `leftovers` from what [`orphans::find`] found (`None`: the
/// Podman API socket is not running).
fn leftovers_check(
    paths: &Paths,
    found: Option<std::result::Result<orphans::Orphans, String>>,
) -> Check {
    match found {
        None => Check::warning(
            "leftovers",
            "not checked: the Podman API socket is not running",
            None,
        ),
        Some(Err(e)) => Check::warning("leftovers", format!("not checked: {e}"), None),
        Some(Ok(o)) if o.is_empty() => Check::ok(
            "leftovers",
            "no state directory, volume or secret without a session",
        ),
        Some(Ok(o)) => {
            let fix = if o.volumes.is_empty() {
                "run 'ccy prune' (it removes them)"
            } else if o.state_dirs.is_empty() && o.secrets.is_empty() {
                "run 'ccy prune --volumes' to remove the volumes (their agent state is lost)"
            } else {
                "run 'ccy prune' (it removes them; with --volumes also the volumes, whose agent state is lost)"
            };
            Check::warning(
                "leftovers",
                format!(
                    "left of removed sessions: {}",
                    orphans::describe(&o, &paths.home).join("; ")
                ),
                Some(fix.to_owned()),
            )
        }
    }
}

/// Each of ccy's timers with its schedule in `config` and its state in
/// the user manager, for the `timers` check.
async fn timer_states(
    mgr: &UserManager,
    config: &config::Config,
) -> std::result::Result<Vec<TimerSeen>, String> {
    let details = crate::session::timer::details(mgr)
        .await
        .map_err(|e| e.to_string())?;
    Ok(details
        .into_iter()
        .map(|(task, d)| {
            let schedule = crate::session::timer::schedule(config, task).map(str::to_owned);
            (task, schedule, d)
        })
        .collect())
}

#[cfg(test)]
mod tests;
