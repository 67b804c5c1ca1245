//! Errors a user can act on: each says what failed and prints a hint.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use crate::support::{Repo, first_session_output, sh, sh_ok, shared};

fn ccy_in(dir: &std::path::Path, envs: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(crate::support::ccy_bin());
    cmd.current_dir(dir);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn outside_a_worktree() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = ccy_in(dir.path(), &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("is not inside a git worktree"), "{err}");
    assert!(err.contains("hint: "), "{err}");
}

#[test]
fn no_user_bus() {
    let repo = Repo::new("nobus");
    let (code, err) = ccy_in(&repo.dir, &[("XDG_RUNTIME_DIR", "/nonexistent/run")]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("cannot reach your systemd user manager"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
    assert!(repo.session_names().is_empty());
}

#[test]
fn image_build_failure() {
    let _g = shared();
    let repo = Repo::new("badbuild");
    std::fs::write(
        repo.dir.join(".claude/ccy/config.toml"),
        "[image]\nname = \"localhost/ccy-test-badbuild:latest\"\nbase = \"localhost/ccy-test-base:latest\"\nagent_install = \"exit 42\"\n",
    )
    .unwrap();
    let (code, err) = ccy_in(&repo.dir, &[]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("building the image localhost/ccy-test-badbuild:latest failed"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
    assert!(repo.session_names().is_empty(), "nothing half-made");
    assert!(
        !sh("podman image exists localhost/ccy-test-badbuild:latest")
            .status
            .success()
    );
}

#[test]
fn unit_that_fails_to_start_shows_its_journal() {
    let _g = shared();
    first_session_output();
    // An image of the user's own (no ccy label, used as is) without tmux:
    // the container cannot run its command and the unit fails.
    sh_ok(&format!(
        "printf 'FROM {}\\nRUN rm -f /usr/bin/tmux\\n' | podman build -q -t localhost/ccy-test-notmux:latest -f - /tmp >/dev/null",
        crate::support::base_image()
    ));
    let repo = Repo::new("failing");
    std::fs::write(
        repo.dir.join(".claude/ccy/config.toml"),
        "[image]\nname = \"localhost/ccy-test-notmux:latest\"\n[agent]\ncommand = [\"bash\"]\n",
    )
    .unwrap();
    let (code, err) = ccy_in(&repo.dir, &[]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("failed to start"), "{err}");
    assert!(err.contains("last lines of its journal"), "{err}");
    assert!(
        err.contains("tmux"),
        "the journal says what is missing: {err}"
    );
    assert!(
        err.contains("hint: see the whole log with 'journalctl --user -u ccy-failing-"),
        "{err}"
    );
}

#[test]
fn podman_missing_from_path() {
    let repo = Repo::new("nopodman");
    let (code, err) = ccy_in(&repo.dir, &[("PATH", "/nonexistent")]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("podman is not installed"), "{err}");
    assert!(err.contains("hint: install Podman 5"), "{err}");
    assert!(repo.session_names().is_empty());
}

/// A Podman API that reports 4.9.3: ccy refuses to create a session. The
/// fake API listens where ccy looks for it (`$XDG_RUNTIME_DIR/podman/
/// podman.sock`); the runtime directory otherwise points at the real user
/// bus.
#[test]
fn podman_too_old() {
    let repo = Repo::new("oldpodman");
    let run = tempfile::tempdir().unwrap();
    let uid = sh_ok("id -u");
    std::os::unix::fs::symlink(format!("/run/user/{uid}/bus"), run.path().join("bus")).unwrap();
    std::fs::create_dir(run.path().join("podman")).unwrap();
    let sock = run.path().join("podman/podman.sock");
    let server = r#"
import json, socketserver, sys
from http.server import BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"Version": "4.9.3", "ApiVersion": "4.9.3"} if "/version" in self.path else []).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    def get_request(self):
        r, _ = super().get_request()
        return r, ("local", 0)
S(sys.argv[1], H).serve_forever()
"#;
    let mut child = Command::new("python3")
        .args(["-c", server])
        .arg(&sock)
        .spawn()
        .unwrap();
    crate::support::eventually(10, "fake API socket", || sock.exists());
    let (code, err) = ccy_in(
        &repo.dir,
        &[("XDG_RUNTIME_DIR", run.path().to_str().unwrap())],
    );
    child.kill().ok();
    child.wait().ok();
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("Podman 4.9.3 is too old: ccy needs Podman 5.0 or newer"),
        "{err}"
    );
    assert!(err.contains("hint: upgrade Podman"), "{err}");
    assert!(repo.session_names().is_empty());
}
