//! `ccy status [NAME]`: everything ccy knows about one session.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::host::git::Worktree;
use crate::host::podman::ContainerStats;
use crate::host::systemd::details::UnitDetails;
use crate::paths::display_home;
use crate::session::Host;
use crate::session::find::{self, AgentState, SessionInfo, State};
use crate::ui;

/// Show one session: state, uptime, unit, container, clients, resources
///
/// NAME is the session's name, its name without `ccy-`, a unique prefix of
/// either, or its 8-hex id (4+ digits suffice). Without NAME: the session of the git worktree
/// you are in; when it has several, ccy asks which on a terminal and
/// otherwise lists them and fails.
///
/// Shows the state (and the unit's own state), uptime (since the container
/// started, or since the unit became active), project, branch at creation,
/// worktree, creation time, image, the size of its kept layer (what it
/// wrote outside its volumes, kept across stops), the systemd unit, its Quadlet file and
/// the service Quadlet generated from it, the container id, attached tmux
/// clients, the last activity tmux reported, what the agent does (busy,
/// waiting for you, done, idle: from its own hooks, or from the pane's
/// output for an agent without them) and, while it runs, memory and
/// CPU use from the Podman API (one sample, like `podman stats
/// --no-stream`). Memory reads as unknown when the memory controller is not
/// delegated to your user manager (`ccy doctor` says).
///
/// `--json` prints one JSON object with these fields, which stay stable:
///   name, state, project, branch, worktree, image, unit
///                       strings, as in `ccy list --json`
///   unit_active_state   string, systemd's ActiveState (`active`,
///                       `failed`, …)
///   unit_sub_state      string, systemd's SubState (`running`, `dead`,
///                       …)
///   unit_file           string, the Quadlet `.container` file, or null
///   generated_unit      string, the unit file systemd loaded (Quadlet's
///                       output), or null when the unit is not loaded
///   container_id        string, or null when there is no container
///   created             string, RFC 3339, or null
///   started             string, RFC 3339: when the container started (or
///                       the unit became active); null when not running
///   uptime_seconds      number, or null when not running
///   clients             number, attached tmux clients
///   last_active         string, RFC 3339, or null when unknown
///   agent_state         string: "idle", "busy", "waiting", "done",
///                       "exited" (from the agent's hooks), "busy" or
///                       "idle" (from the pane), "stopped" or "unknown"
///   agent_since         string, RFC 3339: when the agent state began,
///                       or null when unknown
///   agent_source        "hook", "pane" (an agent without ccy's hooks:
///                       the pane's output) or null
///   agent_event         string, the hook event that set the state, or
///                       null
///   agent_message       string, the agent's last message, or null
///   memory_bytes        number, or null when not running or unknown
///   memory_limit_bytes  number, or null when not running
///   cpu_percent         number, percent of one CPU averaged since the
///                       container started, or null when not running
///   cpu_seconds         number, CPU time used, or null when not running
///   pids                number, or null when not running or unknown
///   kept_layer_bytes    number, the size in bytes of the session's kept
///                       layer (what its containers wrote outside the
///                       volumes, kept across stops; 0: none), or null
///                       for a session made before ccy kept layers
///   warnings            array of strings: what deserves a look (a mount
///                       of / or of your home directory; panes that could
///                       not be saved when it last stopped); empty when
///                       none
///
/// Exit status: 0 on success; 5 when no session matches NAME or the
/// worktree has none; 2 when NAME matches several sessions, or the
/// worktree has several and no terminal to ask on; 6 when you chose
/// none; 3 outside a git worktree without NAME, or when your user manager
/// or Podman cannot be reached; 1 on any other failure.
// The doc comment is the `--help` text: field names read better bare.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct StatusArgs {
    /// The session (name, name without `ccy-`, unique prefix or 8-hex id (4+ digits suffice));
    /// default: the current worktree's session.
    pub name: Option<String>,

    /// Print a JSON object instead of text (its fields are listed in `--help`).
    #[arg(long)]
    pub json: bool,
}

/// Shows the status of one session.
///
/// # Errors
/// See the exit status in [`StatusArgs`]' help.
pub fn run(ctx: &Ctx, args: &StatusArgs) -> Result<()> {
    let status = ctx.block_on(gather(ctx, args.name.as_deref()))?;
    if args.json {
        let mut text = serde_json::to_string_pretty(&status).unwrap_or_else(|_| "{}".into());
        text.push('\n');
        ui::print(&text);
    } else {
        ui::print(&render(&status, find::now_epoch(), &ctx.paths.home));
    }
    Ok(())
}

async fn gather(ctx: &Ctx, query: Option<&str>) -> Result<Status> {
    let host = Host::connect(ctx).await?;
    let (mgr, api) = (&host.mgr, host.api().await?);
    let sessions = host.sessions().await?;
    let info = match query {
        Some(q) => find::resolve(&sessions, q)?,
        None => current(ctx, &sessions)?,
    };
    let unit = info.name.service_unit();
    let running = info
        .container
        .as_ref()
        .filter(|c| c.is_running())
        .map(|c| c.id.clone());
    let stats = async {
        match &running {
            Some(id) => Some(api.stats(id).await),
            None => None,
        }
    };
    let (details, stats) = tokio::join!(mgr.unit_details(&unit), stats);
    // A container that stopped between the list and the sample has no stats:
    // show the rest rather than fail.
    let stats = stats.and_then(Result::ok);
    let mut report = Status::new(info, &details?, stats);
    report.warnings = warnings(ctx, info);
    Ok(report)
}

/// What `ccy status` points out about `info`: mounts of `/` or the home
/// directory (allowed, but the session then reaches everything there),
/// and panes that could not be saved when it last stopped.
fn warnings(ctx: &Ctx, info: &SessionInfo) -> Vec<String> {
    let mut out: Vec<String> = info
        .meta
        .as_ref()
        .and_then(|m| m.options.as_ref())
        .map(|o| {
            crate::session::options::broad_mounts(&o.mounts, &ctx.paths.home)
                .into_iter()
                .map(|m| format!("mounts {m}"))
                .collect()
        })
        .unwrap_or_default();
    if crate::session::start::panes_save_failed(&ctx.paths, &info.name) {
        out.push(format!(
            "the panes could not be saved when it last stopped (a full disk? see 'journalctl --user -u {}'); earlier saves are kept in {}",
            info.name.service_unit(),
            display_home(
                &crate::session::start::panes_dir(&ctx.paths, &info.name),
                &ctx.paths.home
            )
        ));
    }
    out
}

/// The session of the current worktree (asking when there are several).
fn current<'a>(ctx: &Ctx, sessions: &'a [SessionInfo]) -> Result<&'a SessionInfo> {
    let worktree = Worktree::discover(&ctx.cwd).map_err(|e| {
        Error::environment(e.message().to_owned())
            .hint("name a session: 'ccy status NAME' ('ccy list' shows them)")
    })?;
    let mine = find::select(sessions, &[], Some(&worktree))?;
    match mine.as_slice() {
        [one] => Ok(one),
        many => {
            let names: Vec<String> = many.iter().map(|s| s.name.to_string()).collect();
            if ui::can_prompt() {
                let i = ui::choose("this worktree has several sessions; which one?", &names)?;
                Ok(many[i])
            } else {
                Err(Error::usage(format!(
                    "this worktree has {} sessions: {}",
                    many.len(),
                    names.join(", ")
                ))
                .hint("name one: 'ccy status NAME'"))
            }
        }
    }
}

/// Everything `ccy status` shows; its serialisation is the documented
/// `--json` object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// The session name.
    pub name: String,
    /// ccy's view of its state.
    pub state: State,
    /// systemd's `ActiveState`.
    pub unit_active_state: String,
    /// systemd's `SubState`.
    pub unit_sub_state: String,
    /// The project.
    pub project: String,
    /// The branch at creation.
    pub branch: String,
    /// The worktree, absolute.
    pub worktree: String,
    /// The image.
    pub image: String,
    /// The unit, `NAME.service`.
    pub unit: String,
    /// The Quadlet `.container` file.
    pub unit_file: Option<PathBuf>,
    /// The unit file systemd loaded (Quadlet's output).
    pub generated_unit: Option<String>,
    /// The full container id.
    pub container_id: Option<String>,
    /// Creation time, RFC 3339.
    pub created: Option<String>,
    /// When the container started (or the unit became active), RFC 3339.
    pub started: Option<String>,
    /// Seconds since `started`.
    pub uptime_seconds: Option<u64>,
    /// Attached tmux clients.
    pub clients: u32,
    /// Last tmux activity, RFC 3339.
    pub last_active: Option<String>,
    /// What the agent does.
    pub agent_state: AgentState,
    /// When that began, RFC 3339.
    pub agent_since: Option<String>,
    /// Where the agent state came from: `hook` or `pane`.
    pub agent_source: Option<&'static str>,
    /// The hook event that set the agent state.
    pub agent_event: Option<String>,
    /// The agent's last message.
    pub agent_message: Option<String>,
    /// Memory in use, bytes.
    pub memory_bytes: Option<u64>,
    /// Memory limit, bytes.
    pub memory_limit_bytes: Option<u64>,
    /// CPU use, percent of one CPU, average since start.
    pub cpu_percent: Option<f64>,
    /// CPU time used, seconds.
    pub cpu_seconds: Option<f64>,
    /// Processes and threads.
    pub pids: Option<u64>,
    /// The size of the kept layer, bytes; `None` for a session that keeps
    /// no layer.
    pub kept_layer_bytes: Option<u64>,
    /// What deserves a look (broad mounts, a failed save of the panes).
    pub warnings: Vec<String>,
    /// Seconds since the epoch behind `started` (for the text view).
    #[serde(skip)]
    started_epoch: Option<u64>,
    /// Seconds since the epoch behind `last_active` (for the text view).
    #[serde(skip)]
    last_active_epoch: Option<u64>,
    /// Seconds since the epoch behind `agent_since` (for the text view).
    #[serde(skip)]
    agent_since_epoch: Option<u64>,
}

impl Status {
    /// Combines the inventory's view of a session with its unit's
    /// properties and, when running, one resource sample, at the current
    /// time.
    #[must_use]
    pub fn new(info: &SessionInfo, unit: &UnitDetails, stats: Option<ContainerStats>) -> Self {
        Self::at(info, unit, stats, find::now_epoch())
    }

    /// [`Status::new`] at time `now` (seconds since the Unix epoch).
    #[must_use]
    pub fn at(
        info: &SessionInfo,
        unit: &UnitDetails,
        sample: Option<ContainerStats>,
        now: u64,
    ) -> Self {
        let state = info.state();
        let container = info.container.as_ref();
        let started_epoch = match state {
            State::Running | State::Stopping => {
                container.and_then(|c| c.started_at).or_else(|| {
                    (unit.active_enter_usec > 0).then_some(unit.active_enter_usec / 1_000_000)
                })
            }
            _ => None,
        };
        let non_empty = |s: String| (!s.is_empty()).then_some(s);
        let last_active_epoch = info.last_active();
        let agent = info.agent(now);
        Self {
            name: info.name.to_string(),
            state,
            unit_active_state: unit.active_state.to_string(),
            unit_sub_state: unit.sub_state.clone(),
            project: info.project(),
            branch: info.branch(),
            worktree: info.worktree(),
            image: info.image(),
            unit: info.name.service_unit(),
            unit_file: info.file.clone(),
            generated_unit: non_empty(unit.fragment_path.clone()),
            container_id: container.and_then(|c| non_empty(c.id.clone())),
            created: non_empty(info.created()),
            started: started_epoch.map(ui::rfc3339),
            uptime_seconds: started_epoch.map(|t| now.saturating_sub(t)),
            clients: info.clients(),
            last_active: last_active_epoch.map(ui::rfc3339),
            agent_state: agent.state,
            agent_since: agent.since.map(ui::rfc3339),
            agent_source: agent.source,
            agent_event: agent.event,
            agent_message: agent.message,
            // A running container always uses some memory and has a
            // process: 0 means the controller is not delegated.
            memory_bytes: sample.map(|s| s.mem_usage).filter(|m| *m > 0),
            memory_limit_bytes: sample.map(|s| s.mem_limit),
            cpu_percent: sample.map(|s| s.cpu_percent),
            #[expect(
                clippy::cast_precision_loss,
                reason = "CPU seconds are shown with one decimal"
            )]
            cpu_seconds: sample.map(|s| s.cpu_nanos as f64 / 1e9),
            pids: sample.map(|s| s.pids).filter(|p| *p > 0),
            // Recorded by the session's last stop, read with its state
            // directory.
            kept_layer_bytes: info.kept_layer_bytes,
            warnings: Vec::new(),
            started_epoch,
            last_active_epoch,
            agent_since_epoch: agent.since,
        }
    }
}

/// The agent row: state, how long, and where it came from.
fn agent_text(s: &Status, now: u64) -> String {
    let word = ui::paint(s.agent_state.style(), s.agent_state.as_str());
    let mut out = match s.agent_since_epoch {
        Some(t) => format!("{word} for {}", ui::duration(now.saturating_sub(t))),
        None => word,
    };
    match (s.agent_source, &s.agent_event) {
        (Some(src), Some(ev)) => write!(out, " (from its {src}: {ev})").ok(),
        (Some("pane"), None) => {
            write!(out, " (from the pane's output: the agent has no ccy hooks)").ok()
        }
        (Some(src), None) => write!(out, " (from its {src})").ok(),
        (None, _) => None,
    };
    out
}

/// The text view of `s` at `now`, paths under `home` shown with `~`.
#[must_use]
pub fn render(s: &Status, now: u64, home: &Path) -> String {
    let dash = || "-".to_owned();
    let path = |p: &Path| display_home(p, home);
    let mut rows: Vec<(&str, String)> = vec![
        ("name", s.name.clone()),
        (
            "state",
            format!(
                "{} (unit {}, {})",
                ui::paint(s.state.style(), s.state.as_str()),
                s.unit_active_state,
                s.unit_sub_state
            ),
        ),
        (
            "uptime",
            match (s.uptime_seconds, &s.started) {
                (Some(up), Some(since)) => format!("{} (since {since})", ui::duration(up)),
                _ => dash(),
            },
        ),
        ("project", s.project.clone()),
        ("branch", s.branch.clone()),
        ("worktree", path(Path::new(&s.worktree))),
        (
            "created",
            s.created
                .as_ref()
                .map_or_else(dash, |c| match ui::parse_rfc3339(c) {
                    Some(t) => format!("{c} ({})", ui::ago(now, t)),
                    None => c.clone(),
                }),
        ),
        ("image", s.image.clone()),
        (
            "kept layer",
            match s.kept_layer_bytes {
                None => "- (made before ccy kept layers: changes outside the volumes go at a stop)"
                    .to_owned(),
                Some(0) => "none (nothing written outside the volumes)".to_owned(),
                Some(b) => format!(
                    "{} (what it wrote outside the volumes; 'ccy attach --fresh' drops it)",
                    ui::bytes(b)
                ),
            },
        ),
        ("unit", s.unit.clone()),
        ("unit file", s.unit_file.as_deref().map_or_else(dash, path)),
        (
            "generated",
            s.generated_unit
                .as_deref()
                .map_or_else(dash, |p| path(Path::new(p))),
        ),
        ("container", s.container_id.clone().unwrap_or_else(dash)),
        ("clients", s.clients.to_string()),
        (
            "last active",
            s.last_active_epoch.map_or_else(dash, |t| ui::ago(now, t)),
        ),
        ("agent", agent_text(s, now)),
    ];
    if let Some(m) = &s.agent_message {
        rows.push(("agent says", m.clone()));
    }
    if let Some(limit) = s.memory_limit_bytes {
        rows.push((
            "memory",
            match s.memory_bytes {
                Some(m) => format!("{} of {}", ui::bytes(m), ui::bytes(limit)),
                None => "unknown (the memory controller is not delegated to your user manager; see 'ccy doctor')".to_owned(),
            },
        ));
    }
    if let (Some(pct), Some(secs)) = (s.cpu_percent, s.cpu_seconds) {
        rows.push((
            "cpu",
            format!("{pct:.1}% of one CPU on average since start, {secs:.1} s in total"),
        ));
    }
    if s.cpu_percent.is_some() {
        rows.push((
            "processes",
            s.pids
                .map_or_else(|| "unknown".to_owned(), |p| p.to_string()),
        ));
    }
    for w in &s.warnings {
        rows.push(("warning", ui::paint(ui::WARN, w)));
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
    let mut out = String::new();
    for (k, v) in rows {
        writeln!(out, "{:<width$}{v}", format!("{k}:")).ok();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use super::*;
    use crate::host::podman::ContainerInfo;
    use crate::host::systemd::UnitState;
    use crate::names::SessionName;
    use crate::quadlet::spec::{SessionMeta, example_meta};
    use crate::session::find::{AgentRecord, TmuxStatus};

    const NOW: u64 = 1_795_237_200; // 2026-11-21T05:00:00Z

    fn info(active: &str, container: bool) -> SessionInfo {
        let name = "ccy-app-0123abcd";
        SessionInfo {
            name: SessionName::parse(name).unwrap(),
            meta: Some(SessionMeta {
                worktree: "/home/dev/src/app".into(),
                created: "2026-11-20T05:00:00Z".into(),
                ..example_meta(name)
            }),
            file: Some(format!("/home/dev/.config/containers/systemd/{name}.container").into()),
            container: container.then(|| ContainerInfo {
                id: "0123456789abcdef".repeat(4),
                name: name.into(),
                state: "running".into(),
                labels: BTreeMap::new(),
                image: "localhost/ccy:latest".into(),
                started_at: Some(NOW - 2 * 3600 - 13 * 60),
            }),
            unit: Some(UnitState::example(
                &format!("{name}.service"),
                "loaded",
                active,
            )),
            tmux: Some(TmuxStatus {
                activity: NOW - 12,
                output: NOW - 30,
                client_activity: 0,
                clients: 1,
                updated: NOW - 2,
                pane_busy: None,
            }),
            agent: None,
            kept_layer_bytes: None,
        }
    }

    fn unit(active: &str, sub: &str) -> UnitDetails {
        UnitDetails {
            load_state: "loaded".into(),
            active_state: active.into(),
            sub_state: sub.into(),
            active_enter_usec: (NOW - 3 * 3600) * 1_000_000,
            fragment_path: "/run/user/1000/systemd/generator/ccy-app-0123abcd.service".into(),
            source_path: "/home/dev/.config/containers/systemd/ccy-app-0123abcd.container".into(),
        }
    }

    fn stats(mem: u64) -> ContainerStats {
        ContainerStats {
            mem_usage: mem,
            mem_limit: 16_642_998_272,
            cpu_percent: 0.42,
            cpu_nanos: 3_300_000_000,
            pids: if mem > 0 { 7 } else { 0 },
        }
    }

    /// The status of the session of [`info`] with its unit `active`
    /// (`sub`), a container when `container`, and `stats`.
    fn status(active: &str, sub: &str, container: bool, stats: Option<ContainerStats>) -> Status {
        Status::at(&info(active, container), &unit(active, sub), stats, NOW)
    }

    #[test]
    fn running_session_text() {
        let mut i = info("active", true);
        i.agent = Some(AgentRecord {
            state: "waiting".into(),
            since: NOW - 95,
            updated: NOW - 95,
            event: "Notification".into(),
            message: Some("Claude needs your permission to use Bash".into()),
        });
        let s = Status::at(&i, &unit("active", "running"), Some(stats(47_395_635)), NOW);
        let text = render(&s, NOW, Path::new("/home/dev"));
        insta::assert_snapshot!(anstream::adapter::strip_str(&text).to_string(), @"
        name:        ccy-app-0123abcd
        state:       running (unit active, running)
        uptime:      2h 13m (since 2026-11-21T02:47:00Z)
        project:     app
        branch:      main
        worktree:    ~/src/app
        created:     2026-11-20T05:00:00Z (1d ago)
        image:       localhost/ccy:latest
        kept layer:  - (made before ccy kept layers: changes outside the volumes go at a stop)
        unit:        ccy-app-0123abcd.service
        unit file:   ~/.config/containers/systemd/ccy-app-0123abcd.container
        generated:   /run/user/1000/systemd/generator/ccy-app-0123abcd.service
        container:   0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        clients:     1
        last active: 12s ago
        agent:       waiting for 1m 35s (from its hook: Notification)
        agent says:  Claude needs your permission to use Bash
        memory:      45.2 MiB of 15.5 GiB
        cpu:         0.4% of one CPU on average since start, 3.3 s in total
        processes:   7
        ");
    }

    #[test]
    fn memory_unknown_without_the_controller() {
        let s = status("active", "running", true, Some(stats(0)));
        assert_eq!(s.memory_bytes, None);
        assert_eq!(s.pids, None);
        assert_eq!(s.memory_limit_bytes, Some(16_642_998_272));
        let text = render(&s, NOW, Path::new("/home/dev"));
        assert!(
            text.contains("memory:      unknown (the memory controller is not delegated"),
            "{text}"
        );
        assert!(text.contains("cpu:         0.4% of one CPU"), "{text}");
        // No hook record: the pane's output, said so.
        assert_eq!(s.agent_state, AgentState::Idle);
        assert_eq!(s.agent_source, Some("pane"));
        assert!(
            text.contains(
                "agent:       idle for 30s (from the pane's output: the agent has no ccy hooks)"
            ),
            "{text}"
        );
    }

    #[test]
    fn stopped_session_text_and_json() {
        let s = status("inactive", "dead", false, None);
        let text = render(&s, NOW, Path::new("/home/dev"));
        insta::assert_snapshot!(anstream::adapter::strip_str(&text).to_string(), @"
        name:        ccy-app-0123abcd
        state:       stopped (unit inactive, dead)
        uptime:      -
        project:     app
        branch:      main
        worktree:    ~/src/app
        created:     2026-11-20T05:00:00Z (1d ago)
        image:       localhost/ccy:latest
        kept layer:  - (made before ccy kept layers: changes outside the volumes go at a stop)
        unit:        ccy-app-0123abcd.service
        unit file:   ~/.config/containers/systemd/ccy-app-0123abcd.container
        generated:   /run/user/1000/systemd/generator/ccy-app-0123abcd.service
        container:   -
        clients:     0
        last active: 12s ago
        agent:       stopped
        ");
        insta::assert_snapshot!(serde_json::to_string_pretty(&s).unwrap(), @r#"
        {
          "name": "ccy-app-0123abcd",
          "state": "stopped",
          "unit_active_state": "inactive",
          "unit_sub_state": "dead",
          "project": "app",
          "branch": "main",
          "worktree": "/home/dev/src/app",
          "image": "localhost/ccy:latest",
          "unit": "ccy-app-0123abcd.service",
          "unit_file": "/home/dev/.config/containers/systemd/ccy-app-0123abcd.container",
          "generated_unit": "/run/user/1000/systemd/generator/ccy-app-0123abcd.service",
          "container_id": null,
          "created": "2026-11-20T05:00:00Z",
          "started": null,
          "uptime_seconds": null,
          "clients": 0,
          "last_active": "2026-11-21T04:59:48Z",
          "agent_state": "stopped",
          "agent_since": null,
          "agent_source": null,
          "agent_event": null,
          "agent_message": null,
          "memory_bytes": null,
          "memory_limit_bytes": null,
          "cpu_percent": null,
          "cpu_seconds": null,
          "pids": null,
          "kept_layer_bytes": null,
          "warnings": []
        }
        "#);
    }

    #[test]
    fn uptime_falls_back_to_the_unit() {
        let s = status("active", "running", false, None);
        assert_eq!(s.state, State::Running);
        assert_eq!(s.uptime_seconds, Some(3 * 3600));
        assert_eq!(s.started.as_deref(), Some("2026-11-21T02:00:00Z"));
    }
}
