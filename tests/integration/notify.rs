//! `ccy-notify.service` (issue 13, notifications): the real service in
//! the user manager, a real notification server on dev's session bus
//! (a small `org.freedesktop.Notifications` written here with zbus that
//! records each `Notify`), real sessions whose `agent.json` the tests
//! write by hand (the contract the agent's hooks write to), and real tmux
//! clients.
//!
//! The tests share the bus name and the service, so they run one at a
//! time ([`SERIAL`]).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unused_self,
    clippy::used_underscore_binding
)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::support::*;

/// One notifier test at a time: they share the bus name and the service.
static SERIAL: Mutex<()> = Mutex::new(());

/// One recorded `Notify` call: `(summary, body)`.
type Call = (String, String);

struct Server {
    calls: Arc<Mutex<Vec<Call>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut calls = self.calls.lock().unwrap();
        calls.push((summary, body));
        u32::try_from(calls.len()).unwrap()
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".to_owned()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "ccy-test".to_owned(),
            "ccy".to_owned(),
            "0".to_owned(),
            "1.2".to_owned(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}

/// The fake notification server: owns `org.freedesktop.Notifications` on
/// dev's session bus until dropped.
struct FakeNotifications {
    calls: Arc<Mutex<Vec<Call>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeNotifications {
    fn start() -> Self {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let server = Server {
            calls: calls.clone(),
        };
        let address = format!(
            "unix:path={}/bus",
            std::env::var("XDG_RUNTIME_DIR").unwrap()
        );
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let conn = zbus::connection::Builder::address(address.as_str())
                    .serve_at("/org/freedesktop/Notifications", server)
                    .name("org.freedesktop.Notifications")
                    .build()
                    .await;
                match conn {
                    Ok(conn) => {
                        ready_tx.send(Ok(())).unwrap();
                        let _ = stopped.await;
                        drop(conn);
                    }
                    Err(e) => ready_tx.send(Err(e.to_string())).unwrap(),
                }
            });
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap()
            .expect("own org.freedesktop.Notifications on the session bus");
        Self {
            calls,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The calls whose summary names session `name`.
    fn calls_for(&self, name: &str) -> Vec<Call> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(s, _)| s.contains(name))
            .cloned()
            .collect()
    }

    /// Waits up to `secs` for `n` calls naming `name`, returns them.
    fn wait_for(&self, name: &str, n: usize, secs: u64) -> Vec<Call> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let calls = self.calls_for(name);
            if calls.len() >= n || Instant::now() > deadline {
                return calls;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for FakeNotifications {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `ccy notify enable` (the real service); `ccy notify disable` when
/// dropped.
struct Notifier;

impl Notifier {
    /// Enables the service and waits until it watches `sessions` (its
    /// inotify descriptor lists a watch on each directory's inode).
    fn enable(sessions: &[&str]) -> Self {
        let out = sh_ok(&format!("{} notify enable", ccy_bin()));
        assert!(out.contains("enabled ccy-notify.service"), "{out}");
        assert_eq!(active_state("ccy-notify.service"), "active");
        let this = Self;
        for s in sessions {
            let dir = state_dir(s);
            eventually(
                15,
                &format!("ccy-notify.service watches {}", dir.display()),
                || watches(&dir),
            );
        }
        this
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        sh(&format!("{} notify disable", ccy_bin()));
    }
}

fn state_dir(name: &str) -> PathBuf {
    home().join(".local/state/ccy/sessions").join(name)
}

/// The notifier's main process.
fn notifier_pid() -> u32 {
    sh_ok("systemctl --user show -P MainPID ccy-notify.service")
        .parse()
        .unwrap()
}

/// Whether the notifier's inotify descriptor watches `dir`
/// (`/proc/PID/fdinfo`: `inotify wd:N ino:HEX …`).
fn watches(dir: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(meta) = std::fs::metadata(dir) else {
        return false;
    };
    let needle = format!(" ino:{:x} ", meta.ino());
    let pid = notifier_pid();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| std::fs::read_to_string(fd.path()).is_ok_and(|t| t.contains(&needle)))
}

/// Writes the session's `agent.json` as the hooks do (a temporary file
/// renamed into place).
fn write_state(name: &str, state: &str, since: u64, message: Option<&str>) {
    let dir = state_dir(name);
    let json = serde_json::json!({
        "state": state,
        "since": since,
        "updated": since,
        "event": "test",
        "message": message,
        "source": "hook",
    });
    let tmp = dir.join(".agent.json.test.tmp");
    std::fs::write(&tmp, json.to_string()).unwrap();
    std::fs::rename(&tmp, dir.join("agent.json")).unwrap();
}

/// The session's project (label `ccy.project`).
fn project(name: &str) -> String {
    inspect("container", name).unwrap()["Config"]["Labels"]["ccy.project"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The number of clients the session's tmux status file says.
fn clients(name: &str) -> u32 {
    std::fs::read_to_string(state_dir(name).join("status"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("clients="))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Exactly one notification per transition into waiting or done, naming
/// the session, its project and the agent's message; none for busy, for
/// a rewrite of the same state (a heartbeat) or for the state found at
/// start.
#[test]
fn one_notification_per_transition_with_session_project_and_message() {
    let _s = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let _g = shared();
    let repo = Repo::new("notify-once");
    let name = new_session(&repo.dir, &[]);
    let project = project(&name);
    // A state from before the notifier started: not a transition.
    write_state(&name, "done", 90, Some("old"));
    let server = FakeNotifications::start();
    let _n = Notifier::enable(&[&name]);

    write_state(&name, "busy", 100, None);
    write_state(
        &name,
        "waiting",
        101,
        Some("Claude needs your permission to use Bash"),
    );
    let calls = server.wait_for(&name, 1, 15);
    assert_eq!(
        calls,
        [(
            format!("ccy: {name} is waiting for you"),
            format!("{project}: Claude needs your permission to use Bash")
        )]
    );
    // The same state since the same time, rewritten: no transition.
    write_state(
        &name,
        "waiting",
        101,
        Some("Claude needs your permission to use Bash"),
    );
    write_state(&name, "busy", 102, None);
    write_state(&name, "busy", 102, None);
    write_state(&name, "done", 103, None);
    let calls = server.wait_for(&name, 2, 15);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[1], (format!("ccy: {name} is done"), project.clone()));
    // Nothing more comes.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        server.calls_for(&name).len(),
        2,
        "{:?}",
        server.calls_for(&name)
    );
}

/// While a client is attached since the prompt, the transition is the
/// user's own: silent. Detached, the same transition notifies.
#[test]
fn silent_while_the_prompting_client_is_attached() {
    let _s = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let _g = shared();
    let repo = Repo::new("notify-attached");
    let name = new_session(&repo.dir, &[]);
    let server = FakeNotifications::start();
    let _n = Notifier::enable(&[&name]);

    let term = Term::spawn(&repo.dir, &format!("ccy attach {name}"));
    term.wait_for("root@", 60);
    eventually(15, "the status file says one client", || {
        clients(&name) == 1
    });
    write_state(&name, "busy", 200, None);
    write_state(&name, "done", 201, None);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(server.calls_for(&name), Vec::<Call>::new());

    term.detach();
    eventually(15, "the status file says no client", || clients(&name) == 0);
    write_state(&name, "busy", 202, None);
    write_state(&name, "done", 203, None);
    let calls = server.wait_for(&name, 1, 15);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].0, format!("ccy: {name} is done"));
}

/// Without a notification server, the clients attached to the user's
/// other sessions show the message (and hear a bell); the session's own
/// clients do not get it.
#[test]
fn without_a_server_other_sessions_clients_see_the_message() {
    let _s = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let _g = shared();
    let repo_a = Repo::new("notify-fallback-a");
    let repo_b = Repo::new("notify-fallback-b");
    let a = new_session(&repo_a.dir, &[]);
    let b = new_session(&repo_b.dir, &[]);
    let owned = sh_ok(
        "busctl --user call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.freedesktop.Notifications",
    );
    assert_eq!(
        owned, "b false",
        "a notification server runs in the sandbox"
    );
    let _n = Notifier::enable(&[&a, &b]);
    let term = Term::spawn(&repo_b.dir, &format!("ccy attach {b}"));
    term.wait_for("root@", 60);
    eventually(15, "the status file says one client", || clients(&b) == 1);
    assert_eq!(term.format("#{window_bell_flag}"), "0");

    let message = marker("asks");
    write_state(&a, "busy", 300, None);
    write_state(&a, "waiting", 301, Some(&message));
    let screen = term.wait_for(&format!("ccy: {a} is waiting for you"), 15);
    assert!(screen.contains(&message), "{screen}");
    eventually(5, "a bell in the other session's client", || {
        term.format("#{window_bell_flag}") == "1"
    });
}

/// Takes the notifier away (stopped, disabled, its unit file removed)
/// when created and when dropped.
struct NotifierGone;

impl NotifierGone {
    fn new() -> Self {
        sh(&format!("{} notify disable", ccy_bin()));
        assert!(!notify_unit_file().exists());
        Self
    }
}

impl Drop for NotifierGone {
    fn drop(&mut self) {
        sh(&format!("{} notify disable", ccy_bin()));
    }
}

fn notify_unit_file() -> PathBuf {
    home().join(".config/systemd/user/ccy-notify.service")
}

/// The first session created installs, enables and starts the notifier
/// with one line, as it does the timers (the suite runs with
/// `CCY_NOTIFY_ENABLED=false`, which opts out); later sessions say
/// nothing; the running notifier watches the new session; `doctor` sees
/// it, and reports a missing one with `ccy notify enable` as the fix.
#[test]
fn the_first_new_session_installs_the_notifier_and_doctor_checks_it() {
    let _s = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let _g = exclusive();
    let _config = UserConfig::set("");
    let _gone = NotifierGone::new();
    let repo = Repo::new("first-notifier");
    let wanted = "env -u CCY_NOTIFY_ENABLED";

    // Opted out (the suite's setting): nothing installed, doctor content.
    let out = ccy(&repo.dir, &["new", "-d"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("ccy-notify.service"), "{}", out.stderr);
    assert!(!notify_unit_file().exists());
    let (level, message, _) = doctor_check("notify", "");
    assert_eq!(
        (level.as_str(), message.as_str()),
        ("ok", "off ([notify] enabled = false)")
    );
    let (level, message, fix) = doctor_check("notify", wanted);
    assert_eq!(level, "warning", "{message}");
    assert!(
        message.starts_with("ccy-notify.service is not installed"),
        "{message}"
    );
    assert_eq!(fix.as_deref(), Some("ccy notify enable"));

    let new = || new_detached_with_env(&repo.dir, wanted);
    let (name, stderr) = new();
    let installed: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("ccy-notify.service"))
        .collect();
    assert_eq!(
        installed,
        [
            "ccy: installed ccy-notify.service: tells you when an agent waits or is done (opt out: notify.enabled = false; see 'ccy notify status')"
        ],
        "{stderr}"
    );
    // Private, as every unit file ccy writes (issue 12 item 4).
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(notify_unit_file()).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(active_state("ccy-notify.service"), "active");
    assert_eq!(
        sh_ok("systemctl --user is-enabled ccy-notify.service"),
        "enabled"
    );
    // The service it started is the working notifier: it watches the
    // session just created.
    let dir = state_dir(&name);
    eventually(
        15,
        &format!("ccy-notify.service watches {}", dir.display()),
        || watches(&dir),
    );
    let (level, message, _) = doctor_check("notify", wanted);
    assert_eq!(
        (level.as_str(), message.as_str()),
        ("ok", "ccy-notify.service enabled and active")
    );
    // Already there: the next session says nothing about it, and the
    // notifier keeps running (not restarted).
    let pid = notifier_pid();
    let (_, stderr) = new();
    assert!(!stderr.contains("ccy-notify.service"), "{stderr}");
    assert_eq!(notifier_pid(), pid);
}

/// `[notify] enabled = false` in the user's configuration: nothing, read
/// at each transition (turned on again, the next one notifies).
#[test]
fn notify_off_in_config_sends_nothing() {
    let _s = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let _g = exclusive();
    let config = UserConfig::set("");
    let repo = Repo::new("notify-off");
    let name = new_session(&repo.dir, &[]);
    let server = FakeNotifications::start();
    let _n = Notifier::enable(&[&name]);
    config.write("[notify]\nenabled = false\n");

    write_state(&name, "busy", 400, None);
    write_state(&name, "waiting", 401, Some("off"));
    write_state(&name, "done", 402, None);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(server.calls_for(&name), Vec::<Call>::new());

    // Only "done" notifies now.
    config.write("[notify]\non = [\"done\"]\n");
    write_state(&name, "waiting", 403, Some("not this one"));
    write_state(&name, "done", 404, None);
    let calls = server.wait_for(&name, 1, 15);
    std::thread::sleep(Duration::from_secs(1));
    let calls_after = server.calls_for(&name);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls_after, calls);
    assert_eq!(calls[0].0, format!("ccy: {name} is done"));
}

/// The notifier sleeps while nothing changes: over 60 s its CPU time
/// (`utime` + `stime` in `/proc/PID/stat`, in clock ticks) stays at 0
/// (BENCHMARKS.md). Exclusive, so that nothing does change: other
/// tests' sessions rewriting their state files wake it (each event costs
/// it a look at a name, but many of them in a minute add up to a tick or
/// two, as a full run showed).
#[test]
fn notifier_takes_no_cpu_while_nothing_changes() {
    let _s = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let _g = exclusive();
    let _n = Notifier::enable(&[]);
    let pid = notifier_pid();
    // Let it finish starting.
    std::thread::sleep(Duration::from_secs(2));
    let ticks = || -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        // Fields after the command's closing parenthesis: state is 3,
        // utime 14, stime 15 (proc(5)).
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split(' ').collect();
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    };
    let before = ticks();
    std::thread::sleep(Duration::from_secs(60));
    let after = ticks();
    println!("ccy-notify.service: {} CPU ticks in 60 s", after - before);
    assert_eq!(notifier_pid(), pid, "the notifier restarted");
    assert!(after - before <= 1, "{} CPU ticks in 60 s", after - before);
}
