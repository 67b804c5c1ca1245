//! Lifecycle: `ccy prune`, `ccy keep` / `ccy new --keep`, the no-data-loss
//! refusals of `rm` and `prune`, and removing the git worktrees `ccy new
//! --worktree` made. Every test reads the real state before and after:
//! unit files, the user manager's units, volumes, worktrees, git refs, and
//! the user manager's journal for the number of reloads.
//!
//! Prune looks at every session of the user, so its tests hold
//! [`exclusive`].

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{
    Repo, Term, active_state, ccy, exclusive, first_session_output, home, inspect, kept_image_file,
    load_state, new_session, q, quadlet_dir, reloads_by, sh, sh_ok, shared,
};

fn unit_file(name: &str) -> PathBuf {
    quadlet_dir().join(format!("{name}.container"))
}

fn volume_exists(name: &str) -> bool {
    inspect("volume", &format!("{name}-state")).is_some()
}

/// Whether the session is entirely gone: unit files, units, state dir.
fn gone(name: &str) -> bool {
    !unit_file(name).exists()
        && !quadlet_dir().join(format!("{name}.volume")).exists()
        && load_state(&format!("{name}.service")) == "not-found"
        && !home().join(".local/state/ccy/sessions").join(name).exists()
}

/// Stops the session's unit and makes its recorded tmux activity `secs`
/// seconds old (the status file its container wrote).
fn stop_and_age(name: &str, secs: u64) {
    sh_ok(&format!("systemctl --user stop {name}.service"));
    let t = now() - secs;
    let status = home()
        .join(".local/state/ccy/sessions")
        .join(name)
        .join("status");
    std::fs::write(
        &status,
        format!("activity={t}\noutput={t}\nclient_activity=0\nclients=0\nupdated={t}\n"),
    )
    .unwrap();
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn git(dir: &Path, args: &str) -> String {
    sh_ok(&format!(
        "cd {} && git -c user.name=t -c user.email=t@example.invalid {args}",
        q(dir.to_str().unwrap())
    ))
}

/// Prune removes only old, stopped, unkept sessions of ccy's whose removal
/// loses nothing (a dirty worktree ccy did not create is not touched, so
/// it does not hold its session back; uncommitted changes in one ccy
/// created do); --dry-run says so without changing anything; the whole
/// run reloads the user manager once; volumes go when the project keeps a
/// session, else the last one's stays; --force prunes a refused session.
#[test]
fn prune_removes_old_stopped_sessions_and_nothing_else() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("pruner");
    let dirty = Repo::new("prune-dirty");
    let old1 = new_session(&repo.dir, &[]);
    let old2 = new_session(&repo.dir, &[]);
    let young = new_session(&repo.dir, &[]);
    let running = new_session(&repo.dir, &[]);
    let kept = new_session(&repo.dir, &["--keep"]);
    let dirty_main = new_session(&dirty.dir, &[]);
    let refused = new_session(&dirty.dir, &["--worktree", "prune-wip"]);
    let wip_dir = dirty.dir.parent().unwrap().join("prune-dirty-prune-wip");
    let feat = new_session(&repo.dir, &["--worktree", "prune-feat"]);
    let feat_dir = repo.dir.parent().unwrap().join("pruner-prune-feat");
    assert!(feat_dir.exists() && wip_dir.exists());
    for n in [&old1, &old2, &kept, &refused, &feat, &dirty_main] {
        stop_and_age(n, 3 * 3600);
    }
    stop_and_age(&young, 600);
    std::fs::write(dirty.dir.join("notes.txt"), "unsaved\n").unwrap();
    std::fs::write(wip_dir.join("wip.txt"), "unsaved\n").unwrap();
    // A commit on the feature branch that main lacks: the branch keeps it.
    git(&feat_dir, "commit -q --allow-empty -m 'feature work'");
    // A Quadlet file that is not ccy's, old and "stopped": never touched.
    let foreign = quadlet_dir().join("not-ccy-prune-test.container");
    std::fs::write(&foreign, "[Container]\nImage=localhost/none\n").unwrap();
    sh_ok(&format!(
        "touch -d '30 days ago' {}",
        q(foreign.to_str().unwrap())
    ));

    let out = ccy(&home(), &["prune", "--age", "1h", "--dry-run"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let o = &out.stdout;
    for (n, project, keeps) in [
        (&old1, "pruner", None),
        (&old2, "pruner", None),
        (&dirty_main, "prune-dirty", Some(&refused)),
    ] {
        assert!(
            o.contains(&format!("would remove {n}: stopped, last active 3h ago\n")),
            "{o}"
        );
        assert!(
            o.contains(&format!(
                "  would remove volume {n}-state (project {project} keeps session {}",
                keeps.map_or("", |k| k.as_str())
            )),
            "{o}"
        );
    }
    assert!(
        o.contains(&format!(
            "kept {young}: last active 10m ago (younger than 1h)"
        )),
        "{o}"
    );
    assert!(o.contains(&format!("kept {running}: running")), "{o}");
    assert!(o.contains(&format!("kept {kept}: labelled keep")), "{o}");
    assert!(
        o.contains(&format!("refused {refused}: work would be lost")),
        "{o}"
    );
    assert!(o.contains("1 uncommitted change in"), "{o}");
    assert!(o.contains("    ?? wip.txt"), "{o}");
    assert!(!o.contains("notes.txt"), "not ccy's worktree: {o}");
    assert!(
        o.contains("  would remove git worktree ") && o.contains("(branch prune-feat kept)"),
        "{o}"
    );
    assert!(
        o.contains("dry run: would remove 4 sessions; nothing changed"),
        "{o}"
    );
    assert!(!o.contains("not-ccy-prune-test"), "{o}");
    // Nothing changed.
    assert!(feat_dir.exists());
    for n in [
        &old1,
        &old2,
        &young,
        &running,
        &kept,
        &refused,
        &feat,
        &dirty_main,
    ] {
        assert!(unit_file(n).exists(), "{n}");
        assert_eq!(load_state(&format!("{n}.service")), "loaded");
        assert!(volume_exists(n), "{n}");
    }

    let out = ccy(&home(), &["prune", "--age", "1h"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("pruned 4 sessions"), "{}", out.stdout);
    assert_eq!(reloads_by(out.pid), 1, "one daemon-reload for the run");
    assert!(!feat_dir.exists(), "the clean worktree went");
    assert_eq!(git(&repo.dir, "branch --list prune-feat"), "prune-feat");
    assert!(
        git(&repo.dir, "log --format=%s prune-feat").starts_with("feature work"),
        "the branch keeps its commit"
    );
    assert!(
        out.stdout
            .contains("(branch prune-feat kept: 1 commit not on branch main)"),
        "{}",
        out.stdout
    );
    for n in [&old1, &old2, &feat, &dirty_main] {
        assert!(gone(n), "{n} pruned");
        assert!(
            !volume_exists(n),
            "{n}'s volume went: the project keeps others"
        );
        assert!(
            out.stdout.contains(&format!("removed {n}: unit files")),
            "{}",
            out.stdout
        );
    }
    for n in [&young, &running, &kept, &refused] {
        assert!(unit_file(n).exists(), "{n} stays");
        assert_eq!(load_state(&format!("{n}.service")), "loaded");
        assert!(volume_exists(n));
    }
    assert_eq!(active_state(&format!("{running}.service")), "active");
    assert!(foreign.exists());
    assert!(
        dirty.dir.join("notes.txt").exists(),
        "the worktree is not touched"
    );
    assert!(wip_dir.join("wip.txt").exists());

    // --force prunes the refused one, its worktree with its changes (the
    // branch stays); its project has no other session, so its volume
    // stays.
    let out = ccy(&home(), &["prune", "--age", "1h", "--force"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(gone(&refused));
    assert!(volume_exists(&refused));
    assert!(
        out.stdout.contains(&format!(
            "  kept volume {refused}-state (the last session of project prune-dirty; --volumes removes it)"
        )),
        "{}",
        out.stdout
    );
    assert!(!wip_dir.exists(), "--force: the dirty worktree went");
    assert_eq!(git(&dirty.dir, "branch --list prune-wip"), "prune-wip");
    assert!(unit_file(&kept).exists());

    // Keep off: the next prune takes it, and --volumes its volume.
    let out = ccy(&home(), &["keep", "--off", &kept]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = ccy(&home(), &["prune", "--age", "1h", "--volumes"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(gone(&kept));
    assert!(!volume_exists(&kept));
    assert!(unit_file(&young).exists() && unit_file(&running).exists());
    std::fs::remove_file(&foreign).unwrap();
    sh(&format!("podman volume rm {refused}-state"));

    // A bad age is a usage error.
    let out = ccy(&home(), &["prune", "--age", "soon"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("invalid --age \"soon\""),
        "{}",
        out.stderr
    );
}

/// On a terminal prune lists what it would remove and asks; "n" removes
/// nothing (exit 6), "y" removes.
/// Prune (and rm) of sessions with and without kept layers: the one
/// that kept a change had a tag and an image file, the other neither;
/// afterwards no `localhost/ccy-kept:NAME` tag and no image file is left.
#[test]
fn prune_leaves_no_kept_images_or_image_files() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("prune-kept");
    let with = new_session(&repo.dir, &[]);
    let without = new_session(&repo.dir, &[]);
    sh_ok(&format!(
        "podman exec {} sh -c 'echo x > /opt/prune-kept'",
        q(&with)
    ));
    for n in [&with, &without] {
        stop_and_age(n, 3 * 3600);
    }
    let tag = |n: &str| {
        sh(&format!("podman image exists localhost/ccy-kept:{n}"))
            .status
            .success()
    };
    assert!(tag(&with) && kept_image_file(&with).exists());
    assert!(!tag(&without) && !kept_image_file(&without).exists());
    // The kept layer is a loss: --force.
    let out = ccy(&home(), &["prune", "--age", "1h", "--force"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    for n in [&with, &without] {
        assert!(gone(n), "{n} not pruned: {}", out.stdout);
        assert!(!tag(n), "{n}: a kept image is left");
        assert!(!kept_image_file(n).exists(), "{n}: an image file is left");
    }
    assert!(
        out.stdout
            .contains(&format!("removed the kept layer of {with}")),
        "{}",
        out.stdout
    );
}

#[test]
fn prune_asks_on_a_terminal() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("prune-ask");
    let a = new_session(&repo.dir, &[]);
    stop_and_age(&a, 2 * 3600);
    let term = Term::spawn(&repo.dir, "ccy prune --age 1h");
    let screen = term.wait_for("remove 1 session? [y/N]", 30);
    assert!(
        screen.contains(&format!("  {a}  {}", repo.dir.display())),
        "{screen}"
    );
    term.line("n");
    let screen = term.wait_for("[exited", 30);
    assert!(screen.contains("[exited 6]"), "{screen}");
    assert!(screen.contains("nothing pruned: declined"), "{screen}");
    assert!(unit_file(&a).exists());
    assert_eq!(load_state(&format!("{a}.service")), "loaded");
    drop(term);
    let term = Term::spawn(&repo.dir, "ccy prune --age 1h");
    term.wait_for("remove 1 session? [y/N]", 30);
    term.line("y");
    let screen = term.wait_for("[exited", 60);
    assert!(screen.contains("[exited 0]"), "{screen}");
    assert!(screen.contains("pruned 1 session"), "{screen}");
    assert!(gone(&a));
}

/// `[prune] age` from the configuration (and `CCY_PRUNE_AGE`) is the
/// default age.
#[test]
fn prune_age_comes_from_the_configuration() {
    let _g = exclusive();
    first_session_output();
    let repo = Repo::new("prune-cfg");
    let a = new_session(&repo.dir, &[]);
    stop_and_age(&a, 2 * 3600);
    let out = Command::new(crate::support::ccy_bin())
        .args(["prune", "--dry-run"])
        .current_dir(home())
        .env("CCY_PRUNE_AGE", "3h")
        .output()
        .unwrap();
    let o = String::from_utf8_lossy(&out.stdout);
    assert!(
        o.contains(&format!("kept {a}: last active 2h ago (younger than 3h)")),
        "{o}"
    );
    let out = Command::new(crate::support::ccy_bin())
        .args(["prune", "--dry-run"])
        .current_dir(home())
        .env("CCY_PRUNE_AGE", "1h")
        .output()
        .unwrap();
    let o = String::from_utf8_lossy(&out.stdout);
    assert!(
        o.contains(&format!("would remove {a}: stopped, last active 2h ago")),
        "{o}"
    );
    assert!(unit_file(&a).exists());
}

/// `ccy new --keep` labels unit and container; `ccy keep --off` / `ccy keep`
/// rewrite the unit file's label (Quadlet still generates the unit), the
/// running container gets it on its next start.
#[test]
fn keep_labels_the_unit_file_and_the_next_container() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("keeper");
    let name = new_session(&repo.dir, &["--keep"]);
    let label = |n: &str| {
        inspect("container", n).unwrap()["Config"]["Labels"]["ccy.keep"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let text = || std::fs::read_to_string(unit_file(&name)).unwrap();
    assert!(text().contains("\nLabel=\"ccy.keep=true\"\n"), "{}", text());
    assert_eq!(label(&name), "true");

    let out = ccy(&repo.dir, &["keep", "--off", &name]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!("{name} no longer kept")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("on its next start"), "{}", out.stdout);
    assert!(!text().contains("ccy.keep"), "{}", text());
    assert_eq!(label(&name), "true", "the running container keeps it");
    assert_eq!(load_state(&format!("{name}.service")), "loaded");
    sh_ok(&format!("systemctl --user restart {name}.service"));
    assert_eq!(label(&name), "", "gone after a restart");

    // Without NAME: the worktree's sessions. Twice: says so.
    let out = ccy(&repo.dir, &["keep"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(text().contains("\nLabel=\"ccy.keep=true\"\n"), "{}", text());
    let out = ccy(&repo.dir, &["keep", &name]);
    assert_eq!(out.stdout.trim(), format!("{name} is already kept"));
    sh_ok(&format!("systemctl --user restart {name}.service"));
    assert_eq!(label(&name), "true");
    assert_eq!(ccy(&repo.dir, &["keep", "no-such-session-x"]).code, 5);
}

/// `rm` refuses (exit 6, listing what) only for what it would delete:
/// uncommitted or untracked files in a worktree ccy created for the
/// session, and files the container wrote outside its volumes; a dirty or
/// unpushed worktree ccy did not create is not touched, so it does not
/// hold the session back; `--force` removes anyway.
#[test]
fn rm_refuses_to_lose_work() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("careful");
    let name = new_session(&repo.dir, &[]);
    // A fresh session loses nothing (ccy's own files are not work).
    let out = ccy(&repo.dir, &["rm", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(gone(&name));

    // The user's own worktree, dirty and with a commit on no remote: rm
    // leaves it as it is, so nothing is lost and nothing refused.
    let name = new_session(&repo.dir, &[]);
    let remote = repo.dir.parent().unwrap().join("remote.git");
    git(
        &repo.dir,
        &format!(
            "init -q --bare {r} && git remote add origin {r}",
            r = q(remote.to_str().unwrap())
        ),
    );
    git(&repo.dir, "commit -q --allow-empty -m 'draft the plan'");
    std::fs::write(repo.dir.join("draft.md"), "x").unwrap();
    let out = ccy(&repo.dir, &["rm", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(gone(&name));
    assert!(repo.dir.join("draft.md").exists());
    assert!(git(&repo.dir, "log --format=%s -1").starts_with("draft the plan"));
    git(&repo.dir, "push -q origin main");

    // A worktree ccy created, with an untracked file: it would go.
    let name = new_session(&repo.dir, &["--worktree", "wip"]);
    let wip = repo.dir.parent().unwrap().join("careful-wip");
    std::fs::write(wip.join("plan.md"), "x").unwrap();
    let out = ccy(&repo.dir, &["rm", &name]);
    assert_eq!(out.code, 6, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("work would be lost"), "{}", out.stderr);
    assert!(
        out.stderr.contains("1 uncommitted change in"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("    ?? plan.md"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("ccy rm --force {name}")),
        "{}",
        out.stderr
    );
    assert!(unit_file(&name).exists());
    assert_eq!(active_state(&format!("{name}.service")), "active");
    // Committed (not pushed): the branch keeps it, so nothing is lost.
    git(
        &wip,
        "add plan.md && git -c user.name=t -c user.email=t@example.invalid commit -qm plan",
    );

    // A file written in the container outside its volumes.
    let out = ccy(
        &repo.dir,
        &[
            "shell",
            &name,
            "--",
            "sh",
            "-c",
            "echo x > /root/result.txt",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = ccy(&repo.dir, &["rm", &name]);
    assert_eq!(out.code, 6, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "1 file written in container {name} outside its volumes"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("    A /root/result.txt"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("/workspace"), "{}", out.stderr);
    assert!(!out.stderr.contains("uncommitted"), "{}", out.stderr);
    assert!(unit_file(&name).exists());

    let out = ccy(&repo.dir, &["rm", "--force", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(gone(&name));
    assert!(!wip.exists(), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("(branch wip kept: 1 commit not on any remote branch)"),
        "{}",
        out.stdout
    );
    assert!(git(&repo.dir, "log --format=%s -1 wip").starts_with("plan"));
}

/// rm and prune remove the git worktree `ccy new --worktree` made when it
/// is clean, keeping its branch (and saying which commits it has that
/// main lacks), and keep the worktree (saying why) while another session
/// uses it.
#[test]
fn created_worktrees_go_when_clean_and_their_branch_stays() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("wtclean");
    let parent = repo.dir.parent().unwrap().to_path_buf();
    let a = new_session(&repo.dir, &["--worktree", "feat-a"]);
    let wa = parent.join("wtclean-feat-a");
    assert!(wa.join(".git").is_file());
    // A second session in the same worktree holds it.
    let a2 = new_session(&wa, &[]);
    let out = ccy(&repo.dir, &["rm", &a]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("still uses it") && out.stdout.contains(&a2),
        "{}",
        out.stdout
    );
    assert!(wa.exists());
    // The record that ccy made the worktree went with that session: the
    // worktree is the user's now.
    let out = ccy(&repo.dir, &["rm", &a2]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("git worktree"), "{}", out.stdout);
    assert!(wa.exists());
    git(
        &repo.dir,
        &format!("worktree remove --force {}", q(wa.to_str().unwrap())),
    );

    // Removed together with the other session using it, clean, nothing
    // beyond main: the worktree goes, the branch stays.
    let c = new_session(&repo.dir, &["--worktree", "feat-c"]);
    let wc = parent.join("wtclean-feat-c");
    let c2 = new_session(&wc, &[]);
    let out = ccy(&repo.dir, &["rm", &c, &c2]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(gone(&c) && gone(&c2));
    assert!(!wc.exists(), "{}", out.stdout);
    assert!(!git(&repo.dir, "worktree list").contains("feat-c"));
    assert_eq!(git(&repo.dir, "branch --list feat-c"), "feat-c");

    // A commit main lacks (no remote): the worktree goes, the branch
    // keeps the commit, and the report says so.
    let b = new_session(&repo.dir, &["--worktree", "feat-b"]);
    let wb = parent.join("wtclean-feat-b");
    git(&wb, "commit -q --allow-empty -m 'feature b'");
    let out = ccy(&repo.dir, &["rm", &b]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(gone(&b));
    assert!(!wb.exists(), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("(branch feat-b kept: 1 commit not on branch main)"),
        "{}",
        out.stdout
    );
    assert!(git(&repo.dir, "log --format=%s -1 feat-b").starts_with("feature b"));

    // New commits merged into main: nothing is lost, the worktree goes.
    let d = new_session(&repo.dir, &["--worktree", "feat-d"]);
    let wd = parent.join("wtclean-feat-d");
    git(&wd, "commit -q --allow-empty -m 'feature d'");
    git(&repo.dir, "merge -q --ff-only feat-d");
    let out = ccy(&repo.dir, &["rm", &d]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(gone(&d));
    assert!(!wd.exists(), "{}", out.stdout);
    assert!(
        out.stdout.contains("git worktree ") && out.stdout.contains("(branch feat-d kept)"),
        "{}",
        out.stdout
    );
}
