//! The fleet's rows: one session of any host as `ccy list` (its table,
//! also with `--all-hosts`) and `ccy ui` show it. A session of this
//! machine is first an [`Entry`] (the documented `--json` object, built
//! from [`SessionInfo`]); another host sends its entries as JSON. Both
//! become one [`Row`], the only model the tables and the UI draw.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::contract::{AGENT_FILE, STATUS_FILE};
use crate::ctx::Ctx;
use crate::error::{Context, Error, ExitKind, Result};
use crate::host::podman::AttachMode;
use crate::host::ssh::{self, Answer};
use crate::host::tmux;
use crate::host::watch::Watcher;
use crate::session::find::{self, AgentState, SessionInfo, State};
use crate::session::remote::{self, LOCAL, RemoteHost};
use crate::session::safety::Checker;
use crate::session::{Host, attach, remove, start, stop};
use crate::ui;

/// One session as `ccy list` shows it; its serialisation is the documented
/// `--json` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The session name.
    pub name: String,
    /// Its state.
    pub state: State,
    /// The project.
    pub project: String,
    /// The branch at creation.
    pub branch: String,
    /// The worktree, absolute.
    pub worktree: String,
    /// Creation time, RFC 3339.
    pub created: Option<String>,
    /// Last tmux activity, seconds since the Unix epoch (RFC 3339 in JSON).
    #[serde(serialize_with = "epoch_as_rfc3339")]
    pub last_active: Option<u64>,
    /// Attached tmux clients.
    pub clients: u32,
    /// The systemd unit, `NAME.service`.
    pub unit: String,
    /// The Quadlet `.container` file.
    pub unit_file: Option<PathBuf>,
    /// The full container id, when there is a container.
    pub container_id: Option<String>,
    /// The image.
    pub image: Option<String>,
    /// The size of the kept layer, bytes; `None` for a session that keeps
    /// no layer (made before ccy kept layers).
    pub kept_layer_bytes: Option<u64>,
    /// What the agent does.
    pub agent_state: AgentState,
    /// When that began, seconds since the Unix epoch (RFC 3339 in JSON).
    #[serde(serialize_with = "epoch_as_rfc3339")]
    pub agent_since: Option<u64>,
    /// Where the agent state came from: `hook` or `pane`.
    pub agent_source: Option<&'static str>,
    /// The agent's last message.
    pub agent_message: Option<String>,
}

#[expect(
    clippy::ref_option,
    reason = "serde's serialize_with passes a reference to the field"
)]
fn epoch_as_rfc3339<S: Serializer>(t: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&ui::rfc3339(*t)),
        None => s.serialize_none(),
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl Entry {
    /// What `ccy list` shows of `info` at `now` (seconds since the Unix
    /// epoch).
    #[must_use]
    pub fn from_info(info: &SessionInfo, now: u64) -> Self {
        let agent = info.agent(now);
        Self {
            name: info.name.to_string(),
            state: info.state(),
            project: info.project(),
            branch: info.branch(),
            worktree: info.worktree(),
            created: non_empty(info.created()),
            last_active: info.last_active(),
            clients: info.clients(),
            unit: info.name.service_unit(),
            unit_file: info.file.clone(),
            container_id: info
                .container
                .as_ref()
                .and_then(|c| non_empty(c.id.clone())),
            image: non_empty(info.image()),
            kept_layer_bytes: info.kept_layer_bytes,
            agent_state: agent.state,
            agent_since: agent.since,
            agent_source: agent.source,
            agent_message: agent.message,
        }
    }
}

/// One session as the tables and `ccy ui` show it, from any host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The host (`local` for this machine, else its name in `[hosts]`);
    /// `None` in `ccy list` without `--all-hosts`.
    pub host: Option<String>,
    /// The session name.
    pub name: String,
    /// Its state's word (`running`, `stopped`, …; a newer ccy on another
    /// host may send words this one does not know).
    pub state: String,
    /// The agent's state word; `None` from a ccy too old to send it.
    pub agent: Option<String>,
    /// When the agent's state began, seconds since the Unix epoch.
    pub agent_since: Option<u64>,
    /// The agent's last message (what a permission prompt asks).
    pub agent_message: Option<String>,
    /// The project.
    pub project: String,
    /// The branch at creation.
    pub branch: String,
    /// The worktree, absolute.
    pub worktree: String,
    /// Creation time, seconds since the Unix epoch.
    pub created: Option<u64>,
    /// Last tmux activity, seconds since the Unix epoch.
    pub last_active: Option<u64>,
    /// Attached tmux clients.
    pub clients: u32,
}

impl Row {
    /// The row of this machine's `entry`, on `host` when given.
    #[must_use]
    pub fn from_entry(host: Option<&str>, e: &Entry) -> Self {
        Self {
            host: host.map(str::to_owned),
            name: e.name.clone(),
            state: e.state.as_str().to_owned(),
            agent: Some(e.agent_state.as_str().to_owned()),
            agent_since: e.agent_since,
            agent_message: e.agent_message.clone(),
            project: e.project.clone(),
            branch: e.branch.clone(),
            worktree: e.worktree.clone(),
            created: e.created.as_deref().and_then(ui::parse_rfc3339),
            last_active: e.last_active,
            clients: e.clients,
        }
    }

    /// The row of one object of `ccy list --json` as `host` sent it;
    /// missing or mistyped fields are empty (an older ccy there).
    #[must_use]
    pub fn from_json(host: &str, r: &serde_json::Map<String, serde_json::Value>) -> Self {
        let text = |k: &str| {
            r.get(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let time = |k: &str| {
            r.get(k)
                .and_then(serde_json::Value::as_str)
                .and_then(ui::parse_rfc3339)
        };
        let agent = text("agent_state");
        Self {
            host: Some(host.to_owned()),
            name: text("name"),
            state: text("state"),
            agent: (!agent.is_empty()).then_some(agent),
            agent_since: time("agent_since"),
            agent_message: r
                .get("agent_message")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            project: text("project"),
            branch: text("branch"),
            worktree: text("worktree"),
            created: time("created"),
            last_active: time("last_active"),
            clients: r
                .get("clients")
                .and_then(serde_json::Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
        }
    }

    /// The colour of the state: green running, red failed, else yellow.
    #[must_use]
    pub fn state_style(&self) -> anstyle::Style {
        match self.state.as_str() {
            "running" => ui::GOOD,
            "failed" => ui::BAD,
            _ => ui::WARN,
        }
    }

    /// Whether the session runs (or is on its way up or down): `stop`
    /// has something to do.
    #[must_use]
    pub fn is_up(&self) -> bool {
        matches!(self.state.as_str(), "running" | "starting" | "stopping")
    }

    /// The agent column without colour: the state and how long it has
    /// held at `now` (`busy 3m`); `-` when the host did not say.
    #[must_use]
    pub fn agent_text(&self, now: u64) -> String {
        match (&self.agent, self.agent_since) {
            (None, _) => "-".to_owned(),
            (Some(w), Some(t)) => format!("{w} {}", ui::span(now.saturating_sub(t))),
            (Some(w), None) => w.clone(),
        }
    }

    /// The colour of the agent's state word ([`AgentState::style`]).
    #[must_use]
    pub fn agent_style(&self) -> anstyle::Style {
        agent_word(self.agent.as_deref().unwrap_or(""))
            .map_or_else(anstyle::Style::new, AgentState::style)
    }
}

/// The agent state a word of `ccy list --json` names.
fn agent_word(word: &str) -> Option<AgentState> {
    AgentState::from_hook(word).or(match word {
        "stopped" => Some(AgentState::Stopped),
        "unknown" => Some(AgentState::Unknown),
        _ => None,
    })
}

/// The selected session's pane as `ccy ui` previews it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preview {
    /// Nothing selected.
    Empty,
    /// The pane's text with its colour escape sequences
    /// (`tmux capture-pane -p -e`).
    Pane(String),
    /// The session does not run.
    NotRunning,
    /// A session of another host.
    Remote,
    /// The session's tmux could not be asked.
    Unavailable,
}

/// What a batch of inotify events changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changed {
    /// Sessions, units or containers came, went, started or stopped:
    /// list everything again ([`Local::refresh`]).
    pub all: bool,
    /// Sessions whose status or agent files changed (already re-read).
    pub sessions: Vec<String>,
}

/// This machine's sessions as `ccy ui` keeps them: listed once, then
/// updated from inotify(7) on the state directories (no polling).
pub struct Local<'a> {
    host: Host<'a>,
    watcher: Watcher,
    /// Every session, as [`find::all_sessions`] lists them.
    pub sessions: Vec<SessionInfo>,
}

impl<'a> Local<'a> {
    /// Connects the user manager, watches ccy's directories (the Quadlet
    /// directory, `STATE_DIR/sessions`, each session's state directory and
    /// its tmux socket's directory), then lists the sessions.
    ///
    /// # Errors
    /// No user manager or Podman API; inotify refused.
    pub async fn open(ctx: &'a Ctx) -> Result<Self> {
        let host = Host::connect(ctx).await?;
        let mut watcher = Watcher::new()?;
        let root = ctx.paths.state_dir.join("sessions");
        for dir in [&ctx.paths.quadlet_dir, &root] {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            watcher.watch(dir)?;
        }
        if let Ok(rd) = std::fs::read_dir(&root) {
            for e in rd.flatten() {
                watch_session_dir(&mut watcher, &e.path());
            }
        }
        let mut me = Self {
            host,
            watcher,
            sessions: Vec::new(),
        };
        me.refresh().await?;
        Ok(me)
    }

    /// The connection to the user manager and Podman.
    #[must_use]
    pub fn host(&self) -> &Host<'a> {
        &self.host
    }

    /// The inotify descriptor: readable when [`Local::events`] has
    /// something to read.
    #[must_use]
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.watcher.fd()
    }

    /// Lists every session again.
    ///
    /// # Errors
    /// As [`find::all_sessions`].
    pub async fn refresh(&mut self) -> Result<()> {
        self.sessions = self.host.sessions().await?;
        Ok(())
    }

    /// Reads the waiting inotify events (call when [`Local::fd`] is
    /// readable, or it blocks), watches new session directories, re-reads
    /// the status and agent files that changed and says what else did.
    ///
    /// # Errors
    /// When inotify cannot be read.
    pub fn events(&mut self) -> Result<Changed> {
        let paths = &self.host.ctx.paths;
        let root = paths.state_dir.join("sessions");
        let mut changed = Changed::default();
        for ev in self.watcher.wait()? {
            let name = ev.name.as_deref().and_then(std::ffi::OsStr::to_str);
            if ev.dir == paths.quadlet_dir {
                changed.all |= name.is_some_and(|n| n.ends_with(".container"));
            } else if ev.dir == root {
                if ev.appeared && ev.is_dir {
                    watch_session_dir(&mut self.watcher, &ev.dir.join(name.unwrap_or("")));
                }
                changed.all = true;
            } else if ev.dir.parent() == Some(root.as_path()) {
                let session = ev.dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if let Some(STATUS_FILE | AGENT_FILE) = name {
                    if let Some(info) = self
                        .sessions
                        .iter_mut()
                        .find(|s| s.name.as_str() == session)
                    {
                        find::read_state_dir(paths, info);
                        changed.sessions.push(session.to_owned());
                    }
                } else {
                    // Anything else there comes with a start or a stop
                    // (`ready`, the kept layer's size, the saved panes,
                    // the tmux socket's directory).
                    if ev.appeared
                        && ev.is_dir
                        && let Some(sub) = name
                    {
                        let _ = self.watcher.watch(&ev.dir.join(sub));
                    }
                    changed.all = true;
                }
            } else {
                // A subdirectory of a session's (the tmux socket's, the
                // saved panes'): it starts or stops.
                changed.all = true;
            }
        }
        changed.sessions.sort();
        changed.sessions.dedup();
        Ok(changed)
    }

    /// The rows of this machine's sessions at `now` (host `local`).
    #[must_use]
    pub fn rows(&self, now: u64) -> Vec<Row> {
        self.sessions
            .iter()
            .map(|s| Row::from_entry(Some(LOCAL), &Entry::from_info(s, now)))
            .collect()
    }

    /// Whether a session is on its way up or down (its end shows in no
    /// file: the caller looks again a little later).
    #[must_use]
    pub fn settling(&self) -> bool {
        self.sessions
            .iter()
            .any(|s| matches!(s.state(), State::Starting | State::Stopping))
    }

    /// The session called `name`.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::NotFound`] when it is gone.
    pub fn info(&self, name: &str) -> Result<&SessionInfo> {
        self.sessions
            .iter()
            .find(|s| s.name.as_str() == name)
            .ok_or_else(|| Error::new(ExitKind::NotFound, format!("no session {name} any more")))
    }

    /// The pane of session `name` (through its tmux socket on this
    /// machine, never `podman exec`).
    #[must_use]
    pub fn preview(&self, name: &str) -> Preview {
        let Ok(info) = self.info(name) else {
            return Preview::Empty;
        };
        if info.state() != State::Running {
            return Preview::NotRunning;
        }
        let socket = self
            .host
            .ctx
            .paths
            .session_state_dir(name)
            .join(crate::contract::TMUX_SOCKET);
        tmux::capture_pane(&socket).map_or(Preview::Unavailable, Preview::Pane)
    }

    /// Stops session `name` (as `ccy stop`; `force`: even with clients
    /// attached, which the caller asked about).
    ///
    /// # Errors
    /// As [`stop::stop_one`]; clients attached without `force`; a
    /// container ccy did not make.
    pub async fn stop(&self, name: &str, force: bool) -> Result<()> {
        let info = self.info(name)?;
        stop::refuse_foreign(&[info])?;
        if !force && stop::attached_clients(info) > 0 {
            return Err(Error::new(
                ExitKind::Refused,
                format!("{name} has clients attached"),
            ));
        }
        stop::stop_one(&self.host.mgr, info).await
    }

    /// Toggles the keep label of session `name` (as `ccy keep` and `ccy
    /// keep --off`). Returns whether it is kept now.
    ///
    /// # Errors
    /// As [`crate::session::keep::set_label`]; a session without ccy's
    /// unit file.
    pub async fn toggle_keep(&self, name: &str) -> Result<bool> {
        let info = self.info(name)?;
        stop::refuse_foreign(&[info])?;
        let Some(path) = &info.file else {
            return Err(Error::usage(format!("{name} has no unit file of ccy's")));
        };
        let want = !info.kept();
        if crate::session::keep::set_label(path, want)? {
            self.host.mgr.reload().await?;
        }
        Ok(want)
    }

    /// What removing session `name` would lose ([`Checker::losses`]),
    /// as `rm` lists it when it refuses; empty when nothing.
    ///
    /// # Errors
    /// When git or the Podman API fails.
    pub async fn losses(&self, name: &str) -> Result<Vec<String>> {
        let info = self.info(name)?;
        let losses = Checker::new()
            .losses(self.host.api().await?, info, &self.sessions)
            .await?;
        Ok(remove::loss_lines(&self.host.ctx.paths, info, &losses))
    }

    /// Removes session `name` as `ccy rm` does (its volume kept;
    /// `force`: also when work would be lost, as `rm --force`).
    ///
    /// # Errors
    /// As [`remove::remove_sessions`]; a removal left unfinished.
    pub async fn remove(&self, name: &str, force: bool) -> Result<()> {
        let info = self.info(name)?;
        stop::refuse_foreign(&[info])?;
        let api = self.host.api().await?;
        let mut checker = Checker::new();
        if !force {
            let losses = checker.losses(api, info, &self.sessions).await?;
            if !losses.is_empty() {
                return Err(remove::refusal(
                    &self.host.ctx.paths,
                    &[(info, losses)],
                    "rm",
                ));
            }
        }
        let doomed = [remove::Doomed {
            info,
            volume: remove::VolumeFate::Keep("use 'ccy rm --volumes' to remove it".to_owned()),
            force,
        }];
        let failed = remove::remove_sessions(
            self.host.ctx,
            &self.host.mgr,
            api,
            &self.sessions,
            &doomed,
            &mut checker,
        )
        .await?;
        if failed.is_empty() {
            Ok(())
        } else {
            Err(Error::new(
                ExitKind::Session,
                format!("did not remove {name}"),
            ))
        }
    }

    /// Starts session `name` when it does not run and returns the command
    /// that attaches this terminal to it (the host's tmux client).
    ///
    /// # Errors
    /// As [`start::ensure_running`].
    pub async fn attach_argv(&self, name: &str) -> Result<Vec<OsString>> {
        let info = self.info(name)?;
        let max = self.host.max_running(info)?;
        start::ensure_running(&self.host, info, max).await?;
        Ok(attach::attach_argv(
            &self.host.ctx.paths,
            &info.name,
            AttachMode::default(),
        ))
    }
}

/// Watches a session's state directory and its subdirectories (the tmux
/// socket's, the saved panes': a stop writes there, and tmux leaves its
/// socket behind); a directory that went meanwhile is skipped.
fn watch_session_dir(watcher: &mut Watcher, dir: &Path) {
    if watcher.watch(dir).is_ok() {
        let _ = watcher.watch(&dir.join(SOCKET_DIR));
        let _ = watcher.watch(&dir.join(crate::contract::PANES_DIR));
    }
}

/// The directory of the tmux socket in a session's state directory
/// (the first part of [`crate::contract::TMUX_SOCKET`]).
const SOCKET_DIR: &str = "tmux-0";

/// What ran on another host: its output, or why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOutcome {
    /// Whether ccy there exited 0.
    pub ok: bool,
    /// Its exit status (`None`: no answer, or killed).
    pub status: Option<i32>,
    /// What it printed (standard output, then standard error), or why
    /// there is no answer.
    pub text: String,
}

/// Runs `ccy ARGS` on `host` over ssh (no terminal), waiting `timeout`
/// at most: `ccy ui`'s actions on another host's sessions.
pub async fn run_remote(host: &RemoteHost, args: &[&str], timeout: Duration) -> RemoteOutcome {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    match ssh::capture(&host.target, &remote::command_line(host, &args), timeout).await {
        Answer::Exited {
            status,
            stdout,
            stderr,
        } => RemoteOutcome {
            ok: status == Some(0),
            status,
            text: format!("{stdout}{stderr}"),
        },
        Answer::TimedOut => RemoteOutcome {
            ok: false,
            status: None,
            text: format!("no answer within {} s", timeout.as_secs_f64()),
        },
        Answer::NoSsh(e) => RemoteOutcome {
            ok: false,
            status: None,
            text: format!("cannot run ssh: {e}"),
        },
    }
}

/// The command that attaches this terminal to session `name` on `host`:
/// `ssh -t` running `ccy attach NAME` there.
#[must_use]
pub fn remote_attach_argv(host: &RemoteHost, name: &str) -> Vec<OsString> {
    ssh::argv(
        &host.target,
        &remote::command_line(host, &["attach".to_owned(), name.to_owned()]),
        true,
        None,
        ssh::sharing_blocking(&host.target),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_row_from_an_older_host_has_no_agent() {
        let serde_json::Value::Object(m) = serde_json::json!({
            "name": "ccy-x-00000000", "state": "running", "project": "x",
            "branch": "main", "worktree": "/w", "created": "2026-11-20T05:00:00Z",
            "last_active": null, "clients": 2
        }) else {
            unreachable!()
        };
        let r = Row::from_json("lab1", &m);
        assert_eq!(r.host.as_deref(), Some("lab1"));
        assert_eq!(r.agent_text(1_795_237_200), "-");
        assert_eq!(r.created, Some(1_795_237_200 - 86400));
        assert_eq!((r.clients, r.last_active, r.is_up()), (2, None, true));
        let mut m = m;
        m.insert("agent_state".into(), "busy".into());
        m.insert("agent_since".into(), "2026-11-21T04:57:00Z".into());
        let r = Row::from_json("lab1", &m);
        assert_eq!(r.agent_text(1_795_237_200), "busy 3m");
        assert_eq!(r.agent_style(), crate::ui::GOOD);
    }
}
