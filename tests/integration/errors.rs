//! Errors a user can act on: each says what failed and prints a hint.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use crate::support::{Repo, first_session_output, sh, sh_ok, shared};

fn ccy_in(dir: &std::path::Path, envs: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new("ccy");
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
