//! The agent launcher (`src/session/image/agent`, `/etc/ccy/agent` in the image)
//! merges `skipDangerousModePermissionPrompt: true` into Claude Code's
//! `settings.json`: with each JSON tool an image may have (python3, node,
//! jq) and with none. Runs the real script with `sh`, with a `PATH` that
//! holds only basic utilities and the one tool under test (python3, node
//! and jq must be installed: `tests/run` installs them). The real agent in
//! its image is tested by the integration suite (`agent::`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

const KEY: &str = "skipDangerousModePermissionPrompt";
const LAUNCHER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/session/image/agent");

/// The absolute path of the program `name` runs (the first executable
/// file of that name on `PATH`, links followed); for python3 the
/// interpreter itself, since a pyenv-style shim needs its own PATH.
fn real_program(name: &str) -> PathBuf {
    if name == "python3" {
        let out = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .unwrap_or_else(|e| {
                panic!("python3 is needed for this test (tests/run installs it): {e}")
            });
        return std::fs::canonicalize(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .map_or_else(
            || panic!("{name} is needed for this test (tests/run installs it)"),
            |p| std::fs::canonicalize(p).unwrap(),
        )
}

/// A scratch `CLAUDE_CONFIG_DIR` and a `bin` directory holding the basic
/// utilities the launcher uses, plus `tool` (python3, node, jq or none).
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new(tool: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(dir.path().join("claude")).unwrap();
        for util in [
            "sh", "mkdir", "cat", "cp", "mv", "rm", "grep", "mktemp", "readlink", "true",
        ] {
            std::os::unix::fs::symlink(real_program(util), bin.join(util)).unwrap();
        }
        if let Some(t) = tool {
            std::os::unix::fs::symlink(real_program(t), bin.join(t)).unwrap();
        }
        Self { dir }
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("claude")
    }

    fn settings(&self) -> PathBuf {
        self.state().join("settings.json")
    }

    /// Runs the launcher with `true` as the agent; returns its stderr.
    fn run(&self) -> String {
        let out = Command::new(self.dir.path().join("bin/sh"))
            .arg(LAUNCHER)
            .env_clear()
            .env("PATH", self.dir.path().join("bin"))
            .env("HOME", self.dir.path())
            .env("CLAUDE_CONFIG_DIR", self.state())
            .env("CCY_AGENT", "true")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "the launcher failed: {stderr}");
        stderr
    }

    /// The names in the state directory (to see that no temporary file is
    /// left behind).
    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.state())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn json(path: &Path) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }
}

/// Everything the launcher promises about settings.json, with `tool` as
/// the only JSON tool in the image.
fn merges_with(tool: &str) {
    // No file: created with the key; the onboarding answers are written too.
    let env = Env::new(Some(tool));
    assert_eq!(env.run(), "");
    assert_eq!(Env::json(&env.settings()), serde_json::json!({ KEY: true }));
    let onboarding = Env::json(&env.state().join(".claude.json"));
    assert_eq!(onboarding["hasCompletedOnboarding"], true);
    assert_eq!(
        onboarding["projects"]["/workspace"]["hasTrustDialogAccepted"],
        true
    );

    // The user's keys stay (nested, non-ASCII, order), a false becomes
    // true, the mode stays, and no temporary file is left.
    let user = r#"{"model": "opus", "env": {"A": "é ü"}, "permissions": {"allow": ["Bash(ls:*)"]}, "skipDangerousModePermissionPrompt": false, "z": 1}"#;
    std::fs::write(env.settings(), user).unwrap();
    std::fs::set_permissions(env.settings(), std::fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(env.run(), "", "{tool}");
    let mut want: serde_json::Value = serde_json::from_str(user).unwrap();
    want[KEY] = serde_json::Value::Bool(true);
    assert_eq!(Env::json(&env.settings()), want, "{tool}");
    let text = std::fs::read_to_string(env.settings()).unwrap();
    assert!(
        text.find("\"model\"").unwrap() < text.find("\"z\"").unwrap(),
        "{tool} kept the order: {text}"
    );
    assert_eq!(
        std::fs::metadata(env.settings()).unwrap().mode() & 0o777,
        0o640,
        "{tool}"
    );
    assert_eq!(env.names(), [".claude.json", "settings.json"], "{tool}");

    // Already true: the file is not rewritten (same inode, same bytes).
    let ino = std::fs::metadata(env.settings()).unwrap().ino();
    assert_eq!(env.run(), "");
    assert_eq!(
        std::fs::metadata(env.settings()).unwrap().ino(),
        ino,
        "{tool}"
    );
    assert_eq!(std::fs::read_to_string(env.settings()).unwrap(), text);

    // Not JSON, or JSON but not an object: left byte for byte, with a
    // warning that names the file and the key.
    for bad in [
        "{\"model\": \"opus\",",
        "[1, 2]",
        "\"text\"",
        "{\"a\": 1} {\"b\": 2}",
    ] {
        std::fs::write(env.settings(), bad).unwrap();
        let err = env.run();
        assert_eq!(
            std::fs::read_to_string(env.settings()).unwrap(),
            bad,
            "{tool}"
        );
        assert!(
            err.contains(&format!(
                "ccy: warning: left {} as it is: not a JSON object",
                env.settings().display()
            )) && err.contains(KEY),
            "{tool} on {bad:?}: {err}"
        );
        assert_eq!(env.names(), [".claude.json", "settings.json"], "{tool}");
    }

    // A blank file holds nothing to keep.
    std::fs::write(env.settings(), " \n").unwrap();
    assert_eq!(env.run(), "");
    assert_eq!(Env::json(&env.settings()), serde_json::json!({ KEY: true }));

    // A symlinked settings.json: its target is edited, the link stays.
    let target = env.dir.path().join("dotfiles-settings.json");
    std::fs::write(&target, r#"{"theme": "dark"}"#).unwrap();
    std::fs::remove_file(env.settings()).unwrap();
    std::os::unix::fs::symlink(&target, env.settings()).unwrap();
    assert_eq!(env.run(), "");
    assert!(
        std::fs::symlink_metadata(env.settings())
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        Env::json(&target),
        serde_json::json!({ "theme": "dark", KEY: true }),
        "{tool}"
    );
}

#[test]
fn merges_with_python3() {
    merges_with("python3");
}

#[test]
fn merges_with_node() {
    merges_with("node");
}

#[test]
fn merges_with_jq() {
    merges_with("jq");
}

/// Without python3, node or jq, a missing file is still written; an
/// existing file without the key is left alone with a warning; one that
/// already has it passes silently.
#[test]
fn without_a_json_tool() {
    let env = Env::new(None);
    assert_eq!(env.run(), "");
    assert_eq!(Env::json(&env.settings()), serde_json::json!({ KEY: true }));

    let user = r#"{"model": "opus"}"#;
    std::fs::write(env.settings(), user).unwrap();
    let err = env.run();
    assert_eq!(std::fs::read_to_string(env.settings()).unwrap(), user);
    assert!(
        err.contains("ccy: warning: the image has no python3, node or jq to edit")
            && err.contains(KEY),
        "{err}"
    );

    std::fs::write(
        env.settings(),
        r#"{"model": "opus", "skipDangerousModePermissionPrompt": true}"#,
    )
    .unwrap();
    assert_eq!(env.run(), "");
    assert_eq!(env.names(), [".claude.json", "settings.json"]);
}
