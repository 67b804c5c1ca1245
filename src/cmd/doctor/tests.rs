//! Unit tests of `doctor`.

#![allow(clippy::unwrap_used)]
use super::*;

fn unit(load: &str, active: &str) -> UnitState {
    UnitState::example("podman.socket", load, active)
}

/// Asserts `holds` of `c`'s message, showing the message when it fails.
#[track_caller]
fn assert_message(c: &Check, holds: impl FnOnce(&str) -> bool) {
    assert!(holds(&c.message), "{}", c.message);
}

#[test]
fn versions() {
    assert_eq!(podman_version(&Ok((5, 4, "5.4.2".into()))).level, Level::Ok);
    let old = podman_version(&Ok((4, 9, "4.9.3".into())));
    assert_eq!(old.level, Level::Problem);
    assert_message(&old, |m| m.contains("4.9.3 is too old"));
    assert!(old.fix.unwrap().contains("upgrade Podman"));
    assert_eq!(podman_version(&Err("x".into())).level, Level::Problem);
}

#[test]
fn socket_states() {
    let s = Path::new("/run/user/1000/podman/podman.sock");
    assert_eq!(
        podman_socket(s, true, Some(&unit("loaded", "active")), true).level,
        Level::Ok
    );
    let off = podman_socket(s, false, Some(&unit("loaded", "inactive")), true);
    assert_eq!(off.level, Level::Warning);
    assert_eq!(
        off.fix.as_deref(),
        Some("systemctl --user enable --now podman.socket")
    );
    assert_eq!(
        podman_socket(s, false, Some(&unit("not-found", "inactive")), true).level,
        Level::Problem
    );
    assert_eq!(podman_socket(s, true, None, false).level, Level::Ok);
}

#[test]
fn quadlet_drops_are_problems() {
    let g = Path::new("/usr/libexec/podman/quadlet");
    let dir = Path::new("/home/dev/.config/containers/systemd");
    let sessions = vec!["ccy-a-00000001".to_owned(), "ccy-b-00000002".to_owned()];
    let run = DryRun {
        stdout: "---ccy-a-00000001.service---\n[Unit]\n\n---ccy-a-00000001-volume.service---\n[Unit]\n\n".into(),
        stderr: "quadlet-generator[9]: Loading source unit file /q/ccy-b-00000002.container\n\
            quadlet-generator[9]: Warning: ccy-b-00000002.container specifies the image \"x\"\n\
            quadlet-generator[9]: converting \"ccy-b-00000002.container\": unsupported key 'Nope' in group 'Container'\n"
            .into(),
    };
    let run2 = DryRun {
        stdout: "---ccy-a-00000001.service---\n[Unit]\n\n---ccy-b-00000002.service---\n[Unit]\n\n"
            .into(),
        stderr: String::new(),
    };
    let c = quadlet_check(Some(g), Some(Ok(run.clone())), &sessions, dir);
    assert_eq!(c.level, Level::Problem);
    assert_message(&c, |m| {
        m.ends_with("drops 1 ccy session, which cannot start: ccy-b-00000002: converting \"ccy-b-00000002.container\": unsupported key 'Nope' in group 'Container'")
    });
    assert!(c.fix.unwrap().starts_with("see why with 'QUADLET_UNIT_DIRS=/home/dev/.config/containers/systemd /usr/libexec/podman/quadlet -dryrun -user'"));
    let ok = quadlet_check(Some(g), Some(Ok(run)), &sessions[..1], dir);
    assert_eq!(ok.level, Level::Ok);
    assert_message(&ok, |m| {
        m.ends_with("quadlet turns the one ccy session file into a unit")
    });
    let both = quadlet_check(Some(g), Some(Ok(run2)), &sessions, dir);
    assert_eq!(both.level, Level::Ok);
    assert_message(&both, |m| {
        m.ends_with("quadlet turns all 2 ccy session files into units")
    });
    assert_eq!(quadlet_check(None, None, &[], dir).level, Level::Problem);
    assert_eq!(quadlet_check(Some(g), None, &[], dir).level, Level::Ok);
}

#[test]
fn config_names_only_files_that_exist() {
    let user = ("~/.config/ccy/config.toml".to_owned(), true);
    let project = ("~/demo/.claude/ccy/config.toml".to_owned(), false);
    let c = config_result(Ok(()), &[user.clone(), project.clone()]);
    assert_eq!(c.level, Level::Ok);
    assert_eq!(
        c.message,
        "valid (~/.config/ccy/config.toml, CCY_* variables; no ~/demo/.claude/ccy/config.toml)"
    );
    let none = config_result(Ok(()), &[(user.0.clone(), false), project.clone()]);
    assert_eq!(
        none.message,
        "valid (built-in defaults, CCY_* variables; no ~/.config/ccy/config.toml, no ~/demo/.claude/ccy/config.toml)"
    );
    let both = config_result(Ok(()), &[user, (project.0, true)]);
    assert_eq!(
        both.message,
        "valid (~/.config/ccy/config.toml, ~/demo/.claude/ccy/config.toml, CCY_* variables)"
    );
}

#[test]
fn linger_states() {
    assert_eq!(linger(Ok(true)).level, Level::Ok);
    let off = linger(Ok(false));
    assert_eq!(off.level, Level::Problem);
    assert_eq!(off.fix.as_deref(), Some("loginctl enable-linger"));
    assert_eq!(linger(Err("no bus".into())).level, Level::Problem);
}

#[test]
fn subid_ranges() {
    let file = "root:1:2\ndev:100000:65536\n1001:200000:1000\n";
    assert_eq!(
        subids("subuid", Ok(file.into()), "dev", 1000).level,
        Level::Ok
    );
    assert_eq!(
        subids("subuid", Ok(file.into()), "x", 1001).level,
        Level::Warning
    );
    let none = subids("subgid", Ok(file.into()), "y", 1002);
    assert_eq!(none.level, Level::Problem);
    assert_message(&none, |m| m.contains("/etc/subgid has no range for y"));
    assert!(none.fix.unwrap().contains("usermod --add-subuids"));
    assert_eq!(
        subids("subuid", Err("gone".into()), "dev", 1000).level,
        Level::Problem
    );
    assert_eq!(
        subids("subuid", Ok("dev:1:junk\n".into()), "dev", 1000).level,
        Level::Problem
    );
}

#[test]
fn cgroup_delegation() {
    let all = cgroups(true, Some("cpuset cpu io memory pids\n".into()), 1000);
    assert_eq!(all.level, Level::Ok);
    let none = cgroups(true, Some(String::new()), 1000);
    assert_eq!(none.level, Level::Warning);
    assert_message(&none, |m| {
        m.starts_with("the memory, cpu, pids controllers are not delegated")
    });
    assert!(
        none.fix
            .unwrap()
            .contains("Delegate=cpu cpuset io memory pids")
    );
    let some = cgroups(true, Some("cpu memory".into()), 1000);
    assert_message(&some, |m| {
        m.starts_with("the pids controller is not delegated")
    });
    assert_eq!(cgroups(false, None, 1000).level, Level::Warning);
    assert_eq!(cgroups(true, None, 1000).level, Level::Warning);
}

#[test]
fn image_states() {
    let spec = ImageSpec {
        name: "localhost/ccy:latest".into(),
        base: "b".into(),
        agent_install: String::new(),
    };
    let labels = |h: Option<&str>| {
        Ok(Some(
            h.map(|h| (LABEL_ASSETS.to_owned(), h.to_owned()))
                .into_iter()
                .collect(),
        ))
    };
    assert_eq!(
        image_check(Some((&spec, &labels(Some(&spec.assets_hash())))), true).level,
        Level::Ok
    );
    assert_eq!(
        image_check(Some((&spec, &labels(None))), true).level,
        Level::Ok
    );
    assert_eq!(
        image_check(Some((&spec, &labels(Some("0")))), true).level,
        Level::Warning
    );
    assert_eq!(
        image_check(Some((&spec, &Ok(None))), true).level,
        Level::Warning
    );
    assert_eq!(image_check(None, false).level, Level::Warning);
}

#[test]
fn report_layout() {
    let checks = vec![
        podman_cli(Some(Path::new("/usr/bin/podman"))),
        linger(Ok(false)),
        cgroups(true, Some(String::new()), 1000),
    ];
    let text = render(&checks);
    insta::assert_snapshot!(anstream::adapter::strip_str(&text).to_string(), @r"
    ok       podman   /usr/bin/podman (on PATH)
    problem  linger   off: your sessions stop when you log out and do not start at boot
                      fix: loginctl enable-linger
    warning  cgroups  the memory, cpu, pids controllers are not delegated to your user manager: session limits cannot be enforced and memory use is unknown
                      fix: printf '[Service]\nDelegate=cpu cpuset io memory pids\n' | sudo install -D -m 644 /dev/stdin /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload  # then log in again

    1 problem, 1 warning
    ");
    assert!(text.contains(&ui::paint(ui::BAD, "problem")));
    let ok = render(&checks[..1]);
    assert!(ok.ends_with("\nall checks passed\n"), "{ok}");
}

#[test]
fn timer_states() {
    let up = |calendar: &str| TimerDetails {
        load_state: "loaded".into(),
        unit_file_state: "enabled".into(),
        active_state: "active".into(),
        calendar: vec![calendar.into()],
        ..TimerDetails::default()
    };
    let missing = TimerDetails {
        load_state: "not-found".into(),
        ..TimerDetails::default()
    };
    let both = |idle: TimerDetails, prune: TimerDetails| {
        vec![
            (Task::Idle, Some("hourly".to_owned()), idle),
            (Task::Prune, Some("daily".to_owned()), prune),
        ]
    };
    let ok = timers(false, Ok(both(up("*-*-* *:00:00"), up("*-*-* 00:00:00"))));
    assert_eq!(ok.level, Level::Ok, "{}", ok.message);
    assert_eq!(
        ok.message,
        "enabled and active: ccy-idle.timer (hourly), ccy-prune.timer (daily)"
    );

    let gone = timers(false, Ok(both(missing.clone(), missing.clone())));
    assert_eq!(gone.level, Level::Warning);
    assert_message(&gone, |m| {
        m.starts_with("ccy-idle.timer is not installed; ccy-prune.timer is not installed")
    });
    assert_eq!(gone.fix.as_deref(), Some("ccy timer enable"));

    let disabled = TimerDetails {
        unit_file_state: "disabled".into(),
        ..up("*-*-* 00:00:00")
    };
    let w = timers(false, Ok(both(up("*-*-* *:00:00"), disabled)));
    assert_message(&w, |m| m.starts_with("ccy-prune.timer is disabled"));
    assert_eq!(w.fix.as_deref(), Some("ccy timer enable"));

    let stale = timers(false, Ok(both(up("*-*-* *:00:00"), up("*-*-* *:00:00"))));
    assert_message(&stale, |m| {
        m.starts_with("ccy-prune.timer runs on \"*-*-* *:00:00\", the configuration says \"daily\"")
    });

    // [idle] stop = "off": the idle timer should not be there.
    let idle_off = vec![
        (Task::Idle, None, up("*-*-* *:00:00")),
        (Task::Prune, Some("daily".to_owned()), up("*-*-* 00:00:00")),
    ];
    let w = timers(false, Ok(idle_off));
    assert_message(&w, |m| {
        m.contains("ccy-idle.timer is installed though [idle] stop is \"off\"")
    });

    // Opted out: fine when nothing is installed, a warning when some is.
    let out = timers(true, Ok(both(missing.clone(), missing.clone())));
    assert_eq!(out.level, Level::Ok);
    let left = timers(true, Ok(both(missing, up("*-*-* 00:00:00"))));
    assert_eq!(left.level, Level::Warning);
    assert_eq!(left.fix.as_deref(), Some("ccy timer disable"));

    assert_eq!(timers(false, Err("no bus".into())).level, Level::Warning);
}

#[test]
fn leftovers_levels_and_fixes() {
    let paths = Paths::new(1000, "/home/dev".into(), None, None, None);
    assert_eq!(leftovers_check(&paths, None).level, Level::Warning);
    let ok = leftovers_check(&paths, Some(Ok(orphans::Orphans::default())));
    assert_eq!(ok.level, Level::Ok);
    let found = orphans::Orphans {
        state_dirs: vec![(
            "gone".into(),
            "/home/dev/.local/state/ccy/sessions/gone".into(),
        )],
        volumes: vec![("gone-state".into(), "gone".into())],
        secrets: vec!["ccy-token-old".into()],
    };
    let c = leftovers_check(&paths, Some(Ok(found)));
    assert_eq!(c.level, Level::Warning);
    assert_message(&c, |m| {
        m.contains("state directory ~/.local/state/ccy/sessions/gone")
    });
    assert_message(&c, |m| m.contains("volume gone-state"));
    assert_message(&c, |m| m.contains("secret ccy-token-old"));
    assert!(c.fix.unwrap().contains("--volumes"));
}

#[test]
fn notify_check_levels() {
    let st = |load: &str, active: &str| UnitState::example("ccy-notify.service", load, active);
    let ok = notify_check(Some(true), true, Ok(st("loaded", "active")));
    assert_eq!(ok.level, Level::Ok);
    assert_eq!(ok.message, "ccy-notify.service enabled and active");
    let missing = notify_check(Some(true), false, Ok(st("not-found", "inactive")));
    assert_eq!(missing.level, Level::Warning);
    assert_message(&missing, |m| {
        m.starts_with("ccy-notify.service is not installed")
    });
    assert_eq!(missing.fix.as_deref(), Some("ccy notify enable"));
    let failed = notify_check(Some(true), true, Ok(st("loaded", "failed")));
    assert_message(&failed, |m| m.starts_with("ccy-notify.service is failed"));
    let off = notify_check(Some(false), false, Ok(st("not-found", "inactive")));
    assert_eq!(
        (off.level, off.message.as_str()),
        (Level::Ok, "off ([notify] enabled = false)")
    );
    assert_eq!(
        notify_check(Some(true), true, Err("no bus".into())).level,
        Level::Warning
    );
}
