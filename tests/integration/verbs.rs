//! The session-changing verbs: `ccy new` (several sessions per worktree,
//! `--worktree`), `ccy` choosing among several, `attach`, `stop`, `rm`,
//! `shell`, `logs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use crate::support::{
    Repo, Term, active_state, ccy, eventually, exclusive, first_session_output, home, inspect,
    load_state, marker, new_session, q, quadlet_dir, reloads_by, sh, sh_ok, shared,
};

/// Tears down, when dropped, the sessions of a worktree that is not a
/// [`Repo`]'s own (a linked worktree), as `Repo` does for its own. Declare
/// it after the `Repo` so it runs first.
struct LinkedSessions(PathBuf);

impl Drop for LinkedSessions {
    fn drop(&mut self) {
        let needle = serde_json::to_string(self.0.to_str().unwrap()).unwrap();
        let Ok(entries) = std::fs::read_dir(quadlet_dir()) else {
            return;
        };
        for e in entries.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if !text
                .lines()
                .any(|l| l.starts_with("# ccy-session-v1 ") && l.contains(&needle))
            {
                continue;
            }
            let n = e.path().file_stem().unwrap().to_string_lossy().into_owned();
            sh(&format!(
                "systemctl --user stop {n}.service {n}-volume.service; \
                 rm -f {dir}/{n}.container {dir}/{n}.volume; podman volume rm -f {n}-state",
                n = q(&n),
                dir = q(quadlet_dir().to_str().unwrap())
            ));
        }
    }
}

/// The tmux clients attached to `name`'s session `main`.
fn clients(name: &str) -> usize {
    let out = sh(&format!(
        "podman exec {} tmux list-clients -t main",
        q(name)
    ));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .count()
}

fn label(name: &str, key: &str) -> String {
    inspect("container", name).unwrap()["Config"]["Labels"][key]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Two `ccy new` in one repository make two units and containers for the
/// worktree; `ccy` there then attaches to the one `.session-id` names (the
/// last used) and says in one line that `ccy attach` picks another. When
/// `.session-id` names neither, it errors with both names without a
/// terminal, and on a terminal lists them and attaches to the one chosen.
#[test]
fn two_sessions_in_one_worktree_last_used_wins_else_ccy_asks_which() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("two-agents");
    let a = new_session(&repo.dir, &[]);
    // Without -d and without a terminal: created, not attached, said so.
    let out = ccy(&repo.dir, &["new"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("not attaching"), "{}", out.stderr);
    let b = out
        .stdout
        .trim()
        .strip_prefix("created session ")
        .unwrap()
        .to_owned();
    assert_ne!(a, b);
    assert!(a.starts_with("ccy-two-agents-") && b.starts_with("ccy-two-agents-"));
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(repo.session_names(), both);
    let mut containers = repo.containers();
    containers.sort();
    assert_eq!(containers, both, "both containers carry the worktree label");
    for n in &both {
        assert_eq!(active_state(&format!("{n}.service")), "active");
        assert_eq!(label(n, "ccy.worktree"), repo.dir.to_str().unwrap());
    }

    // `.session-id` names the last one created: `ccy` takes it.
    let session_id = repo.dir.join(".claude/ccy/.session-id");
    assert_eq!(std::fs::read_to_string(&session_id).unwrap().trim(), b);
    let line = format!(
        "ccy: this worktree has 2 sessions; attaching to {b}, the last one used ('ccy attach' picks another)"
    );
    let out = ccy(&repo.dir, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains(&line), "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("this worktree has").count(),
        1,
        "{}",
        out.stderr
    );
    let term = Term::spawn(&repo.dir, "ccy");
    term.wait_for("root@", 60);
    eventually(20, "the last used session has the client", || {
        clients(&b) == 1
    });
    assert_eq!(clients(&a), 0, "the other one has none");
    term.detach();
    // Back from tmux's alternate screen: what ccy printed before attaching.
    let screen = term.wait_for("[exited 0]", 30);
    assert!(screen.contains(&line), "{screen}");
    assert!(!screen.contains("attach to which?"), "{screen}");
    drop(term);
    eventually(20, "the client is gone", || clients(&b) == 0);

    // `.session-id` names neither: ccy cannot tell, so it asks.
    std::fs::remove_file(&session_id).unwrap();
    let out = ccy(&repo.dir, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("this worktree has 2 sessions"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&both[0]) && out.stderr.contains(&both[1]),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: attach to one with 'ccy attach NAME'"),
        "{}",
        out.stderr
    );

    let term = Term::spawn(&repo.dir, "ccy");
    let screen = term.wait_for("number [1-2]:", 30);
    assert!(screen.contains("attach to which?"), "{screen}");
    assert!(screen.contains(&format!("1) {}", both[0])), "{screen}");
    assert!(screen.contains(&format!("2) {}", both[1])), "{screen}");
    term.line("2");
    term.wait_for("root@", 60);
    eventually(20, "the chosen session has the client", || {
        clients(&both[1]) == 1
    });
    assert_eq!(clients(&both[0]), 0, "the other one has none");
}

/// A user-chosen name works once; taken names (unit file, container,
/// loaded unit) and invalid ones are refused with the reason.
#[test]
fn taken_and_invalid_names_are_refused() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("naming");
    let id = std::process::id();
    let mine = format!("mine-{id}");
    assert_eq!(new_session(&repo.dir, &[&mine]), mine);
    assert_eq!(label(&mine, "ccy.project"), "naming");

    let out = ccy(&repo.dir, &["new", "-d", &mine]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "the name {mine} is taken: the unit file ~/.config/containers/systemd/{mine}.container exists"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "hint: it is a ccy session: attach with 'ccy attach {mine}'"
        )),
        "{}",
        out.stderr
    );

    // A container of that name that is not a session.
    let other = format!("plain-{id}");
    sh_ok(&format!(
        "podman create --name {other} {} true",
        crate::support::base_image()
    ));
    let out = ccy(&repo.dir, &["new", "-d", &other]);
    sh(&format!("podman rm -f {other}"));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("a container named {other} exists")),
        "{}",
        out.stderr
    );

    // A loaded unit of that name (a transient one).
    let unit = format!("unit-{id}");
    sh_ok(&format!("systemd-run --user --unit {unit} sleep 300"));
    let out = ccy(&repo.dir, &["new", "-d", &unit]);
    sh(&format!("systemctl --user stop {unit}.service"));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("your user manager has a unit {unit}.service")),
        "{}",
        out.stderr
    );

    for bad in ["a b", "x.y"] {
        let out = ccy(&repo.dir, &["new", "-d", bad]);
        assert_eq!(out.code, 2, "{bad}: {}", out.stderr);
        assert!(
            out.stderr
                .contains(&format!("invalid session name {bad:?}")),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("hint: "), "{}", out.stderr);
    }
    // A leading '-' is an option to the command line, refused there.
    let out = ccy(&repo.dir, &["new", "-d", "-x"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        repo.session_names(),
        std::slice::from_ref(&mine),
        "nothing else was made"
    );
    assert!(!quadlet_dir().join(format!("{other}.container")).exists());
    assert!(!quadlet_dir().join(format!("{unit}.container")).exists());
}

/// `--worktree BRANCH` makes a git worktree next to the repository and the
/// session runs there; the session's metadata records it.
#[test]
fn new_with_worktree_creates_a_git_worktree() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("wtrepo");
    let linked = repo.dir.parent().unwrap().join("wtrepo-feat-x");
    let _l = LinkedSessions(linked.clone());
    let _o = LinkedSessions(repo.dir.parent().unwrap().join("wtrepo-old"));
    let name = new_session(&repo.dir, &["--worktree", "feat-x"]);
    assert!(
        linked.join(".git").is_file(),
        "a linked worktree at {linked:?}"
    );
    let list = sh_ok(&format!(
        "git -C {} worktree list",
        q(repo.dir.to_str().unwrap())
    ));
    assert!(
        list.lines()
            .any(|l| l.starts_with(linked.to_str().unwrap()) && l.ends_with("[feat-x]")),
        "{list}"
    );
    assert_eq!(label(&name, "ccy.worktree"), linked.to_str().unwrap());
    assert_eq!(label(&name, "ccy.branch"), "feat-x");
    assert_eq!(label(&name, "ccy.project"), "wtrepo");
    let unit = std::fs::read_to_string(quadlet_dir().join(format!("{name}.container"))).unwrap();
    assert!(
        unit.contains(r#""created_worktree":{"branch":"feat-x","new_branch":true}"#),
        "{unit}"
    );
    // The session's /workspace is the new worktree.
    let out = ccy(&repo.dir, &["shell", &name, "--", "cat", "/workspace/.git"]);
    assert!(
        out.stdout.starts_with("gitdir: "),
        "{}{}",
        out.stdout,
        out.stderr
    );

    // The same branch again: its directory exists.
    let out = ccy(&repo.dir, &["new", "-d", "--worktree", "feat-x"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("it already exists"), "{}", out.stderr);
    // An existing branch that is checked out elsewhere is refused; one that
    // is not is checked out.
    let out = ccy(&repo.dir, &["new", "-d", "--worktree", "main"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("branch main is already checked out in"),
        "{}",
        out.stderr
    );
    sh_ok(&format!(
        "git -C {} branch old",
        q(repo.dir.to_str().unwrap())
    ));
    let old = new_session(&repo.dir, &["--worktree", "old"]);
    assert_eq!(label(&old, "ccy.branch"), "old");
    let unit = std::fs::read_to_string(quadlet_dir().join(format!("{old}.container"))).unwrap();
    assert!(
        unit.contains(r#""created_worktree":{"branch":"old","new_branch":false}"#),
        "{unit}"
    );

    // rm removes the clean git worktree (its branch has nothing beyond
    // main), keeping the branch; see prune::created_worktrees_go_only_when_clean_and_merged.
    let out = ccy(&repo.dir, &["rm", &name]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("git worktree"), "{}", out.stdout);
    assert!(!linked.exists());
}

/// ccy in an existing linked worktree (`.git` is a file there) makes a
/// session for that worktree, named after the main repository.
#[test]
fn ccy_in_a_linked_worktree() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("linkrepo");
    let linked = repo.dir.parent().unwrap().join("elsewhere");
    let _l = LinkedSessions(linked.clone());
    sh_ok(&format!(
        "git -C {} worktree add -q -b side {}",
        q(repo.dir.to_str().unwrap()),
        q(linked.to_str().unwrap())
    ));
    let linked = std::fs::canonicalize(linked).unwrap();
    let term = Term::spawn(&linked, "ccy");
    term.wait_for("root@", 120);
    let names: Vec<String> = std::fs::read_dir(quadlet_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ccy-linkrepo-") && n.ends_with(".container"))
        .map(|n| n.trim_end_matches(".container").to_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    assert_eq!(label(name, "ccy.worktree"), linked.to_str().unwrap());
    assert_eq!(label(name, "ccy.branch"), "side");
    assert_eq!(label(name, "ccy.project"), "linkrepo");
    assert!(repo.session_names().is_empty(), "not the main worktree's");
    term.line("cat /workspace/.git");
    term.wait_for("\ngitdir: ", 10);
    // git works in the container: the common git directory is mounted at
    // the path the .git file names, and a commit made there is the host's.
    let m = marker("linked-commit");
    term.line(&format!(
        "git -c user.name=t -c user.email=t@t commit -q --allow-empty -m {m} && git status --short --branch && echo ok-$((6*7))"
    ));
    term.wait_for("ok-42", 20);
    let log = std::process::Command::new("git")
        .args(["-C", linked.to_str().unwrap(), "log", "-1", "--format=%s"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&log.stdout).trim(), m);
    term.line("echo $GIT_CONFIG_KEY_0=$GIT_CONFIG_VALUE_0");
    term.wait_for("\ngc.worktreePruneExpire=never", 10);
}

/// `attach` by id and by prefix; `--read-only` keeps keys from the pane;
/// `--exclusive` detaches the other clients.
#[test]
fn attach_by_id_and_prefix_read_only_and_exclusive() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("attachme");
    let name = new_session(&repo.dir, &[]);
    let id = name.rsplit('-').next().unwrap().to_owned();
    assert_eq!(id.len(), 8);
    let by_short_id = ccy(&repo.dir, &["status", "--json", &id[..5]]);
    assert_eq!(by_short_id.code, 0, "{}", by_short_id.stderr);
    assert!(by_short_id.stdout.contains(&name), "{}", by_short_id.stdout);

    let a = Term::spawn(&repo.dir, &format!("ccy attach {id}"));
    a.wait_for("root@", 60);
    let m = marker("shared");
    a.line(&format!("echo {m}"));
    a.wait_for(&format!("\n{m}"), 10);

    let ro = Term::spawn(&repo.dir, "ccy attach --read-only attachme");
    ro.wait_for(&m, 60);
    eventually(20, "two clients", || clients(&name) == 2);
    let typed = marker("typed-ro");
    ro.line(&format!("echo {typed}"));
    let after = marker("after");
    a.line(&format!("echo {after}"));
    a.wait_for(&format!("\n{after}"), 10);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !a.screen().contains(&typed),
        "read-only keys reached the pane:\n{}",
        a.screen()
    );

    let ex = Term::spawn(&repo.dir, &format!("ccy attach --exclusive {name}"));
    ex.wait_for(&after, 60);
    a.wait_for("[exited 0]", 20);
    ro.wait_for("[exited 0]", 20);
    eventually(20, "only the exclusive client", || clients(&name) == 1);
}

/// `attach` starts a stopped session first.
#[test]
fn attach_starts_a_stopped_session() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("wakeup");
    let name = new_session(&repo.dir, &[]);
    sh_ok(&format!("systemctl --user stop {name}.service"));
    assert_eq!(active_state(&format!("{name}.service")), "inactive");
    let term = Term::spawn(&repo.dir, &format!("ccy attach {name}"));
    term.wait_for("root@", 60);
    assert_eq!(active_state(&format!("{name}.service")), "active");
    assert_eq!(clients(&name), 1);
    term.detach();
    let screen = term.wait_for("[exited 0]", 20);
    assert!(
        screen.contains(&format!("ccy: started session {name}")),
        "{screen}"
    );
}

/// `stop`: unit inactive, container gone, volume kept; with a client
/// attached and no terminal it is refused unless --force; without NAME it
/// stops the worktree's sessions.
#[test]
fn stop_keeps_the_volume_and_respects_attached_clients() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("stopper");
    let name = new_session(&repo.dir, &[]);
    let out = ccy(&home(), &["stop", &name]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), format!("stopped {name}"));
    assert_eq!(active_state(&format!("{name}.service")), "inactive");
    assert!(inspect("container", &name).is_none());
    assert!(inspect("volume", &format!("{name}-state")).is_some());
    assert!(quadlet_dir().join(format!("{name}.container")).exists());
    let out = ccy(&home(), &["stop", &name]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), format!("{name} is already stopped"));

    let term = Term::spawn(&repo.dir, &format!("ccy attach {name}"));
    term.wait_for("root@", 60);
    let status = crate::support::home()
        .join(".local/state/ccy/sessions")
        .join(&name)
        .join("status");
    eventually(20, "the status file counts the client", || {
        std::fs::read_to_string(&status).is_ok_and(|s| s.contains("clients=1"))
    });
    let out = ccy(&home(), &["stop", &name]);
    assert_eq!(out.code, 6, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "session {name} has 1 attached client: not stopping it"
        )),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    assert_eq!(active_state(&format!("{name}.service")), "active");
    // rm asks the same question.
    let out = ccy(&home(), &["rm", &name]);
    assert_eq!(out.code, 6, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("not removing it"), "{}", out.stderr);
    assert!(quadlet_dir().join(format!("{name}.container")).exists());
    assert_eq!(active_state(&format!("{name}.service")), "active");
    let out = ccy(&repo.dir, &["stop", "--force"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), format!("stopped {name}"));
    assert_eq!(active_state(&format!("{name}.service")), "inactive");
    term.wait_for("[exited", 20);
}

/// `stop --all` stops every running session (exclusive: it would stop
/// other tests' sessions).
#[test]
fn stop_all_stops_every_running_session() {
    let _g = exclusive();
    first_session_output();
    let r1 = Repo::new("all-one");
    let r2 = Repo::new("all-two");
    let a = new_session(&r1.dir, &[]);
    let b = new_session(&r2.dir, &[]);
    let out = ccy(&home(), &["stop", "--all"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!("stopped {a}\n")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("stopped {b}\n")),
        "{}",
        out.stdout
    );
    for n in [&a, &b] {
        assert_eq!(active_state(&format!("{n}.service")), "inactive");
    }
    let running = sh_ok("podman ps --filter label=ccy.project --format '{{.Names}}'");
    assert_eq!(running, "", "no session container runs");
    let out = ccy(&home(), &["stop", "--all"]);
    assert_eq!(out.stdout.trim(), "no running sessions");
}

/// `rm`: unit files and state gone, units not found, volumes kept unless
/// --volumes, `.session-id` removed when it names the session; several
/// names reload the user manager once.
#[test]
fn rm_removes_units_and_state_with_one_reload() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("remover");
    let a = new_session(&repo.dir, &[]);
    let b = new_session(&repo.dir, &[]);
    let id_file = repo.dir.join(".claude/ccy/.session-id");
    assert_eq!(std::fs::read_to_string(&id_file).unwrap().trim(), b);
    sh_ok(&format!("systemctl --user stop {a}.service"));

    // Without NAME in a worktree with two sessions: refused, nothing done.
    let out = ccy(&repo.dir, &["rm"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("name the ones to remove"),
        "{}",
        out.stderr
    );

    let out = ccy(&home(), &["rm", &a, &b]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for n in [&a, &b] {
        assert!(!quadlet_dir().join(format!("{n}.container")).exists());
        assert!(!quadlet_dir().join(format!("{n}.volume")).exists());
        assert_eq!(load_state(&format!("{n}.service")), "not-found");
        assert_eq!(load_state(&format!("{n}-volume.service")), "not-found");
        assert!(inspect("container", n).is_none());
        assert!(
            inspect("volume", &format!("{n}-state")).is_some(),
            "volume kept"
        );
        assert!(!home().join(".local/state/ccy/sessions").join(n).exists());
        assert!(
            out.stdout.contains(&format!(
                "  kept volume {n}-state (use --volumes to remove it)"
            )),
            "{}",
            out.stdout
        );
    }
    assert!(
        out.stdout.contains(&format!("stopped {b}")),
        "{}",
        out.stdout
    );
    assert!(!id_file.exists(), ".session-id named {b}");
    // Exactly one daemon-reload for both (the journal may lag a little).
    eventually(10, "the reload is in the journal", || {
        reloads_by(out.pid) >= 1
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(reloads_by(out.pid), 1);
    sh(&format!("podman volume rm {a}-state {b}-state"));

    let c = new_session(&repo.dir, &[]);
    let out = ccy(&repo.dir, &["rm", "--volumes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        inspect("volume", &format!("{c}-state")).is_none(),
        "volume removed"
    );
    assert!(
        out.stdout.contains(&format!("volume {c}-state")),
        "{}",
        out.stdout
    );
    assert!(repo.session_names().is_empty());
    let out = ccy(&home(), &["rm", &c]);
    assert_eq!(out.code, 5, "{}", out.stderr);
}

/// `shell NAME -- CMD` runs CMD in the container (not the pane), starting
/// a stopped session; without CMD a login shell in /workspace.
#[test]
fn shell_runs_commands_in_the_container() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("sheller");
    let name = new_session(&repo.dir, &[]);
    let hostname = inspect("container", &name).unwrap()["Config"]["Hostname"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = ccy(&repo.dir, &["shell", &name, "--", "cat", "/etc/hostname"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), hostname);
    let out = ccy(&repo.dir, &["shell", &name, "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.code, 7, "the command's exit status");

    sh_ok(&format!("systemctl --user stop {name}.service"));
    let out = ccy(&repo.dir, &["shell", &name, "--", "pwd"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "/workspace");
    assert!(
        out.stderr.contains(&format!("started session {name}")),
        "{}",
        out.stderr
    );

    let term = Term::spawn(&repo.dir, &format!("ccy shell {name}"));
    let m = marker("sh");
    term.wait_for("root@", 30);
    term.line(&format!("echo $0-{m}; pwd"));
    term.wait_for(&format!("bash-{m}\n/workspace"), 10);
    assert_eq!(clients(&name), 0, "not a tmux client");
}

/// `logs -n N` shows the unit's journal; `-f` follows it.
#[test]
fn logs_show_and_follow_the_units_journal() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("logger");
    let name = new_session(&repo.dir, &[]);
    let out = ccy(&repo.dir, &["logs", "-n", "5", &name]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(!lines.is_empty() && lines.len() <= 5, "{}", out.stdout);
    let want = sh_ok(&format!(
        "journalctl --user --no-pager -n 5 -u {name}.service"
    ));
    assert_eq!(out.stdout.trim(), want, "the unit's own journal");
    let all = ccy(&repo.dir, &["logs", &name]).stdout;
    assert!(
        all.contains(&format!("Started {name}.service - ccy session {name}.")),
        "{all}"
    );

    let term = Term::spawn(&repo.dir, &format!("ccy logs -f -n 1 {name}"));
    std::thread::sleep(std::time::Duration::from_millis(500));
    sh_ok(&format!("systemctl --user stop {name}.service"));
    term.wait_for(&format!("Stopped {name}.service - ccy session {name}."), 20);
    sh_ok(&format!("systemctl --user start {name}.service"));
    let screen = term.wait_for(&format!("Started {name}.service"), 20);
    assert!(!screen.contains("[exited"), "still following: {screen}");

    // Unknown session: not found, with a hint.
    let out = ccy(&repo.dir, &["logs", "no-such-session-anywhere"]);
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains("hint: "), "{}", out.stderr);
}
