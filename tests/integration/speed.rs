//! The speed work's behaviour (BENCHMARKS.md): a new session's units are
//! loaded without a daemon-reload, and exactly as a reload would load them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::{
    Repo, active_state, eventually, exclusive, first_session_output, q, sh_ok,
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
    assert_eq!(ccy_reloads_since(&since), 0, "ccy new reloaded the user manager");
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
