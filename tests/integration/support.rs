//! Test support for the integration suite. It runs as the unprivileged
//! user inside the project's sandbox (real systemd user manager, logind,
//! Podman, tmux): see `tests/run` and `tests/sandbox/`.
//!
//! Interactive use is driven the way a person would: `ccy` runs in a tmux
//! on the sandbox side (a [`Term`]), keys are sent with `send-keys`, and
//! assertions read the screen with `capture-pane` and the real state with
//! `podman`, `systemctl --user` and `loginctl`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

/// The image name tests configure ccy to build and run.
pub const TEST_IMAGE: &str = "localhost/ccy-test:latest";

/// The base image the harness imported from a debootstrap rootfs.
pub fn base_image() -> String {
    std::env::var("CCY_TEST_BASE_IMAGE").unwrap_or_else(|_| "localhost/ccy-test-base:latest".into())
}

/// The port of the sandbox's sshd on 127.0.0.1 (the harness says).
pub fn ssh_port() -> String {
    std::env::var("CCY_TEST_SSH_PORT").unwrap_or_else(|_| "2222".into())
}

/// Serialises tests that change user-wide state (linger) against all
/// others: those take it with [`exclusive`], every session test with
/// [`shared`].
static USER_STATE: RwLock<()> = RwLock::new(());

/// Shared hold on user-wide state (a failed test does not poison it).
pub fn shared() -> RwLockReadGuard<'static, ()> {
    USER_STATE.read().unwrap_or_else(PoisonError::into_inner)
}

/// Exclusive hold on user-wide state.
pub fn exclusive() -> RwLockWriteGuard<'static, ()> {
    USER_STATE.write().unwrap_or_else(PoisonError::into_inner)
}

/// The absolute path of the installed `ccy` (so tests may change `PATH`).
pub fn ccy_bin() -> &'static str {
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| sh_ok("command -v ccy"))
}

/// Runs `cmd` through `sh -c` and returns its output.
pub fn sh(cmd: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("run sh")
}

/// Runs `cmd` through `sh -c`, asserts success, returns trimmed stdout.
pub fn sh_ok(cmd: &str) -> String {
    let out = sh(cmd);
    assert!(
        out.status.success(),
        "`{cmd}` failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Quotes `s` for sh.
pub fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `podman inspect` of one container or volume as JSON, or `None` when it
/// does not exist.
pub fn inspect(kind: &str, name: &str) -> Option<serde_json::Value> {
    let out = sh(&format!("podman {kind} inspect {}", q(name)));
    if !out.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array().and_then(|a| a.first()).cloned()
}

/// The `ActiveState` of a user unit.
pub fn active_state(unit: &str) -> String {
    sh_ok(&format!("systemctl --user show -P ActiveState {}", q(unit)))
}

/// Home directory of the test user.
pub fn home() -> PathBuf {
    PathBuf::from(std::env::var("HOME").unwrap())
}

/// The Quadlet directory ccy writes to.
pub fn quadlet_dir() -> PathBuf {
    home().join(".config/containers/systemd")
}

/// A fresh git repository configured to use the test image and a shell
/// as the agent. Removed (with its sessions) when dropped.
pub struct Repo {
    /// The worktree root (canonical).
    pub dir: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Repo {
    /// Creates `~/ccy-it/XXXX/<name>` with one commit and a project
    /// `.claude/ccy/config.toml`.
    pub fn new(name: &str) -> Self {
        let root = home().join("ccy-it");
        std::fs::create_dir_all(&root).unwrap();
        let tmp = tempfile::Builder::new()
            .prefix("t")
            .tempdir_in(&root)
            .unwrap();
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(dir.join(".claude/ccy")).unwrap();
        std::fs::write(
            dir.join(".claude/ccy/config.toml"),
            format!(
                "[image]\nname = \"{TEST_IMAGE}\"\nbase = \"{}\"\nagent_install = \"\"\n\n[agent]\ncommand = [\"bash\", \"-l\"]\n",
                base_image()
            ),
        )
        .unwrap();
        std::fs::write(dir.join("README"), "test repo\n").unwrap();
        let d = q(dir.to_str().unwrap());
        sh_ok(&format!(
            "cd {d} && git init -q -b main && git add -A && \
             git -c user.name=t -c user.email=t@example.invalid commit -q -m init"
        ));
        let dir = std::fs::canonicalize(&dir).unwrap();
        Self { dir, _tmp: tmp }
    }

    /// The sessions whose unit files name this worktree.
    pub fn session_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        let Ok(entries) = std::fs::read_dir(quadlet_dir()) else {
            return names;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "container") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                let needle = serde_json::to_string(self.dir.to_str().unwrap()).unwrap();
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

    /// Running containers labelled with this worktree.
    pub fn containers(&self) -> Vec<String> {
        let out = sh_ok(&format!(
            "podman ps -a --filter label=ccy.worktree={} --format '{{{{.Names}}}}'",
            q(self.dir.to_str().unwrap())
        ));
        out.lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect()
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        // Tear the sessions down so the user manager stays small.
        for name in self.session_names() {
            sh(&format!(
                "systemctl --user stop {n}.service {n}-volume.service; \
                 rm -f {dir}/{n}.container {dir}/{n}.volume; podman volume rm -f {n}-state; \
                 rm -rf {state}; \
                 podman rmi -i localhost/ccy-kept:{n} >/dev/null; rm -f {kept}; \
                 podman image prune -f --filter label=ccy.kept.session={n} >/dev/null",
                n = q(&name),
                kept = q(kept_image_file(&name).to_str().unwrap()),
                dir = q(quadlet_dir().to_str().unwrap()),
                state = q(home()
                    .join(".local/state/ccy/sessions")
                    .join(&name)
                    .to_str()
                    .unwrap())
            ));
        }
    }
}

/// A terminal on the sandbox side: a private tmux server running one
/// command in a 160x48 window.
pub struct Term {
    socket: String,
}

static TERM_SEQ: Mutex<u32> = Mutex::new(0);

impl Term {
    /// Starts `cmd` (a shell command line) in `dir`, as in a plain
    /// terminal: `$TMUX` is unset, though the terminal is a tmux pane. When
    /// `cmd` ends, the pane prints `[exited N]` and stays, so tests can
    /// read the end.
    pub fn spawn(dir: &Path, cmd: &str) -> Self {
        Self::spawn_in(dir, &format!("unset TMUX TMUX_PANE; {cmd}"))
    }

    /// Like [`Term::spawn`], but `cmd` sees the terminal for what it is, a
    /// tmux pane (`$TMUX` set): a user running ccy inside their own tmux.
    pub fn spawn_nested(dir: &Path, cmd: &str) -> Self {
        Self::spawn_in(dir, cmd)
    }

    /// Like [`Term::spawn`] in a `width`×`height` window (`ccy ui` at
    /// 80×24).
    pub fn spawn_sized(dir: &Path, cmd: &str, width: u16, height: u16) -> Self {
        Self::spawn_at(dir, &format!("unset TMUX TMUX_PANE; {cmd}"), width, height)
    }

    fn spawn_in(dir: &Path, cmd: &str) -> Self {
        Self::spawn_at(dir, cmd, 160, 48)
    }

    fn spawn_at(dir: &Path, cmd: &str, width: u16, height: u16) -> Self {
        let n = {
            let mut g = TERM_SEQ.lock().unwrap();
            *g += 1;
            *g
        };
        let socket = format!("ccy-it-{}-{n}", std::process::id());
        let script = format!("{cmd}; echo \"[exited $?]\"; exec sleep 100000");
        sh_ok(&format!(
            "tmux -L {socket} -f /dev/null new-session -d -x {width} -y {height} -c {} {}",
            q(dir.to_str().unwrap()),
            q(&script)
        ));
        Self { socket }
    }

    /// Types `text` literally, then Enter.
    pub fn line(&self, text: &str) {
        sh_ok(&format!("tmux -L {} send-keys -l {}", self.socket, q(text)));
        sh_ok(&format!("tmux -L {} send-keys Enter", self.socket));
    }

    /// Sends tmux key names (`C-b`, `d`, `Enter`).
    pub fn keys(&self, keys: &[&str]) {
        let k: Vec<String> = keys.iter().map(|k| q(k)).collect();
        sh_ok(&format!(
            "tmux -L {} send-keys {}",
            self.socket,
            k.join(" ")
        ));
    }

    /// Detaches the inner tmux client (the session's default prefix C-b, d).
    pub fn detach(&self) {
        self.keys(&["C-b"]);
        self.keys(&["d"]);
    }

    /// The visible screen only (no scrollback).
    pub fn visible(&self) -> String {
        String::from_utf8_lossy(&sh(&format!("tmux -L {} capture-pane -p", self.socket)).stdout)
            .into_owned()
    }

    /// Waits until the visible screen satisfies `ok`; panics with it
    /// after `secs` seconds.
    pub fn wait_until(&self, what: &str, secs: u64, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.visible();
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {secs}s waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The visible screen plus scrollback.
    pub fn screen(&self) -> String {
        sh(&format!(
            "tmux -L {} capture-pane -p -J -S -200",
            self.socket
        ))
        .stdout
        .iter()
        .map(|b| *b as char)
        .collect::<String>()
    }

    /// A tmux format of this terminal's window (`display -p FORMAT`), e.g.
    /// `#{window_bell_flag}`.
    pub fn format(&self, format: &str) -> String {
        sh_ok(&format!("tmux -L {} display -p {}", self.socket, q(format)))
    }

    /// The visible screen with its colour and attribute escape sequences
    /// (`capture-pane -e`).
    pub fn screen_ansi(&self) -> String {
        String::from_utf8_lossy(
            &sh(&format!("tmux -L {} capture-pane -p -e -J", self.socket)).stdout,
        )
        .into_owned()
    }

    /// Waits until the screen contains `needle`; panics with the screen
    /// after `secs` seconds.
    pub fn wait_for(&self, needle: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = String::from_utf8_lossy(
                &sh(&format!(
                    "tmux -L {} capture-pane -p -J -S -200",
                    self.socket
                ))
                .stdout,
            )
            .into_owned();
            if s.contains(needle) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {secs}s waiting for {needle:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        sh(&format!("tmux -L {} kill-server", self.socket));
    }
}

/// A marker unique to this process and call, for typing into panes.
pub fn marker(tag: &str) -> String {
    static SEQ: Mutex<u32> = Mutex::new(0);
    let mut g = SEQ.lock().unwrap();
    *g += 1;
    format!("{tag}-{}-{}", std::process::id(), *g)
}

/// Builds the test image once per test run through ccy itself (the first
/// session in a scratch repository), so parallel tests do not race to
/// build it. Returns what that first `ccy` printed.
pub fn first_session_output() -> &'static str {
    static OUT: OnceLock<String> = OnceLock::new();
    OUT.get_or_init(|| {
        let repo = Repo::new("first-use");
        let term = Term::spawn(&repo.dir, "ccy");
        let screen = term.wait_for("root@", 900);
        term.detach();
        let screen2 = term.wait_for("[exited", 30);
        drop(term);
        drop(repo);
        format!("{screen}\n{screen2}")
    })
}

/// Waits until `f` returns true, up to `secs`; panics with `what`.
pub fn eventually(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out after {secs}s: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What one non-interactive `ccy` run did.
pub struct Out {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// The process id it ran as (to find its lines in the journal).
    pub pid: u32,
}

/// Runs `ccy ARGS` in `dir` with standard input from /dev/null (no
/// terminal), to the end.
pub fn ccy(dir: &Path, args: &[&str]) -> Out {
    let child = Command::new(ccy_bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        pid,
    }
}

/// `ccy new -d ARGS` in `dir`, asserting success and that the session's
/// unit is active; returns the new session's name.
pub fn new_session(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["new", "-d"];
    all.extend_from_slice(args);
    let out = ccy(dir, &all);
    assert_eq!(out.code, 0, "ccy {all:?}: {}{}", out.stdout, out.stderr);
    let name = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("created session "))
        .unwrap_or_else(|| panic!("no name in {:?}", out.stdout))
        .to_owned();
    assert_eq!(active_state(&format!("{name}.service")), "active");
    name
}

/// Session `name`'s image file, `~/.local/state/ccy/kept/NAME.env`: it
/// names the session's kept image once a stop kept a change.
pub fn kept_image_file(name: &str) -> PathBuf {
    home()
        .join(".local/state/ccy/kept")
        .join(format!("{name}.env"))
}

/// Asserts that the container `c` (`podman inspect`) of session `name`
/// runs the clean `image` itself (nothing kept yet: no image file, no
/// `localhost/ccy-kept:NAME` tag, the same image id).
pub fn assert_runs_clean(c: &serde_json::Value, name: &str, image: &str) {
    assert_eq!(c["ImageName"], image);
    assert!(!kept_image_file(name).exists(), "{name} has an image file");
    assert_ne!(
        sh(&format!("podman image exists localhost/ccy-kept:{name}"))
            .status
            .code(),
        Some(0),
        "{name} has a kept image tag"
    );
    let id = sh_ok(&format!(
        "podman image inspect --format '{{{{.Id}}}}' {}",
        q(image)
    ));
    assert_eq!(
        c["Image"].as_str(),
        Some(id.trim()),
        "{name} does not run {image}"
    );
}

/// The `LoadState` of a user unit.
pub fn load_state(unit: &str) -> String {
    sh_ok(&format!("systemctl --user show -P LoadState {}", q(unit)))
}

/// The user manager's reloads requested by process `pid` (its journal line
/// "Reload requested from client PID N ('ccy')"), after waiting up to 10 s
/// for the first to reach the journal and 500 ms for any later one.
pub fn reloads_by(pid: u32) -> usize {
    let needle = format!("Reload requested from client PID {pid} ('ccy')");
    let count = || {
        sh_ok("journalctl --user --no-pager -o cat --since -10min")
            .lines()
            .filter(|l| l.contains(&needle))
            .count()
    };
    eventually(10, "the reload is in the journal", || count() >= 1);
    std::thread::sleep(Duration::from_millis(500));
    count()
}

/// Every regular file under `dir`, with its text (lossy).
pub fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            out.extend(files_under(&p));
        } else if meta.is_file() {
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()).into_owned();
            out.push((p, text));
        }
    }
    out
}

/// Everywhere a secret of session `name` must never show up, with the
/// text there: every file under the Quadlet directory, the user's unit
/// directory and the generator's output (which must hold the session's
/// service, else the search proves nothing), `podman container inspect`,
/// `podman volume inspect` of its state volume, `systemctl show` of its
/// service, its unit's journal and the whole user journal since `since`
/// (unix seconds). Each entry: (where, text).
pub fn secret_places(name: &str, since: &str) -> Vec<(String, String)> {
    let uid = sh_ok("id -u");
    let mut places: Vec<(String, String)> = Vec::new();
    let generator = PathBuf::from(format!("/run/user/{uid}/systemd/generator"));
    assert!(
        files_under(&generator)
            .iter()
            .any(|(p, _)| p.ends_with(format!("{name}.service"))),
        "the generator's output holds the session's service"
    );
    for dir in [
        quadlet_dir(),
        home().join(".config/systemd/user"),
        generator,
    ] {
        for (p, text) in files_under(&dir) {
            places.push((p.display().to_string(), text));
        }
    }
    let service = format!("{name}.service");
    for (what, cmd) in [
        (
            "podman inspect",
            format!("podman container inspect {}", q(name)),
        ),
        (
            "podman volume inspect",
            format!("podman volume inspect {}", q(&format!("{name}-state"))),
        ),
        (
            "systemctl show",
            format!("systemctl --user show {}", q(&service)),
        ),
        (
            "the unit's journal",
            format!("journalctl --user --no-pager -o json -u {}", q(&service)),
        ),
        (
            "the user journal",
            format!("journalctl --user --no-pager -o json --since @{since}"),
        ),
    ] {
        places.push((what.to_owned(), sh_ok(&cmd)));
    }
    places
}

/// Asserts that neither `secret` nor its part after the first 13 bytes
/// (a token without its `sk-ant-oat01-` prefix) is in any of `places`
/// ([`secret_places`] plus what the caller adds).
pub fn assert_secret_nowhere(places: &[(String, String)], secret: &str) {
    for (what, text) in places {
        assert!(!text.contains(secret), "the token is in {what}");
        assert!(
            !text.contains(&secret[13..]),
            "part of the token is in {what}"
        );
    }
}

/// `ccy doctor --json`'s check `name` (`timers`, `notify`, …), run in the
/// home directory with the environment changed by `env` (words for
/// `env(1)`-style prefixes such as `env -u CCY_PRUNE_TIMER`, or ""):
/// its level, message and fix.
pub fn doctor_check(name: &str, env: &str) -> (String, String, Option<String>) {
    let out = sh(&format!("cd ~ && {env} {} doctor --json", q(ccy_bin())));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor --json: {e}: {out:?}"));
    let check = v["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks: {v}"))
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check: {v}"))
        .clone();
    (
        check["level"].as_str().unwrap_or_default().to_owned(),
        check["message"].as_str().unwrap_or_default().to_owned(),
        check["fix"].as_str().map(str::to_owned),
    )
}

/// Runs `ccy new -d` in `dir` with the environment changed by `env` (as
/// [`doctor_check`]), asserts success, and returns the new session's name
/// (the last word of "created session NAME") and the standard error.
pub fn new_detached_with_env(dir: &Path, env: &str) -> (String, String) {
    let out = sh(&format!(
        "cd {} && {env} {} new -d",
        q(dir.to_str().unwrap()),
        q(ccy_bin())
    ));
    assert!(out.status.success(), "{out:?}");
    (
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .last()
            .unwrap_or_default()
            .to_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The user's ccy configuration file (`~/.config/ccy/config.toml`) as a
/// test sets it; what was there before (or nothing) is put back when
/// dropped.
pub struct UserConfig {
    path: PathBuf,
    old: Option<Vec<u8>>,
}

impl UserConfig {
    /// Writes `text` as the user's configuration.
    pub fn set(text: &str) -> Self {
        let path = home().join(".config/ccy/config.toml");
        let old = std::fs::read(&path).ok();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        Self { path, old }
    }

    /// Replaces the configuration with `text`.
    pub fn write(&self, text: &str) {
        std::fs::write(&self.path, text).unwrap();
    }
}

impl Drop for UserConfig {
    fn drop(&mut self) {
        match &self.old {
            Some(t) => std::fs::write(&self.path, t).unwrap(),
            None => {
                std::fs::remove_file(&self.path).ok();
            }
        }
    }
}

/// The peer guest's sshd port (the harness says; without a peer, the
/// guest's own, so that the tests still run ssh for real).
pub fn peer_port() -> String {
    std::env::var("CCY_TEST_PEER_SSH_PORT").unwrap_or_else(|_| ssh_port())
}

/// A `[hosts]` section with `timeout` (seconds) and three hosts: `self`
/// (this guest over its own sshd: its sessions are the tests'), `peer`
/// (the second guest) and `down` (a port nothing listens on).
pub fn hosts_toml(timeout: f64) -> String {
    format!(
        r#"[hosts]
timeout = {timeout:.1}

[hosts.self]
ssh = "dev@127.0.0.1"
options = ["-p", "{me}"]

[hosts.peer]
ssh = "dev@127.0.0.1"
options = ["-p", "{peer}"]

[hosts.down]
ssh = "dev@127.0.0.1"
options = ["-p", "1"]
"#,
        me = ssh_port(),
        peer = peer_port()
    )
}

/// ccy's directory of ssh control sockets: `$XDG_RUNTIME_DIR/ccy`.
pub fn control_dir() -> PathBuf {
    PathBuf::from(std::env::var("XDG_RUNTIME_DIR").expect("XDG_RUNTIME_DIR")).join("ccy")
}

/// The control sockets in [`control_dir`], sorted.
pub fn control_sockets() -> Vec<PathBuf> {
    use std::os::unix::fs::FileTypeExt;
    let mut v: Vec<PathBuf> = std::fs::read_dir(control_dir())
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    e.file_name().to_string_lossy().starts_with("ssh-")
                        && e.file_type().is_ok_and(|t| t.is_socket())
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The user's configuration with `[hosts]` in it ([`UserConfig`]); when
/// dropped it also closes the shared ssh connections ccy left open
/// (they would outlive the test by `ControlPersist`'s 10 minutes).
pub struct HostsConfig {
    _config: UserConfig,
}

impl HostsConfig {
    /// Writes `text` as the user's configuration.
    pub fn set(text: &str) -> Self {
        Self {
            _config: UserConfig::set(text),
        }
    }
}

impl Drop for HostsConfig {
    fn drop(&mut self) {
        for s in control_sockets() {
            let _ = sh(&format!(
                "timeout 5 ssh -O exit -S {} x 2>/dev/null",
                q(s.to_str().unwrap())
            ));
        }
    }
}
