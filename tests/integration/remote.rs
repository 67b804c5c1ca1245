//! Other workstations over real SSH (issue 14): `ccy --host H VERB`,
//! `H:NAME`, `ccy list --all-hosts`, and the faults: a host down, a key
//! it refuses, no ccy there, a ccy too old there, a host that never
//! answers.
//!
//! Two hosts are reached: this guest itself over its own sshd
//! (`127.0.0.1:CCY_TEST_SSH_PORT`, host `self`: its sessions are the ones
//! the tests make here) and the harness's second guest, the peer
//! (`127.0.0.1:CCY_TEST_PEER_SSH_PORT`, host `peer`: both guests share
//! the host's network namespace; tests/run installs ccy there and
//! exchanges the keys). The hosts are written into the user's
//! configuration file, so these tests hold the user state exclusively.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::{
    HostsConfig, Repo, Term, active_state, ccy, control_sockets, exclusive, home, hosts_toml,
    new_session, peer_port, q, sh, sh_ok, ssh_port,
};

/// The user's configuration file with `[hosts]` for the tests
/// ([`HostsConfig`]: restored, and ccy's shared ssh connections closed,
/// when dropped), and a directory for the fault hosts' files.
struct Hosts {
    _config: HostsConfig,
    _dir: tempfile::TempDir,
}

impl Hosts {
    /// Writes `text` as the user's configuration file.
    fn text(text: &str) -> Self {
        Self {
            _config: HostsConfig::set(text),
            _dir: tempfile::tempdir_in(home()).unwrap(),
        }
    }

    /// Writes `hosts.timeout = timeout` and the hosts `self`, `peer`,
    /// `down` ([`hosts_toml`]), `wrongkey`, `missing`, `old` and `hang`.
    fn write(timeout: f64) -> Self {
        let dir = tempfile::tempdir_in(home()).unwrap();
        let key = dir.path().join("stranger");
        sh_ok(&format!(
            "ssh-keygen -q -t ed25519 -N '' -C stranger -f {}",
            q(key.to_str().unwrap())
        ));
        let old = dir.path().join("old-ccy");
        // What a ccy older than remote hosts answers.
        std::fs::write(
            &old,
            "#!/bin/sh\ncase \"$1\" in --version) echo 'ccy 0.0.9'; exit 0;; esac\n\
             echo \"error: unexpected argument '$2' found\" >&2\nexit 2\n",
        )
        .unwrap();
        sh_ok(&format!("chmod +x {}", q(old.to_str().unwrap())));
        let me = ssh_port();
        let text = format!(
            r#"{base}
[hosts.wrongkey]
ssh = "dev@127.0.0.1"
options = ["-p", "{me}", "-i", "{key}", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"]

[hosts.missing]
ssh = "dev@127.0.0.1"
options = ["-p", "{me}"]
ccy = "/nonexistent/ccy"

[hosts.old]
ssh = "dev@127.0.0.1"
options = ["-p", "{me}"]
ccy = "{old}"

[hosts.hang]
ssh = "dev@127.0.0.1"
options = ["-o", "ProxyCommand=sleep 60"]
"#,
            base = hosts_toml(timeout),
            key = key.display(),
            old = old.display(),
        );
        Self {
            _config: HostsConfig::set(&text),
            _dir: dir,
        }
    }
}

/// The pid of the ssh master behind control socket `sock` (`ssh -O
/// check`), or `None` when none answers.
fn master_pid(sock: &std::path::Path) -> Option<u32> {
    let out = sh(&format!(
        "timeout 5 ssh -O check -S {} x 2>&1",
        q(sock.to_str().unwrap())
    ));
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("(pid=").nth(1)?.split(')').next()?.parse().ok()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `--host` runs the verb there, exit status and `--json` unchanged,
/// every argument arriving as the same word; `H:NAME` addresses a
/// session on H (`stop self:NAME` stops it here, through ssh).
#[test]
fn host_runs_verbs_there_with_status_json_and_words_unchanged() {
    let _g = exclusive();
    let _hosts = Hosts::write(5.0);
    let repo = Repo::new("remote-verbs");
    let name = new_session(&repo.dir, &[]);

    let local = ccy(&repo.dir, &["list", "--json"]);
    let remote = ccy(&repo.dir, &["--host", "self", "list", "--json"]);
    assert_eq!(remote.code, 0, "{}{}", remote.stdout, remote.stderr);
    let find = |v: &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name.as_str())
            .cloned()
    };
    let (l, r) = (find(&json(&local.stdout)), find(&json(&remote.stdout)));
    assert!(r.is_some(), "{name} not in {}", remote.stdout);
    assert_eq!(l.unwrap()["container_id"], r.unwrap()["container_id"]);

    // The peer guest: a ccy of its own, with no sessions.
    let peer = ccy(&repo.dir, &["--host", "peer", "list", "--json"]);
    assert_eq!(peer.code, 0, "{}{}", peer.stdout, peer.stderr);
    assert!(json(&peer.stdout).is_array(), "{}", peer.stdout);

    // Exit statuses pass through: no such session is 5 there and here.
    let missing = ccy(&repo.dir, &["--host", "peer", "status", "no-such-session"]);
    assert_eq!(missing.code, 5, "{}{}", missing.stdout, missing.stderr);
    let missing = ccy(&repo.dir, &["status", "self:no-such-session"]);
    assert_eq!(missing.code, 5, "{}{}", missing.stdout, missing.stderr);

    // Words with spaces, quotes and shell syntax arrive unchanged.
    let words = ["a b", "it's", "$HOME;echo no", "*"];
    let mut args = vec!["shell", name.as_str(), "--", "printf", "[%s]"];
    args.extend(words);
    let mut addressed = args.clone();
    let self_name = format!("self:{name}");
    addressed[1] = &self_name;
    let out = ccy(&repo.dir, &addressed);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout.trim(), "[a b][it's][$HOME;echo no][*]");

    // CCY_HOST does what --host does.
    let out = sh_ok(&format!(
        "cd {} && CCY_HOST=self {} status --json {}",
        q(repo.dir.to_str().unwrap()),
        crate::support::ccy_bin(),
        q(&name)
    ));
    assert_eq!(json(&out)["name"], name.as_str());

    // Names of two hosts in one command are refused, nothing stopped.
    let out = ccy(&repo.dir, &["stop", &self_name, "peer:x"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert_eq!(active_state(&format!("{name}.service")), "active");

    let out = ccy(&repo.dir, &["stop", &self_name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(active_state(&format!("{name}.service")), "inactive");
}

/// `ccy attach H:NAME` attaches through `ssh -t`: keys reach the pane,
/// and detaching ends ssh with status 0, back at the local shell.
#[test]
fn attach_on_a_host_uses_a_terminal_and_detach_returns() {
    let _g = exclusive();
    let _hosts = Hosts::write(5.0);
    let repo = Repo::new("remote-attach");
    let name = new_session(&repo.dir, &[]);
    let term = Term::spawn(
        &repo.dir,
        &format!("{} attach self:{name}", crate::support::ccy_bin()),
    );
    std::thread::sleep(Duration::from_secs(2));
    term.line("echo REMOTE-$((6*7))");
    term.wait_for("REMOTE-42", 30);
    term.detach();
    term.wait_for("[exited 0]", 30);
    assert_eq!(active_state(&format!("{name}.service")), "active");
}

/// `list --all-hosts` asks every host at once: the answers merged with a
/// host, each fault named with its reason, the command still listing the
/// others and exiting 7, in about the timeout (not the sum).
#[test]
fn list_all_hosts_merges_and_names_every_fault() {
    let _g = exclusive();
    let _hosts = Hosts::write(3.0);
    let repo = Repo::new("remote-list");
    let name = new_session(&repo.dir, &[]);

    let started = Instant::now();
    let out = ccy(&repo.dir, &["list", "--all-hosts", "--json"]);
    let took = started.elapsed();
    assert_eq!(out.code, 7, "{}{}", out.stdout, out.stderr);
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(6),
        "took {took:?}"
    );
    let v = json(&out.stdout);
    let hosts: Vec<(String, serde_json::Value)> = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["host"].as_str().unwrap().to_owned(), h.clone()))
        .collect();
    let host = |n: &str| {
        hosts.iter().find(|(h, _)| h == n).map_or_else(
            || panic!("no host {n} in {}", out.stdout),
            |(_, v)| v.clone(),
        )
    };
    let version = env!("CARGO_PKG_VERSION");
    for ok in ["local", "self", "peer"] {
        assert_eq!(host(ok)["version"], version, "{ok}: {}", out.stdout);
        assert!(host(ok)["error"].is_null());
    }
    let error = |n: &str| host(n)["error"].as_str().unwrap().to_owned();
    assert!(
        error("down").contains("Connection refused"),
        "{}",
        error("down")
    );
    assert!(
        error("wrongkey").contains("Permission denied"),
        "{}",
        error("wrongkey")
    );
    assert!(
        error("missing").contains("not installed"),
        "{}",
        error("missing")
    );
    assert!(error("old").contains("too old"), "{}", error("old"));
    assert!(
        error("hang").contains("no answer within 3 s"),
        "{}",
        error("hang")
    );
    for n in ["down", "wrongkey", "missing", "old", "hang"] {
        assert!(
            out.stderr
                .contains(&format!("ccy: host {n}: unreachable: ")),
            "{n}: {}",
            out.stderr
        );
    }
    // The session is listed twice: here, and through ssh to this guest.
    let rows: Vec<&serde_json::Value> = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == name.as_str())
        .collect();
    let on: Vec<&str> = rows.iter().map(|s| s["host"].as_str().unwrap()).collect();
    assert_eq!(on, ["local", "self"], "{}", out.stdout);
    assert_eq!(rows[0]["container_id"], rows[1]["container_id"]);

    // The table: a HOST column.
    let out = ccy(&repo.dir, &["list", "--all-hosts"]);
    assert_eq!(out.code, 7);
    assert!(out.stdout.starts_with("HOST "), "{}", out.stdout);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("self ") && l.contains(&name)),
        "{}",
        out.stdout
    );
}

/// `--host` checks the host first: each fault is exit 7 with its reason,
/// and the verb does not run.
#[test]
fn host_faults_are_exit_7_with_the_reason() {
    let _g = exclusive();
    let _hosts = Hosts::write(3.0);
    let repo = Repo::new("remote-faults");
    for (host, reason) in [
        ("down", "Connection refused"),
        ("wrongkey", "Permission denied"),
        ("missing", "ccy is not installed there"),
        ("old", "ccy there is too old (0.0.9 < "),
        ("hang", "no answer within 3 s"),
    ] {
        let out = ccy(&repo.dir, &["--host", host, "new", "-d", "x"]);
        assert_eq!(out.code, 7, "{host}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr
                .contains(&format!("ccy: error: host {host} (dev@127.0.0.1): ")),
            "{host}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(reason), "{host}: {}", out.stderr);
    }
    assert!(repo.session_names().is_empty());
    // An invalid host name is a usage error; ssh never sees it.
    let out = ccy(
        &repo.dir,
        &["--host", "-oProxyCommand=touch /tmp/x", "list"],
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
}

/// ssh's log of one host (`-E LOG -o LogLevel=VERBOSE`, master and
/// clients appending): how many times it logged in.
fn logins(log: &std::path::Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .matches("Authenticated to ")
        .count()
}

/// The host `name`'s answer in `ccy list --all-hosts --json` output: its
/// error, `None` when it answered.
fn host_error(out: &str, name: &str) -> Option<String> {
    let v = json(out);
    let h = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == name)
        .unwrap_or_else(|| panic!("no host {name} in {out}"))
        .clone();
    h["error"].as_str().map(str::to_owned)
}

/// Connection sharing: the first run logs in and leaves a master behind
/// its control socket in ccy's runtime directory; the following runs
/// (`--host` and `list --all-hosts`) go through it without logging in.
/// A master killed with its socket left behind costs a new login, not a
/// failure; a master that stops answering makes the run fail within
/// `hosts.timeout` (the old socket removed), and the next one logs in
/// afresh.
#[test]
fn shared_connection_is_reused_and_recovers() {
    let _g = exclusive();
    let log_dir = tempfile::tempdir_in(home()).unwrap();
    let log = log_dir.path().join("ssh.log");
    let _hosts = Hosts::text(&format!(
        r#"[hosts]
timeout = 2.0

[hosts.peer]
ssh = "dev@127.0.0.1"
options = ["-p", "{peer}", "-E", "{log}", "-o", "LogLevel=VERBOSE"]
"#,
        peer = peer_port(),
        log = log.display()
    ));
    let repo = Repo::new("remote-shared");
    let before = control_sockets();

    let out = ccy(&repo.dir, &["--host", "peer", "list", "--json"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // The check and the command: one login.
    assert_eq!(
        logins(&log),
        1,
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    let new: Vec<PathBuf> = control_sockets()
        .into_iter()
        .filter(|s| !before.contains(s))
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    let sock = new[0].clone();
    let first = master_pid(&sock).expect("a master behind the socket");

    for _ in 0..2 {
        let out = ccy(&repo.dir, &["list", "--all-hosts", "--json"]);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        assert_eq!(host_error(&out.stdout, "peer"), None);
    }
    assert_eq!(
        logins(&log),
        1,
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    assert_eq!(master_pid(&sock), Some(first));

    // A dead master, its socket left behind: one new login.
    sh_ok(&format!("kill -KILL {first}"));
    eventually_gone(first);
    assert!(sock.exists());
    let started = Instant::now();
    let out = ccy(&repo.dir, &["list", "--all-hosts", "--json"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(logins(&log), 2);
    let second = master_pid(&sock).expect("a new master");
    assert_ne!(second, first);

    // A master that does not answer: the run fails within the timeout.
    sh_ok(&format!("kill -STOP {second}"));
    let started = Instant::now();
    let out = ccy(&repo.dir, &["list", "--all-hosts", "--json"]);
    let took = started.elapsed();
    assert_eq!(out.code, 7, "{}{}", out.stdout, out.stderr);
    assert!(took < Duration::from_secs(4), "took {took:?}");
    let why = host_error(&out.stdout, "peer").unwrap();
    assert!(why.contains("no answer within 2 s"), "{why}");
    // ... and the next one logs in afresh.
    let out = ccy(&repo.dir, &["list", "--all-hosts", "--json"]);
    sh_ok(&format!("kill -KILL {second}"));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(host_error(&out.stdout, "peer"), None);
    assert_eq!(logins(&log), 3);
    let third = master_pid(&sock).expect("a third master");
    assert!(third != first && third != second);
}

/// Waits until process `pid` is gone (reaped by its parent, init).
fn eventually_gone(pid: u32) {
    crate::support::eventually(10, "the killed master to be gone", || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    });
}

/// Sharing is the user's to turn off or to do their own way: with
/// `ControlMaster=no` in a host's options, or a `ControlPath` in the ssh
/// configuration it uses, ccy adds no control socket of its own and
/// every run logs in.
#[test]
fn sharing_left_to_the_users_options_and_ssh_config() {
    let _g = exclusive();
    let dir = tempfile::tempdir_in(home()).unwrap();
    let (log_no, log_cfg) = (dir.path().join("no.log"), dir.path().join("cfg.log"));
    // The user's own ssh config, with sharing set up its own way (a
    // master that lives as long as its first client only).
    let cfg = dir.path().join("ssh_config");
    std::fs::write(
        &cfg,
        format!(
            "Host *\n  ControlMaster auto\n  ControlPath {}/cm-%C\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let _hosts = Hosts::text(&format!(
        r#"[hosts]
timeout = 5.0

[hosts.off]
ssh = "dev@127.0.0.1"
options = ["-p", "{peer}", "-o", "ControlMaster=no", "-E", "{no}", "-o", "LogLevel=VERBOSE"]

[hosts.own]
ssh = "dev@127.0.0.1"
options = ["-F", "{cfg}", "-p", "{peer}", "-E", "{own}", "-o", "LogLevel=VERBOSE"]
"#,
        peer = peer_port(),
        no = log_no.display(),
        own = log_cfg.display(),
        cfg = cfg.display(),
    ));
    let repo = Repo::new("remote-unshared");
    let before = control_sockets();
    for _ in 0..2 {
        let out = ccy(&repo.dir, &["list", "--all-hosts", "--json"]);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    }
    assert_eq!(logins(&log_no), 2);
    assert_eq!(logins(&log_cfg), 2);
    assert_eq!(control_sockets(), before);
}
