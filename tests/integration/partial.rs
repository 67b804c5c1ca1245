//! Partial failures (issue 12, items 6-11): a closed pipe, a failure
//! halfway through a destructive verb. Each test reads the real state
//! (unit files, units, state directories) before and after.
//!
//! Prune looks at every session of the user, so its tests hold
//! [`exclusive`].

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::{
    Repo, ccy_bin, exclusive, first_session_output, home, load_state, new_session, q, quadlet_dir,
    sh, sh_ok,
};

/// Runs `script` with bash (for `PIPESTATUS`).
fn bash(script: &str) -> std::process::Output {
    sh(&format!("bash -c {}", q(script)))
}

/// Whether the session is entirely gone: unit files, unit, state dir.
fn gone(name: &str) -> bool {
    !quadlet_dir().join(format!("{name}.container")).exists()
        && !quadlet_dir().join(format!("{name}.volume")).exists()
        && load_state(&format!("{name}.service")) == "not-found"
        && !home().join(".local/state/ccy/sessions").join(name).exists()
}

/// Stops the session and makes its recorded activity 3 hours old.
fn stop_and_age(name: &str) {
    sh_ok(&format!("systemctl --user stop {name}.service"));
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3 * 3600;
    std::fs::write(
        home()
            .join(".local/state/ccy/sessions")
            .join(name)
            .join("status"),
        format!("activity={t}\noutput={t}\nclient_activity=0\nclients=0\nupdated={t}\n"),
    )
    .unwrap();
}

/// A reader that goes away (`| true`, `| head -1`) stops ccy's printing,
/// never its work: no panic (exit 101), exit 0, and every pruned session
/// wholly removed (before the fix, `println!` panicked after the unit
/// files were gone and left the state directories behind).
#[test]
fn closed_pipe_stops_printing_not_the_work() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("pipe");
    let names: Vec<String> = (0..3).map(|_| new_session(&repo.dir, &[])).collect();
    for n in &names {
        stop_and_age(n);
    }
    let ccy = q(ccy_bin());
    let d = q(repo.dir.to_str().unwrap());
    // Read-only verbs whose reader is gone.
    for args in ["prune --age 1h --dry-run", "timer status", "idle --dry-run"] {
        let out = bash(&format!(
            "cd {d} && {ccy} {args} | (exec 0<&-; sleep 0.2); echo \"status=${{PIPESTATUS[0]}}\""
        ));
        let text = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "ccy {args}: {err}");
        assert!(!text.contains("status=101"), "ccy {args}: {text}{err}");
    }
    // The destructive one: the reader leaves at once.
    let out = bash(&format!(
        "cd {d} && {ccy} prune --age 1h --force | (exec 0<&-; sleep 0.2); echo \"status=${{PIPESTATUS[0]}}\""
    ));
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(text.contains("status=0"), "{text}{err}");
    for n in &names {
        assert!(gone(n), "{n} wholly removed");
    }
}

/// A token file whose date is no calendar date (`x.2026-13-45.token`) is
/// not a token: `ccy tokens` does not list it (before, it was "valid").
#[test]
fn token_with_impossible_date_is_not_listed() {
    use std::os::unix::fs::PermissionsExt;
    let _g = exclusive();
    let top = home().join(".claude-tokens");
    let dir = top.join("ccy/tokens");
    std::fs::create_dir_all(&dir).unwrap();
    for d in [top.clone(), top.join("ccy"), dir.clone()] {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    for f in ["x.2026-13-45.token", "good.2099-01-01.token"] {
        let p = dir.join(f);
        std::fs::write(&p, "sk-ant-oat01-partial-test\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = sh(&format!("cd && {} tokens", q(ccy_bin())));
    std::fs::remove_dir_all(&top).ok();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{listing}");
    assert!(listing.contains("good"), "{listing}");
    assert!(
        !listing.contains("2026-13-45") && !listing.lines().any(|l| l.starts_with('x')),
        "{listing}"
    );
}

/// Lock files in `$XDG_RUNTIME_DIR/ccy` are removed after use: making a
/// session leaves no `session-NAME.lock` and no worktree lock behind
/// (before, one file per session name piled up for good).
#[test]
fn lock_files_do_not_pile_up() {
    let _g = crate::support::shared();
    first_session_output();
    let repo = Repo::new("locks");
    let name = new_session(&repo.dir, &[]);
    let out = crate::support::ccy(&repo.dir, &["rm", "--force", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let dir =
        std::path::PathBuf::from(sh_ok("echo ${XDG_RUNTIME_DIR:-/run/user/$(id -u)}")).join("ccy");
    let lock = dir.join(format!("session-{name}.lock"));
    assert!(!lock.exists(), "{} left behind", lock.display());
}

/// A deleted state directory does not make the session unstartable: the
/// next start recreates it (mode 0700) and the session runs (before, the
/// start failed with `statfs … no such file or directory`).
#[test]
fn deleted_state_directory_is_recreated_on_start() {
    use std::os::unix::fs::PermissionsExt;
    let _g = crate::support::shared();
    first_session_output();
    let repo = Repo::new("statedir");
    let name = new_session(&repo.dir, &[]);
    sh_ok(&format!("systemctl --user stop {name}.service"));
    let state = home().join(".local/state/ccy/sessions").join(&name);
    std::fs::remove_dir_all(&state).unwrap();
    let out = crate::support::ccy(&repo.dir, &["shell", &name, "--", "echo", "alive"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("alive"), "{}{}", out.stdout, out.stderr);
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{mode:o}");
    crate::support::ccy(&repo.dir, &["rm", "--force", &name]);
}

/// The history volumes (label `ccy.history`) that exist now.
fn history_volumes() -> Vec<String> {
    let mut v: Vec<String> = sh_ok("podman volume ls -q --filter label=ccy.history")
        .lines()
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

/// A refusal writes nothing: `ccy new` in a worktree whose path holds a
/// line break is refused (exit 2), and the project's history volume is not
/// left behind (before, it was created before the refusal).
#[test]
fn refusal_leaves_no_history_volume() {
    let _g = exclusive();
    let before = history_volumes();
    let repo = Repo::new("hist\nnl");
    let out = crate::support::ccy(&repo.dir, &["new", "-d"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert_eq!(history_volumes(), before, "{}", out.stderr);
    assert!(repo.session_names().is_empty());
}

/// `ccy rm --force NAME` works when the current directory was deleted
/// (before: "cannot read the current directory").
#[test]
fn rm_by_name_works_in_a_deleted_directory() {
    let _g = crate::support::shared();
    first_session_output();
    let repo = Repo::new("cwdgone");
    let name = new_session(&repo.dir, &[]);
    let gone_dir = repo.dir.parent().unwrap().join("deleted-cwd");
    std::fs::create_dir_all(&gone_dir).unwrap();
    let out = sh(&format!(
        "cd {d} && rmdir {d} && {ccy} rm --force {name}",
        d = q(gone_dir.to_str().unwrap()),
        ccy = q(ccy_bin()),
    ));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(gone(&name));
}

/// A removal that fails halfway keeps the session whole enough to be seen
/// and finished: with its state directory unremovable (a read-only
/// subdirectory), `ccy rm` fails, the unit files stay and `ccy list` still
/// shows the session; once the cause is gone, `ccy rm` again removes it
/// all (before, the unit files went first and the session vanished from
/// `list`, leaving its state directory behind).
#[test]
fn a_removal_cut_short_leaves_the_session_listed() {
    use std::os::unix::fs::PermissionsExt;
    let _g = crate::support::shared();
    first_session_output();
    let repo = Repo::new("rmhalf");
    let name = new_session(&repo.dir, &[]);
    sh_ok(&format!("systemctl --user stop {name}.service"));
    let state = home().join(".local/state/ccy/sessions").join(&name);
    let stuck = state.join("stuck");
    std::fs::create_dir_all(&stuck).unwrap();
    std::fs::write(stuck.join("file"), "x").unwrap();
    std::fs::set_permissions(&stuck, std::fs::Permissions::from_mode(0o500)).unwrap();
    let out = crate::support::ccy(&repo.dir, &["rm", "--force", &name]);
    std::fs::set_permissions(&stuck, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_ne!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("cannot remove"), "{}", out.stderr);
    assert!(
        quadlet_dir().join(format!("{name}.container")).exists(),
        "the unit file stays: {}",
        out.stderr
    );
    let list = crate::support::ccy(&repo.dir, &["list"]);
    assert!(list.stdout.contains(&name), "{}", list.stdout);
    let out = crate::support::ccy(&repo.dir, &["rm", "--force", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(gone(&name));
}

/// Names unique to this test run.
fn ghost(tag: &str) -> String {
    format!("ghost{tag}{}", std::process::id())
}

/// What removed sessions left behind — a state directory, an agent-state
/// volume (label `ccy.session`), a token secret no unit file names — is
/// reported by `ccy doctor` (check `leftovers`), listed by `prune
/// --dry-run` without changing anything, and removed by `prune` (the
/// volume only with `--volumes`). Before, doctor saw nothing and prune
/// left them for good.
#[test]
fn leftovers_are_reported_and_pruned() {
    let _g = exclusive();
    let dir_name = ghost("dir");
    let vol_session = ghost("vol");
    let volume = format!("{vol_session}-state");
    let secret = format!("ccy-token-{}", ghost("sec"));
    let state = home().join(".local/state/ccy/sessions").join(&dir_name);
    std::fs::create_dir_all(state.join("panes")).unwrap();
    std::fs::write(state.join("status"), "activity=1\n").unwrap();
    sh_ok(&format!(
        "podman volume create --label ccy.session={vol_session} {volume}"
    ));
    sh_ok(&format!(
        "printf x | podman secret create --label ccy.token={} {secret} -",
        ghost("sec")
    ));
    let doctor = |what: &str| {
        let out = crate::support::ccy(&home(), &["doctor", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{what}: {e}: {}{}", out.stdout, out.stderr));
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "leftovers")
            .cloned()
            .unwrap_or_else(|| panic!("{what}: no leftovers check: {v}"))
    };
    let check = doctor("before");
    assert_eq!(check["level"], "warning", "{check}");
    let message = check["message"].as_str().unwrap();
    for thing in [&dir_name, &volume, &secret] {
        assert!(message.contains(thing.as_str()), "{thing}: {message}");
    }
    let out = crate::support::ccy(&home(), &["prune", "--age", "5200w", "--dry-run"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("would remove state directory") && l.contains(&dir_name)),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("would keep volume") && l.contains(&volume)),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("would remove secret") && l.contains(&secret)),
        "{}",
        out.stdout
    );
    assert!(state.exists(), "dry run changes nothing");
    let out = crate::support::ccy(&home(), &["prune", "--age", "5200w"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!state.exists(), "{}", out.stdout);
    assert!(
        !sh(&format!("podman secret exists {secret}"))
            .status
            .success(),
        "{}",
        out.stdout
    );
    assert!(
        sh(&format!("podman volume exists {volume}"))
            .status
            .success(),
        "kept without --volumes: {}",
        out.stdout
    );
    let out = crate::support::ccy(&home(), &["prune", "--age", "5200w", "--volumes"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        !sh(&format!("podman volume exists {volume}"))
            .status
            .success(),
        "{}",
        out.stdout
    );
    let check = doctor("after");
    assert_eq!(check["level"], "ok", "{check}");
}

/// Unmounts a test tmpfs (`ccy-test-root tmpfs-over`) when dropped.
struct Tmpfs(std::path::PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        sh(&format!(
            "sudo -n /usr/local/libexec/ccy-test-root undo {}",
            q(self.0.to_str().unwrap())
        ));
    }
}

/// The saved pane files (`YYYYmmddTHHMMSSZ.txt`) in `dir` with their
/// sizes, sorted.
fn pane_files(dir: &std::path::Path) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().into_string().ok()?;
            n.ends_with("Z.txt")
                .then(|| (n, e.metadata().map_or(0, |m| m.len())))
        })
        .collect();
    v.sort();
    v
}

/// A full state file system loses no saved panes silently: the panes
/// directory is a small tmpfs (the sandbox's root helper mounts it; a
/// loop device would do the same, a read-only directory would not, since
/// the container's root, mapped to the user, may write to the user's
/// files whatever their mode), filled up; stopping the session then keeps
/// the earlier save as it was (no empty or cut-off file), `ccy status`
/// says the save failed, and so does the next start, naming the earlier
/// save. Before, the save was an empty file the next start pointed at.
#[test]
fn a_full_disk_keeps_the_previous_panes_and_says_so() {
    let _g = crate::support::shared();
    first_session_output();
    let repo = Repo::new("panesfull");
    let name = new_session(&repo.dir, &[]);
    sh_ok(&format!("systemctl --user stop {name}.service"));
    let panes = home()
        .join(".local/state/ccy/sessions")
        .join(&name)
        .join("panes");
    let first = pane_files(&panes);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].1 > 0, "{first:?}");
    let first_text = std::fs::read(panes.join(&first[0].0)).unwrap();
    sh_ok(&format!(
        "sudo -n /usr/local/libexec/ccy-test-root tmpfs-over {} 64k",
        q(panes.to_str().unwrap())
    ));
    let undo = Tmpfs(panes.clone());
    let out = crate::support::ccy(&repo.dir, &["shell", &name, "--", "true"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // Fill it: not one byte more fits.
    sh(&format!(
        "dd if=/dev/zero of={} bs=1024 2>/dev/null",
        q(panes.join(".fill").to_str().unwrap())
    ));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    sh_ok(&format!("systemctl --user stop {name}.service"));
    assert_eq!(pane_files(&panes), first, "the earlier save stays, alone");
    assert_eq!(std::fs::read(panes.join(&first[0].0)).unwrap(), first_text);
    let status = crate::support::ccy(&repo.dir, &["status", &name]);
    assert!(
        status
            .stdout
            .lines()
            .any(|l| l.starts_with("warning:") && l.contains("panes could not be saved")),
        "{}{}",
        status.stdout,
        status.stderr
    );
    std::fs::remove_file(panes.join(".fill")).unwrap();
    let out = crate::support::ccy(&repo.dir, &["shell", &name, "--", "true"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("the panes could not be saved when")
            && out.stderr.contains(&first[0].0),
        "{}",
        out.stderr
    );
    sh_ok(&format!("systemctl --user stop {name}.service"));
    drop(undo);
    crate::support::ccy(&repo.dir, &["rm", "--force", &name]);
}

/// A removed image is built again when a stopped session starts (before:
/// the start tried to pull `localhost/…` from a registry and failed). A
/// session that kept a layer runs its own image `localhost/ccy-kept:NAME`
/// (issue 11 §2), so removing only the clean image needs no build; with
/// both gone, ccy builds the clean image again and starts from it (its
/// image file dropped), saying so.
#[test]
fn a_removed_image_is_rebuilt_on_start() {
    let _g = crate::support::shared();
    first_session_output();
    let repo = Repo::new("imagegone");
    // An image of its own, so removing it touches no other test.
    let image = format!("localhost/ccy-test-gone-{}:latest", std::process::id());
    let config = repo.dir.join(".claude/ccy/config.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(crate::support::TEST_IMAGE, &image);
    std::fs::write(&config, text).unwrap();
    let name = new_session(&repo.dir, &[]);
    let kept = format!("localhost/ccy-kept:{name}");
    let shell = || crate::support::ccy(&repo.dir, &["shell", &name, "--", "echo", "alive"]);

    // Only the clean image: the session's own image (made by a stop that
    // keeps a change) still runs it.
    sh_ok(&format!(
        "podman exec {} sh -c 'echo x > /opt/imagegone'",
        q(&name)
    ));
    sh_ok(&format!("systemctl --user stop {name}.service"));
    sh_ok(&format!("podman image exists {}", q(&kept)));
    sh_ok(&format!("podman rmi {}", q(&image)));
    let only_clean = shell();
    // Both: built again.
    sh_ok(&format!("systemctl --user stop {name}.service"));
    sh_ok(&format!("podman rmi {}", q(&kept)));
    let both = shell();
    let rebuilt = sh(&format!("podman image exists {}", q(&image)))
        .status
        .success();
    let file_left = crate::support::kept_image_file(&name).exists();
    crate::support::ccy(&repo.dir, &["rm", "--force", &name]);
    sh(&format!("podman rmi {}", q(&image)));

    assert_eq!(
        only_clean.code, 0,
        "{}{}",
        only_clean.stdout, only_clean.stderr
    );
    assert!(only_clean.stdout.contains("alive"), "{}", only_clean.stdout);
    assert!(
        !only_clean.stderr.contains("building it again"),
        "{}",
        only_clean.stderr
    );
    assert_eq!(both.code, 0, "{}{}", both.stdout, both.stderr);
    assert!(
        both.stdout.contains("alive"),
        "{}{}",
        both.stdout,
        both.stderr
    );
    assert!(both.stderr.contains("building it again"), "{}", both.stderr);
    assert!(
        both.stderr.contains("is gone (its kept layer with it)"),
        "{}",
        both.stderr
    );
    assert!(!file_left, "the image file still names the removed image");
    assert!(rebuilt, "{image} was not built again");
}

/// A token file others can read is handled one way everywhere: `ccy
/// tokens` marks it not private and never the default, and a new session
/// gets the newest private token instead (with a warning). Before, the
/// 0644 token was shown as the default and then refused by `ccy new`.
#[test]
fn a_token_others_can_read_is_never_the_default() {
    use std::os::unix::fs::PermissionsExt;
    let _g = exclusive();
    first_session_output();
    let top = home().join(".claude-tokens");
    let dir = top.join("ccy/tokens");
    std::fs::create_dir_all(&dir).unwrap();
    for d in [top.clone(), top.join("ccy"), dir.clone()] {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let open = format!("open{}", std::process::id());
    let closed = format!("closed{}", std::process::id());
    for (f, mode) in [
        (format!("{open}.2099-12-31.token"), 0o644),
        (format!("{closed}.2099-01-01.token"), 0o600),
    ] {
        let p = dir.join(f);
        std::fs::write(&p, "sk-ant-oat01-partial-test\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let repo = Repo::new("tokenmode");
    let tokens = crate::support::ccy(&repo.dir, &["tokens"]);
    let new = crate::support::ccy(&repo.dir, &["new", "-d"]);
    let secret_ok = sh(&format!("podman secret exists ccy-token-{closed}"))
        .status
        .success();
    std::fs::remove_dir_all(&top).ok();
    for n in repo.session_names() {
        crate::support::ccy(&repo.dir, &["rm", "--force", "--volumes", &n]);
    }
    sh(&format!(
        "podman secret rm ccy-token-{closed} ccy-token-{open} 2>/dev/null"
    ));
    let row = |name: &str| {
        tokens
            .stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {}", tokens.stdout))
            .to_owned()
    };
    assert!(row(&open).contains("not private"), "{}", tokens.stdout);
    assert!(!row(&open).contains('*'), "{}", tokens.stdout);
    assert!(row(&closed).contains('*'), "{}", tokens.stdout);
    assert_eq!(new.code, 0, "{}{}", new.stdout, new.stderr);
    assert!(new.stderr.contains("chmod 600"), "{}", new.stderr);
    assert!(secret_ok, "the session got the private token");
}

/// A linked worktree whose main worktree was moved (git there says "not a
/// git repository") is refused with a clear error and the fix, and nothing
/// is made (before, ccy made a session in it).
#[test]
fn a_linked_worktree_of_a_moved_repository_is_refused() {
    let _g = crate::support::shared();
    let repo = Repo::new("movedmain");
    let linked = repo.dir.parent().unwrap().join("movedmain-linked");
    sh_ok(&format!(
        "cd {} && git worktree add -q -b linked {}",
        q(repo.dir.to_str().unwrap()),
        q(linked.to_str().unwrap())
    ));
    let moved = repo.dir.parent().unwrap().join("movedmain-moved");
    std::fs::rename(&repo.dir, &moved).unwrap();
    let out = crate::support::ccy(&linked, &["new", "-d"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("repository is gone"), "{}", out.stderr);
    assert!(out.stderr.contains("git worktree repair"), "{}", out.stderr);
    let made: Vec<_> = crate::support::files_under(&quadlet_dir())
        .into_iter()
        .filter(|(_, text)| text.contains("movedmain-linked"))
        .collect();
    assert!(made.is_empty(), "{made:?}");
    std::fs::rename(&moved, &repo.dir).unwrap();
}
