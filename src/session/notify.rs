//! ccy's notifier: `ccy-notify.service`, a user service running the
//! hidden verb `ccy notify-daemon`, which watches the sessions' agent
//! state files (`STATE_DIR/sessions/NAME/agent.json`, written by the
//! agent's hooks) with inotify and tells the user when an agent enters a
//! state `[notify] on` names (`waiting`, `done`): a desktop notification
//! on the session bus, or without a notification server, a message and a
//! bell in the tmux clients attached to the user's other sessions. It is
//! silent while a client is attached to the session and was attached
//! when the turn began (the user's own prompt).
//!
//! Installed like ccy's timers ([`crate::session::timer`]): the first
//! session created installs it (unless `[notify] enabled = false`), and
//! `ccy notify enable|disable|status` manages it.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::config::{Config, NotifyConfig};
use crate::ctx::{Ctx, notice};
use crate::error::{Context, Error, ExitKind, Result};
use crate::host::fs::write_atomic;
use crate::host::notify::{Notification, Sent};
use crate::host::systemd::{LoadState, UnitState, UserManager};
use crate::host::watch::Watcher;
use crate::host::{notify as dbus_notify, tmux};
use crate::names::SessionName;
use crate::quadlet::render;
use crate::session::Host;
use crate::session::agent_status::{self, AgentRecord};
use crate::session::store::{self, UNIT_FILE_MODE};

/// The notifier's unit.
pub const UNIT: &str = "ccy-notify.service";

/// How long the tmux fallback's message stays in a status line, in ms.
const TMUX_MESSAGE_MS: u32 = 10_000;

/// The unit file in the user's systemd unit directory `dir`.
#[must_use]
pub fn unit_file(dir: &Path) -> PathBuf {
    dir.join(UNIT)
}

/// Whether the unit file is installed (the cheap check of the create
/// path).
#[must_use]
pub fn installed(dir: &Path) -> bool {
    unit_file(dir).exists()
}

/// Whether the unit is enabled: its `[Install]` symlink in
/// `default.target.wants` exists (what `enable_unit_file` creates).
#[must_use]
pub fn enabled(dir: &Path) -> bool {
    dir.join("default.target.wants").join(UNIT).exists()
}

/// Installs and starts the notifier when `config` (the user's own) wants
/// it (`[notify] enabled`) and it is not installed yet, printing one line;
/// a failure is a warning. Called by session creation, as the timers are.
pub async fn ensure(host: &Host<'_>, config: &Config) {
    if !config.notify.enabled || installed(&host.ctx.paths.systemd_user_dir()) {
        return;
    }
    match enable(host).await {
        Ok(_) => notice(&format!(
            "installed {UNIT}: tells you when an agent waits or is done (opt out: notify.enabled = false; see 'ccy notify status')"
        )),
        Err(e) => notice(&format!(
            "warning: could not install {UNIT}: {}",
            e.to_string().replace('\n', "\n  ")
        )),
    }
}

/// Writes `ccy-notify.service` (running this binary, by its absolute
/// path), reloads the user manager, enables the unit and (re)starts it.
/// When the manager does not load the unit, the previous file is put
/// back. Returns the binary the service runs.
///
/// # Errors
/// A unit the manager does not load or a start job that does not end
/// `done` ([`ExitKind::Session`]); D-Bus or file errors.
pub async fn enable(host: &Host<'_>) -> Result<PathBuf> {
    let mgr = &host.mgr;
    let dir = host.ctx.paths.systemd_user_dir();
    let (ccy, environment) = crate::session::timer::service_command()?;
    let text = render::notify_service(&ccy, &environment)?;
    let path = unit_file(&dir);
    let old = std::fs::read(&path).ok();
    write_atomic(&path, text.as_bytes(), UNIT_FILE_MODE)?;
    mgr.reload().await?;
    let state = mgr.unit_state(UNIT).await?;
    if state.load_state != LoadState::Loaded {
        match &old {
            Some(t) => write_atomic(&path, t, UNIT_FILE_MODE)?,
            None => remove(&path)?,
        }
        mgr.reload().await?;
        return Err(Error::new(
            ExitKind::Session,
            format!(
                "your user manager did not load {UNIT} ({}); the previous unit is restored",
                state.load_state
            ),
        )
        .hint(format!(
            "see why with 'systemd-analyze --user verify {}'",
            path.display()
        )));
    }
    mgr.enable_unit_file(UNIT).await?;
    mgr.reload().await?;
    crate::session::timer::start_or_restart(mgr, UNIT, state.is_up()).await?;
    Ok(ccy)
}

/// Stops and disables the notifier and removes its unit file. Returns
/// whether it was there.
///
/// # Errors
/// A stop job that does not end `done` ([`ExitKind::Session`]); D-Bus or
/// file errors.
pub async fn disable(host: &Host<'_>) -> Result<bool> {
    let mgr = &host.mgr;
    let path = unit_file(&host.ctx.paths.systemd_user_dir());
    let state = mgr.unit_state(UNIT).await?;
    if !path.exists() && state.load_state == LoadState::NotFound {
        return Ok(false);
    }
    crate::session::timer::stop_and_disable(mgr, UNIT, state.is_up()).await?;
    remove(&path)?;
    mgr.reload().await?;
    Ok(true)
}

/// The notifier unit's state in the user manager.
///
/// # Errors
/// D-Bus errors.
pub async fn unit_state(mgr: &UserManager) -> Result<UnitState> {
    mgr.unit_state(UNIT).await
}

fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// What the notifier remembers of a session: the last state it saw and
/// whether a client was attached when the current turn began.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    state: String,
    since: u64,
    attached_at_turn: bool,
}

/// What to do about a change of a session's `agent.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A transition that notifies.
    Notify,
    /// A transition into a state that notifies, kept silent: a client is
    /// attached and was attached when the turn began.
    Attached,
}

/// The transitions of every session's agent state, as seen by the
/// notifier (pure: fed the files' contents).
#[derive(Debug, Default)]
pub struct Tracker {
    seen: HashMap<String, Seen>,
}

impl Tracker {
    /// Remembers `status` for session `name` without deciding anything
    /// (the state found when the notifier starts).
    pub fn baseline(&mut self, name: &str, status: &AgentRecord, clients: u32) {
        self.seen.insert(
            name.to_owned(),
            Seen {
                state: status.state.clone(),
                since: status.since,
                attached_at_turn: clients > 0,
            },
        );
    }

    /// Forgets session `name` (its directory is gone).
    pub fn forget(&mut self, name: &str) {
        self.seen.remove(name);
    }

    /// Takes the session's `status` as now read, with `clients` attached:
    /// `None` when it is no transition (the same state since the same
    /// time: a heartbeat or a rewrite) or one `config` does not notify;
    /// else whether to notify.
    pub fn observe(
        &mut self,
        name: &str,
        status: &AgentRecord,
        clients: u32,
        config: &NotifyConfig,
    ) -> Option<Decision> {
        let prev = self.seen.get(name);
        if prev.is_some_and(|p| p.state == status.state && p.since == status.since) {
            return None;
        }
        // A turn begins with `busy` (the prompt); it stays the client's
        // through `waiting` and the answer's `busy`. A turn whose `busy`
        // was not seen (the file was rewritten again before it was read:
        // inotify tells that it changed, not each content) began since the
        // last state seen outside a turn, so it is the clients' now.
        let in_turn = |p: &Seen| p.state == "busy" || p.state == "waiting";
        let attached_at_turn = match prev {
            Some(p) if p.state == "waiting" => p.attached_at_turn && clients > 0,
            _ if status.state == "busy" => clients > 0,
            Some(p) if in_turn(p) => p.attached_at_turn && clients > 0,
            _ => clients > 0,
        };
        self.seen.insert(
            name.to_owned(),
            Seen {
                state: status.state.clone(),
                since: status.since,
                attached_at_turn,
            },
        );
        if !config.notifies(&status.state) {
            return None;
        }
        Some(if clients > 0 && attached_at_turn {
            Decision::Attached
        } else {
            Decision::Notify
        })
    }
}

/// The notification for session `name` of `project` entering
/// `status.state`: the summary names the session and what it does, the
/// body the project and the agent's message.
#[must_use]
pub fn notification(name: &str, project: &str, status: &AgentRecord) -> Notification {
    let what = match status.state.as_str() {
        "waiting" => "is waiting for you",
        "done" => "is done",
        "idle" => "is idle",
        "busy" => "is busy",
        "exited" => "has exited",
        _ => "changed its state",
    };
    let message = status
        .message
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let body = match message {
        Some(m) => format!("{project}: {m}"),
        None => project.to_owned(),
    };
    Notification {
        summary: format!("ccy: {name} {what}"),
        body,
        critical: status.state == "waiting",
    }
}

/// The one-line form of a notification for a tmux status line.
#[must_use]
pub fn tmux_message(n: &Notification) -> String {
    let line = if n.body.is_empty() {
        n.summary.clone()
    } else {
        format!("{} ({})", n.summary, n.body)
    };
    line.replace(['\n', '\r', '\t'], " ")
}

/// `ccy notify-daemon`: watches `STATE_DIR/sessions` and each session's
/// directory with inotify (blocking: no wakeup while nothing changes) and
/// notifies per [`Tracker`]. Reads the user's configuration at each
/// transition, so a change applies at once. Prints one line per
/// notification or silence (the unit's journal). Runs until killed.
///
/// # Errors
/// When inotify cannot be set up or read.
pub fn run_daemon(ctx: &Ctx) -> Result<()> {
    let sessions = ctx.paths.state_dir.join("sessions");
    std::fs::create_dir_all(&sessions)
        .with_context(|| format!("cannot create {}", sessions.display()))?;
    let mut watcher = Watcher::new()?;
    watcher.watch(&sessions)?;
    let mut tracker = Tracker::default();
    for name in session_dirs(&sessions) {
        let dir = sessions.join(&name);
        if let Err(e) = watcher.watch(&dir) {
            notice(&format!("warning: {e}"));
        }
        if let Some(s) = agent_status::read_agent(&dir) {
            tracker.baseline(&name, &s, agent_status::clients(&dir));
        }
    }
    crate::outln!("watching {} for agent states", sessions.display());
    let mut config = Config::defaults();
    loop {
        let mut changed = BTreeSet::new();
        for e in watcher.wait()? {
            let Some(name) = e.name.and_then(|n| n.into_string().ok()) else {
                continue;
            };
            if e.dir == sessions {
                if name.starts_with('.') || !e.is_dir {
                    continue;
                }
                if e.appeared {
                    let dir = sessions.join(&name);
                    if !watcher.watches(&dir) && watcher.watch(&dir).is_ok() {
                        changed.insert(name);
                    }
                } else {
                    tracker.forget(&name);
                }
            } else if e.appeared
                && name == crate::contract::AGENT_FILE
                && let Some(n) = e.dir.file_name().and_then(|n| n.to_str())
            {
                changed.insert(n.to_owned());
            }
        }
        for name in changed {
            let dir = sessions.join(&name);
            let Some(status) = agent_status::read_agent(&dir) else {
                continue;
            };
            let clients = agent_status::clients(&dir);
            match ctx.config(None).and_then(crate::config::Loader::finish) {
                Ok(l) => config = l.config,
                Err(e) => notice(&format!(
                    "warning: invalid configuration, using the last one read: {e}"
                )),
            }
            match tracker.observe(&name, &status, clients, &config.notify) {
                None => {}
                Some(Decision::Attached) => crate::outln!(
                    "{name}: {} with a client attached since the prompt: not notified",
                    status.state
                ),
                Some(Decision::Notify) => deliver(ctx, &sessions, &name, &status),
            }
        }
    }
}

/// The names of the session directories in `sessions`.
fn session_dirs(sessions: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(sessions)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Sends the notification for `name`, or without a notification server
/// shows it in the clients attached to the other sessions.
fn deliver(ctx: &Ctx, sessions: &Path, name: &str, status: &AgentRecord) {
    let project = SessionName::parse(name)
        .ok()
        .and_then(|n| {
            store::read_session(&ctx.paths.quadlet_dir, &n)
                .ok()
                .flatten()
        })
        .map_or_else(|| "?".to_owned(), |f| f.meta.project);
    let n = notification(name, &project, status);
    let sent = ctx.block_on(dbus_notify::send(&ctx.paths.user_bus_address(), &n));
    match sent {
        Ok(Sent::Shown(id)) => {
            crate::outln!("{name}: {}: notified (id {id})", status.state);
            return;
        }
        Ok(Sent::NoServer) => {}
        Err(e) => notice(&format!("warning: the notification server failed: {e}")),
    }
    let message = tmux_message(&n);
    let mut shown = 0;
    for other in session_dirs(sessions) {
        let dir = sessions.join(&other);
        if other == name || agent_status::clients(&dir) == 0 {
            continue;
        }
        let Some(socket) = tmux::attachable_socket(&dir) else {
            continue;
        };
        for client in tmux::clients(&socket) {
            if tmux::display_with_bell(&socket, &client, &message, TMUX_MESSAGE_MS) {
                shown += 1;
            }
        }
    }
    crate::outln!(
        "{name}: {}: no notification server; shown in {shown} tmux client{} of other sessions",
        status.state,
        if shown == 1 { "" } else { "s" }
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn st(state: &str, since: u64) -> AgentRecord {
        AgentRecord {
            state: state.to_owned(),
            since,
            updated: since,
            event: String::new(),
            message: None,
        }
    }

    fn config() -> NotifyConfig {
        Config::defaults().notify
    }

    /// Feeds `steps` to session `name` of `t`, one observation each:
    /// `(state, since, clients attached, the decision expected)`.
    fn observe_all(
        t: &mut Tracker,
        name: &str,
        c: &NotifyConfig,
        steps: &[(&str, u64, u32, Option<Decision>)],
    ) {
        for (state, since, clients, want) in steps {
            assert_eq!(
                t.observe(name, &st(state, *since), *clients, c),
                *want,
                "{name}: {state} since {since}, {clients} clients"
            );
        }
    }

    const NOTIFY: Option<Decision> = Some(Decision::Notify);
    const ATTACHED: Option<Decision> = Some(Decision::Attached);

    #[test]
    fn one_decision_per_transition() {
        let mut t = Tracker::default();
        let c = config();
        t.baseline("s", &st("idle", 1), 0);
        observe_all(
            &mut t,
            "s",
            &c,
            &[
                ("idle", 1, 0, None),
                ("busy", 2, 0, None),
                // A heartbeat: same state, same since.
                ("busy", 2, 0, None),
                ("waiting", 3, 0, NOTIFY),
                ("waiting", 3, 0, None),
                ("busy", 4, 0, None),
                ("done", 5, 0, NOTIFY),
                // A turn missed in between: done again, since later.
                ("done", 9, 0, NOTIFY),
                ("exited", 10, 0, None),
            ],
        );
        // A new session (no baseline) notifies on its first done.
        observe_all(&mut t, "new", &c, &[("done", 1, 0, NOTIFY)]);
    }

    #[test]
    fn silent_while_the_prompting_client_is_attached() {
        let mut t = Tracker::default();
        let c = config();
        t.baseline("s", &st("idle", 1), 1);
        observe_all(
            &mut t,
            "s",
            &c,
            &[
                ("busy", 2, 1, None),
                ("waiting", 3, 1, ATTACHED),
                // The answer keeps the turn the client's.
                ("busy", 4, 1, None),
                ("done", 5, 1, ATTACHED),
                // Detached during the turn: notified.
                ("busy", 6, 1, None),
                ("done", 7, 0, NOTIFY),
                // Attached only after the prompt: notified.
                ("busy", 8, 0, None),
                ("done", 9, 1, NOTIFY),
            ],
        );
        // A turn whose busy was never read (busy and done written before
        // the notifier read the file) is the turn of the clients there now.
        let mut t = Tracker::default();
        t.baseline("s", &st("idle", 1), 0);
        observe_all(
            &mut t,
            "s",
            &c,
            &[("done", 3, 1, ATTACHED), ("done", 5, 0, NOTIFY)],
        );
    }

    #[test]
    fn configuration_decides_which_states_notify() {
        let mut t = Tracker::default();
        let mut c = config();
        c.on = vec!["Exited".to_owned()];
        observe_all(
            &mut t,
            "s",
            &c,
            &[("done", 1, 0, None), ("exited", 2, 0, NOTIFY)],
        );
        c.enabled = false;
        observe_all(&mut t, "s", &c, &[("exited", 3, 0, None)]);
    }

    #[test]
    fn notification_names_session_project_and_message() {
        let mut s = st("waiting", 1);
        s.message = Some("Claude needs your permission to use Bash".to_owned());
        let n = notification("web-1a2b", "web", &s);
        assert_eq!(n.summary, "ccy: web-1a2b is waiting for you");
        assert_eq!(n.body, "web: Claude needs your permission to use Bash");
        assert!(n.critical);
        let n = notification("web-1a2b", "web", &st("done", 2));
        assert_eq!(n.summary, "ccy: web-1a2b is done");
        assert_eq!(n.body, "web");
        assert_eq!(tmux_message(&n), "ccy: web-1a2b is done (web)");
    }
}
