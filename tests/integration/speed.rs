//! The speed work's behaviour (BENCHMARKS.md): a new session's units are
//! loaded without a daemon-reload, and exactly as a reload would load them;
//! attaching uses the host's tmux client.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::{
    Repo, Term, active_state, eventually, exclusive, first_session_output, q, sh_ok, shared,
};

/// The daemon-reloads of dev's user manager requested by a process named
/// `comm` since `since` (seconds since the epoch, as `date +%s.%N`
/// prints): its journal lines "Reload requested from client PID N ('ccy')".
fn reloads_since(since: &str, comm: &str) -> usize {
    sh_ok(&format!(
        "journalctl --user -q -o cat --since @{since} | grep -c \"^Reload requested from client PID [0-9]* ('{comm}')\" || true"
    ))
    .parse()
    .unwrap()
}

/// The reloads `ccy` requested since `since`: reloads once more with
/// systemctl and waits for that in the journal first (the manager's lines
/// reach it in order, so ccy's, earlier, are there too).
fn ccy_reloads_since(since: &str) -> usize {
    sh_ok("systemctl --user daemon-reload");
    eventually(10, "systemctl's reload is in the journal", || {
        reloads_since(since, "systemctl") >= 1
    });
    reloads_since(since, "ccy")
}

/// The generated unit files and dependency link of session `name` in the
/// user manager's generator directory, and what the manager says it loaded.
fn generated(name: &str) -> (String, String, String, String) {
    let g = sh_ok("echo \"$XDG_RUNTIME_DIR/systemd/generator\"");
    let service = std::fs::read_to_string(format!("{g}/{name}.service")).unwrap();
    let volume = std::fs::read_to_string(format!("{g}/{name}-volume.service")).unwrap();
    let link = sh_ok(&format!(
        "readlink {}",
        q(&format!("{g}/default.target.wants/{name}.service"))
    ));
    let shown = sh_ok(&format!(
        "systemctl --user show -p LoadState -p FragmentPath -p SourcePath -p Requires {n}.service; \
         systemctl --user show -p LoadState -p FragmentPath -p SourcePath {n}-volume.service",
        n = q(name)
    ));
    // A dependency list's order is the manager's hash order: compare sets.
    let shown = shown
        .lines()
        .map(|l| match l.split_once('=') {
            Some(("Requires", deps)) => {
                let mut d: Vec<&str> = deps.split_whitespace().collect();
                d.sort_unstable();
                format!("Requires={}", d.join(" "))
            }
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    (service, volume, link, shown)
}

/// `ccy new` loads the session's units through Quadlet's generator run by
/// ccy, without a daemon-reload; a later real daemon-reload regenerates
/// exactly the same files and the manager loads the same unit (still
/// running).
#[test]
fn new_session_loads_without_a_reload_as_a_reload_would() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("fast-load");
    let since = sh_ok("date +%s.%N");
    sh_ok(&format!(
        "cd {} && ccy new --detach </dev/null",
        q(repo.dir.to_str().unwrap())
    ));
    let names = repo.session_names();
    let [name] = names.as_slice() else {
        panic!("{names:?}")
    };
    assert_eq!(active_state(&format!("{name}.service")), "active");

    let before = generated(name);
    assert!(
        before.3.contains("LoadState=loaded") && before.3.contains("/systemd/generator/"),
        "{}",
        before.3
    );
    sh_ok("systemctl --user daemon-reload");
    let after = generated(name);
    assert_eq!(before, after, "a daemon-reload changed the session's units");
    assert_eq!(
        ccy_reloads_since(&since),
        0,
        "ccy new reloaded the user manager"
    );
    assert_eq!(active_state(&format!("{name}.service")), "active");
}

/// `CCY_FULL_RELOAD=1` makes ccy reload the user manager instead (once).
#[test]
fn full_reload_on_request_reloads_once() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("full-reload");
    let since = sh_ok("date +%s.%N");
    sh_ok(&format!(
        "cd {} && CCY_FULL_RELOAD=1 ccy new --detach </dev/null",
        q(repo.dir.to_str().unwrap())
    ));
    let names = repo.session_names();
    assert_eq!(names.len(), 1, "{names:?}");
    assert_eq!(active_state(&format!("{}.service", names[0])), "active");
    assert_eq!(ccy_reloads_since(&since), 1);
}

/// The command line of host process `pid` (arguments joined by spaces).
fn cmdline(pid: &str) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// `ccy attach` attaches with the host's own tmux client on the session's
/// socket (a host process, no `podman exec`); without tmux on `PATH` it
/// falls back to `podman exec -it … tmux attach`.
#[test]
fn attach_uses_the_host_tmux_client_else_podman_exec() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("host-attach");
    let dir = q(repo.dir.to_str().unwrap());
    sh_ok(&format!("cd {dir} && ccy new --detach </dev/null"));
    let names = repo.session_names();
    let [name] = names.as_slice() else {
        panic!("{names:?}")
    };
    let socket =
        crate::support::home().join(format!(".local/state/ccy/sessions/{name}/tmux-0/default"));
    let sock = q(socket.to_str().unwrap());

    let term = Term::spawn(&repo.dir, &format!("ccy attach {name}"));
    term.wait_for(&format!("[ccy {name}]"), 60);
    let pid = sh_ok(&format!("tmux -S {sock} list-clients -F '#{{client_pid}}'"));
    let client = cmdline(pid.trim());
    assert!(
        client.starts_with("tmux -u -S ") && client.contains(socket.to_str().unwrap()),
        "the client is not the host's tmux: pid {pid:?} runs {client:?}"
    );
    term.detach();
    term.wait_for("[exited 0]", 30);

    // No tmux on PATH: podman exec.
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(sh_ok("command -v podman"), bin.path().join("podman")).unwrap();
    let term = Term::spawn(
        &repo.dir,
        &format!(
            "PATH={} {} attach {name}",
            q(bin.path().to_str().unwrap()),
            crate::support::ccy_bin()
        ),
    );
    term.wait_for(&format!("[ccy {name}]"), 60);
    let execs = sh_ok(&format!(
        "pgrep -f -- '^podman exec -it --detach-keys= .*{name} tmux -u .*; attach -t main' || true"
    ));
    assert!(!execs.is_empty(), "no podman exec client");
    term.detach();
    term.wait_for("[exited 0]", 30);
}
