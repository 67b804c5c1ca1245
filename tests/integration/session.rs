//! The foundation: `ccy` creates a session and resumes it, from the
//! desktop and from SSH, across a unit stop, with linger turned on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::{
    Repo, TEST_IMAGE, Term, active_state, eventually, exclusive, first_session_output, inspect,
    marker, q, quadlet_dir, sh, sh_ok, shared, ssh_port,
};

/// Step 1: no session → units rendered, started over D-Bus, attached; the
/// agent runs in pane `main` in /workspace, the worktree bind-mounted rw.
#[test]
fn new_session_is_rendered_started_and_attached() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("Step One");
    let term = Term::spawn(&repo.dir, "ccy");
    term.wait_for("root@", 120);

    let names = repo.session_names();
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    assert!(name.starts_with("ccy-step-one-") && name.len() == "ccy-step-one-".len() + 8);

    // Units: both files, accepted by the real generator, unit active.
    let container_file = quadlet_dir().join(format!("{name}.container"));
    let text = std::fs::read_to_string(&container_file).unwrap();
    assert!(text.contains("RunInit=true") && text.contains("Exec=/etc/ccy/start"));
    assert!(quadlet_dir().join(format!("{name}.volume")).exists());
    let dry = sh_ok(&format!(
        "QUADLET_UNIT_DIRS={} /usr/libexec/podman/quadlet -dryrun -user 2>&1",
        q(quadlet_dir().to_str().unwrap())
    ));
    assert!(dry.contains(&format!("---{name}.service---")), "{dry}");
    assert_eq!(active_state(&format!("{name}.service")), "active");

    // Container: labels, mounts, image.
    let c = inspect("container", name).expect("container exists");
    let labels = &c["Config"]["Labels"];
    assert_eq!(labels["ccy.project"], "step-one");
    assert_eq!(labels["ccy.worktree"], repo.dir.to_str().unwrap());
    assert_eq!(labels["ccy.branch"], "main");
    assert!(labels["ccy.created"].as_str().unwrap().ends_with('Z'));
    assert_eq!(labels["PODMAN_SYSTEMD_UNIT"], format!("{name}.service"));
    crate::support::assert_runs_clean(&c, name, TEST_IMAGE);
    let mounts = c["Mounts"].as_array().unwrap();
    let ws = mounts
        .iter()
        .find(|m| m["Destination"] == "/workspace")
        .unwrap();
    assert_eq!(ws["Source"], repo.dir.to_str().unwrap());
    assert_eq!(ws["RW"], true);
    let state = mounts
        .iter()
        .find(|m| m["Destination"] == "/root/.claude")
        .unwrap();
    assert_eq!(state["Name"], format!("{name}-state"));

    // The pane: in /workspace, typing reaches the agent, writes reach the worktree.
    let m = marker("step1");
    term.line(&format!("pwd; echo {m} > /workspace/from-agent.txt; tmux display -p '#{{session_name}}:#{{pane_current_path}}'"));
    term.wait_for("main:/workspace", 30);
    eventually(
        10,
        "file written in the pane appears in the worktree",
        || std::fs::read_to_string(repo.dir.join("from-agent.txt")).is_ok_and(|s| s.trim() == m),
    );
    // The fast-path file names the session.
    let id = std::fs::read_to_string(repo.dir.join(".claude/ccy/.session-id")).unwrap();
    assert_eq!(id.trim(), name);

    // What ccy printed before tmux took the screen shows again after detach.
    term.detach();
    let screen = term.wait_for("[exited 0]", 30);
    assert!(
        screen.contains(&format!("ccy: created session {name} (detach: Ctrl-b d)")),
        "{screen}"
    );
}

/// Inside a host tmux (`$TMUX` set) both servers would use Ctrl-b: the
/// session's tmux gets Ctrl-a as a second prefix, its status line says so,
/// Ctrl-a Ctrl-a types a Ctrl-a into the pane, and Ctrl-a d detaches the
/// session, not the outer tmux. Attaching from a plain terminal afterwards
/// turns the second prefix off again.
#[test]
fn inside_a_host_tmux_the_session_takes_ctrl_a_as_its_prefix() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("nested");
    let term = Term::spawn_nested(&repo.dir, "ccy");
    term.wait_for("root@", 120);
    let name = repo.session_names().pop().unwrap();
    term.wait_for("prefix Ctrl-a", 10);
    let prefix2 = || {
        String::from_utf8_lossy(
            &sh(&format!(
                "podman exec {} tmux show-options -t main prefix2",
                q(&name)
            ))
            .stdout,
        )
        .trim()
        .to_owned()
    };
    assert_eq!(prefix2(), "prefix2 C-a");

    // Ctrl-a Ctrl-a reaches bash as Ctrl-a (start of line).
    let m = marker("nested");
    term.keys(&["-l", &format!("{m}-end")]);
    term.keys(&["C-a", "C-a"]);
    term.line("echo ");
    term.wait_for(&format!("\n{m}-end"), 10);

    // Ctrl-a d detaches the session's client: ccy's pane shows its end.
    term.keys(&["C-a"]);
    term.keys(&["d"]);
    let screen = term.wait_for("[exited 0]", 30);
    assert!(
        screen.contains(&format!(
            "ccy: created session {name} (detach: Ctrl-a d, as Ctrl-b is your outer tmux's)"
        )),
        "{screen}"
    );
    assert_eq!(active_state(&format!("{name}.service")), "active");
    drop(term);

    // From a plain terminal: the usual prefix only, no note in the status line.
    let term = Term::spawn(&repo.dir, "ccy");
    term.wait_for(&format!("[ccy {name}]"), 60);
    assert_eq!(prefix2(), "");
    assert!(
        !term.screen().contains("prefix Ctrl-a"),
        "{}",
        term.screen()
    );
    term.detach();
    term.wait_for("[exited 0]", 30);
}

/// ccy's own file in a worktree (`.claude/ccy/.session-id`) is never an
/// untracked change, in the main worktree and in a linked one: its pattern
/// goes into the repository's common `.git/info/exclude`, once.
#[test]
fn session_id_is_not_an_untracked_change_in_main_or_linked_worktrees() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("exclude");
    let linked = repo.dir.parent().unwrap().join("exclude-linked");
    sh_ok(&format!(
        "git -C {} worktree add -q -b linked {}",
        q(repo.dir.to_str().unwrap()),
        q(linked.to_str().unwrap())
    ));
    let mut names = Vec::new();
    for dir in [repo.dir.clone(), linked.clone()] {
        let name = crate::support::new_session(&dir, &[]);
        assert!(dir.join(".claude/ccy/.session-id").is_file());
        let status = sh_ok(&format!(
            "git -C {} status --porcelain --untracked-files=all",
            q(dir.to_str().unwrap())
        ));
        assert_eq!(status, "", "git status in {}", dir.display());
        names.push(name);
    }
    let exclude = std::fs::read_to_string(repo.dir.join(".git/info/exclude")).unwrap();
    assert_eq!(
        exclude
            .lines()
            .filter(|l| *l == "/.claude/ccy/.session-id")
            .count(),
        1,
        "{exclude}"
    );
    assert!(!repo.dir.join(".claude/ccy/.gitignore").exists());
    let out = crate::support::ccy(&linked, &["rm", "--force", &names[1]]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

/// Step 2: detach and run `ccy` again → the same container, nothing new.
#[test]
fn second_ccy_attaches_to_the_same_container() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("step-two");
    let term = Term::spawn(&repo.dir, "ccy");
    term.wait_for("root@", 120);
    let name = repo.session_names().pop().unwrap();
    let id1 = inspect("container", &name).unwrap()["Id"].clone();
    let m = marker("step2");
    term.line(&format!("echo {m}"));
    term.wait_for(&m, 10);
    term.detach();
    term.wait_for("[exited 0]", 30);
    assert_eq!(
        active_state(&format!("{name}.service")),
        "active",
        "detach keeps it running"
    );

    let again = Term::spawn(&repo.dir, "ccy");
    // Same tmux pane: the earlier output is on screen again.
    again.wait_for(&m, 60);
    assert_eq!(inspect("container", &name).unwrap()["Id"], id1);
    assert_eq!(repo.session_names(), std::slice::from_ref(&name));
    assert_eq!(repo.containers(), [name]);
}

/// Step 3: an SSH login (no `DBUS_SESSION_BUS_ADDRESS`; `XDG_RUNTIME_DIR`
/// removed too) attaches to the same session while the desktop client is
/// still attached: two clients at once.
#[test]
fn ssh_login_attaches_the_same_session_as_a_second_client() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("step-three");
    let desk = Term::spawn(&repo.dir, "ccy");
    desk.wait_for("root@", 120);
    let name = repo.session_names().pop().unwrap();

    let ssh = Term::spawn(
        &repo.dir,
        &format!(
            "ssh -t -p {} -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
             dev@127.0.0.1 {}",
            ssh_port(),
            q(&format!(
                "cd {} && env | grep -c DBUS_SESSION_BUS_ADDRESS; env -u XDG_RUNTIME_DIR -u DBUS_SESSION_BUS_ADDRESS ccy",
                q(repo.dir.to_str().unwrap())
            ))
        ),
    );
    ssh.wait_for("root@", 60);
    eventually(30, "two tmux clients attached", || {
        sh(&format!(
            "podman exec {} tmux list-clients -t main",
            q(&name)
        ))
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count()
            == 2
    });
    // What one client types, the other sees.
    let m = marker("step3");
    ssh.line(&format!("echo {m}"));
    desk.wait_for(&m, 10);
    assert_eq!(repo.containers(), [name]);
}

/// Step 4: after `systemctl --user stop`, `ccy` starts the unit again and
/// attaches; the agent's state volume kept its content.
#[test]
fn stopped_session_is_started_again_with_its_state() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("step-four");
    let term = Term::spawn(&repo.dir, "ccy");
    term.wait_for("root@", 120);
    let name = repo.session_names().pop().unwrap();
    let m = marker("state");
    // The confirmation is printed split so the typed line cannot match it.
    term.line(&format!(
        "echo {m} > /root/.claude/kept.txt && printf '%s-%s\\n' written {m}"
    ));
    term.wait_for(&format!("written-{m}"), 10);
    term.detach();
    term.wait_for("[exited 0]", 30);

    sh_ok(&format!(
        "systemctl --user stop {}",
        q(&format!("{name}.service"))
    ));
    assert_eq!(active_state(&format!("{name}.service")), "inactive");
    assert!(
        inspect("container", &name).is_none(),
        "Quadlet removes the container"
    );
    assert!(
        inspect("volume", &format!("{name}-state")).is_some(),
        "volume kept"
    );

    let again = Term::spawn(&repo.dir, "ccy");
    again.wait_for("root@", 60);
    again.line("cat /root/.claude/kept.txt");
    again.wait_for(&m, 10);
    assert_eq!(active_state(&format!("{name}.service")), "active");
    assert_eq!(repo.session_names(), [name]);
}

/// Step 5: on first use ccy enables linger through logind and says so in
/// one line.
#[test]
fn first_use_enables_linger_and_says_so() {
    let _g = exclusive();
    first_session_output();
    sh_ok("loginctl disable-linger");
    assert_eq!(sh_ok("loginctl show-user \"$USER\" -P Linger"), "no");
    let repo = Repo::new("first-contact");
    let term = Term::spawn(&repo.dir, "ccy");
    term.wait_for("root@", 120);
    // What ccy printed before tmux took the screen shows again after detach.
    term.detach();
    let screen = term.wait_for("[exited 0]", 30);
    // (The repository's name keeps "linger" out of the session name.)
    let lines: Vec<&str> = screen.lines().filter(|l| l.contains("linger")).collect();
    assert_eq!(lines.len(), 1, "one line about linger: {screen}");
    assert!(lines[0].starts_with("ccy: enabled linger"), "{}", lines[0]);
    assert_eq!(sh_ok("loginctl show-user \"$USER\" -P Linger"), "yes");
}

/// The first session of a run builds the image from ccy's Containerfile,
/// saying so, with Podman's progress on screen.
#[test]
fn missing_image_is_built_with_progress() {
    let _g = shared();
    let out = first_session_output();
    // The harness starts each run without the test image, so the first
    // session built it.
    assert!(
        out.contains(&format!("ccy: building the image {TEST_IMAGE}")),
        "{out}"
    );
    assert!(out.contains("STEP"), "podman build progress shown: {out}");
    let img = sh_ok(&format!(
        "podman image inspect --format '{{{{index .Labels \"ccy.image.assets\"}}}}' {TEST_IMAGE}"
    ));
    assert_eq!(img.len(), 16, "{img}");
}
