//! Issue 12, items 4 and 5: ccy's files are private to the user (state
//! directories 0700; the tmux status, the saved panes and the unit files
//! 0600), a mount of the home directory is pointed out by `status` and
//! `doctor`, and a session may not take a name ccy's own units use.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::{
    Repo, ccy, eventually, first_session_output, home, new_session, quadlet_dir, sh_ok, shared,
};

/// The permission bits of `p`.
fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

/// A new session's state directory is 0700, its `status` file (written by
/// the image's script) 0600, its unit files 0600; once stopped, the panes
/// directory is 0700 and the saved pane file 0600. Before: 0755 and 0644,
/// readable by every local user once the home directory is 0755.
#[test]
fn state_and_unit_files_are_private() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("private");
    let name = new_session(&repo.dir, &[]);
    let state = home().join(".local/state/ccy/sessions").join(&name);
    assert_eq!(mode(&state), 0o700, "{}", state.display());
    for ext in ["container", "volume"] {
        let f = quadlet_dir().join(format!("{name}.{ext}"));
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    let status = state.join("status");
    eventually(30, "the status file is written", || status.exists());
    assert_eq!(mode(&status), 0o600, "{}", status.display());
    sh_ok(&format!("systemctl --user stop {name}.service"));
    let panes = state.join("panes");
    let files: Vec<_> = std::fs::read_dir(&panes)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(mode(&panes), 0o700);
    assert_eq!(mode(&files[0]), 0o600, "{}", files[0].display());
    ccy(&repo.dir, &["rm", "--force", &name]);
}

/// A session that mounts the home directory is allowed, and `ccy status`
/// and `ccy doctor` say so (before: neither did).
#[test]
fn a_mount_of_home_is_pointed_out() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("homemount");
    let name = new_session(&repo.dir, &["--mount", "~:/h:ro"]);
    let out = ccy(&repo.dir, &["status", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.lines().any(|l| l.starts_with("warning:")
            && l.contains("mounts")
            && l.contains("your home directory")),
        "{}",
        out.stdout
    );
    let out = ccy(&repo.dir, &["status", "--json", &name]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        v["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("your home directory")),
        "{v}"
    );
    let out = ccy(&repo.dir, &["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mounts = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "mounts")
        .cloned()
        .unwrap_or_else(|| panic!("no mounts check: {v}"));
    assert_eq!(mounts["level"], "warning", "{mounts}");
    assert!(
        mounts["message"].as_str().unwrap().contains(&name),
        "{mounts}"
    );
    ccy(&repo.dir, &["rm", "--force", &name]);
}

/// A session may not be named after a unit ccy runs itself: `ccy new
/// ccy-prune` (the prune timer's service) is refused with exit status 2,
/// a reason and a hint, and writes nothing (before, it made a session
/// whose unit clashed with `ccy-prune.service`).
#[test]
fn reserved_session_names_are_refused() {
    let _g = shared();
    let repo = Repo::new("reserved");
    for name in ["ccy-prune", "ccy-idle", "CCY-UI"] {
        let out = ccy(&repo.dir, &["new", "-d", name]);
        assert_eq!(out.code, 2, "{name}: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains("reserved"), "{}", out.stderr);
        assert!(out.stderr.contains("hint: "), "{}", out.stderr);
        assert!(
            !quadlet_dir().join(format!("{name}.container")).exists(),
            "{name}"
        );
    }
    assert!(repo.session_names().is_empty());
}
