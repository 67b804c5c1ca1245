//! The fake Anthropic Messages API (`tests/fake-anthropic/server.py`) as a
//! test fixture: started on 127.0.0.1 of the sandbox on a free port,
//! stopped on drop, with the address a session's container reaches it at.
//!
//! A session's container has its own network namespace (rootless Podman's
//! pasta), so the sandbox's 127.0.0.1 is not its 127.0.0.1. The session is
//! created with [`FakeAnthropic::network`], which maps [`HOST_LOOPBACK`] in
//! the container to the sandbox's loopback (pasta's `--map-host-loopback`),
//! and [`FakeAnthropic::env`], which points Claude Code there with
//! `ANTHROPIC_BASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server, embedded so the test executable needs no source tree.
const SERVER: &str = include_str!("../fake-anthropic/server.py");

/// The address that reaches the sandbox's loopback from inside a session
/// started with [`FakeAnthropic::network`].
pub const HOST_LOOPBACK: &str = "169.254.1.3";

/// A running fake API; killed when dropped.
pub struct FakeAnthropic {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    dir: tempfile::TempDir,
}

impl FakeAnthropic {
    /// Starts the server on a free port of 127.0.0.1 and waits (up to 10 s)
    /// until it listens.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("server.py");
        std::fs::write(&script, SERVER).unwrap();
        let port_file = dir.path().join("port");
        let child = Command::new("python3")
            .arg(&script)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(dir.path().join("requests.jsonl"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 tests/fake-anthropic/server.py");
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                break text.trim().parse().unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "the fake Anthropic API did not start within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Self { child, port, dir }
    }

    /// The session's Podman network: pasta with [`HOST_LOOPBACK`] mapped
    /// to the sandbox's loopback (a value for `ccy --network`).
    #[must_use]
    pub fn network() -> String {
        format!("pasta:--map-host-loopback,{HOST_LOOPBACK}")
    }

    /// The base URL as seen from inside such a session.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{HOST_LOOPBACK}:{}", self.port)
    }

    /// `ccy` flags that point a new session's Claude Code at this server:
    /// the network, `ANTHROPIC_BASE_URL`, and no traffic to anywhere else
    /// (telemetry, auto-updates).
    #[must_use]
    pub fn ccy_flags(&self) -> Vec<String> {
        vec![
            "--network".into(),
            Self::network(),
            "--env".into(),
            format!("ANTHROPIC_BASE_URL={}", self.base_url()),
            "--env".into(),
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1".into(),
            "--env".into(),
            "DISABLE_AUTOUPDATER=1".into(),
        ]
    }

    /// The requests so far, one JSON object each (see server.py).
    pub fn requests(&self) -> Vec<serde_json::Value> {
        let path: PathBuf = self.dir.path().join("requests.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for FakeAnthropic {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
