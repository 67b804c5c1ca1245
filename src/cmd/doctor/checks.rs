//! The individual checks of `ccy doctor`, each a pure function of what
//! [`super::gather`] read where it can be, so the tests feed them.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn read(path: impl AsRef<Path>) -> std::result::Result<String, String> {
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
pub(super) fn find_generator() -> Option<PathBuf> {
    QUADLET_GENERATORS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

pub(super) fn quadlet(paths: &Paths) -> Check {
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
        let what = match sessions.len() {
            1 => "the one ccy session file into a unit".to_owned(),
            n => format!("all {n} ccy session files into units"),
        };
        return Check::ok("quadlet", format!("{} turns {what}", generator.display()));
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
pub(super) fn dropped_reason<'a>(stderr: &'a str, names: &[&str]) -> Option<&'a str> {
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
pub(super) fn user_bus(paths: &Paths, error: Option<String>) -> Check {
    let socket = paths.runtime_dir.join("bus");
    match error {
        None => Check::ok(
            "user-bus",
            format!("your systemd user manager answers at {}", socket.display()),
        ),
        Some(e) => Check::problem(
            "user-bus",
            first_line(&e).to_owned(),
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
            format!("cannot ask logind: {}", first_line(&e)),
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
/// hints). The message names the configuration files that exist and, apart,
/// those that do not (a file that is not there is not "valid").
pub(super) fn config_check(
    loaded: Result<(), &Error>,
    paths: &Paths,
    worktree: Option<&Worktree>,
) -> Check {
    let mut files = vec![paths.user_config_file()];
    if let Some(w) = worktree {
        files.push(config::project_file(&w.root));
    }
    let files: Vec<(String, bool)> = files
        .iter()
        .map(|f| (display_home(f, &paths.home), f.is_file()))
        .collect();
    config_result(loaded, &files)
}

/// Check `config` from the load's result and the configuration files
/// (shown path, whether it exists), in the order they are read.
#[must_use]
pub fn config_result(loaded: Result<(), &Error>, files: &[(String, bool)]) -> Check {
    match loaded {
        Ok(()) => {
            let found: Vec<&str> = files.iter().filter(|f| f.1).map(|f| f.0.as_str()).collect();
            let missing: Vec<String> = files
                .iter()
                .filter(|f| !f.1)
                .map(|f| format!("no {}", f.0))
                .collect();
            let mut read = if found.is_empty() {
                "built-in defaults".to_owned()
            } else {
                found.join(", ")
            };
            read.push_str(", CCY_* variables");
            if !missing.is_empty() {
                read.push_str("; ");
                read.push_str(&missing.join(", "));
            }
            Check::ok("config", format!("valid ({read})"))
        }
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
            format!("cannot look up {name}: {}", first_line(e)),
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

/// What `timers` was given for one of ccy's timers: the task, its schedule
/// in the user's own configuration (`None`: the task is off) and the
/// timer's state read from the user manager.
pub type TimerSeen = (Task, Option<String>, TimerDetails);

/// Check `timers`: ccy's timers (`ccy-prune.timer`, and `ccy-idle.timer`
/// while `[idle] stop` is not `off`) are installed, enabled, active and on
/// the configured schedule. `opted_out` is `[prune] timer = false`;
/// `seen` is `Err` when the user manager could not be asked. A missing,
/// disabled or stale timer is a warning (sessions work without it), fixed
/// by `ccy timer enable`.
#[must_use]
pub fn timers(opted_out: bool, seen: std::result::Result<Vec<TimerSeen>, String>) -> Check {
    let seen = match seen {
        Ok(s) => s,
        Err(e) => return manager_not_asked("timers", &e),
    };
    let mut wrong = Vec::new();
    let mut fine = Vec::new();
    for (task, schedule, d) in &seen {
        let unit = task.timer_unit();
        let installed = d.load_state == LoadState::Loaded;
        match schedule {
            None if installed => {
                wrong.push(format!("{unit} is installed though [idle] stop is \"off\""));
            }
            None => {}
            Some(_) if opted_out => {}
            Some(_) if !installed => wrong.push(format!("{unit} is not installed")),
            Some(_) if d.unit_file_state != "enabled" => {
                wrong.push(format!("{unit} is {}", d.unit_file_state));
            }
            Some(_) if d.active_state != ActiveState::Active => {
                wrong.push(format!("{unit} is {}", d.active_state));
            }
            Some(s) => match crate::host::systemd::calendar::check_schedule(task.verb(), s) {
                Ok(c) if !d.calendar.contains(&c.normalized) => wrong.push(format!(
                    "{unit} runs on {:?}, the configuration says {s:?}",
                    d.calendar.join("; ")
                )),
                Ok(_) => fine.push(format!("{unit} ({s})")),
                Err(e) => wrong.push(e.to_string()),
            },
        }
    }
    if opted_out {
        let installed: Vec<_> = seen
            .iter()
            .filter(|(_, _, d)| d.load_state == LoadState::Loaded)
            .map(|(t, _, _)| t.timer_unit())
            .collect();
        return if installed.is_empty() {
            Check::ok(
                "timers",
                "off ([prune] timer = false): nothing prunes stale sessions",
            )
        } else {
            Check::warning(
                "timers",
                format!(
                    "[prune] timer = false, but {} still installed",
                    installed.join(" and ")
                ),
                Some("ccy timer disable".to_owned()),
            )
        };
    }
    if wrong.is_empty() {
        Check::ok("timers", format!("enabled and active: {}", fine.join(", ")))
    } else {
        Check::warning(
            "timers",
            format!(
                "{}: stale sessions are not pruned (or idle ones stopped) on schedule",
                wrong.join("; ")
            ),
            Some("ccy timer enable".to_owned()),
        )
    }
}

/// Check `notify`: `ccy-notify.service` is installed, enabled and active
/// while `[notify] enabled` (the user's own configuration) is true.
/// `wanted` is that key (`None`: the configuration is invalid);
/// `enabled` whether its `[Install]` symlink exists; `state` the unit's
/// state (`Err`: the user manager could not be asked). Anything else is a
/// warning (sessions work without it), fixed by `ccy notify enable`.
#[must_use]
pub fn notify_check(
    wanted: Option<bool>,
    enabled: bool,
    state: std::result::Result<UnitState, String>,
) -> Check {
    let unit = crate::session::notify::UNIT;
    let state = match state {
        Ok(s) => s,
        Err(e) => return manager_not_asked("notify", &e),
    };
    let installed = state.load_state == LoadState::Loaded;
    if wanted == Some(false) {
        return if installed && state.active_state == ActiveState::Active {
            Check::ok(
                "notify",
                format!("{unit} runs, silent ([notify] enabled = false)"),
            )
        } else {
            Check::ok("notify", "off ([notify] enabled = false)")
        };
    }
    let wrong = if !installed {
        format!("{unit} is not installed")
    } else if !enabled {
        format!("{unit} is not enabled")
    } else if state.active_state != ActiveState::Active {
        format!("{unit} is {}", state.active_state)
    } else {
        return Check::ok("notify", format!("{unit} enabled and active"));
    };
    Check::warning(
        "notify",
        format!("{wrong}: nobody tells you when an agent waits or is done"),
        Some("ccy notify enable".to_owned()),
    )
}

/// The first line of `error` (a message from another system, perhaps with
/// more lines of detail), for a check's one-line message.
fn first_line(error: &str) -> &str {
    error.lines().next().unwrap_or_default()
}

/// The warning of check `name` when the user manager could not be asked
/// (`error`: why): sessions work without ccy's own units, so it is no
/// problem.
fn manager_not_asked(name: &'static str, error: &str) -> Check {
    Check::warning(
        name,
        format!("cannot ask the user manager: {}", first_line(error)),
        None,
    )
}
