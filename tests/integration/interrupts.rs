//! Issue 12, item 7: a stop signal (SIGINT, SIGTERM) while `ccy new -d`
//! makes a session is handled like a failure. Whenever it arrives, what is
//! left afterwards is either nothing (no unit file, no loaded unit, no
//! state directory, no volume, no secret) or a complete session that `ccy
//! list` shows, runs, and that ccy's output named. Before, a signal at
//! 60-70 ms left unit files whose units were not loaded, and at
//! 90-250 ms ccy exited 130 silently with a complete session.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{
    Repo, active_state, ccy, ccy_bin, exclusive, first_session_output, home, load_state,
    quadlet_dir, sh_ok,
};

/// The names of the ccy token secrets and of the volumes, to compare
/// before and after.
fn secrets_and_volumes() -> (String, String) {
    (
        sh_ok("podman secret ls --format '{{.Name}}' | sort"),
        sh_ok("podman volume ls -q | sort"),
    )
}

/// Runs `ccy ARGS(name)` in `repo` once per delay, sends SIGINT or SIGTERM
/// (in turn) after that many ms, and checks that what is left is either
/// nothing of session `name` or the whole session, announced on stdout
/// with `announce` (`created session`, `imported session`), listed,
/// running and answering; a whole session is removed again. `before` is
/// the secrets and volumes that must be all there is when nothing is left.
/// Returns how many runs left nothing and how many a whole session.
fn signal_each_delay(
    repo: &Repo,
    delays_ms: &[u64],
    tag: &str,
    args: impl Fn(&str) -> Vec<String>,
    announce: &str,
    before: &(String, String),
) -> (u32, u32) {
    let (mut none, mut whole) = (0, 0);
    for (i, ms) in delays_ms.iter().enumerate() {
        let name = format!("{tag}-{}-{i}", std::process::id());
        let signal = if i % 2 == 0 { "INT" } else { "TERM" };
        let child = Command::new(ccy_bin())
            .args(args(&name))
            .current_dir(&repo.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(*ms));
        sh_ok(&format!(
            "kill -{signal} {} 2>/dev/null || true",
            child.id()
        ));
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let what = format!(
            "SIG{signal} after {ms} ms: {:?}\nstdout: {stdout}\nstderr: {stderr}",
            out.status
        );
        assert!(!stderr.contains("panicked"), "{what}");
        let unit_file = quadlet_dir().join(format!("{name}.container"));
        let state_dir = home().join(".local/state/ccy/sessions").join(&name);
        if unit_file.exists() {
            // A whole session: said so, listed, running.
            whole += 1;
            assert!(
                stdout.contains(&format!("{announce} {name}")),
                "a session was made but not announced; {what}"
            );
            assert!(matches!(out.status.code(), Some(0 | 130)), "{what}");
            let list = ccy(&repo.dir, &["list"]);
            assert!(
                list.stdout.contains(&name),
                "not listed: {}; {what}",
                list.stdout
            );
            assert_eq!(active_state(&format!("{name}.service")), "active", "{what}");
            let shell = ccy(&repo.dir, &["shell", &name, "--", "echo", "alive"]);
            assert!(
                shell.stdout.contains("alive"),
                "{}{}; {what}",
                shell.stdout,
                shell.stderr
            );
            let rm = ccy(&repo.dir, &["rm", "--force", "--volumes", &name]);
            assert_eq!(rm.code, 0, "{}{}; {what}", rm.stdout, rm.stderr);
        } else {
            // Nothing at all.
            none += 1;
            assert_ne!(
                out.status.code(),
                Some(0),
                "exit 0 without a session; {what}"
            );
            assert!(
                !quadlet_dir().join(format!("{name}.volume")).exists(),
                "a .volume file without its .container; {what}"
            );
            assert!(!state_dir.exists(), "state directory left; {what}");
            assert_eq!(
                load_state(&format!("{name}.service")),
                "not-found",
                "{what}"
            );
            assert_eq!(
                load_state(&format!("{name}-volume.service")),
                "not-found",
                "{what}"
            );
            assert_eq!(
                &secrets_and_volumes(),
                before,
                "a secret or volume left; {what}"
            );
            assert!(
                !stdout.contains(announce),
                "announced a session that is not there; {what}"
            );
        }
    }
    (none, whole)
}

/// Fifteen signals at delays from 10 ms to 1.5 s into `ccy new -d NAME`,
/// SIGINT and SIGTERM in turn; after each, nothing or a whole session.
#[test]
fn a_signal_during_new_leaves_nothing_or_a_whole_session() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("interrupt");
    // The project's history volume exists from the start, so "no volume"
    // below means: none of this session.
    let keep = crate::support::new_session(&repo.dir, &[]);
    let before = secrets_and_volumes();
    let delays_ms = [
        10, 30, 50, 60, 65, 70, 80, 90, 120, 160, 200, 250, 400, 800, 1500,
    ];
    let (none, whole) = signal_each_delay(
        &repo,
        &delays_ms,
        "intr",
        |name| vec!["new".into(), "-d".into(), name.into()],
        "created session",
        &before,
    );
    eprintln!("interrupts: {none} left nothing, {whole} a whole session");
    ccy(&repo.dir, &["rm", "--force", "--volumes", &keep]);
}

/// The same for `ccy import --yes`: a signal at any moment after the
/// approval leaves nothing of the imported session (its volume, filled
/// from the archive, included) or the whole session, said so on stdout
/// ("imported session NAME"), listed and running.
#[test]
fn a_signal_during_import_leaves_nothing_or_a_whole_session() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("intr-import");
    let src = crate::support::new_session(&repo.dir, &[]);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("src.tar");
    let archive = archive.to_str().unwrap();
    let out = ccy(&repo.dir, &["export", &src, archive]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let before = secrets_and_volumes();
    let (none, whole) = signal_each_delay(
        &repo,
        &[20, 60, 100, 150, 200, 300, 500, 900],
        "intr-imp",
        |name| vec!["import".into(), archive.into(), name.into(), "--yes".into()],
        "imported session",
        &before,
    );
    eprintln!("import interrupts: {none} left nothing, {whole} a whole session");
    ccy(&repo.dir, &["rm", "--force", "--volumes", &src]);
}
