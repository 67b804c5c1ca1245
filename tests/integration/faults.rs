//! Faults of the stack under ccy, one test each: a failing image build,
//! Podman's socket stopped, no user bus in the environment, linger off, a
//! unit that fails to start, Podman killed during a start, a full disk
//! under the Quadlet directory, the user manager re-executed. Each checks
//! what the user sees (message, hint, exit status) and that nothing is
//! lost or left half-made.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::concurrency::{no_lock_held, no_temp_files, quadlet_accepts};
use crate::support::{
    Repo, Term, active_state, base_image, eventually, exclusive, first_session_output, home,
    inspect, q, quadlet_dir, sh, sh_ok, shared,
};

/// Runs `ccy ARGS` in `dir`, stdin not a terminal, with `env` (`None`
/// removes the variable).
fn ccy(dir: &Path, args: &[&str], env: &[(&str, Option<&str>)]) -> Output {
    let mut cmd = Command::new(crate::support::ccy_bin());
    cmd.current_dir(dir).args(args).stdin(Stdio::null());
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn all(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `ccy new -d` in `repo`: the new session's name.
fn new_session(repo: &Repo, env: &[(&str, Option<&str>)]) -> String {
    let o = ccy(&repo.dir, &["new", "-d"], env);
    assert_eq!(code(&o), 0, "{}", all(&o));
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .strip_prefix("created session ")
        .unwrap_or_else(|| panic!("{}", all(&o)))
        .to_owned()
}

/// Writes the project configuration of `repo`.
fn set_config(repo: &Repo, text: &str) {
    std::fs::write(repo.dir.join(".claude/ccy/config.toml"), text).unwrap();
}

/// Nothing of session `name` is left: no unit files, no loaded unit, no
/// container, no state volume, no state directory, no temporary file.
fn nothing_left_of(name: &str) {
    for ext in ["container", "volume"] {
        let f = quadlet_dir().join(format!("{name}.{ext}"));
        assert!(!f.exists(), "{} left behind", f.display());
    }
    for unit in [format!("{name}.service"), format!("{name}-volume.service")] {
        assert_eq!(
            sh_ok(&format!("systemctl --user show -P LoadState {unit}")),
            "not-found",
            "{unit} still loaded"
        );
    }
    assert!(
        inspect("container", name).is_none(),
        "container {name} left"
    );
    assert!(
        inspect("volume", &format!("{name}-state")).is_none(),
        "volume {name}-state left"
    );
    assert!(
        !home()
            .join(format!(".local/state/ccy/sessions/{name}"))
            .exists(),
        "state directory of {name} left"
    );
    no_temp_files(&quadlet_dir());
}

/// The names of sessions created by a failing run: they appear in its
/// messages as `ccy-<project>-<8 hex>`.
fn names_in(text: &str, project: &str) -> Vec<String> {
    let prefix = format!("ccy-{project}-");
    let mut out: Vec<String> = text
        .match_indices(&prefix)
        .map(|(i, _)| text[i..].chars().take(prefix.len() + 8).collect::<String>())
        .filter(|n| {
            n.len() == prefix.len() + 8 && n[prefix.len()..].chars().all(|c| c.is_ascii_hexdigit())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The image is missing and building it fails: the build's own output
/// (its failing step) is shown, then ccy's error with a hint, exit 4, and
/// no unit file, session or image is left.
#[test]
fn failing_image_build_shows_the_build_and_leaves_nothing() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("fault-build");
    let tmp = tempfile::tempdir().unwrap();
    set_config(
        &repo,
        &format!(
            "[image]\nname = \"localhost/ccy-test-faultbuild:latest\"\nbase = \"{}\"\nagent_install = \"echo install-step-fails-here >&2; exit 42\"\n",
            base_image()
        ),
    );
    let o = ccy(
        &repo.dir,
        &["new", "-d"],
        &[("TMPDIR", tmp.path().to_str())],
    );
    let out = all(&o);
    assert_eq!(code(&o), 4, "{out}");
    assert!(
        out.contains("building the image localhost/ccy-test-faultbuild:latest (first use)"),
        "{out}"
    );
    assert!(
        out.contains("install-step-fails-here"),
        "the build's output: {out}"
    );
    let e = err(&o);
    let last = e
        .lines()
        .rev()
        .find(|l| l.starts_with("ccy: error:"))
        .unwrap_or_else(|| panic!("{e}"));
    assert!(
        last.contains("building the image localhost/ccy-test-faultbuild:latest failed"),
        "{e}"
    );
    assert!(e.contains("hint: "), "{e}");
    assert!(repo.session_names().is_empty(), "no unit file");
    no_temp_files(&quadlet_dir());
    assert!(
        !sh("podman image exists localhost/ccy-test-faultbuild:latest")
            .status
            .success()
    );
    // The build context was a temporary directory: gone.
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ccy-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The units are written, loaded and the state volume created while the
/// image is looked at (and here built): a build that fails after all that
/// takes every part back. The session's name is in the message; its
/// volume unit ran to its end (its journal stays, and shows it), and nothing of it is
/// left: no unit files, no loaded units, no volume, no state directory, no
/// history volume for its project.
#[test]
fn failing_image_build_after_the_units_were_made_leaves_nothing() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("fault-overlap");
    let histories = || sh_ok("podman volume ls -q --filter label=ccy.history=fault-overlap");
    set_config(
        &repo,
        &format!(
            "[image]\nname = \"localhost/ccy-test-faultoverlap:latest\"\nbase = \"{}\"\nagent_install = \"sleep 2; exit 42\"\n",
            base_image()
        ),
    );
    let o = ccy(&repo.dir, &["new", "-d"], &[]);
    let out = all(&o);
    assert_eq!(code(&o), 4, "{out}");
    let e = err(&o);
    assert!(
        e.contains("building the image localhost/ccy-test-faultoverlap:latest failed"),
        "{e}"
    );
    let names = names_in(&e, "fault-overlap");
    let [name] = names.as_slice() else {
        panic!("one session name in the message: {names:?}\n{out}");
    };
    assert!(
        e.contains(&format!("ccy removed the half-made session {name} again")),
        "{e}"
    );
    let journal = sh_ok(&format!(
        "journalctl --user -q -o cat -u {}",
        q(&format!("{name}-volume.service"))
    ));
    // systemd's own line (the output of `podman volume create`, the
    // volume's name, reaches the journal through a stream and may lose its
    // unit when the process has already exited).
    assert!(
        journal.contains(&format!("Finished {name}-volume.service")),
        "the volume unit ran while the image was built: {journal:?}"
    );
    nothing_left_of(name);
    assert_eq!(histories(), "", "history volume left");
    assert!(repo.session_names().is_empty(), "no unit file");
}

/// A project Dockerfile that fails to build: ccy shows the build's output
/// and a one-line warning, and the session runs the base image (as today's
/// ccy does); the next session tries the build again.
#[test]
fn failing_project_dockerfile_falls_back_to_the_base_image() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("fault-projimg");
    std::fs::write(
        repo.dir.join(".claude/ccy/Dockerfile"),
        "ARG CCY_IMAGE\nFROM ${CCY_IMAGE}\nRUN echo project-step-fails-here >&2; exit 3\n",
    )
    .unwrap();
    let o = ccy(&repo.dir, &["new", "-d"], &[]);
    let out = all(&o);
    assert_eq!(code(&o), 0, "{out}");
    assert!(
        out.contains("project-step-fails-here"),
        "the build's output: {out}"
    );
    let e = err(&o);
    let warning: Vec<&str> = e
        .lines()
        .filter(|l| l.starts_with("ccy: warning:"))
        .collect();
    assert_eq!(warning.len(), 1, "{out}");
    assert!(
        warning[0].contains("this session runs the base image localhost/ccy-test:latest instead"),
        "{out}"
    );
    let names = repo.session_names();
    assert_eq!(names.len(), 1);
    let c = inspect("container", &names[0]).unwrap();
    crate::support::assert_runs_clean(&c, &names[0], "localhost/ccy-test:latest");
    assert!(
        !sh("podman image exists localhost/ccy-project-fault-projimg:latest")
            .status
            .success()
    );
}

/// Podman's API socket stopped (`systemctl --user stop podman.socket
/// podman.service`; the socket file stays behind): ccy starts the socket
/// unit over D-Bus and works.
#[test]
fn stopped_podman_socket_is_started_again() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("fault-sock");
    sh_ok("systemctl --user stop podman.socket podman.service");
    assert_eq!(active_state("podman.socket"), "inactive");
    let name = new_session(&repo, &[]);
    assert_eq!(active_state("podman.socket"), "active");
    assert_eq!(active_state(&format!("{name}.service")), "active");
    // And again with the socket stopped, for a verb that only reads.
    sh_ok("systemctl --user stop podman.socket podman.service");
    let o = ccy(&repo.dir, &["list"], &[]);
    assert_eq!(code(&o), 0, "{}", all(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&name),
        "{}",
        all(&o)
    );
}

/// An SSH login without the user bus in its environment (no
/// `DBUS_SESSION_BUS_ADDRESS`, no `XDG_RUNTIME_DIR`): ccy finds the user
/// manager at `/run/user/UID/bus` and creates, lists and stops sessions.
#[test]
fn no_bus_variables_in_the_environment() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("fault-nobus");
    let env = [
        ("DBUS_SESSION_BUS_ADDRESS", None),
        ("XDG_RUNTIME_DIR", None),
    ];
    let name = new_session(&repo, &env);
    assert_eq!(active_state(&format!("{name}.service")), "active");
    let o = ccy(&repo.dir, &["list"], &env);
    assert_eq!(code(&o), 0, "{}", all(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&name));
    let o = ccy(&repo.dir, &["stop", &name], &env);
    assert_eq!(code(&o), 0, "{}", all(&o));
    assert_eq!(active_state(&format!("{name}.service")), "inactive");
}

/// Linger off: creating a session turns it on through logind and says so
/// in exactly one line; the next creation says nothing about it.
#[test]
fn linger_off_is_turned_on_in_one_line() {
    let _g = exclusive();
    first_session_output();
    let user = sh_ok("id -un");
    sh_ok("loginctl disable-linger");
    assert_eq!(sh_ok(&format!("loginctl show-user {user} -P Linger")), "no");
    let repo = Repo::new("fault-lg");
    let env = [("DBUS_SESSION_BUS_ADDRESS", None)];
    let o = ccy(&repo.dir, &["new", "-d"], &env);
    assert_eq!(code(&o), 0, "{}", all(&o));
    let lines: Vec<String> = err(&o)
        .lines()
        .filter(|l| l.contains("linger"))
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 1, "{}", all(&o));
    assert!(lines[0].starts_with("ccy: enabled linger"), "{}", lines[0]);
    assert_eq!(
        sh_ok(&format!("loginctl show-user {user} -P Linger")),
        "yes"
    );
    let o = ccy(&repo.dir, &["new", "-d"], &env);
    assert_eq!(code(&o), 0, "{}", all(&o));
    assert!(!err(&o).contains("linger"), "{}", all(&o));
}

/// A unit whose container exits at once (the image's start script fails):
/// exit 4, the journal's last lines (with the script's own message) and
/// hints; the half-made session is removed again (unit files, units,
/// container, volume, state directory), its journal stays readable, and
/// after fixing the configuration `ccy` creates a working session.
#[test]
fn unit_that_exits_at_once_is_reported_and_taken_back() {
    let _g = shared();
    first_session_output();
    let image = "localhost/ccy-test-exits:latest";
    sh_ok(&format!(
        "printf 'FROM {}\\nRUN mkdir -p /etc/ccy && printf \"#!/bin/sh\\\\necho start-script-fails-here >&2\\\\nexit 3\\\\n\" > /etc/ccy/start && chmod 755 /etc/ccy/start\\n' | podman build -q -t {image} -f - /tmp >/dev/null",
        base_image()
    ));
    let repo = Repo::new("fault-exits");
    set_config(&repo, &format!("[image]\nname = \"{image}\"\n"));
    let o = ccy(&repo.dir, &[], &[]);
    let e = err(&o);
    assert_eq!(code(&o), 4, "{}", all(&o));
    assert!(e.contains("failed to start"), "{e}");
    assert!(e.contains("last lines of its journal"), "{e}");
    assert!(
        e.contains("start-script-fails-here"),
        "the journal's lines: {e}"
    );
    assert!(
        e.contains("hint: see the whole log with 'journalctl --user -u ccy-fault-exits-"),
        "{e}"
    );
    assert!(e.contains("ccy removed the half-made session"), "{e}");
    let names = names_in(&e, "fault-exits");
    assert_eq!(names.len(), 1, "{e}");
    let name = &names[0];
    assert!(repo.session_names().is_empty());
    nothing_left_of(name);
    assert!(
        !repo.dir.join(".claude/ccy/.session-id").exists(),
        "no session id for a session that is gone"
    );
    let journal = sh_ok(&format!(
        "journalctl --user --no-pager -o cat -u {name}.service"
    ));
    assert!(journal.contains("start-script-fails-here"), "{journal}");
    let failed =
        sh_ok("systemctl --user list-units --failed --plain --no-legend 'ccy-fault-exits*'");
    assert!(failed.is_empty(), "{failed}");

    // Fixed: the next ccy creates a new session that runs.
    set_config(
        &repo,
        &format!(
            "[image]\nname = \"{}\"\nbase = \"{}\"\nagent_install = \"\"\n[agent]\ncommand = [\"bash\", \"-l\"]\n",
            crate::support::TEST_IMAGE,
            base_image()
        ),
    );
    let o = ccy(&repo.dir, &[], &[]);
    assert_eq!(code(&o), 0, "{}", all(&o));
    let names = repo.session_names();
    assert_eq!(names.len(), 1);
    assert_ne!(&names[0], name);
    assert_eq!(active_state(&format!("{}.service", names[0])), "active");
}

/// The podman process of a starting unit is killed (SIGSTOP as soon as it
/// appears, so the kill lands while the start job runs, then SIGKILL): ccy
/// reports the failed start with the journal and exit 4, Quadlet's
/// clean-up leaves no container, the session's files stay; the next `ccy`
/// starts the same session again. Exclusive: it checks that no ccy lock
/// of the user is held, which another test's creation (a slow start holds
/// its name and worktree locks for up to 30 s) would break.
#[test]
fn podman_killed_during_start_then_ccy_recovers() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("fault-kill");
    let name = new_session(&repo, &[]);
    let o = ccy(&repo.dir, &["stop", &name], &[]);
    assert_eq!(code(&o), 0, "{}", all(&o));
    assert!(inspect("container", &name).is_none());

    let child = Command::new(crate::support::ccy_bin())
        .current_dir(&repo.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The unit's main process: `podman run … --name NAME …`.
    let pattern = q(&format!("^/usr/bin/podman run .*--name {name} "));
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = loop {
        let out = sh(&format!("pgrep -f {pattern}"));
        let pid = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !pid.is_empty() {
            sh(&format!("kill -STOP {pid}"));
            break pid;
        }
        assert!(Instant::now() < deadline, "podman run never appeared");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(
        active_state(&format!("{name}.service")),
        "activating",
        "the start job is running"
    );
    sh_ok(&format!("kill -KILL {pid}"));
    let o = child.wait_with_output().unwrap();
    let e = err(&o);
    assert_eq!(code(&o), 4, "{}", all(&o));
    assert!(
        e.contains(&format!("session {name} failed to start")),
        "{e}"
    );
    assert!(
        e.contains("hint: see the whole log with 'journalctl --user -u"),
        "{e}"
    );
    eventually(30, "Quadlet's clean-up removed the container", || {
        inspect("container", &name).is_none()
    });
    assert_eq!(
        repo.session_names(),
        std::slice::from_ref(&name),
        "an existing session is kept"
    );
    no_temp_files(&quadlet_dir());
    no_lock_held();

    let o = ccy(&repo.dir, &[], &[]);
    assert_eq!(code(&o), 0, "{}", all(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("running session {name}")
    );
    assert_eq!(active_state(&format!("{name}.service")), "active");
    assert_eq!(
        inspect("container", &name).unwrap()["State"]["Status"],
        "running"
    );
}

/// Unmounts the test tmpfs on drop and reloads the user manager.
struct TmpfsOver(std::path::PathBuf);

impl Drop for TmpfsOver {
    fn drop(&mut self) {
        sh(&format!(
            "sudo -n /usr/local/libexec/ccy-test-root undo {}; systemctl --user daemon-reload",
            q(self.0.to_str().unwrap())
        ));
    }
}

/// The Quadlet directory's file system fills up while ccy writes a new
/// session's units (a tmpfs with one page left: the `.volume` file fits,
/// the `.container` file does not): a clear error naming the file and the
/// cause, with a hint; the half-written session is removed (no `.volume`
/// file, no temporary file), and the worktree's existing session is
/// untouched, byte for byte, and still runs. Then, the disk quite full,
/// `ccy keep` rewriting that session's file fails the same way and leaves
/// it as it was.
#[test]
fn disk_full_while_writing_units_leaves_the_old_files_intact() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("fault-full");
    let old = new_session(&repo, &[]);
    let before: Vec<(String, Vec<u8>)> = ["container", "volume"]
        .iter()
        .map(|ext| {
            let f = format!("{old}.{ext}");
            let bytes = std::fs::read(quadlet_dir().join(&f)).unwrap();
            (f, bytes)
        })
        .collect();
    let qdir = quadlet_dir();
    sh_ok(&format!(
        "sudo -n /usr/local/libexec/ccy-test-root tmpfs-over {} 1m",
        q(qdir.to_str().unwrap())
    ));
    let undo = TmpfsOver(qdir.clone());
    // Fill it, then free exactly one page (4 KiB): the first unit file
    // fits, the second does not.
    let fill = qdir.join(".fill");
    sh(&format!(
        "dd if=/dev/zero of={} bs=4096 2>/dev/null",
        q(fill.to_str().unwrap())
    ));
    sh_ok(&format!("truncate -s -4096 {}", q(fill.to_str().unwrap())));
    let o = ccy(&repo.dir, &["new", "-d"], &[]);
    let e = err(&o);
    assert_eq!(code(&o), 1, "{}", all(&o));
    assert!(e.contains("ccy: error: cannot write "), "{e}");
    assert!(e.contains(".container"), "names the file: {e}");
    assert!(e.contains("No space left on device"), "{e}");
    assert!(e.contains("hint: check free space"), "{e}");
    let names = names_in(&e, "fault-full");
    assert_eq!(names.len(), 1, "{e}");
    nothing_left_of(&names[0]);
    for (f, bytes) in &before {
        assert_eq!(&std::fs::read(qdir.join(f)).unwrap(), bytes, "{f} changed");
    }
    assert_eq!(repo.session_names(), std::slice::from_ref(&old));
    assert_eq!(
        std::fs::read_to_string(repo.dir.join(".claude/ccy/.session-id")).unwrap(),
        format!("{old}\n")
    );
    no_lock_held();
    assert_eq!(active_state(&format!("{old}.service")), "active");

    // Rewriting an existing unit file (`ccy keep` adds a Label= line) on
    // a full file system: the old file stays as it was.
    sh(&format!(
        "dd if=/dev/zero of={} bs=4096 2>/dev/null",
        q(qdir.join(".fill2").to_str().unwrap())
    ));
    let o = ccy(&repo.dir, &["keep", &old], &[]);
    let e = err(&o);
    assert_eq!(code(&o), 1, "{}", all(&o));
    assert!(
        e.contains(&format!(
            "ccy: error: cannot write {}",
            qdir.join(format!("{old}.container")).display()
        )),
        "{e}"
    );
    assert!(e.contains("No space left on device"), "{e}");
    assert!(e.contains("the previous file, if any, is unchanged"), "{e}");
    for (f, bytes) in &before {
        assert_eq!(&std::fs::read(qdir.join(f)).unwrap(), bytes, "{f} changed");
    }
    no_temp_files(&qdir);
    drop(undo);
    quadlet_accepts(std::slice::from_ref(&old));
}

/// The user manager re-executes itself (`systemctl --user daemon-reexec`,
/// as after a systemd upgrade) while sessions run: they keep running (the
/// same containers), and ccy lists, attaches to and stops them afterwards.
#[test]
fn user_manager_reexec_keeps_sessions() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("fault-reexec");
    let a = new_session(&repo, &[]);
    let b = new_session(&repo, &[]);
    let ids: Vec<String> = [&a, &b]
        .iter()
        .map(|n| {
            inspect("container", n).unwrap()["Id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    sh_ok("systemctl --user daemon-reexec");
    eventually(30, "the user manager is back", || {
        sh("systemctl --user is-system-running")
            .status
            .code()
            .is_some()
            && active_state(&format!("{a}.service")) == "active"
    });
    for (n, id) in [&a, &b].iter().zip(&ids) {
        assert_eq!(active_state(&format!("{n}.service")), "active");
        assert_eq!(
            inspect("container", n).unwrap()["Id"].as_str().unwrap(),
            id,
            "{n}"
        );
    }
    let o = ccy(&repo.dir, &["list"], &[]);
    assert_eq!(code(&o), 0, "{}", all(&o));
    let list = String::from_utf8_lossy(&o.stdout).into_owned();
    for n in [&a, &b] {
        let line = list
            .lines()
            .find(|l| l.contains(n.as_str()))
            .unwrap_or_else(|| panic!("{list}"));
        assert!(line.contains("running"), "{line}");
    }
    let term = Term::spawn(&repo.dir, &format!("ccy attach {a}"));
    term.wait_for("root@", 60);
    term.detach();
    term.wait_for("[exited 0]", 30);
    let o = ccy(&repo.dir, &["stop", &a, &b], &[]);
    assert_eq!(code(&o), 0, "{}", all(&o));
    for n in [&a, &b] {
        assert_eq!(active_state(&format!("{n}.service")), "inactive");
        assert!(inspect("container", n).is_none());
    }
}

/// A stopped session whose extra mount's source directory has gone: the
/// start fails (exit 4, the journal names the missing path, hints), and
/// the session is kept, files and state volume, since it existed before;
/// with the directory back, the next `ccy` starts the same session.
#[test]
fn existing_session_with_a_missing_mount_source_is_kept() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("fault-mount");
    let data = tempfile::tempdir_in(home()).unwrap();
    let src = data.path().join("gone-later");
    std::fs::create_dir(&src).unwrap();
    let cfg = repo.dir.join(".claude/ccy/config.toml");
    let text = format!(
        "{}\n[session]\nmounts = [\"{}:/data\"]\n",
        std::fs::read_to_string(&cfg).unwrap(),
        src.display()
    );
    std::fs::write(&cfg, text).unwrap();
    // The project file mounts a host path: it needs the user's approval.
    let o = ccy(&repo.dir, &["trust"], &[]);
    assert_eq!(code(&o), 0, "{}", all(&o));
    let name = new_session(&repo, &[]);
    let o = ccy(&repo.dir, &["stop", &name], &[]);
    assert_eq!(code(&o), 0, "{}", all(&o));
    let files: Vec<Vec<u8>> = ["container", "volume"]
        .iter()
        .map(|ext| std::fs::read(quadlet_dir().join(format!("{name}.{ext}"))).unwrap())
        .collect();
    std::fs::remove_dir(&src).unwrap();

    let o = ccy(&repo.dir, &[], &[]);
    let e = err(&o);
    assert_eq!(code(&o), 4, "{}", all(&o));
    assert!(
        e.contains(&format!("session {name} failed to start")),
        "{e}"
    );
    assert!(e.contains("gone-later"), "the journal names the path: {e}");
    assert!(e.contains("hint: see the whole log with"), "{e}");
    assert!(!e.contains("removed the half-made session"), "{e}");
    for (ext, bytes) in ["container", "volume"].iter().zip(&files) {
        assert_eq!(
            &std::fs::read(quadlet_dir().join(format!("{name}.{ext}"))).unwrap(),
            bytes,
            "{ext} kept as it was"
        );
    }
    assert!(inspect("volume", &format!("{name}-state")).is_some());
    assert!(inspect("container", &name).is_none(), "no container left");

    std::fs::create_dir(&src).unwrap();
    let o = ccy(&repo.dir, &[], &[]);
    assert_eq!(code(&o), 0, "{}", all(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("running session {name}")
    );
    assert_eq!(active_state(&format!("{name}.service")), "active");
}

/// A unit that runs but whose tmux is not ready within ccy's 30 s (an
/// image whose start script first sleeps 40 s): exit 4 saying so, and the
/// session is kept, since it is slow rather than broken; once ready, `ccy`
/// finds it running.
#[test]
fn slow_session_missing_the_ready_deadline_is_kept() {
    let _g = shared();
    first_session_output();
    let image = "localhost/ccy-test-slow:latest";
    sh_ok(&format!(
        "printf 'FROM {}\\nRUN mv /etc/ccy/start /etc/ccy/start.real && printf \"#!/bin/sh\\\\nsleep 40\\\\nexec /etc/ccy/start.real\\\\n\" > /etc/ccy/start && chmod 755 /etc/ccy/start\\n' | podman build -q -t {image} -f - /tmp >/dev/null",
        crate::support::TEST_IMAGE
    ));
    let repo = Repo::new("fault-slow");
    let cfg = repo.dir.join(".claude/ccy/config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        &format!("name = \"{}\"", crate::support::TEST_IMAGE),
        &format!("name = \"{image}\""),
    );
    assert!(text.contains(image));
    std::fs::write(&cfg, text).unwrap();
    let o = ccy(&repo.dir, &[], &[]);
    let e = err(&o);
    assert_eq!(code(&o), 4, "{}", all(&o));
    assert!(e.contains("tmux did not report ready within 30 s"), "{e}");
    let names = repo.session_names();
    assert_eq!(names.len(), 1, "kept: {e}");
    let name = &names[0];
    assert!(
        e.contains(&format!(
            "hint: the session is still starting: attach with 'ccy attach {name}'"
        )),
        "{e}"
    );
    assert_eq!(active_state(&format!("{name}.service")), "active");
    eventually(60, "the slow session reports ready", || {
        home()
            .join(format!(".local/state/ccy/sessions/{name}/ready"))
            .exists()
    });
    let o = ccy(&repo.dir, &[], &[]);
    assert_eq!(code(&o), 0, "{}", all(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("running session {name}")
    );
}
