//! Lifecycle verbs that make a session from another one's state: `ccy
//! clone`, `ccy attach --fresh` / `--reset`, `ccy export` / `ccy import`.
//! Each test checks the real state before and after: units, volumes and
//! their contents, worktrees, git refs, labels.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines
)]

use std::path::{Path, PathBuf};

use crate::support::{
    Repo, Term, active_state, ccy, first_session_output, inspect, load_state, new_session, q,
    quadlet_dir, sh, sh_ok, shared,
};

/// Removes, when dropped, the sessions of a worktree that is not a
/// [`Repo`]'s own, and the named volumes.
struct Cleanup {
    worktrees: Vec<PathBuf>,
    volumes: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir(quadlet_dir()) else {
            return;
        };
        for e in entries.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            let ours = self.worktrees.iter().any(|w| {
                let needle = serde_json::to_string(w.to_str().unwrap()).unwrap();
                text.lines()
                    .any(|l| l.starts_with("# ccy-session-v1 ") && l.contains(&needle))
            });
            if !ours {
                continue;
            }
            let n = e.path().file_stem().unwrap().to_string_lossy().into_owned();
            sh(&format!(
                "systemctl --user stop {n}.service {n}-volume.service; \
                 rm -f {dir}/{n}.container {dir}/{n}.volume; podman volume rm -f {n}-state",
                n = q(&n),
                dir = q(quadlet_dir().to_str().unwrap())
            ));
        }
        for v in &self.volumes {
            sh(&format!("podman volume rm -f {}", q(v)));
        }
    }
}

/// Writes `text` into `/root/.claude/marker` in the running session.
fn write_marker(name: &str, text: &str) {
    sh_ok(&format!(
        "podman exec {} sh -c {}",
        q(name),
        q(&format!("echo {text} > /root/.claude/marker"))
    ));
}

/// The marker file as the running session sees it (empty when absent).
fn read_marker(name: &str) -> String {
    let out = sh(&format!("podman exec {} cat /root/.claude/marker", q(name)));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The marker file in volume `vol`, read from its exported contents
/// (whether or not a container uses it).
fn marker_in_volume(vol: &str) -> String {
    let out = sh(&format!(
        "podman volume export {} | tar -xOf - --wildcards '*marker'",
        q(vol)
    ));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn volume_label(vol: &str, key: &str) -> String {
    inspect("volume", vol).unwrap()["Labels"][key]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn container_label(name: &str, key: &str) -> String {
    inspect("container", name).unwrap()["Config"]["Labels"][key]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn container_id(name: &str) -> String {
    inspect("container", name).unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The volume mounted at `/root/.claude` in the running container.
fn state_mount(name: &str) -> String {
    let c = inspect("container", name).unwrap();
    c["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Destination"] == "/root/.claude")
        .and_then(|m| m["Name"].as_str())
        .unwrap_or_default()
        .to_owned()
}

fn volume_exists(vol: &str) -> bool {
    sh(&format!("podman volume exists {}", q(vol)))
        .status
        .success()
}

fn git(dir: &Path, args: &str) -> String {
    sh_ok(&format!("git -C {} {args}", q(dir.to_str().unwrap())))
}

/// `ccy clone -d SRC NEW` copies SRC's agent-state volume into NEW's, makes
/// a worktree on branch NEW at SRC's HEAD, starts NEW there; refusals
/// (unknown SRC, taken NEW, existing branch, invalid NEW) change nothing.
#[test]
fn clone_copies_state_and_branches_from_head() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("cloner");
    let id = std::process::id();
    let src = new_session(&repo.dir, &[&format!("src-{id}")]);
    let new = format!("copy-{id}");
    let linked = repo.dir.parent().unwrap().join(format!("cloner-{new}"));
    let _c = Cleanup {
        worktrees: vec![linked.clone()],
        volumes: vec![],
    };
    // A second commit, so HEAD is not the first one, and a marker in the
    // agent's state.
    std::fs::write(repo.dir.join("second"), "2\n").unwrap();
    git(&repo.dir, "add second");
    git(
        &repo.dir,
        "-c user.name=t -c user.email=t@example.invalid commit -q -m second",
    );
    let head = git(&repo.dir, "rev-parse HEAD");
    write_marker(&src, &format!("from-{src}"));
    let worktrees_before = git(&repo.dir, "worktree list").lines().count();

    // Refusals first: nothing may be left behind.
    let out = ccy(&repo.dir, &["clone", "-d", "no-such-session-xyz", &new]);
    assert_eq!(out.code, 5, "{}", out.stderr);
    let out = ccy(&repo.dir, &["clone", "-d", &src, "bad name"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("invalid session name"),
        "{}",
        out.stderr
    );
    let out = ccy(&repo.dir, &["clone", "-d", &src, &src]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("the name {src} is taken")),
        "{}",
        out.stderr
    );
    let out = ccy(&repo.dir, &["clone", "-d", &src, &new, "--branch", "main"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("the branch main exists"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint: "), "{}", out.stderr);
    assert_eq!(
        git(&repo.dir, "worktree list").lines().count(),
        worktrees_before
    );
    assert!(!quadlet_dir().join(format!("{new}.container")).exists());
    assert!(!volume_exists(&format!("{new}-state")));

    // The clone, from a running SRC.
    let out = ccy(&repo.dir, &["clone", "-d", &src, &new]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!("created session {new}")),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains(&format!("{src} is running: copying its agent state")),
        "{}",
        out.stderr
    );
    assert_eq!(active_state(&format!("{new}.service")), "active");
    assert!(
        linked.join(".git").is_file(),
        "a linked worktree {linked:?}"
    );
    assert_eq!(git(&repo.dir, &format!("rev-parse refs/heads/{new}")), head);
    assert_eq!(git(&linked, "rev-parse --abbrev-ref HEAD"), new);
    assert_eq!(
        container_label(&new, "ccy.worktree"),
        linked.to_str().unwrap()
    );
    assert_eq!(container_label(&new, "ccy.branch"), new);
    assert_eq!(container_label(&new, "ccy.project"), "cloner");
    // The state was copied, and the copy is separate.
    assert_eq!(read_marker(&new), format!("from-{src}"));
    assert_eq!(
        volume_label(&format!("{new}-state"), "ccy.session"),
        new,
        "the volume is the new session's own, made by its unit"
    );
    write_marker(&new, "changed");
    assert_eq!(read_marker(&src), format!("from-{src}"));
    let unit = std::fs::read_to_string(quadlet_dir().join(format!("{new}.container"))).unwrap();
    assert!(
        unit.contains(&format!(
            r#""created_worktree":{{"branch":"{new}","new_branch":true}}"#
        )),
        "{unit}"
    );
    // The session's /workspace is the new worktree, at SRC's commit.
    assert!(
        ccy(
            &repo.dir,
            &["shell", &new, "--", "cat", "/workspace/second"]
        )
        .stdout
        .starts_with('2')
    );

    // The branch now exists: a second clone onto it is refused.
    let out = ccy(&repo.dir, &["clone", "-d", &src, "--branch", &new]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("the branch {new} exists")),
        "{}",
        out.stderr
    );
}

/// `clone` carries SRC's keep label and options, and takes `ccy new`'s
/// creation flags on top of them: a flag replaces SRC's value (network),
/// a repeatable one adds to SRC's list (env).
#[test]
fn clone_keeps_the_keep_label_and_takes_creation_flags() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("clonekeep");
    let id = std::process::id();
    let src = new_session(
        &repo.dir,
        &[&format!("ksrc-{id}"), "--keep", "--env", "FROM_SRC=1"],
    );
    let new = format!("kcopy-{id}");
    let linked = repo.dir.parent().unwrap().join(format!("clonekeep-{new}"));
    let _c = Cleanup {
        worktrees: vec![linked.clone()],
        volumes: vec![],
    };
    let out = ccy(
        &repo.dir,
        &[
            "clone",
            "-d",
            &src,
            &new,
            "--no-network",
            "--env",
            "CLONED=yes",
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(active_state(&format!("{new}.service")), "active");
    assert_eq!(container_label(&new, "ccy.keep"), "true", "kept like SRC");
    let env = ccy(
        &repo.dir,
        &[
            "shell",
            &new,
            "--",
            "sh",
            "-c",
            "echo \"$FROM_SRC $CLONED\"",
        ],
    );
    assert_eq!(env.stdout.trim(), "1 yes", "{}", env.stderr);
    let network = inspect("container", &new).unwrap()["HostConfig"]["NetworkMode"].clone();
    assert_eq!(network, serde_json::json!("none"), "--no-network wins");

    // An unkept SRC makes an unkept clone, unless --keep.
    let out = ccy(&repo.dir, &["keep", "--off", &src]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plain = format!("kplain-{id}");
    let kept = format!("kkept-{id}");
    let _c2 = Cleanup {
        worktrees: vec![
            repo.dir
                .parent()
                .unwrap()
                .join(format!("clonekeep-{plain}")),
            repo.dir.parent().unwrap().join(format!("clonekeep-{kept}")),
        ],
        volumes: vec![],
    };
    sh_ok(&format!(
        "systemctl --user stop {}",
        q(&format!("{src}.service"))
    ));
    for (n, extra) in [(&plain, None), (&kept, Some("--keep"))] {
        let mut args = vec!["clone", "-d", src.as_str(), n.as_str()];
        args.extend(extra);
        let out = ccy(&repo.dir, &args);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    }
    assert_eq!(container_label(&plain, "ccy.keep"), "");
    assert_eq!(container_label(&kept, "ccy.keep"), "true");
}

/// `attach --fresh` recreates the container (new id) with the same volume;
/// on a stopped session it starts it. `attach --reset` gives the session a
/// new empty volume `NAME-state-2` (labelled, recorded in the unit file),
/// keeps the old one with its contents and names it; on a stopped session
/// too (`-3`). `rm --volumes` then removes the current volume and the earlier ones.
#[test]
fn attach_fresh_and_reset() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("freshen");
    let name = new_session(&repo.dir, &[&format!("fresh-{}", std::process::id())]);
    let v1 = format!("{name}-state");
    let v2 = format!("{name}-state-2");
    let v3 = format!("{name}-state-3");
    let _c = Cleanup {
        worktrees: vec![],
        volumes: vec![v2.clone(), v3.clone()],
    };
    write_marker(&name, "kept");
    let before = container_id(&name);

    let term = Term::spawn(&repo.dir, &format!("ccy attach --fresh {name}"));
    term.wait_for("root@", 60);
    assert_ne!(container_id(&name), before, "a new container");
    assert_eq!(read_marker(&name), "kept", "the same volume");
    term.detach();
    let screen = term.wait_for("[exited 0]", 20);
    assert!(
        screen.contains(&format!(
            "started session {name} in a new container from its clean image"
        )),
        "{screen}"
    );
    drop(term);

    sh_ok(&format!("systemctl --user stop {name}.service"));
    let term = Term::spawn(&repo.dir, &format!("ccy attach --fresh {name}"));
    term.wait_for("root@", 60);
    assert_eq!(active_state(&format!("{name}.service")), "active");
    assert_eq!(read_marker(&name), "kept");
    term.detach();
    term.wait_for("[exited 0]", 20);
    drop(term);

    // Reset while running.
    let term = Term::spawn(&repo.dir, &format!("ccy attach --reset {name}"));
    term.wait_for("root@", 60);
    assert_eq!(state_mount(&name), v2);
    assert_eq!(read_marker(&name), "", "the new volume is empty");
    assert_eq!(marker_in_volume(&v1), "kept", "the old volume is kept");
    assert_eq!(volume_label(&v2, "ccy.session"), name);
    assert_eq!(volume_label(&v2, "ccy.project"), "freshen");
    let unit = std::fs::read_to_string(quadlet_dir().join(format!("{name}.container"))).unwrap();
    assert!(
        unit.contains(&format!(r#""state_volume":"{v2}""#)),
        "{unit}"
    );
    term.detach();
    let screen = term.wait_for("[exited 0]", 20);
    assert!(
        screen.contains(&format!(
            "session {name} has a new agent-state volume {v2}; kept the old one, {v1}"
        )),
        "{screen}"
    );
    drop(term);

    // Reset while stopped.
    write_marker(&name, "second");
    sh_ok(&format!("systemctl --user stop {name}.service"));
    let term = Term::spawn(&repo.dir, &format!("ccy attach --reset {name}"));
    term.wait_for("root@", 60);
    assert_eq!(active_state(&format!("{name}.service")), "active");
    assert_eq!(state_mount(&name), v3);
    assert_eq!(marker_in_volume(&v2), "second");
    term.detach();
    term.wait_for("[exited 0]", 20);
    drop(term);

    let out = ccy(&repo.dir, &["rm", "--volumes", &name]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!("volume {v3}")),
        "{}",
        out.stdout
    );
    assert!(!volume_exists(&v3));
    // --volumes takes the earlier --reset volumes too, saying so.
    for v in [&v1, &v2] {
        assert!(
            out.stdout.contains(&format!("removed earlier volume {v} ")),
            "{}",
            out.stdout
        );
        assert!(!volume_exists(v), "earlier volume {v} is still there");
    }
}

/// Builds a tar archive in `dir` from `files` (name, contents) with the
/// tar CLI; returns its path.
fn craft_archive(dir: &Path, tag: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let work = dir.join(format!("craft-{tag}"));
    std::fs::create_dir_all(&work).unwrap();
    let mut names = Vec::new();
    for (n, data) in files {
        std::fs::write(work.join(n), data).unwrap();
        names.push(q(n));
    }
    let out = dir.join(format!("{tag}.tar"));
    sh_ok(&format!(
        "cd {} && tar -cf {} {}",
        q(work.to_str().unwrap()),
        q(out.to_str().unwrap()),
        names.join(" ")
    ));
    out
}

/// `export` writes one archive (manifest, reference units, volume
/// contents); after `rm --volumes`, `import` re-renders the session here,
/// fills its volume (the marker is back), starts it with the same labels.
/// A taken name, an existing file, a bad or newer manifest and a missing
/// worktree are refused and leave nothing behind; `--worktree` and a new
/// NAME with `--no-start` work.
#[test]
fn export_rm_import_round_trip() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("porter");
    let id = std::process::id();
    let name = new_session(&repo.dir, &[&format!("port-{id}")]);
    let other = format!("port2-{id}");
    let _c = Cleanup {
        worktrees: vec![],
        volumes: vec![format!("{other}-state")],
    };
    let scratch = repo.dir.parent().unwrap().to_path_buf();
    write_marker(&name, "exported");
    let file = scratch.join("session.tar");
    let f = file.to_str().unwrap();

    let out = ccy(&repo.dir, &["export", &name, f]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains(&format!("{name} is running: exporting")),
        "{}",
        out.stderr
    );
    let list = sh_ok(&format!("tar -tf {}", q(f)));
    let entries: Vec<&str> = list.lines().collect();
    assert_eq!(
        entries,
        [
            "manifest.json".to_owned(),
            format!("units/{name}.container"),
            format!("units/{name}.volume"),
            "state.tar".to_owned()
        ],
        "{list}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&sh_ok(&format!("tar -xOf {} manifest.json", q(f)))).unwrap();
    assert_eq!(manifest["format"], 1);
    assert_eq!(manifest["session"]["name"], name.as_str());
    assert_eq!(manifest["session"]["project"], "porter");
    assert_eq!(manifest["session"]["worktree"], repo.dir.to_str().unwrap());
    assert_eq!(
        manifest["session"]["options"]["agent"],
        serde_json::json!(["bash", "-l"])
    );
    assert_eq!(manifest["live"], true);
    let out = ccy(&repo.dir, &["export", &name, f]);
    assert_eq!(out.code, 2, "an existing file: {}", out.stderr);

    let out = ccy(&repo.dir, &["rm", "--volumes", &name]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!volume_exists(&format!("{name}-state")));
    assert!(!quadlet_dir().join(format!("{name}.container")).exists());

    // Without a terminal and without --yes: refused, nothing changes.
    let out = ccy(&repo.dir, &["import", f]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("without your approval"),
        "{}",
        out.stderr
    );
    assert!(!quadlet_dir().join(format!("{name}.container")).exists());
    let out = ccy(&repo.dir, &["import", f, "--yes"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(&format!("imported session {name} (running)")),
        "{}",
        out.stdout
    );
    assert_eq!(active_state(&format!("{name}.service")), "active");
    assert_eq!(read_marker(&name), "exported", "the volume's contents");
    let vol = format!("{name}-state");
    assert_eq!(volume_label(&vol, "ccy.session"), name);
    assert_eq!(volume_label(&vol, "ccy.project"), "porter");
    assert_eq!(
        container_label(&name, "ccy.worktree"),
        repo.dir.to_str().unwrap()
    );
    assert_eq!(container_label(&name, "ccy.project"), "porter");
    assert_eq!(container_label(&name, "ccy.branch"), "main");

    // The name is taken now.
    let out = ccy(&repo.dir, &["import", f, "--yes"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("is taken"), "{}", out.stderr);

    // Bad archives: refused before anything changes.
    let state = sh_ok(&format!("tar -xOf {} state.tar | wc -c", q(f)));
    assert!(state.parse::<u64>().unwrap() > 0);
    let bad = craft_archive(
        &scratch,
        "bad",
        &[("manifest.json", b"{\"format\": 1}"), ("state.tar", b"")],
    );
    let newer = craft_archive(
        &scratch,
        "newer",
        &[
            (
                "manifest.json",
                b"{\"format\": 2, \"ccy_version\": \"9.9.9\"}",
            ),
            ("state.tar", b""),
        ],
    );
    let missing_state = craft_archive(&scratch, "nostate", &[("README", b"x")]);
    for (archive, code, says) in [
        (&bad, 2, "missing field"),
        (&newer, 3, "archive format 2, written by ccy 9.9.9"),
        (&missing_state, 2, "it has no manifest.json"),
    ] {
        let out = ccy(&repo.dir, &["import", archive.to_str().unwrap(), &other]);
        assert_eq!(out.code, code, "{archive:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{archive:?}: {}", out.stderr);
        assert!(!quadlet_dir().join(format!("{other}.container")).exists());
        assert!(!quadlet_dir().join(format!("{other}.volume")).exists());
        assert!(!volume_exists(&format!("{other}-state")));
    }

    // A good manifest with contents that are not a tar archive: refused
    // by ccy's check of every entry before anything is made.
    let manifest_text = sh_ok(&format!("tar -xOf {} manifest.json", q(f)));
    let broken = craft_archive(
        &scratch,
        "broken",
        &[
            ("manifest.json", manifest_text.as_bytes()),
            ("state.tar", b"garbage, not a tar archive\n"),
        ],
    );
    let out = ccy(&repo.dir, &["import", broken.to_str().unwrap(), &other]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("its state.tar is not a tar archive"),
        "{}",
        out.stderr
    );
    assert!(!quadlet_dir().join(format!("{other}.container")).exists());
    assert!(!quadlet_dir().join(format!("{other}.volume")).exists());
    assert!(!volume_exists(&format!("{other}-state")));
    assert_eq!(load_state(&format!("{other}.service")), "not-found");

    // A worktree that does not exist here: refused with the hint; then
    // --worktree, a new NAME and --no-start.
    let text = sh_ok(&format!("tar -xOf {} manifest.json", q(f)));
    let moved = text.replace(repo.dir.to_str().unwrap(), "/nonexistent/porter");
    let state_bytes = sh(&format!("tar -xOf {} state.tar", q(f))).stdout;
    let away = craft_archive(
        &scratch,
        "away",
        &[
            ("manifest.json", moved.as_bytes()),
            ("state.tar", &state_bytes),
        ],
    );
    let a = away.to_str().unwrap();
    let out = ccy(&repo.dir, &["import", a, &other]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("/nonexistent/porter does not exist on this machine")
            && out.stderr.contains("--worktree PATH"),
        "{}",
        out.stderr
    );
    assert!(!quadlet_dir().join(format!("{other}.container")).exists());
    let out = ccy(
        &repo.dir,
        &[
            "import",
            a,
            &other,
            "--worktree",
            repo.dir.to_str().unwrap(),
            "--no-start",
            "--yes",
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(&format!("imported session {other} (stopped)")),
        "{}",
        out.stdout
    );
    assert_eq!(active_state(&format!("{other}.service")), "inactive");
    assert_eq!(marker_in_volume(&format!("{other}-state")), "exported");
    assert_eq!(
        volume_label(&format!("{other}-state"), "ccy.session"),
        other
    );
    sh(&format!(
        "rm -f {dir}/{o}.container {dir}/{o}.volume; systemctl --user stop {o}-volume.service",
        o = q(&other),
        dir = q(quadlet_dir().to_str().unwrap())
    ));
}
