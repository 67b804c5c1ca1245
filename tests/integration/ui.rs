//! `ccy ui` (issue 14) driven in a real terminal (a tmux window of 80×24,
//! `send-keys` and `capture-pane`) against real sessions: the list, the
//! filter, stop, the removal's confirmation with what `rm` would refuse
//! for, Enter attaching and detach returning to the list with the pane's
//! preview, and another host (this guest over ssh, and the peer guest).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use crate::support::{
    HostsConfig, Repo, Term, active_state, ccy, ccy_bin, eventually, exclusive, home, hosts_toml,
    new_session, quadlet_dir, shared,
};

/// The footer's keys (`src/cmd/ui/view.rs`).
const KEYS: &str = "Enter attach  n new  s stop  d rm  k keep  / filter  ? help  q quit";

/// Whether a line of the screen is the table row of session `name` (on
/// `host` when given).
fn row<'a>(screen: &'a str, name: &str, host: Option<&str>) -> Option<&'a str> {
    screen.lines().find(|l| {
        l.starts_with(name) && host.is_none_or(|h| l.split_whitespace().nth(1) == Some(h))
    })
}

/// `ccy ui ARGS` in an 80×24 terminal in `dir`, waiting for its list.
fn ui(dir: &Path, args: &str) -> Term {
    let term = Term::spawn_sized(dir, &format!("{} ui {args}", ccy_bin()), 80, 24);
    term.wait_until("the list", 30, |s| {
        s.starts_with("ccy ui") && s.contains(KEYS)
    });
    term
}

/// Narrows the list to `text` (`/` Esc clears the filter, then `/`, the
/// text, Enter). A pause after Esc, so that it does not arrive with the
/// next key as one Alt-key sequence.
fn filter(term: &Term, text: &str) {
    term.keys(&["/"]);
    term.keys(&["Escape"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    term.keys(&["/"]);
    term.line(text);
}

/// Removes the session when the test did not (a failed test).
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if quadlet_dir().join(format!("{}.container", self.0)).exists() {
            let _ = ccy(&home(), &["rm", "--force", &self.0]);
        }
    }
}

/// The worktree `ccy list --json` gives session `name`.
fn worktree_of(dir: &Path, name: &str) -> PathBuf {
    let out = ccy(dir, &["list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let s = v
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed: {}", out.stdout));
    PathBuf::from(s["worktree"].as_str().unwrap())
}

/// The list shows the sessions; `/` narrows it; `s` stops the selected
/// one; `d` asks first, showing what `rm` would refuse for (uncommitted
/// work in the worktree ccy made), `n` keeps it, `y` removes; `q` quits
/// with status 0.
#[test]
fn list_filter_stop_and_remove_with_confirmation() {
    let _g = shared();
    let repo = Repo::new("ui-list");
    let a = new_session(&repo.dir, &[]);
    let b = new_session(&repo.dir, &[]);
    let branch = format!("ui-wt-{}", std::process::id());
    let w = new_session(&repo.dir, &["--worktree", &branch]);
    let _clean = Cleanup(w.clone());
    std::fs::write(worktree_of(&repo.dir, &w).join("ui-precious.txt"), "work\n").unwrap();

    let term = ui(&repo.dir, "--local");
    let screen = term.wait_until("both sessions", 30, |s| {
        row(s, &a, Some("local")).is_some() && row(s, &b, Some("local")).is_some()
    });
    assert!(
        row(&screen, &a, None).unwrap().contains("running"),
        "{screen}"
    );

    // The filter: a's id only.
    filter(&term, &a[a.len() - 8..]);
    let screen = term.wait_until("the filter", 10, |s| {
        row(s, &a, None).is_some() && row(s, &b, None).is_none()
    });
    assert!(
        screen.contains(&format!("filter /{}: 1 shown", &a[a.len() - 8..])),
        "{screen}"
    );

    // Stop (no client attached: no question).
    term.keys(&["s"]);
    term.wait_until("a stopped", 120, |s| {
        row(s, &a, None).is_some_and(|r| r.contains("stopped"))
    });
    assert_eq!(active_state(&format!("{a}.service")), "inactive");
    assert_eq!(active_state(&format!("{b}.service")), "active");

    // Remove: asked first; y removes it.
    term.keys(&["d"]);
    let screen = term.wait_until("the question", 60, |s| s.contains(&format!("remove {a}?")));
    assert!(screen.contains("y yes   n no"), "{screen}");
    term.keys(&["y"]);
    term.wait_until("a removed", 120, |s| {
        row(s, &a, None).is_none() && s.contains(&format!("removed {a}"))
    });
    assert!(!quadlet_dir().join(format!("{a}.container")).exists());

    // The session whose worktree has uncommitted work: rm would refuse.
    filter(&term, &w[w.len() - 8..]);
    term.wait_until("w alone", 10, |s| {
        row(s, &w, None).is_some() && row(s, &b, None).is_none()
    });
    term.keys(&["d"]);
    let screen = term.wait_until("the refusal", 60, |s| s.contains("rm would refuse"));
    assert!(screen.contains("uncommitted change"), "{screen}");
    assert!(screen.contains("ui-precious.txt"), "{screen}");
    term.keys(&["n"]);
    term.wait_until("cancelled", 10, |s| {
        s.contains("cancelled") && row(s, &w, None).is_some()
    });
    assert_eq!(active_state(&format!("{w}.service")), "active");
    term.keys(&["d"]);
    term.wait_until("the refusal again", 60, |s| s.contains("rm would refuse"));
    term.keys(&["y"]);
    term.wait_until("w removed", 120, |s| row(s, &w, None).is_none());
    assert!(!quadlet_dir().join(format!("{w}.container")).exists());

    term.keys(&["q"]);
    term.wait_for("[exited 0]", 10);
    assert_eq!(active_state(&format!("{b}.service")), "active");
}

/// Enter attaches with the host's tmux client; detaching returns to the
/// list, redrawn, with the pane's preview showing what was typed; a
/// state change shows without a key (inotify).
#[test]
fn enter_attaches_and_detaching_returns_to_the_list() {
    let _g = shared();
    let repo = Repo::new("ui-attach");
    let name = new_session(&repo.dir, &[]);
    let term = ui(&repo.dir, "--local");
    filter(&term, &name[name.len() - 8..]);
    term.wait_until("the session", 30, |s| row(s, &name, None).is_some());
    term.keys(&["Enter"]);
    term.wait_until("attached", 30, |s| !s.starts_with("ccy ui"));
    std::thread::sleep(std::time::Duration::from_secs(1));
    term.line("echo UI-$((6*7))");
    term.wait_until("the echo", 30, |s| s.contains("UI-42"));
    term.detach();
    let screen = term.wait_until("the list again", 30, |s| {
        s.starts_with("ccy ui") && s.contains(KEYS) && row(s, &name, None).is_some()
    });
    // The preview: the pane, through the tmux socket.
    eventually(10, "the preview", || term.visible().contains("UI-42"));
    assert!(!screen.contains("[exited"), "{screen}");
    // A stop from elsewhere shows without a key.
    let out = ccy(&repo.dir, &["stop", &name]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    term.wait_until("stopped without a key", 30, |s| {
        row(s, &name, None).is_some_and(|r| r.contains("stopped"))
    });
    term.keys(&["q"]);
    term.wait_for("[exited 0]", 10);
}

/// Other hosts: this guest over ssh (`self`, whose sessions are this
/// test's), the peer guest (`peer`) and one that is down. The list has
/// every host that answered and names the one that did not; a session of
/// another host is not previewed; Enter attaches over `ssh -t` and
/// detaching returns; `s` stops it there.
#[test]
fn remote_hosts_list_attach_and_stop() {
    let _g = exclusive();
    let _hosts = HostsConfig::set(&hosts_toml(5.0));
    let repo = Repo::new("ui-remote");
    let name = new_session(&repo.dir, &[]);
    let term = Term::spawn_sized(&repo.dir, &format!("{} ui --poll 1", ccy_bin()), 80, 24);
    let screen = term.wait_until("every host's answer", 60, |s| {
        s.contains("on 3 of 4 hosts") && row(s, &name, Some("self")).is_some()
    });
    assert!(screen.contains("down: unreachable"), "{screen}");
    assert!(row(&screen, &name, Some("local")).is_some(), "{screen}");

    filter(&term, "self");
    term.wait_until("self's rows", 10, |s| {
        row(s, &name, Some("self")).is_some() && row(s, &name, Some("local")).is_none()
    });
    filter(&term, &name[name.len() - 8..]);
    // Both rows of the session match; self's comes second.
    term.wait_until("both rows", 10, |s| {
        row(s, &name, Some("self")).is_some() && row(s, &name, Some("local")).is_some()
    });
    term.keys(&["Down"]);
    term.wait_until("no preview for another host", 10, |s| {
        s.contains("no preview for a session on another host")
    });

    term.keys(&["Enter"]);
    term.wait_until("attached over ssh", 30, |s| !s.starts_with("ccy ui"));
    std::thread::sleep(std::time::Duration::from_secs(1));
    term.line("echo REMOTE-UI-$((6*7))");
    term.wait_until("the echo", 30, |s| s.contains("REMOTE-UI-42"));
    term.detach();
    term.wait_until("the list again", 30, |s| {
        s.contains(KEYS) && row(s, &name, Some("self")).is_some()
    });

    // Stop it there (its client may still count: then a question).
    term.keys(&["s"]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    if term.visible().contains("y yes   n no") {
        term.keys(&["y"]);
    }
    term.wait_until("stopped on self", 120, |s| {
        row(s, &name, Some("self")).is_some_and(|r| r.contains("stopped"))
    });
    assert_eq!(active_state(&format!("{name}.service")), "inactive");
    term.keys(&["q"]);
    term.wait_for("[exited 0]", 10);
}

/// Clock ticks (`utime + stime`, `proc_pid_stat(5)`) process `pid` used.
fn cpu_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// While nothing changes, `ccy ui` sleeps in poll(2): no timer, no
/// polling of this machine (the suite's other tests are held off, so that
/// nothing changes; at most 1 tick is allowed, as for the notifier).
#[test]
fn idle_ui_takes_no_cpu_while_nothing_changes() {
    let _g = exclusive();
    let repo = Repo::new("ui-idle");
    let name = new_session(&repo.dir, &[]);
    let term = ui(&repo.dir, "--local");
    term.wait_until("the session", 30, |s| row(s, &name, None).is_some());
    let shell = term.format("#{pane_pid}");
    let pid = crate::support::sh_ok(&format!("pgrep -P {} -x ccy", shell.trim()));
    let pid = pid.trim();
    assert!(!pid.is_empty(), "no ccy ui process under {shell}");
    std::thread::sleep(std::time::Duration::from_secs(5));
    let before = cpu_ticks(pid);
    std::thread::sleep(std::time::Duration::from_secs(60));
    let used = cpu_ticks(pid) - before;
    assert!(
        used <= 1,
        "ccy ui used {used} clock ticks in 60 s while idle"
    );
    // And it still answers.
    term.keys(&["q"]);
    term.wait_for("[exited 0]", 10);
}
