//! The read-only verbs: `ccy list`, `ccy status`, `ccy doctor`, `ccy config
//! show`, checked against real sessions, units, containers and tmux clients.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::{
    Repo, TEST_IMAGE, Term, active_state, ccy_bin, eventually, exclusive, first_session_output,
    home, inspect, marker, q, quadlet_dir, sh, sh_ok, shared,
};

/// Runs the installed `ccy` in `dir` with `args` and extra `envs`; stdin
/// and stdout are not terminals.
fn ccy(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(ccy_bin());
    cmd.current_dir(dir).args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Like [`ccy`], asserting exit status 0; returns stdout.
fn ccy_ok(dir: &Path, args: &[&str]) -> String {
    let out = ccy(dir, args, &[]);
    assert!(
        out.status.success(),
        "ccy {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ccy list --json` as name → object.
fn list_json(dir: &Path, args: &[&str]) -> BTreeMap<String, Value> {
    let mut all = vec!["list", "--json"];
    all.extend_from_slice(args);
    let v: Value = serde_json::from_str(&ccy_ok(dir, &all)).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_owned(), e.clone()))
        .collect()
}

/// The rows of a `ccy list` table as column name → cell, cut at the
/// header's column starts (cells may contain spaces).
fn table_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header = lines.next().expect("a header line");
    let names = [
        "NAME",
        "STATE",
        "AGENT",
        "PROJECT",
        "BRANCH",
        "WORKTREE",
        "CREATED",
        "LAST ACTIVE",
        "CLIENTS",
    ];
    let starts: Vec<usize> = names
        .iter()
        .map(|n| {
            header
                .find(n)
                .unwrap_or_else(|| panic!("{n} in {header:?}"))
        })
        .collect();
    lines
        .map(|line| {
            let mut row = BTreeMap::new();
            for (i, n) in names.iter().enumerate() {
                let end = starts
                    .get(i + 1)
                    .copied()
                    .unwrap_or(line.len())
                    .min(line.len());
                let cell = line.get(starts[i]..end).unwrap_or("").trim();
                row.insert((*n).to_owned(), cell.to_owned());
            }
            row
        })
        .collect()
}

fn row<'a>(rows: &'a [BTreeMap<String, String>], name: &str) -> &'a BTreeMap<String, String> {
    rows.iter()
        .find(|r| r["NAME"] == name)
        .unwrap_or_else(|| panic!("no row for {name} in {rows:#?}"))
}

/// `~/x` for paths under the home directory, as the table shows them.
fn tilde(p: &Path) -> String {
    format!("~/{}", p.strip_prefix(home()).unwrap().display())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn rfc3339_secs(t: &str) -> u64 {
    humantime::parse_rfc3339_weak(t)
        .or_else(|_| humantime::parse_rfc3339(t))
        .unwrap_or_else(|e| panic!("{t:?}: {e}"))
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Starts `ccy` in `dir` until the session's shell prompt shows, then
/// detaches and waits for the session to count no client; returns the
/// session's name (from the unit files).
fn new_session(dir: &Path, names_before: &[String], list: impl Fn() -> Vec<String>) -> String {
    let term = Term::spawn(dir, "ccy");
    term.wait_for("root@", 120);
    term.detach();
    term.wait_for("[exited 0]", 30);
    let mut names = list();
    names.retain(|n| !names_before.contains(n));
    assert_eq!(
        names.len(),
        1,
        "one new session in {}: {names:?}",
        dir.display()
    );
    let name = names.pop().unwrap();
    // The session's tmux writes the client count ~0.1 s after the detach.
    let status = home()
        .join(".local/state/ccy/sessions")
        .join(&name)
        .join("status");
    eventually(
        10,
        "the status file counts no client after the detach",
        || std::fs::read_to_string(&status).is_ok_and(|s| s.lines().any(|l| l == "clients=0")),
    );
    name
}

/// The sessions whose unit files name worktree `dir`.
fn sessions_of(dir: &Path) -> Vec<String> {
    let needle = serde_json::to_string(dir.to_str().unwrap()).unwrap();
    let mut names = Vec::new();
    for e in std::fs::read_dir(quadlet_dir()).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "container") {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            if text
                .lines()
                .any(|l| l.starts_with("# ccy-session-v1 ") && l.contains(&needle))
            {
                names.push(p.file_stem().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    names.sort();
    names
}

/// Removes sessions that no [`Repo`] owns (those of linked worktrees).
struct Teardown(Vec<String>);

impl Drop for Teardown {
    fn drop(&mut self) {
        for n in &self.0 {
            sh(&format!(
                "systemctl --user stop {n}.service {n}-volume.service; \
                 systemctl --user reset-failed {n}.service; \
                 rm -f {dir}/{n}.container {dir}/{n}.volume; podman volume rm -f {n}-state",
                n = q(n),
                dir = q(quadlet_dir().to_str().unwrap())
            ));
        }
    }
}

/// A main worktree, a linked worktree of the same repository and another
/// repository, one session each, all made by `ccy`: `ccy list` shows all
/// three with the right state, project, branch, worktree, clients and
/// activity, as a table and as JSON; `--here` filters; a stopped unit reads
/// `stopped` and a killed one `failed`.
#[test]
fn list_shows_every_session_with_its_state() {
    let _g = shared();
    first_session_output();
    let a = Repo::new("views-alpha");
    let b = Repo::new("views-beta");
    let a2 = a.dir.parent().unwrap().join("alpha-feature");
    sh_ok(&format!(
        "cd {} && git worktree add -q -b feature {}",
        q(a.dir.to_str().unwrap()),
        q(a2.to_str().unwrap())
    ));
    let a2 = std::fs::canonicalize(&a2).unwrap();

    let sa = new_session(&a.dir, &[], || sessions_of(&a.dir));
    let sa2 = new_session(&a2, &[], || sessions_of(&a2));
    let _teardown = Teardown(vec![sa2.clone()]);
    let sb = new_session(&b.dir, &[], || sessions_of(&b.dir));

    // The table, not on a terminal.
    let out = ccy(&a.dir, &["list"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text.contains('\u{1b}'),
        "no escape codes off a terminal: {text:?}"
    );
    let rows = table_rows(&text);
    for (name, project, branch, dir) in [
        (&sa, "views-alpha", "main", &a.dir),
        (&sa2, "views-alpha", "feature", &a2),
        (&sb, "views-beta", "main", &b.dir),
    ] {
        let r = row(&rows, name);
        assert_eq!(r["STATE"], "running", "{r:?}");
        assert_eq!(r["PROJECT"], project, "{r:?}");
        assert_eq!(r["BRANCH"], branch, "{r:?}");
        assert_eq!(r["WORKTREE"], tilde(dir), "{r:?}");
        assert!(r["CREATED"].ends_with(" ago"), "{r:?}");
        assert_eq!(r["CLIENTS"], "0", "{r:?}");
    }

    // JSON: every documented field, with the values the units and
    // containers hold.
    let all = list_json(&a.dir, &[]);
    for (name, project, branch, dir) in [
        (&sa, "views-alpha", "main", &a.dir),
        (&sa2, "views-alpha", "feature", &a2),
        (&sb, "views-beta", "main", &b.dir),
    ] {
        let e = &all[name.as_str()];
        let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "agent_message",
                "agent_since",
                "agent_source",
                "agent_state",
                "branch",
                "clients",
                "container_id",
                "created",
                "image",
                "kept_layer_bytes",
                "last_active",
                "name",
                "project",
                "state",
                "unit",
                "unit_file",
                "worktree"
            ]
        );
        let c = inspect("container", name).unwrap();
        assert_eq!(e["state"], "running");
        assert_eq!(e["project"], project);
        assert_eq!(e["branch"], branch);
        assert_eq!(e["worktree"], dir.to_str().unwrap());
        assert_eq!(e["created"], c["Config"]["Labels"]["ccy.created"]);
        assert_eq!(e["clients"], 0);
        assert_eq!(e["unit"], format!("{name}.service"));
        assert_eq!(
            e["unit_file"],
            quadlet_dir()
                .join(format!("{name}.container"))
                .to_str()
                .unwrap()
        );
        assert_eq!(e["container_id"], c["Id"]);
        assert_eq!(e["image"], TEST_IMAGE);
        assert_eq!(e["kept_layer_bytes"], 0, "a new session has kept nothing");
        // The status file is written once tmux is up.
        let la = rfc3339_secs(e["last_active"].as_str().unwrap());
        assert!(la <= now() && la + 300 > now(), "{e}");
    }

    // --here: the worktree's own session only.
    let here: Vec<String> = list_json(&a2, &["--here"]).into_keys().collect();
    assert_eq!(here, std::slice::from_ref(&sa2));
    let here: Vec<String> = list_json(&a.dir, &["--here"]).into_keys().collect();
    assert_eq!(here, std::slice::from_ref(&sa));
    let rows = table_rows(&ccy_ok(&b.dir, &["ls", "--here"]));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["NAME"], sb);
    let outside = ccy(Path::new("/"), &["list", "--here"], &[]);
    assert_eq!(outside.status.code(), Some(3), "{}", stderr(&outside));
    assert!(stderr(&outside).contains("not inside a git worktree"));

    // Stopped through systemd: the unit file is the record, no container.
    sh_ok(&format!(
        "systemctl --user stop {}",
        q(&format!("{sa2}.service"))
    ));
    assert_eq!(active_state(&format!("{sa2}.service")), "inactive");
    let e = &list_json(&a.dir, &[])[&sa2];
    assert_eq!(e["state"], "stopped");
    assert!(e["container_id"].is_null(), "{e}");
    assert_eq!(e["clients"], 0);
    assert_eq!(
        row(&table_rows(&ccy_ok(&a.dir, &["list"])), &sa2)["STATE"],
        "stopped"
    );

    // Killed: the unit fails.
    sh_ok(&format!(
        "systemctl --user kill --signal=SIGKILL {}",
        q(&format!("{sb}.service"))
    ));
    eventually(30, "the killed unit is failed", || {
        active_state(&format!("{sb}.service")) == "failed"
    });
    assert_eq!(list_json(&a.dir, &[])[&sb]["state"], "failed");
    assert_eq!(
        row(&table_rows(&ccy_ok(&a.dir, &["list"])), &sb)["STATE"],
        "failed"
    );
    sh(&format!(
        "systemctl --user reset-failed {}",
        q(&format!("{sb}.service"))
    ));
    // The one left running is untouched.
    assert_eq!(list_json(&a.dir, &[])[&sa]["state"], "running");
}

/// CLIENTS follows tmux: 1 while a terminal is attached, 0 after it
/// detaches (the session's tmux hooks write the status ~0.1 s later);
/// LAST ACTIVE moves when someone types.
#[test]
fn list_follows_clients_and_activity() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("views-clients");
    let name = new_session(&repo.dir, &[], || repo.session_names());
    let get = || list_json(&repo.dir, &["--here"])[&name].clone();
    assert_eq!(get()["clients"], 0);

    let term = Term::spawn(&repo.dir, "ccy");
    term.wait_for("root@", 60);
    eventually(10, "one client in ccy list", || get()["clients"] == 1);
    let r = row(&table_rows(&ccy_ok(&repo.dir, &["list", "--here"])), &name).clone();
    assert_eq!(r["CLIENTS"], "1", "{r:?}");

    // Activity: typing moves it to now (within the hook's / the 10 s
    // refresh's delay).
    std::thread::sleep(Duration::from_secs(2));
    let before = rfc3339_secs(get()["last_active"].as_str().unwrap());
    let m = marker("active");
    term.line(&format!("echo {m}"));
    term.wait_for(&m, 10);
    let typed = now();
    eventually(15, "last_active moves to the typing", || {
        rfc3339_secs(get()["last_active"].as_str().unwrap()) >= typed.min(before + 1)
    });
    let r = row(&table_rows(&ccy_ok(&repo.dir, &["list", "--here"])), &name).clone();
    assert!(r["LAST ACTIVE"].ends_with("s ago"), "seconds ago: {r:?}");

    term.detach();
    term.wait_for("[exited 0]", 30);
    eventually(10, "no client in ccy list", || get()["clients"] == 0);
}

/// Two clients that vanish at the same moment (a logout ends every login
/// of the user: the scopes' processes get SIGTERM together) leave the
/// agent's pane as it was. Both detach hooks then run at once; before the
/// fix they raced on one temporary status file, one failed, and tmux put
/// "'...' returned 1" into the pane's view mode, which swallowed the keys
/// typed next (the reboot test's phase 2 found it).
#[test]
fn clients_that_vanish_together_leave_the_pane_as_it_was() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("views-vanish");
    let name = new_session(&repo.dir, &[], || repo.session_names());
    let socket = home()
        .join(".local/state/ccy/sessions")
        .join(&name)
        .join("tmux-0/default");
    let inner = |cmd: &str| {
        sh_ok(&format!("tmux -S {} {cmd}", q(socket.to_str().unwrap())))
            .trim()
            .to_owned()
    };
    let clients = || inner("list-clients -t main").lines().count();
    for round in 0..3 {
        let a = Term::spawn(&repo.dir, &format!("ccy attach {name}"));
        let b = Term::spawn(&repo.dir, &format!("ccy attach {name}"));
        eventually(30, "two clients", || clients() == 2);
        // Both clients at once, as a logout does ("[t]" keeps pkill's own
        // shell out of the match).
        sh_ok(&format!(
            "pkill -TERM -f -- {}",
            q(&format!("[t]mux -u -S {} ", socket.display()))
        ));
        eventually(10, "no client left", || clients() == 0);
        // The hooks run 0.1 s after the detach; give them time to finish.
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(
            inner("display -p -t main '#{pane_in_mode} #{pane_mode}'"),
            "0",
            "round {round}: the pane went into a mode"
        );
        drop((a, b));
    }
    // And the agent still gets what is typed.
    let m = marker("vanish");
    inner(&format!("send-keys -t main -l {}", q(&format!("echo {m}"))));
    inner("send-keys -t main Enter");
    eventually(10, "the agent answers", || {
        inner("capture-pane -p -J -t main").lines().any(|l| l == m)
    });
}

/// Colour only on a terminal, and never with `NO_COLOR`: piped output has
/// no escape codes; inside a terminal the header is bold; with `NO_COLOR`
/// set it is plain again.
#[test]
fn list_colours_only_a_terminal_without_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let piped = ccy(dir.path(), &["list"], &[]);
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert!(stdout(&piped).starts_with("NAME "), "{}", stdout(&piped));
    assert!(!stdout(&piped).contains('\u{1b}'));

    let tty = Term::spawn(dir.path(), "ccy list");
    tty.wait_for("[exited 0]", 30);
    let screen = tty.screen_ansi();
    let header = screen.lines().find(|l| l.contains("NAME")).unwrap();
    assert!(
        header.contains("\u{1b}["),
        "bold header on a terminal: {header:?}"
    );

    let plain = Term::spawn(dir.path(), "NO_COLOR=1 ccy list");
    plain.wait_for("[exited 0]", 30);
    let screen = plain.screen_ansi();
    let header = screen.lines().find(|l| l.contains("NAME")).unwrap();
    assert!(!header.contains('\u{1b}'), "NO_COLOR: {header:?}");
    assert!(header.starts_with("NAME "), "{header:?}");
}

/// `ccy status`: the same facts as `podman inspect` and `systemctl --user
/// show`, and CPU (and memory, where the controller is delegated) from
/// the Podman API; by name, short name, id or from the worktree; stopped
/// sessions have no uptime or resources.
#[test]
fn status_matches_podman_and_systemd() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("views-status");
    let name = new_session(&repo.dir, &[], || repo.session_names());
    let unit = format!("{name}.service");
    let c = inspect("container", &name).unwrap();

    let s: Value = serde_json::from_str(&ccy_ok(&repo.dir, &["status", "--json"])).unwrap();
    assert_eq!(s["name"], name.as_str());
    assert_eq!(s["state"], "running");
    assert_eq!(s["unit_active_state"], "active");
    assert_eq!(s["unit_sub_state"], "running");
    assert_eq!(s["project"], "views-status");
    assert_eq!(s["branch"], "main");
    assert_eq!(s["worktree"], repo.dir.to_str().unwrap());
    assert_eq!(s["container_id"], c["Id"]);
    assert_eq!(s["image"], TEST_IMAGE);
    crate::support::assert_runs_clean(&c, s["name"].as_str().unwrap(), TEST_IMAGE);
    assert_eq!(s["unit"], c["Config"]["Labels"]["PODMAN_SYSTEMD_UNIT"]);
    assert_eq!(s["created"], c["Config"]["Labels"]["ccy.created"]);
    let show = |p: &str| sh_ok(&format!("systemctl --user show -P {p} {}", q(&unit)));
    assert_eq!(s["generated_unit"], show("FragmentPath"));
    assert_eq!(s["unit_file"], show("SourcePath"));
    // podman's StartedAt has nanoseconds and an offset.
    let started = sh_ok(&format!(
        "podman inspect --format '{{{{.State.StartedAt.Unix}}}}' {}",
        q(&name)
    ));
    assert_eq!(
        rfc3339_secs(s["started"].as_str().unwrap()),
        started.parse::<u64>().unwrap()
    );
    let up = s["uptime_seconds"].as_u64().unwrap();
    assert!(up <= now() - started.parse::<u64>().unwrap() + 1, "{s}");
    // Resources: CPU always; memory and pids need the controllers.
    assert!(s["cpu_percent"].as_f64().unwrap() >= 0.0, "{s}");
    assert!(s["cpu_seconds"].as_f64().unwrap() > 0.0, "{s}");
    assert!(s["memory_limit_bytes"].as_u64().unwrap() > 0, "{s}");
    let uid = sh_ok("id -u");
    let controllers = std::fs::read_to_string(format!(
        "/sys/fs/cgroup/user.slice/user-{uid}.slice/user@{uid}.service/cgroup.controllers"
    ))
    .unwrap_or_default();
    let memory = controllers.split_whitespace().any(|c| c == "memory");
    assert_eq!(s["memory_bytes"].is_u64(), memory, "{s}");

    let text = ccy_ok(Path::new("/"), &["status", &name]);
    for line in [
        format!("name:        {name}"),
        "state:       running (unit active, running)".to_owned(),
        format!("container:   {}", c["Id"].as_str().unwrap()),
        format!("image:       {TEST_IMAGE}"),
        format!("worktree:    {}", tilde(&repo.dir)),
    ] {
        assert!(text.contains(&line), "{line:?} in:\n{text}");
    }
    assert!(text.contains("uptime:      "), "{text}");
    let cpu = text.lines().find(|l| l.starts_with("cpu:")).unwrap();
    assert!(
        cpu.contains("% of one CPU on average since start") && cpu.contains(" s in total"),
        "{cpu}"
    );
    let mem = text.lines().find(|l| l.starts_with("memory:")).unwrap();
    if memory {
        assert!(mem.contains("iB of "), "{mem}");
    } else {
        assert!(
            mem.contains("unknown (the memory controller is not delegated"),
            "{mem}"
        );
    }

    // Other ways to name it.
    let id = name.rsplit('-').next().unwrap();
    for q in [id, name.strip_prefix("ccy-").unwrap(), "views-stat"] {
        let s: Value =
            serde_json::from_str(&ccy_ok(Path::new("/"), &["status", q, "--json"])).unwrap();
        assert_eq!(s["name"], name.as_str(), "{q}");
    }

    // Stopped.
    sh_ok(&format!("systemctl --user stop {}", q(&unit)));
    let s: Value = serde_json::from_str(&ccy_ok(&repo.dir, &["status", "--json"])).unwrap();
    assert_eq!(s["state"], "stopped");
    assert_eq!(s["unit_active_state"], "inactive");
    for k in [
        "container_id",
        "started",
        "uptime_seconds",
        "cpu_percent",
        "memory_bytes",
    ] {
        assert!(s[k].is_null(), "{k}: {s}");
    }
    let text = ccy_ok(&repo.dir, &["status"]);
    assert!(text.contains("uptime:      -\n"), "{text}");
    assert!(!text.contains("cpu:"), "{text}");
}

/// Without NAME, `ccy status` needs the worktree to have exactly one
/// session: none is "not found" (5), several without a terminal lists them
/// (2), outside a worktree is 3; an unknown NAME is 5.
#[test]
fn status_without_a_name_uses_the_worktree() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("views-several");
    let none = ccy(&repo.dir, &["status"], &[]);
    assert_eq!(none.status.code(), Some(5), "{}", stderr(&none));
    assert!(
        stderr(&none).contains("has no session"),
        "{}",
        stderr(&none)
    );
    assert!(stderr(&none).contains("hint: "));

    // Two sessions for one worktree.
    let made: Vec<String> = (0..2)
        .map(|_| {
            let out = ccy_ok(&repo.dir, &["new", "--detach"]);
            out.trim()
                .strip_prefix("created session ")
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut sorted = made.clone();
    sorted.sort();
    assert_eq!(repo.session_names(), sorted);
    let several = ccy(&repo.dir, &["status"], &[]);
    assert_eq!(several.status.code(), Some(2), "{}", stderr(&several));
    let err = stderr(&several);
    assert!(err.contains("this worktree has 2 sessions"), "{err}");
    for n in &made {
        assert!(err.contains(n.as_str()), "{n} in {err}");
    }
    assert!(err.contains("hint: name one: 'ccy status NAME'"), "{err}");

    let outside = ccy(Path::new("/"), &["status"], &[]);
    assert_eq!(outside.status.code(), Some(3), "{}", stderr(&outside));
    let unknown = ccy(&repo.dir, &["status", "no-such-session-here"], &[]);
    assert_eq!(unknown.status.code(), Some(5), "{}", stderr(&unknown));
    // Both are this project's: "views-several" is ambiguous.
    let amb = ccy(&repo.dir, &["status", "views-several"], &[]);
    assert_eq!(amb.status.code(), Some(2), "{}", stderr(&amb));
}

/// The level and message of `name` in doctor's text report.
fn doctor_line<'a>(text: &'a str, name: &str) -> (&'a str, &'a str) {
    let line = text
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no {name} line in:\n{text}"));
    let level = line.split_whitespace().next().unwrap();
    let rest = line.strip_prefix(level).unwrap().trim_start();
    (level, rest.strip_prefix(name).unwrap().trim_start())
}

/// `ccy doctor` in the sandbox: everything ok but cgroup delegation (the
/// sandbox has no controllers to delegate: a warning, not a failure);
/// with linger off, a problem with its fix and exit status 3; a session
/// file Quadlet rejects is a problem naming it. Doctor changes nothing.
#[test]
fn doctor_reports_the_host() {
    let _g = exclusive();
    first_session_output();
    sh_ok("loginctl enable-linger");
    let repo = Repo::new("views-doctor");
    // What earlier tests' removed sessions left (kept volumes, token
    // secrets) would be warnings: clear it (no session is that old).
    let out = ccy(&repo.dir, &["prune", "--age", "5200w", "--volumes"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = ccy(&repo.dir, &["doctor"], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    for name in [
        "mounts",
        "leftovers",
        "podman",
        "podman-version",
        "podman-socket",
        "quadlet",
        "user-bus",
        "linger",
        "subuid",
        "subgid",
        "config",
        "image",
    ] {
        assert_eq!(doctor_line(&text, name).0, "ok", "{name}:\n{text}");
    }
    let (level, message) = doctor_line(&text, "cgroups");
    assert_eq!(level, "warning", "{text}");
    assert!(
        message.contains("session limits cannot be enforced"),
        "{message}"
    );
    assert!(
        doctor_line(&text, "podman-version")
            .1
            .starts_with("Podman 5.")
    );
    assert!(text.ends_with("no problems, 1 warning\n"), "{text}");

    // Linger off: a problem, the fix, a non-zero exit; doctor leaves it off.
    sh_ok("loginctl disable-linger");
    let out = ccy(&repo.dir, &["doctor"], &[]);
    let linger_after = sh_ok("loginctl show-user \"$USER\" -P Linger");
    sh_ok("loginctl enable-linger");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert_eq!(linger_after, "no", "doctor must not change linger");
    let (level, message) = doctor_line(&text, "linger");
    assert_eq!(level, "problem", "{text}");
    assert!(message.starts_with("off:"), "{message}");
    let after = text.split_once("problem  linger").unwrap().1;
    assert!(
        after.lines().nth(1).unwrap().trim() == "fix: loginctl enable-linger",
        "{text}"
    );
    assert!(
        stderr(&out).contains("ccy: error: 1 problem found"),
        "{}",
        stderr(&out)
    );
    assert!(text.ends_with("1 problem, 1 warning\n"), "{text}");

    // The same as JSON.
    sh_ok("loginctl disable-linger");
    let out = ccy(&repo.dir, &["doctor", "--json"], &[]);
    sh_ok("loginctl enable-linger");
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"], 1);
    let linger = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "linger")
        .unwrap();
    assert_eq!(linger["level"], "problem");
    assert_eq!(linger["fix"], "loginctl enable-linger");

    // A ccy session file the generator rejects (an unknown key).
    let bad = format!("views-bad-{}", std::process::id());
    let file = quadlet_dir().join(format!("{bad}.container"));
    std::fs::write(
        &file,
        format!(
            "# ccy-session-v1 {{\"name\":\"{bad}\",\"project\":\"x\",\"worktree\":\"/nonexistent\",\"branch\":\"main\",\"created\":\"2026-01-01T00:00:00Z\",\"image\":\"{TEST_IMAGE}\"}}\n[Container]\nImage={TEST_IMAGE}\nNoSuchKey=1\n"
        ),
    )
    .unwrap();
    let out = ccy(&repo.dir, &["doctor"], &[]);
    std::fs::remove_file(&file).unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    let (level, message) = doctor_line(&text, "quadlet");
    assert_eq!(level, "problem", "{text}");
    assert!(
        message.contains(&format!("drops 1 ccy session, which cannot start: {bad}")),
        "{message}"
    );
    assert!(
        message.contains("NoSuchKey"),
        "the generator's reason: {message}"
    );
    assert!(
        text.contains("fix: see why with 'QUADLET_UNIT_DIRS="),
        "{text}"
    );
}

/// `ccy config show`: a value from the project file names that file, one
/// from a `CCY_*` variable names the variable, the rest are defaults;
/// outside a worktree there is no project layer.
#[test]
fn config_show_names_each_source() {
    let repo = Repo::new("views-config");
    let project_file = repo.dir.join(".claude/ccy/config.toml");
    let env = [("CCY_SESSION_AUTOSTART", "false")];
    let out = ccy(&repo.dir, &["config", "show"], &env);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let line = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("{key} in:\n{text}"))
            .to_owned()
    };
    let pf = project_file.display().to_string();
    assert!(line("image.name").starts_with(&format!("image.name = \"{TEST_IMAGE}\"")));
    assert!(line("image.name").ends_with(&format!("# {pf}")), "{text}");
    assert!(
        line("agent.command").starts_with("agent.command = [\"bash\", \"-l\"]"),
        "{text}"
    );
    assert!(
        line("agent.command").ends_with(&format!("# {pf}")),
        "{text}"
    );
    assert!(
        line("session.autostart").starts_with("session.autostart = false"),
        "{text}"
    );
    assert!(
        line("session.autostart").ends_with("# env CCY_SESSION_AUTOSTART"),
        "{text}"
    );
    // It is TOML.
    let t: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(t["session"]["autostart"].as_bool(), Some(false));

    let out = ccy(&repo.dir, &["config", "show", "--json"], &env);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["worktree"], repo.dir.to_str().unwrap());
    assert_eq!(v["values"]["image.name"]["value"], TEST_IMAGE);
    assert_eq!(v["values"]["image.name"]["source"], "file");
    assert_eq!(v["values"]["image.name"]["from"], pf.as_str());
    assert_eq!(v["values"]["session.autostart"]["value"], false);
    assert_eq!(v["values"]["session.autostart"]["source"], "env");
    assert_eq!(
        v["values"]["session.autostart"]["from"],
        "CCY_SESSION_AUTOSTART"
    );
    assert_eq!(v["files"][1]["path"], pf.as_str());
    assert_eq!(v["files"][1]["exists"], true);

    // Outside a worktree: defaults, the user file, the environment.
    let out = ccy(Path::new("/"), &["config", "show", "--json"], &[]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["worktree"].is_null());
    assert_eq!(v["files"].as_array().unwrap().len(), 1);
    assert_eq!(v["values"]["image.name"]["value"], "localhost/ccy:latest");
    assert_eq!(v["values"]["image.name"]["source"], "default");

    // A bad variable: usage error naming it.
    let out = ccy(
        &repo.dir,
        &["config", "show"],
        &[("CCY_SESSION_AUTOSTART", "maybe")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("CCY_SESSION_AUTOSTART"),
        "{}",
        stderr(&out)
    );
}

/// A proxy in front of the user bus and the Podman API socket that records
/// every D-Bus method call (destination, interface, member) and every HTTP
/// request line it forwards, into a JSON file.
const COUNTING_PROXY: &str = r#"
import json, os, re, socket, struct, sys, threading
bus_listen, bus_real, api_listen, api_real, out = sys.argv[1:6]
lock = threading.Lock()
log = {"dbus": [], "http": []}
def save():
    with open(out + ".tmp", "w") as f:
        json.dump(log, f)
    os.replace(out + ".tmp", out)
def fields(msg, e, n):
    out, pos, end = {}, 16, 16 + n
    while pos < end:
        pos += (-pos) % 8
        if pos >= end:
            break
        code, sl = msg[pos], msg[pos + 1]
        sig = msg[pos + 2:pos + 2 + sl].decode()
        pos += 3 + sl
        if sig in ("s", "o"):
            pos += (-pos) % 4
            (l,) = struct.unpack(e + "I", msg[pos:pos + 4])
            out[code] = msg[pos + 4:pos + 4 + l].decode()
            pos += 5 + l
        elif sig == "g":
            l = msg[pos]
            out[code] = msg[pos + 1:pos + 1 + l].decode()
            pos += 2 + l
        elif sig == "u":
            pos += (-pos) % 4
            pos += 4
        else:
            break
    return out
class DBus:
    def __init__(self):
        self.buf, self.authed = b"", False
    def feed(self, data):
        self.buf += data
        if not self.authed:
            i = self.buf.find(b"BEGIN\r\n")
            if i < 0:
                return
            self.buf, self.authed = self.buf[i + 7:], True
        while len(self.buf) >= 16:
            e = "<" if self.buf[:1] == b"l" else ">"
            body, _, n = struct.unpack(e + "III", self.buf[4:16])
            hdr = 16 + n
            hdr += (-hdr) % 8
            if len(self.buf) < hdr + body:
                return
            msg, self.buf = self.buf[:hdr + body], self.buf[hdr + body:]
            if msg[1] == 1:
                f = fields(msg, e, n)
                with lock:
                    log["dbus"].append([f.get(6, ""), f.get(2, ""), f.get(3, "")])
                    save()
class Http:
    def __init__(self):
        self.buf = b""
    def feed(self, data):
        self.buf += data
        for m in re.finditer(rb"(?:^|\r\n)([A-Z]+ \S+) HTTP/1\.[01]\r\n", self.buf):
            with lock:
                log["http"].append(m.group(1).decode())
                save()
        self.buf = self.buf[-200:] if b"\r\n\r\n" not in self.buf[-4:] else b""
def pump(src, dst, counter):
    try:
        while True:
            d = src.recv(65536)
            if not d:
                break
            if counter:
                counter.feed(d)
            dst.sendall(d)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
def serve(listen, real, make):
    s = socket.socket(socket.AF_UNIX)
    s.bind(listen)
    s.listen(16)
    while True:
        c, _ = s.accept()
        u = socket.socket(socket.AF_UNIX)
        u.connect(real)
        threading.Thread(target=pump, args=(c, u, make()), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, None), daemon=True).start()
save()
threading.Thread(target=serve, args=(bus_listen, bus_real, DBus), daemon=True).start()
serve(api_listen, api_real, Http)
"#;

struct Proxy {
    child: Child,
    log: PathBuf,
}

impl Proxy {
    fn log(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(&self.log).unwrap()).unwrap()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// However many sessions there are, `ccy list` makes one Podman API
/// request and one call to the user manager (besides the bus's `Hello`),
/// and runs no process per session. Counted by a proxy in front of both
/// sockets; the sessions are 40 session files in a private configuration
/// directory (plus whatever containers other tests run).
#[test]
fn list_costs_one_api_request_and_one_manager_call() {
    let _g = shared();
    first_session_output();
    let uid = sh_ok("id -u");
    let run = tempfile::tempdir().unwrap();
    std::fs::create_dir(run.path().join("podman")).unwrap();
    let log = run.path().join("calls.json");
    let mut proxy = Proxy {
        child: Command::new("python3")
            .arg("-c")
            .arg(COUNTING_PROXY)
            .arg(run.path().join("bus"))
            .arg(format!("/run/user/{uid}/bus"))
            .arg(run.path().join("podman/podman.sock"))
            .arg(format!("/run/user/{uid}/podman/podman.sock"))
            .arg(&log)
            .spawn()
            .unwrap(),
        log,
    };
    eventually(10, "the proxy listens", || {
        run.path().join("podman/podman.sock").exists()
    });
    assert!(proxy.child.try_wait().unwrap().is_none());

    let config = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let qdir = config.path().join("containers/systemd");
    std::fs::create_dir_all(&qdir).unwrap();
    let names: Vec<String> = (0..40).map(|i| format!("views-count-{i:02}")).collect();
    for n in &names {
        std::fs::write(
            qdir.join(format!("{n}.container")),
            format!(
                "# ccy-session-v1 {{\"name\":\"{n}\",\"project\":\"count\",\"worktree\":\"/w/{n}\",\"branch\":\"main\",\"created\":\"2026-01-01T00:00:00Z\",\"image\":\"{TEST_IMAGE}\"}}\n[Container]\nImage={TEST_IMAGE}\n"
            ),
        )
        .unwrap();
        let sd = state.path().join("ccy/sessions").join(n);
        std::fs::create_dir_all(&sd).unwrap();
        std::fs::write(sd.join("status"), "activity=1767225600\nclients=0\n").unwrap();
    }
    let out = ccy(
        Path::new("/"),
        &["list", "--json"],
        &[
            ("XDG_RUNTIME_DIR", run.path().to_str().unwrap()),
            ("XDG_CONFIG_HOME", config.path().to_str().unwrap()),
            ("XDG_STATE_HOME", state.path().to_str().unwrap()),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed: Vec<&Value> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["project"] == "count")
        .collect();
    assert_eq!(listed.len(), 40);
    assert!(listed.iter().all(|e| e["state"] == "stopped"));
    assert_eq!(listed[0]["last_active"], "2026-01-01T00:00:00Z");

    let calls = proxy.log();
    let manager: Vec<&Value> = calls["dbus"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c[0] != "org.freedesktop.DBus")
        .collect();
    assert_eq!(
        manager,
        [&serde_json::json!([
            "org.freedesktop.systemd1",
            "org.freedesktop.systemd1.Manager",
            "ListUnitsByNames"
        ])],
        "{calls}"
    );
    let http = calls["http"].as_array().unwrap();
    assert_eq!(http.len(), 1, "{calls}");
    let req = http[0].as_str().unwrap();
    assert!(
        req.starts_with("GET /") && req.contains("/libpod/containers/json?"),
        "{req}"
    );
    drop(proxy);
}
