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
use crate::host::systemd::generator::{self, DryRun};
use crate::host::systemd::{self, UnitState, UserManager};
use crate::paths::{Paths, display_home};
use crate::quadlet::dryrun;
use crate::session::image::{ImageSpec, LABEL_ASSETS};
use crate::session::store;
use crate::ui;

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
        linger(systemd::linger(paths.uid).await.map_err(|e| e.to_string())),
        subids("subuid", read("/etc/subuid"), &user, paths.uid),
        subids("subgid", read("/etc/subgid"), &user, paths.uid),
        cgroups(
            Path::new("/sys/fs/cgroup/cgroup.controllers").exists(),
            read(user_cgroup_controllers(paths.uid)).ok(),
            paths.uid,
        ),
        config_check(loaded.as_ref().map(|_| ()), paths, worktree.as_ref()),
        image_check(image.as_ref().map(|(s, l)| (s, l)), api.is_some()),
    ]
}

fn read(path: impl AsRef<Path>) -> std::result::Result<String, String> {
    std::fs::read_to_string(path.as_ref()).map_err(|e| e.to_string())
}

/// The controllers the user manager's cgroup may hand down
/// (`cgroup.controllers` of `user@UID.service`).
#[must_use]
pub fn user_cgroup_controllers(uid: u32) -> PathBuf {
    PathBuf::from(format!(
        "/sys/fs/cgroup/user.slice/user-{uid}.slice/user@{uid}.service/cgroup.controllers"
    ))
}

/// Check `podman`: the CLI found on PATH, or not.
#[must_use]
pub fn podman_cli(found: Option<&Path>) -> Check {
    match found {
        Some(p) => Check::ok("podman", format!("{} (on PATH)", p.display())),
        None => Check::problem("podman", "podman is not on PATH", INSTALL_PODMAN),
    }
}

/// Check `podman-version` from the version found (or why none was).
#[must_use]
pub fn podman_version(v: &std::result::Result<(u32, u32, String), String>) -> Check {
    let (min_a, min_b) = MIN_PODMAN;
    match v {
        Ok((a, b, full)) if (*a, *b) >= MIN_PODMAN => Check::ok(
            "podman-version",
            format!("Podman {full} (ccy needs {min_a}.{min_b} or newer)"),
        ),
        Ok((_, _, full)) => Check::problem(
            "podman-version",
            format!(
                "Podman {full} is too old: ccy needs {min_a}.{min_b} or newer (Quadlet keys it writes)"
            ),
            "upgrade Podman from your distribution (Fedora 40+, Debian 13+)",
        ),
        Err(e) => Check::problem(
            "podman-version",
            format!("cannot tell the Podman version: {e}"),
            INSTALL_PODMAN,
        ),
    }
}

/// Check `podman-socket` from the socket file's existence and the state of
/// `podman.socket` (`None` when the user manager could not be asked).
#[must_use]
pub fn podman_socket(socket: &Path, exists: bool, unit: Option<&UnitState>, bus_ok: bool) -> Check {
    const ENABLE: &str = "systemctl --user enable --now podman.socket";
    let active = unit.is_some_and(|u| u.active_state == ActiveState::Active);
    let not_found = unit.is_some_and(|u| u.load_state == LoadState::NotFound);
    match (exists, active) {
        (true, true) => Check::ok(
            "podman-socket",
            format!("{} (podman.socket active)", socket.display()),
        ),
        (true, false) if !bus_ok => Check::ok(
            "podman-socket",
            format!(
                "{} exists (podman.socket not checked: no user bus)",
                socket.display()
            ),
        ),
        (true, false) => Check::warning(
            "podman-socket",
            format!(
                "{} exists but podman.socket is not active",
                socket.display()
            ),
            Some(ENABLE.to_owned()),
        ),
        (false, _) if not_found => Check::problem(
            "podman-socket",
            "your user manager has no podman.socket unit (Podman's API service is not installed)",
            INSTALL_PODMAN,
        ),
        (false, _) => Check::warning(
            "podman-socket",
            format!(
                "{} does not exist: podman.socket is not running (ccy starts it when it needs the API)",
                socket.display()
            ),
            Some(ENABLE.to_owned()),
        ),
    }
}

/// The generator on this host, if any.
fn find_generator() -> Option<PathBuf> {
    QUADLET_GENERATORS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn quadlet(paths: &Paths) -> Check {
    let generator = find_generator();
    let sessions: Vec<String> = store::read_sessions(&paths.quadlet_dir)
        .unwrap_or_default()
        .into_iter()
        .map(|f| f.meta.name)
        .collect();
    let dryrun = match (&generator, sessions.is_empty()) {
        (Some(g), false) => Some(generator::dryrun(g, &paths.quadlet_dir)),
        _ => None,
    };
    quadlet_check(generator.as_deref(), dryrun, &sessions, &paths.quadlet_dir)
}

/// Check `quadlet`: the generator found (or not), its dry run over the
/// Quadlet directory (`None` when not run: no generator or no sessions) and
/// ccy's session names there.
#[must_use]
pub fn quadlet_check(
    generator: Option<&Path>,
    dryrun: Option<std::result::Result<DryRun, String>>,
    sessions: &[String],
    quadlet_dir: &Path,
) -> Check {
    let Some(generator) = generator else {
        return Check::problem(
            "quadlet",
            format!(
                "Quadlet's generator is not installed (looked for {})",
                QUADLET_GENERATORS.join(", ")
            ),
            INSTALL_PODMAN,
        );
    };
    let see_why = format!(
        "see why with 'QUADLET_UNIT_DIRS={} {} -dryrun -user'",
        quadlet_dir.display(),
        generator.display()
    );
    let run = match dryrun {
        None => {
            return Check::ok(
                "quadlet",
                format!("{} (no ccy session files to check)", generator.display()),
            );
        }
        Some(Err(e)) => {
            return Check::problem(
                "quadlet",
                format!("cannot run {}: {e}", generator.display()),
                INSTALL_PODMAN,
            );
        }
        Some(Ok(run)) => run,
    };
    let generated: Vec<String> = dryrun::split(&run.stdout)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let dropped: Vec<&String> = sessions
        .iter()
        .filter(|s| !generated.contains(&format!("{s}.service")))
        .collect();
    if dropped.is_empty() {
        return Check::ok(
            "quadlet",
            format!(
                "{} turns all {} ccy session {} into units",
                generator.display(),
                sessions.len(),
                plural(sessions.len(), "file", "files")
            ),
        );
    }
    let names: Vec<&str> = dropped.iter().map(|s| s.as_str()).collect();
    let why = dropped_reason(&run.stderr, &names)
        .map(|l| format!(": {l}"))
        .unwrap_or_default();
    Check::problem(
        "quadlet",
        format!(
            "Quadlet drops {} ccy {}, which cannot start: {}{why}",
            names.len(),
            plural(names.len(), "session", "sessions"),
            names.join(", ")
        ),
        format!(
            "{see_why}; then recreate the session ('ccy rm {}' and 'ccy' in its worktree)",
            names[0]
        ),
    )
}

/// The generator's reason for dropping one of `names`: its `converting
/// "NAME.container": …` line (other lines about the file, like `Loading
/// source unit file` and warnings, are not reasons), without the
/// `quadlet-generator[PID]: ` prefix.
fn dropped_reason<'a>(stderr: &'a str, names: &[&str]) -> Option<&'a str> {
    stderr
        .lines()
        .filter(|l| {
            names
                .iter()
                .any(|n| l.contains(&format!("\"{n}.container\"")))
        })
        .find(|l| l.contains("converting"))
        .map(|l| l.split_once("]: ").map_or(l, |(_, rest)| rest).trim())
}

/// Check `user-bus`: `None` when the user manager answered, else why not.
fn user_bus(paths: &Paths, error: Option<String>) -> Check {
    let socket = paths.runtime_dir.join("bus");
    match error {
        None => Check::ok(
            "user-bus",
            format!("your systemd user manager answers at {}", socket.display()),
        ),
        Some(e) => Check::problem(
            "user-bus",
            e.lines().next().unwrap_or_default().to_owned(),
            "log in through a PAM session with pam_systemd (desktop or SSH), or as root run 'loginctl enable-linger USER'",
        ),
    }
}

/// Check `linger` from logind's answer.
#[must_use]
pub fn linger(on: std::result::Result<bool, String>) -> Check {
    match on {
        Ok(true) => Check::ok(
            "linger",
            "on: sessions keep running after logout and start at boot",
        ),
        Ok(false) => Check::problem(
            "linger",
            "off: your sessions stop when you log out and do not start at boot",
            "loginctl enable-linger",
        ),
        Err(e) => Check::problem(
            "linger",
            format!(
                "cannot ask logind: {}",
                e.lines().next().unwrap_or_default()
            ),
            "loginctl enable-linger",
        ),
    }
}

/// Check `subuid` or `subgid` (`kind`) from the file's text (or why it
/// could not be read) for `user` / `uid`. Entries are `OWNER:START:COUNT`
/// (subuid(5)), the owner a name or a uid. Ranges given through NSS
/// (`subid:` in nsswitch.conf) are not seen.
#[must_use]
pub fn subids(
    kind: &'static str,
    text: std::result::Result<String, String>,
    user: &str,
    uid: u32,
) -> Check {
    let file = format!("/etc/{kind}");
    let fix =
        format!("sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}");
    let text = match text {
        Ok(t) => t,
        Err(e) => return Check::problem(kind, format!("cannot read {file}: {e}"), fix),
    };
    let uid = uid.to_string();
    let count: u64 = text
        .lines()
        .filter_map(|l| {
            let mut parts = l.trim().split(':');
            let (owner, _start, count) = (parts.next()?, parts.next()?, parts.next()?);
            (owner == user || owner == uid).then(|| count.trim().parse::<u64>().ok())?
        })
        .sum();
    match count {
        0 => Check::problem(
            kind,
            format!(
                "{file} has no range for {user}: rootless Podman cannot map the container's users"
            ),
            fix,
        ),
        1..65536 => Check::warning(
            kind,
            format!("{file} gives {user} only {count} ids: images with higher ids fail to run"),
            Some(fix),
        ),
        _ => Check::ok(kind, format!("{file} gives {user} {count} ids")),
    }
}

/// The controllers ccy's session limits need.
pub const NEEDED_CONTROLLERS: [&str; 3] = ["memory", "cpu", "pids"];

/// Check `cgroups`: whether the host runs cgroup v2 and the controllers
/// the user manager may hand down (`None`: its cgroup file was unreadable).
#[must_use]
pub fn cgroups(v2: bool, user_controllers: Option<String>, uid: u32) -> Check {
    let fix = "printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' | sudo install -D -m 644 /dev/stdin /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload  # then log in again".to_owned();
    if !v2 {
        return Check::warning(
            "cgroups",
            "the host runs cgroup v1: session limits cannot be enforced and memory use is unknown",
            Some("boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1)".to_owned()),
        );
    }
    let Some(text) = user_controllers else {
        return Check::warning(
            "cgroups",
            format!(
                "cannot read {}: cannot tell whether session limits can be enforced",
                user_cgroup_controllers(uid).display()
            ),
            None,
        );
    };
    let have: Vec<&str> = text.split_whitespace().collect();
    let missing: Vec<&str> = NEEDED_CONTROLLERS
        .iter()
        .copied()
        .filter(|c| !have.contains(c))
        .collect();
    if missing.is_empty() {
        Check::ok(
            "cgroups",
            format!(
                "cgroup v2, {} delegated to your user manager",
                NEEDED_CONTROLLERS.join(", ")
            ),
        )
    } else {
        Check::warning(
            "cgroups",
            format!(
                "the {} {} not delegated to your user manager: session limits cannot be enforced and memory use is unknown",
                missing.join(", "),
                plural(missing.len(), "controller is", "controllers are")
            ),
            Some(fix),
        )
    }
}

/// Check `config`: whether the layers load (or the error's message and
/// hints).
fn config_check(loaded: Result<(), &Error>, paths: &Paths, worktree: Option<&Worktree>) -> Check {
    let user = display_home(&paths.user_config_file(), &paths.home);
    let scope = match worktree {
        Some(w) => format!(
            "{user} and {}",
            display_home(&config::project_file(&w.root), &paths.home)
        ),
        None => user,
    };
    match loaded {
        Ok(()) => Check::ok("config", format!("valid ({scope}, CCY_* variables)")),
        Err(e) => Check::problem(
            "config",
            e.message().to_owned(),
            e.hints()
                .first()
                .cloned()
                .unwrap_or_else(|| "fix the file named above".to_owned()),
        ),
    }
}

/// The labels of an image (`None`: it does not exist), or why they could
/// not be read.
pub type ImageLabels = std::result::Result<Option<BTreeMap<String, String>>, String>;

/// Check `image`: the image the configuration names and its labels
/// (`None` when not asked: no API socket or no valid configuration).
#[must_use]
pub fn image_check(image: Option<(&ImageSpec, &ImageLabels)>, api: bool) -> Check {
    let Some((spec, labels)) = image else {
        let why = if api {
            "the configuration is invalid"
        } else {
            "the Podman API socket is not running"
        };
        return Check::warning("image", format!("not checked: {why}"), None);
    };
    let name = &spec.name;
    match labels {
        Err(e) => Check::problem(
            "image",
            format!(
                "cannot look up {name}: {}",
                e.lines().next().unwrap_or_default()
            ),
            "ccy doctor again once Podman answers ('systemctl --user status podman.socket')",
        ),
        Ok(None) => Check::warning(
            "image",
            format!(
                "{name} is not built yet: ccy builds it (minutes) when it creates the next session"
            ),
            Some("run 'ccy' in a git worktree".to_owned()),
        ),
        Ok(Some(l)) => match l.get(LABEL_ASSETS) {
            None => Check::ok(
                "image",
                format!("{name} is your own (no {LABEL_ASSETS} label): used as it is"),
            ),
            Some(h) if *h == spec.assets_hash() => {
                Check::ok("image", format!("{name} is built from this ccy's assets"))
            }
            Some(_) => Check::warning(
                "image",
                format!(
                    "{name} was built by another ccy version or other [image] settings: ccy rebuilds it when it creates the next session"
                ),
                None,
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn unit(load: &str, active: &str) -> UnitState {
        UnitState {
            name: "podman.socket".into(),
            load_state: load.into(),
            active_state: active.into(),
            sub_state: String::new(),
        }
    }

    #[test]
    fn versions() {
        assert_eq!(podman_version(&Ok((5, 4, "5.4.2".into()))).level, Level::Ok);
        let old = podman_version(&Ok((4, 9, "4.9.3".into())));
        assert_eq!(old.level, Level::Problem);
        assert!(old.message.contains("4.9.3 is too old"), "{}", old.message);
        assert!(old.fix.unwrap().contains("upgrade Podman"));
        assert_eq!(podman_version(&Err("x".into())).level, Level::Problem);
    }

    #[test]
    fn socket_states() {
        let s = Path::new("/run/user/1000/podman/podman.sock");
        assert_eq!(
            podman_socket(s, true, Some(&unit("loaded", "active")), true).level,
            Level::Ok
        );
        let off = podman_socket(s, false, Some(&unit("loaded", "inactive")), true);
        assert_eq!(off.level, Level::Warning);
        assert_eq!(
            off.fix.as_deref(),
            Some("systemctl --user enable --now podman.socket")
        );
        assert_eq!(
            podman_socket(s, false, Some(&unit("not-found", "inactive")), true).level,
            Level::Problem
        );
        assert_eq!(podman_socket(s, true, None, false).level, Level::Ok);
    }

    #[test]
    fn quadlet_drops_are_problems() {
        let g = Path::new("/usr/libexec/podman/quadlet");
        let dir = Path::new("/home/dev/.config/containers/systemd");
        let sessions = vec!["ccy-a-00000001".to_owned(), "ccy-b-00000002".to_owned()];
        let run = DryRun {
            stdout: "---ccy-a-00000001.service---\n[Unit]\n\n---ccy-a-00000001-volume.service---\n[Unit]\n\n".into(),
            stderr: "quadlet-generator[9]: Loading source unit file /q/ccy-b-00000002.container\n\
                quadlet-generator[9]: Warning: ccy-b-00000002.container specifies the image \"x\"\n\
                quadlet-generator[9]: converting \"ccy-b-00000002.container\": unsupported key 'Nope' in group 'Container'\n"
                .into(),
        };
        let c = quadlet_check(Some(g), Some(Ok(run.clone())), &sessions, dir);
        assert_eq!(c.level, Level::Problem);
        assert!(c.message.ends_with("drops 1 ccy session, which cannot start: ccy-b-00000002: converting \"ccy-b-00000002.container\": unsupported key 'Nope' in group 'Container'"), "{}", c.message);
        assert!(c.fix.unwrap().starts_with("see why with 'QUADLET_UNIT_DIRS=/home/dev/.config/containers/systemd /usr/libexec/podman/quadlet -dryrun -user'"));
        let ok = quadlet_check(Some(g), Some(Ok(run)), &sessions[..1], dir);
        assert_eq!(ok.level, Level::Ok);
        assert!(
            ok.message.contains("all 1 ccy session file into units"),
            "{}",
            ok.message
        );
        assert_eq!(quadlet_check(None, None, &[], dir).level, Level::Problem);
        assert_eq!(quadlet_check(Some(g), None, &[], dir).level, Level::Ok);
    }

    #[test]
    fn linger_states() {
        assert_eq!(linger(Ok(true)).level, Level::Ok);
        let off = linger(Ok(false));
        assert_eq!(off.level, Level::Problem);
        assert_eq!(off.fix.as_deref(), Some("loginctl enable-linger"));
        assert_eq!(linger(Err("no bus".into())).level, Level::Problem);
    }

    #[test]
    fn subid_ranges() {
        let file = "root:1:2\ndev:100000:65536\n1001:200000:1000\n";
        assert_eq!(
            subids("subuid", Ok(file.into()), "dev", 1000).level,
            Level::Ok
        );
        assert_eq!(
            subids("subuid", Ok(file.into()), "x", 1001).level,
            Level::Warning
        );
        let none = subids("subgid", Ok(file.into()), "y", 1002);
        assert_eq!(none.level, Level::Problem);
        assert!(
            none.message.contains("/etc/subgid has no range for y"),
            "{}",
            none.message
        );
        assert!(none.fix.unwrap().contains("usermod --add-subuids"));
        assert_eq!(
            subids("subuid", Err("gone".into()), "dev", 1000).level,
            Level::Problem
        );
        assert_eq!(
            subids("subuid", Ok("dev:1:junk\n".into()), "dev", 1000).level,
            Level::Problem
        );
    }

    #[test]
    fn cgroup_delegation() {
        let all = cgroups(true, Some("cpuset cpu io memory pids\n".into()), 1000);
        assert_eq!(all.level, Level::Ok);
        let none = cgroups(true, Some(String::new()), 1000);
        assert_eq!(none.level, Level::Warning);
        assert!(
            none.message
                .starts_with("the memory, cpu, pids controllers are not delegated"),
            "{}",
            none.message
        );
        assert!(
            none.fix
                .unwrap()
                .contains("Delegate=cpu cpuset io memory pids")
        );
        let some = cgroups(true, Some("cpu memory".into()), 1000);
        assert!(
            some.message
                .starts_with("the pids controller is not delegated"),
            "{}",
            some.message
        );
        assert_eq!(cgroups(false, None, 1000).level, Level::Warning);
        assert_eq!(cgroups(true, None, 1000).level, Level::Warning);
    }

    #[test]
    fn image_states() {
        let spec = ImageSpec {
            name: "localhost/ccy:latest".into(),
            base: "b".into(),
            agent_install: String::new(),
        };
        let labels = |h: Option<&str>| {
            Ok(Some(
                h.map(|h| (LABEL_ASSETS.to_owned(), h.to_owned()))
                    .into_iter()
                    .collect(),
            ))
        };
        assert_eq!(
            image_check(Some((&spec, &labels(Some(&spec.assets_hash())))), true).level,
            Level::Ok
        );
        assert_eq!(
            image_check(Some((&spec, &labels(None))), true).level,
            Level::Ok
        );
        assert_eq!(
            image_check(Some((&spec, &labels(Some("0")))), true).level,
            Level::Warning
        );
        assert_eq!(
            image_check(Some((&spec, &Ok(None))), true).level,
            Level::Warning
        );
        assert_eq!(image_check(None, false).level, Level::Warning);
    }

    #[test]
    fn report_layout() {
        let checks = vec![
            podman_cli(Some(Path::new("/usr/bin/podman"))),
            linger(Ok(false)),
            cgroups(true, Some(String::new()), 1000),
        ];
        let text = render(&checks);
        insta::assert_snapshot!(anstream::adapter::strip_str(&text).to_string(), @r"
        ok       podman   /usr/bin/podman (on PATH)
        problem  linger   off: your sessions stop when you log out and do not start at boot
                          fix: loginctl enable-linger
        warning  cgroups  the memory, cpu, pids controllers are not delegated to your user manager: session limits cannot be enforced and memory use is unknown
                          fix: printf '[Service]\nDelegate=cpu cpuset io memory pids\n' | sudo install -D -m 644 /dev/stdin /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload  # then log in again

        1 problem, 1 warning
        ");
        assert!(text.contains(&ui::paint(ui::BAD, "problem")));
        let ok = render(&checks[..1]);
        assert!(ok.ends_with("\nall checks passed\n"), "{ok}");
    }
}
