//! `ccy timer` against the real user manager's timers, `ccy idle` against
//! real sessions' tmux, and the panes saved before a session stops.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::{
    Repo, Term, UserConfig, active_state, ccy, doctor_check, eventually, exclusive,
    first_session_output, home, marker, new_detached_with_env, new_session, q, sh, sh_ok, shared,
};

fn state_dir(name: &str) -> PathBuf {
    home().join(".local/state/ccy/sessions").join(name)
}

/// The saved pane files of a session, oldest first.
fn pane_files(name: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(state_dir(name).join("panes"))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "txt"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// `podman exec NAME tmux ARGS…`, asserting success; returns stdout.
fn tmux_in(name: &str, args: &str) -> String {
    sh_ok(&format!("podman exec {} tmux {args}", q(name)))
}

/// The text of every pane of the session's window `w`.
fn pane_text(name: &str, w: u32) -> String {
    tmux_in(name, &format!("capture-pane -p -t main:{w}"))
}

/// A marker typed into a pane (window 0, and a second window 1) is in the
/// capture file written when the unit is stopped with `systemctl --user
/// stop` (the stop stays well under a second), and in another one written
/// by `ccy stop`; `ccy attach` on the stopped session says in one line
/// where the newest capture is.
#[test]
fn panes_are_saved_before_any_stop_and_attach_says_where() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("panes");
    let name = new_session(&repo.dir, &[]);
    let m0 = marker("pane-zero");
    let m1 = marker("pane-one");
    tmux_in(
        &name,
        &format!("send-keys -t main:0 {} Enter", q(&format!("echo {m0}-ok"))),
    );
    tmux_in(&name, "new-window -d -t main:1 bash");
    tmux_in(
        &name,
        &format!("send-keys -t main:1 {} Enter", q(&format!("echo {m1}-ok"))),
    );
    eventually(10, "markers echoed in both windows", || {
        pane_text(&name, 0).contains(&format!("\n{m0}-ok"))
            && pane_text(&name, 1).contains(&format!("\n{m1}-ok"))
    });
    assert!(pane_files(&name).is_empty());

    let t = Instant::now();
    sh_ok(&format!(
        "systemctl --user stop {}",
        q(&format!("{name}.service"))
    ));
    let took = t.elapsed();
    eprintln!("systemctl --user stop {name}.service took {took:?}");
    assert!(took < Duration::from_millis(1500), "stopping took {took:?}");
    assert_eq!(active_state(&format!("{name}.service")), "inactive");
    let files = pane_files(&name);
    assert_eq!(files.len(), 1, "{files:?}");
    let saved = std::fs::read_to_string(&files[0]).unwrap();
    assert!(saved.contains(&format!("{m0}-ok")), "{saved}");
    assert!(saved.contains(&format!("{m1}-ok")), "{saved}");
    assert!(
        saved.contains(&format!("=== ccy {name}: window 1.0")),
        "{saved}"
    );

    // ccy attach starts it again and says where the panes are.
    let term = Term::spawn(&repo.dir, &format!("ccy attach {name}"));
    term.wait_for("root@", 60);
    term.detach();
    let screen = term.wait_for("[exited 0]", 30);
    drop(term);
    let line = format!(
        "ccy: the panes as they were when {name} stopped are in {}",
        files[0].display()
    );
    assert!(screen.contains(&line), "{screen}");

    // ccy stop saves them too (a new file; the first is kept).
    std::thread::sleep(Duration::from_millis(1100));
    let out = ccy(&repo.dir, &["stop", &name]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let files = pane_files(&name);
    assert_eq!(files.len(), 2, "{files:?}");
    // The restarted pane starts empty: the new capture has no marker.
    let second = std::fs::read_to_string(&files[1]).unwrap();
    assert!(
        second.contains(&format!("=== ccy {name}: window 0.0")),
        "{second}"
    );
    assert!(!second.contains(&format!("{m0}-ok")), "{second}");
}

/// With `[idle] stop = "16s"` and `warn = "8s"`: `ccy idle` leaves a fresh
/// session alone, warns once in its status line when it has been idle for
/// 8 s, withdraws the warning when the pane is used, warns again, and stops
/// it no sooner than 8 s after that warning, saving its panes; a session
/// labelled `ccy.keep=true` idle as long is neither warned nor stopped;
/// `--dry-run` changes nothing.
#[test]
fn idle_sessions_are_warned_once_then_stopped_and_kept_ones_are_not() {
    let _g = shared();
    first_session_output();
    let repo = Repo::new("idle");
    let cfg = repo.dir.join(".claude/ccy/config.toml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("\n[idle]\nstop = \"16s\"\nwarn = \"8s\"\n");
    std::fs::write(&cfg, text).unwrap();
    let kept = new_session(&repo.dir, &[]);
    let out = ccy(&repo.dir, &["keep", &kept]);
    assert_eq!(out.code, 0, "ccy keep: {}{}", out.stdout, out.stderr);
    let name = new_session(&repo.dir, &[]);
    let warn_file = state_dir(&name).join("idle-warning");
    let idle = |dry: bool| {
        let out = ccy(
            &home(),
            if dry {
                &["idle", "--dry-run"]
            } else {
                &["idle"]
            },
        );
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        out.stdout
    };
    let out = idle(false);
    assert!(!out.contains(&name), "{out}");
    assert!(!warn_file.exists());

    // Warned once, in the status line, for this idle period.
    let deadline = Instant::now() + Duration::from_secs(40);
    let warned_at = loop {
        assert!(!idle(true).contains(&format!("{name}: stop")));
        let out = idle(false);
        if out.contains(&format!("{name}: warn: idle for")) {
            break Instant::now();
        }
        assert!(Instant::now() < deadline, "never warned: {out}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(warn_file.exists());
    let status_right = tmux_in(&name, "show-options -t main status-right");
    assert!(
        status_right.contains(&format!("'ccy keep {name}' keeps it")),
        "{status_right}"
    );
    let out = idle(false);
    assert!(
        !out.contains(&format!("{name}: warn")),
        "warned twice: {out}"
    );
    assert_eq!(active_state(&format!("{name}.service")), "active");

    // Using the pane withdraws the warning.
    tmux_in(&name, "send-keys -t main 'echo used' Enter");
    std::thread::sleep(Duration::from_millis(1100));
    sh_ok(&format!("podman exec {} /etc/ccy/status", q(&name)));
    let out = idle(false);
    assert!(out.contains(&format!("{name}: used again")), "{out}");
    assert!(!warn_file.exists());
    let status_right = tmux_in(&name, "show-options -t main status-right");
    assert!(!status_right.contains("ccy keep"), "{status_right}");

    // Warned again, then stopped no sooner than `warn` later.
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut warned_at = warned_at;
    let mut warned_again = false;
    loop {
        let out = idle(false);
        if out.contains(&format!("{name}: warn: idle for")) {
            assert!(!warned_again, "warned twice: {out}");
            warned_again = true;
            warned_at = Instant::now();
        }
        if out.contains(&format!("{name}: stop: idle for")) {
            assert!(warned_again, "stopped without a warning: {out}");
            assert!(
                warned_at.elapsed() >= Duration::from_secs(7),
                "stopped {:?} after the warning",
                warned_at.elapsed()
            );
            assert!(
                out.contains(&format!("stopped {name}; its panes are saved in")),
                "{out}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "never stopped: {out}");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(active_state(&format!("{name}.service")), "inactive");
    assert!(!warn_file.exists());
    let files = pane_files(&name);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        std::fs::read_to_string(&files[0])
            .unwrap()
            .contains("echo used")
    );

    // The kept session, idle all along, was never touched.
    assert_eq!(active_state(&format!("{kept}.service")), "active");
    assert!(!state_dir(&kept).join("idle-warning").exists());
    let status_right = tmux_in(&kept, "show-options -t main status-right");
    assert!(!status_right.contains("ccy keep"), "{status_right}");
}

/// Disables both of ccy's timers when dropped (a failed test must not
/// leave them running `ccy idle` and `ccy prune` every 5 s).
struct TimerOff;

impl Drop for TimerOff {
    fn drop(&mut self) {
        sh(
            "systemctl --user disable --now ccy-prune.timer ccy-idle.timer; \
            rm -f ~/.config/systemd/user/ccy-prune.timer ~/.config/systemd/user/ccy-prune.service \
                  ~/.config/systemd/user/ccy-idle.timer ~/.config/systemd/user/ccy-idle.service; \
            systemctl --user daemon-reload",
        );
    }
}

fn unit_prop(unit: &str, prop: &str) -> String {
    sh_ok(&format!("systemctl --user show -P {prop} {}", q(unit)))
}

const UNIT_DIR: &str = ".config/systemd/user";

/// The `.service` and `.timer` file of ccy's `task` timer (`idle`, `prune`).
fn timer_files(task: &str) -> (PathBuf, PathBuf) {
    let units = home().join(UNIT_DIR);
    (
        units.join(format!("ccy-{task}.service")),
        units.join(format!("ccy-{task}.timer")),
    )
}

/// Waits until `service` has run twice, the last run a success.
fn ran_twice(service: &str) {
    let first = {
        let mut id = String::new();
        eventually(30, &format!("{service} ran"), || {
            id = unit_prop(service, "InvocationID");
            !id.is_empty() && active_state(service) != "activating"
        });
        id
    };
    eventually(30, &format!("{service} ran again"), || {
        let id = unit_prop(service, "InvocationID");
        !id.is_empty() && id != first
    });
    eventually(15, &format!("a run of {service} succeeded"), || {
        unit_prop(service, "Result") == "success" && unit_prop(service, "ExecMainStatus") == "0"
    });
}

/// `ccy timer enable` refuses an invalid schedule without writing
/// anything, writes units that `systemd-analyze --user verify` accepts,
/// enables and starts both timers, whose services then run `ccy idle` and
/// `ccy prune` on a 5-second schedule; `status` reports them; an invalid
/// schedule later leaves the installed units as they were; `[idle] stop =
/// "off"` removes the idle timer only; `disable` stops, disables and
/// removes them.
#[test]
fn timer_enable_runs_idle_and_prune_on_schedule_status_and_disable() {
    let _g = exclusive();
    let _off = TimerOff;
    let dir = home();
    let (service, timer) = timer_files("prune");
    let (idle_service, idle_timer) = timer_files("idle");
    let config = UserConfig::set("[prune]\nschedule = \"bogus\"\n");

    let out = ccy(&dir, &["timer", "enable"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("invalid [prune] schedule \"bogus\""),
        "{}",
        out.stderr
    );
    for f in [&service, &timer, &idle_service, &idle_timer] {
        assert!(!f.exists(), "{}", f.display());
    }
    let out = ccy(&dir, &["timer", "status"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("ccy-prune.timer: not enabled"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("ccy-idle.timer: not enabled"),
        "{}",
        out.stdout
    );

    config
        .write("[idle]\nstop = \"48h\"\nschedule = \"*:*:0/5\"\n[prune]\nschedule = \"*:*:0/5\"\n");
    let out = ccy(&dir, &["timer", "enable"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    for t in ["ccy-prune.timer", "ccy-idle.timer"] {
        assert!(
            out.stdout.contains(&format!("enabled {t}")),
            "{t}: {}",
            out.stdout
        );
    }
    for f in [&service, &timer, &idle_service, &idle_timer] {
        let v = sh(&format!(
            "systemd-analyze --user verify {} 2>&1",
            q(f.to_str().unwrap())
        ));
        assert!(
            v.status.success(),
            "{} does not verify:\n{}",
            f.display(),
            String::from_utf8_lossy(&v.stdout)
        );
    }
    for (f, verb) in [(&service, "prune"), (&idle_service, "idle")] {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(
            text.contains(&format!(
                "ExecStart=\"{}\" \"{verb}\"",
                crate::support::ccy_bin()
            )),
            "{text}"
        );
    }
    for t in ["ccy-prune.timer", "ccy-idle.timer"] {
        assert_eq!(
            sh_ok(&format!("systemctl --user is-enabled {t}")),
            "enabled"
        );
        assert_eq!(active_state(t), "active", "{t}");
        assert!(
            unit_prop(t, "TimersCalendar").contains("*-*-* *:*:00/5"),
            "{t}"
        );
        // A tenth of the 5 s interval: no random delay, 1 s accuracy.
        assert_eq!(unit_prop(t, "AccuracyUSec"), "1s", "{t}");
        assert_eq!(unit_prop(t, "RandomizedDelayUSec"), "0", "{t}");
        assert_eq!(unit_prop(t, "NeedDaemonReload"), "no", "{t}");
    }

    // Each service runs, and runs again.
    ran_twice("ccy-prune.service");
    ran_twice("ccy-idle.service");
    let journal = sh_ok("journalctl --user -u ccy-prune.service -o cat --no-pager");
    assert!(
        journal.contains("nothing to prune") || journal.contains("kept "),
        "{journal}"
    );

    // While the service runs (every 5 s here) the timer has no next
    // elapse and status says "next run: none": read it between runs.
    let mut out = ccy(&dir, &["timer", "status"]);
    for _ in 0..50 {
        if !out.stdout.contains("running now") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        out = ccy(&dir, &["timer", "status"]);
    }
    assert_eq!(out.code, 0, "{}", out.stderr);
    for t in ["ccy-prune.timer", "ccy-idle.timer"] {
        assert!(
            out.stdout.contains(&format!("{t}: enabled, active")),
            "{}",
            out.stdout
        );
    }
    assert!(
        out.stdout.contains("schedule:  *-*-* *:*:00/5"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("next run:  20"), "{}", out.stdout);
    assert!(out.stdout.contains("last run:  "), "{}", out.stdout);
    assert!(!out.stdout.contains("last run:  never"), "{}", out.stdout);

    // An invalid schedule leaves the installed timers as they were.
    let before = (
        std::fs::read(&service).unwrap(),
        std::fs::read(&timer).unwrap(),
        std::fs::read(&idle_timer).unwrap(),
    );
    config.write("[idle]\nstop = \"48h\"\n[prune]\nschedule = \"*:*:0/5 every day\"\n");
    let out = ccy(&dir, &["timer", "enable"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        before,
        (
            std::fs::read(&service).unwrap(),
            std::fs::read(&timer).unwrap(),
            std::fs::read(&idle_timer).unwrap(),
        )
    );
    assert_eq!(active_state("ccy-prune.timer"), "active");

    // `[idle] stop = "off"` takes the idle timer away, not the prune one.
    config.write("[idle]\nstop = \"off\"\n[prune]\nschedule = \"*:*:0/5\"\n");
    let out = ccy(&dir, &["timer", "enable"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("removed ccy-idle.timer"),
        "{}",
        out.stdout
    );
    assert!(!idle_service.exists() && !idle_timer.exists());
    assert_eq!(active_state("ccy-idle.timer"), "inactive");
    assert_eq!(active_state("ccy-prune.timer"), "active");

    let out = ccy(&dir, &["timer", "disable"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!service.exists() && !timer.exists());
    assert_eq!(active_state("ccy-prune.timer"), "inactive");
    let enabled = sh("systemctl --user is-enabled ccy-prune.timer");
    assert!(!enabled.status.success());
    let out = ccy(&dir, &["timer", "disable"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("are not enabled"), "{}", out.stdout);
}

/// The first session created installs both timers, in one line, as it
/// turns on linger; later ones say nothing; `doctor` sees them, reports a
/// disabled one with `ccy timer enable` as the fix; `prune.timer = false`
/// (which the rest of the suite runs with) opts out.
#[test]
fn the_first_new_session_installs_the_timers_and_doctor_checks_them() {
    let _g = exclusive();
    // Start without timers, and leave none behind.
    drop(TimerOff);
    let _off = TimerOff;
    let _config = UserConfig::set("");
    let repo = Repo::new("timer-first");
    let (_, prune_timer) = timer_files("prune");
    let (_, idle_timer) = timer_files("idle");
    let with_timer = "env -u CCY_PRUNE_TIMER";

    // Opted out (the suite's CCY_PRUNE_TIMER=false): nothing installed.
    let out = ccy(&repo.dir, &["new", "-d"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("timers"), "{}", out.stderr);
    assert!(!prune_timer.exists());
    let (level, message, _) = doctor_check("timers", "");
    assert_eq!(level, "ok", "{message}");
    assert!(message.starts_with("off"), "{message}");

    let new = |env: &str| new_detached_with_env(&repo.dir, env).1;
    let (level, message, fix) = doctor_check("timers", with_timer);
    assert_eq!(level, "warning", "{message}");
    assert!(
        message.contains("ccy-prune.timer is not installed"),
        "{message}"
    );
    assert_eq!(fix.as_deref(), Some("ccy timer enable"));

    let stderr = new(with_timer);
    let installed: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("installed ccy's timers"))
        .collect();
    assert_eq!(
        installed,
        [
            "ccy: installed ccy's timers: idle hourly, prune daily (opt out: prune.timer = false; see 'ccy timer status')"
        ],
        "{stderr}"
    );
    assert!(prune_timer.exists() && idle_timer.exists());
    // Private, as every unit file ccy writes (issue 12 item 4).
    for task in ["prune", "idle"] {
        let (service, timer) = timer_files(task);
        for f in [service, timer] {
            let mode = std::os::unix::fs::PermissionsExt::mode(
                &std::fs::metadata(&f).unwrap().permissions(),
            );
            assert_eq!(mode & 0o777, 0o600, "{}", f.display());
        }
    }
    for t in ["ccy-prune.timer", "ccy-idle.timer"] {
        assert_eq!(active_state(t), "active", "{t}");
        assert_eq!(
            sh_ok(&format!("systemctl --user is-enabled {t}")),
            "enabled"
        );
    }
    let (level, message, _) = doctor_check("timers", with_timer);
    assert_eq!(level, "ok", "{message}");
    assert_eq!(
        message,
        "enabled and active: ccy-idle.timer (hourly), ccy-prune.timer (daily)"
    );
    // Already there: the next session says nothing about them.
    let stderr = new(with_timer);
    assert!(!stderr.contains("timers"), "{stderr}");

    sh_ok("systemctl --user disable --now ccy-prune.timer");
    let (level, message, fix) = doctor_check("timers", with_timer);
    assert_eq!(level, "warning", "{message}");
    assert!(message.contains("ccy-prune.timer is disabled"), "{message}");
    assert_eq!(fix.as_deref(), Some("ccy timer enable"));
    // Opted out with the timers still there: the fix is to disable them.
    let (level, _, fix) = doctor_check("timers", "");
    assert_eq!(level, "warning");
    assert_eq!(fix.as_deref(), Some("ccy timer disable"));
}

/// Stops the session's unit and makes its recorded tmux activity `secs`
/// seconds old (as `ccy prune`'s own tests do).
fn stop_and_age(name: &str, secs: u64) {
    sh_ok(&format!(
        "systemctl --user stop {}",
        q(&format!("{name}.service"))
    ));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let t = now - secs;
    std::fs::write(
        state_dir(name).join("status"),
        format!("activity={t}\noutput={t}\nclient_activity=0\nclients=0\nupdated={t}\n"),
    )
    .unwrap();
}

/// With `[prune] age = "1h"` and a 5-second schedule, the timer's service
/// removes a session stopped 3 h ago and leaves a running one, a kept one
/// stopped as long, and one stopped 10 min ago as they were.
#[test]
fn the_timer_prunes_stale_stopped_sessions_and_nothing_else() {
    let _g = exclusive();
    first_session_output();
    let _off = TimerOff;
    let repo = Repo::new("timer-prune");
    let stale = new_session(&repo.dir, &[]);
    let fresh = new_session(&repo.dir, &[]);
    let kept = new_session(&repo.dir, &["--keep"]);
    let running = new_session(&repo.dir, &[]);
    stop_and_age(&stale, 3 * 3600);
    stop_and_age(&kept, 3 * 3600);
    stop_and_age(&fresh, 600);
    let unit_file = |n: &str| crate::support::quadlet_dir().join(format!("{n}.container"));
    let _config =
        UserConfig::set("[idle]\nstop = \"off\"\n[prune]\nage = \"1h\"\nschedule = \"*:*:0/5\"\n");

    let out = ccy(&home(), &["timer", "enable"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    eventually(40, "the timer pruned the stale session", || {
        !unit_file(&stale).exists() && !state_dir(&stale).exists()
    });
    eventually(20, "that run of ccy-prune.service finished", || {
        active_state("ccy-prune.service") != "activating"
    });
    let journal = sh_ok("journalctl --user -u ccy-prune.service -o cat --no-pager");
    assert!(journal.contains(&format!("removed {stale}")), "{journal}");
    assert_eq!(
        unit_prop("ccy-prune.service", "Result"),
        "success",
        "{journal}"
    );
    for n in [&fresh, &kept, &running] {
        assert!(unit_file(n).exists(), "{n} stays:\n{journal}");
        assert_eq!(
            unit_prop(&format!("{n}.service"), "LoadState"),
            "loaded",
            "{n}"
        );
    }
    assert_eq!(active_state(&format!("{running}.service")), "active");
    assert_eq!(active_state(&format!("{fresh}.service")), "inactive");
    assert_eq!(active_state(&format!("{kept}.service")), "inactive");
    let out = ccy(&home(), &["timer", "disable"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}
