//! Many ccy processes at once: one worktree's lookup-or-create makes one
//! session, `ccy new` makes one each, and nothing is left half-made.
//!
//! Both tests hold [`exclusive`]: 16 containers starting at once load the
//! sandbox's 2 CPUs enough to push other tests past their deadlines.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use crate::support::{
    Repo, active_state, exclusive, first_session_output, home, inspect, q, quadlet_dir, sh, sh_ok,
};

/// How many ccy processes each test starts at once.
const N: usize = 16;

/// Starts `N` copies of `ccy ARGS` in `dir` (stdin not a terminal), all
/// before waiting for any; returns their outputs and the wall time.
fn at_once(dir: &Path, args: &[&str]) -> (Vec<Output>, f64) {
    let t0 = Instant::now();
    let children: Vec<_> = (0..N)
        .map(|_| {
            Command::new(crate::support::ccy_bin())
                .current_dir(dir)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    (outs, t0.elapsed().as_secs_f64())
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Asserts that no ccy temporary file is left in `dir`.
pub fn no_temp_files(dir: &Path) {
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ccy-tmp-"))
        .collect();
    assert!(
        left.is_empty(),
        "temporary files left in {}: {left:?}",
        dir.display()
    );
}

/// Asserts that none of ccy's lock files is still held (`flock -n`
/// succeeds on each): every ccy process has released its locks.
pub fn no_lock_held() {
    let dir = format!("{}/ccy", std::env::var("XDG_RUNTIME_DIR").unwrap());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "lock") {
            sh_ok(&format!("flock -n {} true", q(p.to_str().unwrap())));
        }
    }
}

/// Copies the sessions' unit files into a fresh directory and runs
/// Quadlet's generator on them: every file must produce its service.
pub fn quadlet_accepts(names: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    for n in names {
        for ext in ["container", "volume"] {
            let f = format!("{n}.{ext}");
            std::fs::copy(quadlet_dir().join(&f), dir.path().join(&f)).unwrap();
        }
    }
    let out = sh(&format!(
        "QUADLET_UNIT_DIRS={} /usr/libexec/podman/quadlet -dryrun -user",
        q(dir.path().to_str().unwrap())
    ));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    for n in names {
        for unit in [format!("{n}.service"), format!("{n}-volume.service")] {
            assert!(
                stdout.contains(&format!("---{unit}---")),
                "Quadlet generated no {unit}: {}",
                text(&out)
            );
        }
    }
}

/// Checks one running session: its unit file has ccy's metadata line for
/// `repo`, the service is active with no reload pending, the container
/// runs, tmux reported ready.
fn session_is_whole(repo: &Repo, name: &str) {
    let file = std::fs::read_to_string(quadlet_dir().join(format!("{name}.container"))).unwrap();
    let meta = file
        .lines()
        .find_map(|l| l.strip_prefix("# ccy-session-v1 "))
        .unwrap_or_else(|| panic!("no metadata line in {name}.container:\n{file}"));
    let meta: serde_json::Value = serde_json::from_str(meta).unwrap();
    assert_eq!(meta["name"], name);
    assert_eq!(meta["worktree"], repo.dir.to_str().unwrap());
    assert!(
        std::fs::read_to_string(quadlet_dir().join(format!("{name}.volume")))
            .unwrap()
            .contains("[Volume]")
    );
    let unit = format!("{name}.service");
    assert_eq!(active_state(&unit), "active", "{unit}");
    assert_eq!(
        sh_ok(&format!("systemctl --user show -P NeedDaemonReload {unit}")),
        "no"
    );
    let c = inspect("container", name).unwrap_or_else(|| panic!("no container {name}"));
    assert_eq!(c["State"]["Status"], "running", "{name}");
    assert!(
        home()
            .join(format!(".local/state/ccy/sessions/{name}/ready"))
            .exists(),
        "{name} never reported ready"
    );
}

/// No ccy unit of the user manager is failed.
fn no_failed_units() {
    let failed = sh_ok("systemctl --user list-units --failed --plain --no-legend 'ccy*'");
    assert!(failed.is_empty(), "failed units: {failed}");
}

/// 16 `ccy` at once in one worktree (no terminal: each makes sure the
/// session runs, then returns): the lock around lookup-or-create lets one
/// create and the others find it, so all 16 end well and name the same
/// single session.
#[test]
fn sixteen_ccy_in_one_worktree_make_one_session() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("conc-one");
    let (outs, secs) = at_once(&repo.dir, &[]);
    eprintln!("{N} x ccy in one worktree: {secs:.1} s");
    for o in &outs {
        assert!(o.status.success(), "{}", text(o));
    }
    let names = repo.session_names();
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    let said = |what: &str| {
        outs.iter()
            .filter(|o| {
                String::from_utf8_lossy(&o.stdout).trim() == format!("{what} session {name}")
            })
            .count()
    };
    assert_eq!(
        (said("created"), said("running")),
        (1, N - 1),
        "{}",
        text(&outs[0])
    );
    assert_eq!(repo.containers(), std::slice::from_ref(name));
    session_is_whole(&repo, name);
    quadlet_accepts(&names);
    assert_eq!(
        std::fs::read_to_string(repo.dir.join(".claude/ccy/.session-id")).unwrap(),
        format!("{name}\n")
    );
    no_temp_files(&quadlet_dir());
    no_temp_files(&repo.dir.join(".claude/ccy"));
    no_lock_held();
    no_failed_units();
    assert!(
        inspect("volume", &format!("{name}-state")).is_some(),
        "state volume"
    );
}

/// 16 `ccy new -d` at once in one worktree, with a Claude token (so all
/// 16 also store the token's Podman secret at once): 16 distinct
/// sessions, each whole (unit files accepted by Quadlet, unit active,
/// container running, tmux ready, the token in its environment), nothing
/// failed, no temporary or locked files.
#[test]
fn sixteen_ccy_new_make_sixteen_sessions() {
    let _g = exclusive();
    first_session_output();
    let token = format!(
        "sk-ant-oat01-{}",
        crate::support::marker("conc").replace('-', "Q")
    );
    let _tokens = Tokens::with(&token);
    let repo = Repo::new("conc-new");
    let (outs, secs) = at_once(&repo.dir, &["new", "-d"]);
    eprintln!("{N} x ccy new -d at once: {secs:.1} s");
    let mut reported = BTreeSet::new();
    for o in &outs {
        assert!(o.status.success(), "{}", text(o));
        let out = String::from_utf8_lossy(&o.stdout);
        let name = out
            .trim()
            .strip_prefix("created session ")
            .unwrap_or_else(|| panic!("{}", text(o)));
        reported.insert(name.to_owned());
    }
    assert_eq!(reported.len(), N, "{reported:?}");
    let names = repo.session_names();
    assert_eq!(names.iter().cloned().collect::<BTreeSet<_>>(), reported);
    let mut containers = repo.containers();
    containers.sort();
    assert_eq!(containers, names);
    for n in &names {
        session_is_whole(&repo, n);
        let seen = sh_ok(&format!(
            "podman exec {} printenv CLAUDE_CODE_OAUTH_TOKEN",
            q(n)
        ));
        assert_eq!(seen, token, "{n}");
    }
    quadlet_accepts(&names);
    no_temp_files(&quadlet_dir());
    no_temp_files(&repo.dir.join(".claude/ccy"));
    no_lock_held();
    no_failed_units();
    // One history volume for the project, created once although 16
    // processes raced to create it.
    let history = sh_ok("podman volume ls -q --filter label=ccy.history=conc-new");
    assert_eq!(history.lines().count(), 1, "{history}");
}

/// A token file `conc.2099-01-01.token` in `~/.claude-tokens/ccy/tokens`;
/// the directory and the token secrets are removed on drop.
struct Tokens;

impl Tokens {
    fn with(token: &str) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = home().join(".claude-tokens/ccy/tokens");
        std::fs::create_dir_all(&dir).unwrap();
        for d in [
            home().join(".claude-tokens"),
            home().join(".claude-tokens/ccy"),
            dir.clone(),
        ] {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let f = dir.join("conc.2099-01-01.token");
        std::fs::write(&f, format!("{token}\n")).unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        Self
    }
}

impl Drop for Tokens {
    fn drop(&mut self) {
        std::fs::remove_dir_all(home().join(".claude-tokens")).ok();
        sh(
            "podman secret ls --format '{{.Name}}' | grep '^ccy-token-' | xargs -r podman secret rm",
        );
    }
}
