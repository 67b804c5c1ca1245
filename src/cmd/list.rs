//! `ccy list` (alias `ls`): every session of the user, one line each.

use std::path::Path;

use clap::Args;

use crate::ctx::Ctx;
use crate::error::{Error, ExitKind, Result};
use crate::host::git::Worktree;
use crate::paths::display_home;
use crate::session::Host;
use crate::session::find::{self, SessionInfo};
use crate::session::fleet::{Entry, Row};
use crate::session::remote;
use crate::ui;

/// List sessions: state, project, branch, worktree, activity, clients
///
/// Shows every ccy session of your user, running or not (a stopped session
/// is its unit file and its volume), sorted by name; with `--here` only
/// the sessions of the git worktree you are in. Costs one Podman API call
/// and one call to your systemd user manager, however many sessions.
///
/// Columns:
///   NAME         the session (also its container and `NAME.service`)
///   STATE        running, starting, stopping, stopped or failed (the
///                unit's state; see `ccy status NAME`)
///   AGENT        what the agent does and for how long: busy, waiting
///                (for your answer), done (its turn is over), idle,
///                exited, from its own hooks (Claude Code); for another
///                agent, busy or idle from the pane's output; stopped
///                when the session does not run
///   PROJECT      the project (the main worktree's directory name)
///   BRANCH       the branch checked out when the session was created
///   WORKTREE     the worktree (`~` is your home)
///   CREATED      when the session was created
///   LAST ACTIVE  the last input, output or client activity tmux reported
///                (written by tmux's hooks on attach, on detach and when
///                the panes start and stop printing; asked of tmux while
///                a client is attached); `-` when unknown. A stopped
///                session shows its last report.
///   CLIENTS      terminals attached to the session's tmux (0 unless
///                running)
///
/// With no sessions the table is its header line alone. Colour only on a
/// terminal, never with `NO_COLOR` set.
///
/// `--json` prints a JSON array with one object per session and these
/// fields, which stay stable:
///   name          string
///   state         "running", "starting", "stopping", "stopped" or
///                 "failed"
///   project       string
///   branch        string
///   worktree      string, absolute path
///   created       string, RFC 3339, or null when unknown
///   last_active   string, RFC 3339, or null when unknown
///   clients       number
///   unit          string, the systemd unit (`NAME.service`)
///   unit_file     string, the Quadlet `.container` file, or null
///   container_id  string, the full container id, or null when there is
///                 no container (a stopped session has none)
///   image         string, the image the session runs, or null when
///                 unknown; for a session that keeps its layer, the clean
///                 image its own image (localhost/ccy-kept:NAME) grew from
///   kept_layer_bytes  number, the size in bytes of the session's kept
///                 layer (what its containers wrote outside the volumes,
///                 kept across stops; 0: none), or null for a session
///                 made before ccy kept layers
///   agent_state   "idle", "busy", "waiting", "done", "exited" (from the
///                 agent's hooks), "busy" or "idle" (from the pane),
///                 "stopped" (the session does not run) or "unknown"
///   agent_since   string, RFC 3339: when the agent state began, or null
///                 when unknown
///   agent_source  "hook" (the agent's own hooks), "pane" (the pane's
///                 activity: an agent without ccy's hooks) or null
///   agent_message string, the agent's last message (what a permission
///                 prompt asks), or null
///
/// `--all-hosts` asks this machine and every host of `[hosts]` in your
/// configuration at once, over SSH, in parallel (see `ccy --host`), and
/// adds a HOST column: `local` for this machine, else the name in
/// `[hosts]`. A host that does not answer within `hosts.timeout` (3 s by
/// default), refuses the login, or has no ccy or one too old is reported
/// on standard error with the reason, and the others are listed. With
/// `--json` it prints an object:
///   hosts     array, one object per host asked: host (string), version
///             (string, its ccy's, or null), error (string, why it gave
///             no answer, or null)
///   sessions  array, the objects above with one more field first,
///             host (string)
///
/// Exit status: 0 on success, also with no sessions; 3 when your user
/// manager or Podman cannot be reached, or with `--here` outside a git
/// worktree; 7 with `--all-hosts` when a host gave no answer (the others
/// are listed); 1 on any other failure.
// The doc comment is the `--help` text: field names read better bare.
#[allow(clippy::doc_markdown)]
#[expect(clippy::struct_excessive_bools, reason = "clap flags")]
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ListArgs {
    /// Only the sessions of the git worktree containing the current
    /// directory.
    #[arg(long)]
    pub here: bool,

    /// Print a JSON array instead of the table (its fields are listed in `--help`).
    #[arg(long)]
    pub json: bool,

    /// Also list the sessions of every host in `[hosts]`, asked in
    /// parallel, with a HOST column.
    #[arg(long, conflicts_with = "here")]
    pub all_hosts: bool,

    /// With `--json`: an object with ccy's version and the array (what
    /// `--all-hosts` asks other hosts for).
    #[arg(long, hide = true, requires = "json", conflicts_with = "all_hosts")]
    pub with_version: bool,
}

/// Lists the sessions as a table or JSON on standard output.
///
/// # Errors
/// No user bus or Podman API ([`crate::error::ExitKind::Environment`]);
/// `--here` outside a git worktree (the same).
pub fn run(ctx: &Ctx, args: &ListArgs) -> Result<()> {
    if args.all_hosts {
        return run_all_hosts(ctx, args);
    }
    let here = if args.here {
        Some(Worktree::discover(&ctx.cwd)?.root)
    } else {
        None
    };
    let sessions = ctx.block_on(local_sessions(ctx))?;
    let entries = entries(&sessions, here.as_deref());
    crate::trace::mark("list: entries made");
    if args.with_version {
        let listing = serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "sessions": entries,
        });
        let mut text = serde_json::to_string(&listing).unwrap_or_else(|_| "{}".into());
        text.push('\n');
        ui::print_plain(&text);
    } else if args.json {
        let mut text = serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".into());
        text.push('\n');
        ui::print_plain(&text);
    } else {
        let rows: Vec<Row> = entries.iter().map(|e| Row::from_entry(None, e)).collect();
        ui::print(&table(&rows, find::now_epoch(), &ctx.paths.home, false));
    }
    crate::trace::mark("list: printed");
    Ok(())
}

/// This machine's sessions.
async fn local_sessions(ctx: &Ctx) -> Result<Vec<SessionInfo>> {
    let host = Host::connect(ctx).await?;
    let (mgr, api) = (&host.mgr, host.api().await?);
    find::all_sessions(&ctx.paths, mgr, api).await
}

/// What `ccy list` shows of `sessions`, those of worktree `here` only
/// when given.
fn entries(sessions: &[SessionInfo], here: Option<&Path>) -> Vec<Entry> {
    let now = find::now_epoch();
    sessions
        .iter()
        .filter(|s| here.is_none_or(|wt| in_worktree(s, wt)))
        .map(|s| Entry::from_info(s, now))
        .collect()
}

/// `--all-hosts`: this machine and every configured host at once.
fn run_all_hosts(ctx: &Ctx, args: &ListArgs) -> Result<()> {
    let hosts = ctx.config(None)?.finish()?.config.hosts;
    let remotes = remote::configured(&hosts, &ctx.paths.lock_dir())?;
    let timeout = remote::timeout(&hosts);
    crate::trace::mark("all hosts: configuration read");
    // The remote hosts first: their ssh processes start before this
    // machine's listing, and run while it does.
    let (answers, local) = ctx.block_on(async {
        futures_util::join!(remote::all_sessions(&remotes, timeout), async {
            let local = tokio::time::timeout(timeout, local_sessions(ctx)).await;
            crate::trace::mark("all hosts: local sessions listed");
            local
        })
    });
    crate::trace::mark("all hosts: every host answered");
    let local = match local {
        Ok(Ok(sessions)) => Ok((
            env!("CARGO_PKG_VERSION").to_owned(),
            entries(&sessions, None)
                .iter()
                .filter_map(|e| match serde_json::to_value(e) {
                    Ok(serde_json::Value::Object(m)) => Some(m),
                    _ => None,
                })
                .collect(),
        )),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs_f64())),
    };
    let mut all = vec![remote::HostSessions {
        host: remote::LOCAL.to_owned(),
        answer: local,
    }];
    all.extend(answers);
    let mut rows = Vec::new();
    let mut report = Vec::new();
    let mut failed = Vec::new();
    for h in &all {
        match &h.answer {
            Ok((version, sessions)) => {
                report.push(serde_json::json!({"host": h.host, "version": version, "error": null}));
                for s in sessions {
                    let mut row = serde_json::Map::new();
                    row.insert("host".into(), h.host.clone().into());
                    row.extend(s.clone());
                    rows.push(row);
                }
            }
            Err(why) => {
                report.push(serde_json::json!({"host": h.host, "version": null, "error": why}));
                failed.push(h.host.clone());
                crate::errln!("ccy: host {}: unreachable: {why}", h.host);
            }
        }
    }
    rows.sort_by(|a, b| {
        let key = |r: &serde_json::Map<String, serde_json::Value>| {
            (
                r.get("host").and_then(|v| v.as_str()).unwrap_or("") != remote::LOCAL,
                r.get("host")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned(),
                r.get("name")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned(),
            )
        };
        key(a).cmp(&key(b))
    });
    if args.json {
        let out = serde_json::json!({"hosts": report, "sessions": rows});
        let mut text = serde_json::to_string_pretty(&out).unwrap_or_else(|_| "{}".into());
        text.push('\n');
        ui::print(&text);
    } else {
        let rows: Vec<Row> = rows
            .iter()
            .map(|r| {
                let host = r.get("host").and_then(|v| v.as_str()).unwrap_or("");
                Row::from_json(host, r)
            })
            .collect();
        ui::print(&table(&rows, find::now_epoch(), &ctx.paths.home, true));
    }
    crate::trace::mark("all hosts: printed");
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::new(
            ExitKind::Remote,
            format!(
                "{} of {} hosts gave no answer: {}",
                failed.len(),
                all.len(),
                failed.join(", ")
            ),
        )
        .hint("'ccy --host HOST doctor' checks one host; [hosts] in ~/.config/ccy/config.toml sets how ccy reaches it"))
    }
}

/// The table of `rows` at time `now` (seconds since the Unix epoch),
/// paths under `home` shown with `~`; with a HOST column first when
/// `hosts` (`--all-hosts`). Always has the header line.
#[must_use]
pub fn table(rows: &[Row], now: u64, home: &Path, hosts: bool) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let ago = |t: Option<u64>| t.map_or_else(|| "-".to_owned(), |t| ui::ago(now, t));
            let mut cells = Vec::with_capacity(10);
            if hosts {
                cells.push(r.host.clone().unwrap_or_default());
            }
            cells.extend([
                r.name.clone(),
                ui::paint(r.state_style(), &r.state),
                agent_cell(r, now),
                r.project.clone(),
                r.branch.clone(),
                display_home(Path::new(&r.worktree), home),
                ago(r.created),
                ago(r.last_active),
                r.clients.to_string(),
            ]);
            cells
        })
        .collect();
    let mut headers = Vec::with_capacity(10);
    if hosts {
        headers.push("HOST");
    }
    headers.extend([
        "NAME",
        "STATE",
        "AGENT",
        "PROJECT",
        "BRANCH",
        "WORKTREE",
        "CREATED",
        "LAST ACTIVE",
        "CLIENTS",
    ]);
    ui::table(&headers, &cells)
}

/// The agent column: the state (coloured) and how long it has held
/// (`busy 3m`); `-` from a host whose ccy does not say.
fn agent_cell(r: &Row, now: u64) -> String {
    match (&r.agent, r.agent_since) {
        (None, _) => "-".to_owned(),
        (Some(w), Some(t)) => format!(
            "{} {}",
            ui::paint(r.agent_style(), w),
            ui::span(now.saturating_sub(t))
        ),
        (Some(w), None) => ui::paint(r.agent_style(), w),
    }
}

fn in_worktree(s: &SessionInfo, worktree: &Path) -> bool {
    Path::new(&s.worktree()) == worktree
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

    fn info(name: &str, project: &str, branch: &str, active: &str) -> SessionInfo {
        SessionInfo {
            name: SessionName::parse(name).unwrap(),
            meta: Some(SessionMeta {
                project: project.into(),
                worktree: format!("/home/dev/src/{project}").into(),
                branch: branch.into(),
                created: "2026-11-20T05:00:00Z".into(),
                ..example_meta(name)
            }),
            file: Some(format!("/home/dev/.config/containers/systemd/{name}.container").into()),
            container: None,
            unit: Some(UnitState::example(
                &format!("{name}.service"),
                "loaded",
                active,
            )),
            tmux: None,
            agent: None,
            kept_layer_bytes: None,
        }
    }

    fn running(mut i: SessionInfo, clients: u32, active: u64) -> SessionInfo {
        i.container = Some(ContainerInfo {
            id: "0123456789abcdef".repeat(4),
            name: i.name.to_string(),
            state: "running".into(),
            labels: BTreeMap::new(),
            image: "localhost/ccy:latest".into(),
            started_at: Some(NOW - 3600),
        });
        i.tmux = Some(TmuxStatus {
            activity: active,
            output: active - 5,
            client_activity: 0,
            clients,
            updated: NOW,
            pane_busy: None,
        });
        i
    }

    fn sample() -> Vec<Entry> {
        let mut hooked = running(
            info("ccy-app-0123abcd", "app", "main", "active"),
            1,
            NOW - 180,
        );
        hooked.agent = Some(AgentRecord {
            state: "waiting".into(),
            since: NOW - 185,
            updated: NOW - 20,
            event: "Notification".into(),
            message: Some("Claude needs your permission to use Bash".into()),
        });
        [
            hooked,
            running(
                info("ccy-app-89abcdef", "app", "feature/x", "active"),
                0,
                NOW - 7200,
            ),
            info("ccy-web-00c0ffee", "web", "main", "inactive"),
            info("mine", "web", "fix", "failed"),
        ]
        .iter()
        .map(|i| Entry::from_info(i, NOW))
        .collect()
    }

    #[test]
    fn table_of_sessions() {
        let rows: Vec<Row> = sample().iter().map(|e| Row::from_entry(None, e)).collect();
        let t = table(&rows, NOW, Path::new("/home/dev"), false);
        let plain = anstream::adapter::strip_str(&t).to_string();
        insta::assert_snapshot!(plain, @"
        NAME              STATE    AGENT       PROJECT  BRANCH     WORKTREE   CREATED  LAST ACTIVE  CLIENTS
        ccy-app-0123abcd  running  waiting 3m  app      main       ~/src/app  1d ago   3m ago       1
        ccy-app-89abcdef  running  idle 2h     app      feature/x  ~/src/app  1d ago   2h ago       0
        ccy-web-00c0ffee  stopped  stopped     web      main       ~/src/web  1d ago   -            0
        mine              failed   stopped     web      fix        ~/src/web  1d ago   -            0
        ");
        assert!(t.contains(&ui::paint(ui::GOOD, "running")));
        assert!(t.contains(&ui::paint(ui::BAD, "failed")));
    }

    #[test]
    fn empty_table_is_the_header() {
        let t = table(&[], NOW, Path::new("/home/dev"), false);
        let plain = anstream::adapter::strip_str(&t).to_string();
        insta::assert_snapshot!(plain, @"NAME  STATE  AGENT  PROJECT  BRANCH  WORKTREE  CREATED  LAST ACTIVE  CLIENTS");
    }

    #[test]
    fn table_of_hosts() {
        let mut rows: Vec<serde_json::Map<String, serde_json::Value>> = sample()
            .iter()
            .map(|e| match serde_json::to_value(e).unwrap() {
                serde_json::Value::Object(m) => m,
                _ => unreachable!(),
            })
            .collect();
        for (i, r) in rows.iter_mut().enumerate() {
            r.insert("host".into(), if i < 2 { "local" } else { "lab1" }.into());
        }
        let rows: Vec<Row> = rows
            .iter()
            .map(|r| Row::from_json(r["host"].as_str().unwrap(), r))
            .collect();
        let t = table(&rows, NOW, Path::new("/home/dev"), true);
        let plain = anstream::adapter::strip_str(&t).to_string();
        insta::assert_snapshot!(plain, @"
        HOST   NAME              STATE    AGENT       PROJECT  BRANCH     WORKTREE   CREATED  LAST ACTIVE  CLIENTS
        local  ccy-app-0123abcd  running  waiting 3m  app      main       ~/src/app  1d ago   3m ago       1
        local  ccy-app-89abcdef  running  idle 2h     app      feature/x  ~/src/app  1d ago   2h ago       0
        lab1   ccy-web-00c0ffee  stopped  stopped     web      main       ~/src/web  1d ago   -            0
        lab1   mine              failed   stopped     web      fix        ~/src/web  1d ago   -            0
        ");
    }

    #[test]
    fn json_fields_are_the_documented_ones() {
        let entries = sample();
        insta::assert_snapshot!(serde_json::to_string_pretty(&entries[0]).unwrap(), @r#"
        {
          "name": "ccy-app-0123abcd",
          "state": "running",
          "project": "app",
          "branch": "main",
          "worktree": "/home/dev/src/app",
          "created": "2026-11-20T05:00:00Z",
          "last_active": "2026-11-21T04:57:00Z",
          "clients": 1,
          "unit": "ccy-app-0123abcd.service",
          "unit_file": "/home/dev/.config/containers/systemd/ccy-app-0123abcd.container",
          "container_id": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          "image": "localhost/ccy:latest",
          "kept_layer_bytes": null,
          "agent_state": "waiting",
          "agent_since": "2026-11-21T04:56:55Z",
          "agent_source": "hook",
          "agent_message": "Claude needs your permission to use Bash"
        }
        "#);
        let v = serde_json::to_value(&entries).unwrap();
        assert_eq!(v[2]["state"], "stopped");
        assert!(v[2]["container_id"].is_null());
        assert!(v[2]["last_active"].is_null());
        assert_eq!(v[3]["state"], "failed");
        // Without hooks, the pane's output; a session that does not run
        // is stopped, whatever its unit says.
        assert_eq!(v[1]["agent_state"], "idle");
        assert_eq!(v[1]["agent_source"], "pane");
        assert_eq!(v[1]["agent_since"], "2026-11-21T02:59:55Z");
        assert_eq!(v[2]["agent_state"], "stopped");
        assert!(v[2]["agent_source"].is_null());
        assert_eq!(v[3]["agent_state"], "stopped");
        assert!(v[3]["agent_since"].is_null());
    }
}
