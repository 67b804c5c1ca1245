//! The agent's state (issue 13) with the test image's `bash -l` as the
//! agent: the pane fallback, the hook's record (`/etc/ccy/agent-hook`, run
//! here by hand as Claude Code would run it) in `ccy list`, `ccy status`,
//! their `--json` and the tmux status line, a hook that cannot write, and
//! `ccy idle` leaving a busy or waiting agent alone. The real Claude Code
//! driving the same hooks is in `agent.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::support::{
    Repo, active_state, ccy, eventually, first_session_output, home, new_session, q, sh, sh_ok,
    shared,
};

/// The session `name`'s object in `ccy list --json`.
fn listed(dir: &Path, name: &str) -> Value {
    let out = ccy(dir, &["list", "--json"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let all: Value = serde_json::from_str(&out.stdout).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {}", out.stdout))
        .clone()
}

/// `ccy status --json NAME`.
fn status(dir: &Path, name: &str) -> Value {
    let out = ccy(dir, &["status", "--json", name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// Runs the session's hook as Claude Code does: `agent-hook STATE EVENT`
/// with `input` on standard input; returns what it printed (stdout and
/// stderr) and its exit status. `env` goes to `podman exec -e`.
fn hook(name: &str, env: &[&str], state: &str, event: &str, input: &str) -> (String, i32) {
    let env = env
        .iter()
        .fold(String::new(), |acc, e| acc + " -e " + &q(e));
    let out = sh(&format!(
        "printf '%s' {} | podman exec -i{env} {} /etc/ccy/agent-hook {state} {event} 2>&1",
        q(input),
        q(name)
    ));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// The session's tmux status line (left part) as tmux draws it now.
fn status_left(name: &str) -> String {
    sh_ok(&format!(
        "podman exec {} tmux display -p -t main '#{{T:status-left}}'",
        q(name)
    ))
}

/// `bash -l` has no hooks: the state comes from the pane (`"source":
/// "pane"`). A hook's record replaces it in `ccy list`, `ccy status`, their
/// `--json` and the tmux status line, with the agent's message; a
/// heartbeat of the same state keeps its start; a hook that cannot write
/// (its directory gone or read-only) says nothing and exits 0. A stopped
/// session is `stopped`, and a restart drops the last run's record.
#[test]
#[allow(clippy::too_many_lines)]
fn agent_state_from_the_pane_then_from_the_hook_in_every_view() {
    let _g = shared();
    // The run's first session builds the image (session::missing_image_…).
    first_session_output();
    let repo = Repo::new("agent-state");
    let name = new_session(&repo.dir, &[]);

    // No hooks: the pane. The prompt bash printed a moment ago is output.
    eventually(30, "the pane fallback in ccy list --json", || {
        listed(&repo.dir, &name)["agent_source"] == "pane"
    });
    let e = listed(&repo.dir, &name);
    assert!(
        e["agent_state"] == "busy" || e["agent_state"] == "idle",
        "{e}"
    );
    assert!(e["agent_message"].is_null(), "{e}");
    assert!(!status_left(&name).contains("busy"), "no hook state yet");

    // The hook's record: waiting, with the permission prompt's text.
    let input = r#"{"session_id":"s1","transcript_path":"/root/.claude/t.jsonl","cwd":"/workspace","hook_event_name":"Notification","message":"Claude needs your \"permission\" to use Bash","notification_type":"permission_prompt"}"#;
    assert_eq!(
        hook(&name, &[], "waiting", "Notification", input),
        (String::new(), 0)
    );
    let e = listed(&repo.dir, &name);
    assert_eq!(e["agent_state"], "waiting", "{e}");
    assert_eq!(e["agent_source"], "hook", "{e}");
    assert_eq!(
        e["agent_message"], "Claude needs your \"permission\" to use Bash",
        "{e}"
    );
    let since = e["agent_since"].as_str().unwrap().to_owned();
    let s = status(&repo.dir, &name);
    assert_eq!(s["agent_state"], "waiting", "{s}");
    assert_eq!(s["agent_source"], "hook", "{s}");
    assert_eq!(s["agent_event"], "Notification", "{s}");
    assert_eq!(s["agent_since"], since.as_str(), "{s}");
    let line = status_left(&name);
    assert!(
        line.contains("waiting 0s") || line.contains("waiting 1s"),
        "{line}"
    );
    let table = ccy(&repo.dir, &["list"]).stdout;
    let row = table.lines().find(|l| l.starts_with(&name)).unwrap();
    assert!(row.contains(" waiting "), "{table}");
    let text = ccy(&repo.dir, &["status", &name]).stdout;
    assert!(
        text.contains("(from its hook: Notification)")
            && text.contains("Claude needs your \"permission\" to use Bash"),
        "{text}"
    );

    // The file is the contract shared with the notifier.
    let file = home().join(format!(".local/state/ccy/sessions/{name}/agent.json"));
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let mut keys: Vec<&str> = raw
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["event", "message", "since", "source", "state", "updated"],
        "{raw}"
    );
    assert_eq!(raw["source"], "hook");

    // busy, then a heartbeat two seconds later: the same since, a later
    // updated.
    assert_eq!(
        hook(&name, &[], "busy", "UserPromptSubmit", "{}"),
        (String::new(), 0)
    );
    let first: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        hook(
            &name,
            &[],
            "busy",
            "PreToolUse",
            r#"{"tool_input":{"message":"not this"}}"#
        ),
        (String::new(), 0)
    );
    let beat: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(beat["state"], "busy");
    assert_eq!(beat["since"], first["since"], "{first} then {beat}");
    assert!(
        beat["updated"].as_u64() > first["updated"].as_u64(),
        "{first} then {beat}"
    );
    assert!(beat["message"].is_null(), "{beat}");
    assert_eq!(listed(&repo.dir, &name)["agent_state"], "busy");

    // A hook that cannot write: silent, exit 0, nothing changed.
    for env in ["CCY_RUN_DIR=/nonexistent/ccy", "CCY_RUN_DIR=/proc/1"] {
        assert_eq!(
            hook(&name, &[env], "done", "Stop", "{}"),
            (String::new(), 0),
            "{env}"
        );
    }
    // Nor does it choke on arguments Claude Code would never pass.
    assert_eq!(hook(&name, &[], "sleepy", "Stop", "{}"), (String::new(), 0));
    assert_eq!(listed(&repo.dir, &name)["agent_state"], "busy");

    // Stopped: `stopped`, whatever the last record said.
    let out = ccy(&repo.dir, &["stop", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let e = listed(&repo.dir, &name);
    assert_eq!(e["agent_state"], "stopped", "{e}");
    assert!(e["agent_source"].is_null(), "{e}");
    assert_eq!(status(&repo.dir, &name)["agent_state"], "stopped");

    // Started again: the last run's record is gone; the pane again.
    sh_ok(&format!(
        "systemctl --user start {}",
        q(&format!("{name}.service"))
    ));
    eventually(30, "the pane fallback after a restart", || {
        listed(&repo.dir, &name)["agent_source"] == "pane"
    });
    assert!(!file.exists());
}

/// `ccy idle` with `stop = "3s"` and no warning leaves a session whose
/// agent is busy (a long tool call prints nothing) or waiting (a
/// permission prompt nobody answered), idle as long as they are; the
/// same session is stopped once its agent is done.
#[test]
fn idle_never_stops_a_session_whose_agent_is_busy_or_waiting() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("agent-idle");
    let cfg = repo.dir.join(".claude/ccy/config.toml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("\n[idle]\nstop = \"3s\"\nwarn = \"off\"\n");
    std::fs::write(&cfg, text).unwrap();
    let name = new_session(&repo.dir, &[]);
    let unit = format!("{name}.service");

    for state in ["busy", "waiting"] {
        assert_eq!(
            hook(&name, &[], state, "PreToolUse", "{}"),
            (String::new(), 0)
        );
        std::thread::sleep(Duration::from_secs(5));
        let out = ccy(&home(), &["idle"]);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        assert!(
            !out.stdout.contains(&format!("{name}: stop")),
            "{state}: {}",
            out.stdout
        );
        assert_eq!(active_state(&unit), "active", "stopped while {state}");
    }

    // Done: nothing holds it any more.
    assert_eq!(hook(&name, &[], "done", "Stop", "{}"), (String::new(), 0));
    let out = ccy(&home(), &["idle"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!("{name}: stop: idle for")),
        "{}",
        out.stdout
    );
    assert_eq!(active_state(&unit), "inactive");
}
