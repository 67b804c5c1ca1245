//! `ccy timer enable|disable|status`: ccy's systemd user timers, which
//! run `ccy idle` (`[idle] schedule`) and `ccy prune` (`[prune]
//! schedule`). The work is in [`crate::session::timer`].

use clap::{Args, Subcommand};

use crate::ctx::Ctx;
use crate::error::Result;
use crate::host::systemd::calendar::check_schedule;
use crate::host::systemd::details::TimerDetails;
use crate::host::systemd::{ActiveState, LoadState};
use crate::paths::display_home;
use crate::quadlet::render::Task;
use crate::session::{Host, timer};
use crate::ui;

/// Run `ccy idle` and `ccy prune` on schedules (systemd user timers)
///
/// ccy has two timers, each a `.timer` and a `.service` in
/// `~/.config/systemd/user/`: `ccy-idle.timer` runs this ccy binary (by its
/// absolute path) as `ccy idle` on `[idle] schedule` (default hourly: stop
/// sessions idle longer than `[idle] stop`, default 24h; not installed
/// while `[idle] stop` is `off`), and `ccy-prune.timer` runs `ccy prune` on
/// `[prune] schedule` (default daily: remove sessions stopped longer than
/// `[prune] age`). The first `ccy` that creates a session installs them, as
/// it turns on linger, unless `[prune] timer = false`. The schedules come
/// from your configuration (`~/.config/ccy/config.toml` and
/// `CCY_*_SCHEDULE`; not a project's file), systemd calendar expressions
/// such as `daily` or `hourly`; a run missed while the machine was off
/// happens at the next boot. Run `ccy timer enable` again after changing a
/// schedule or `[idle] stop`, or moving ccy.
///
/// Exit status: 0 success; 2 invalid configuration or schedule (the timer
/// and its files are left as they were); 3 no user manager; 4 the timer
/// failed to load or start.
#[derive(Debug, Args)]
pub struct TimerArgs {
    /// What to do with the timer.
    #[command(subcommand)]
    pub command: TimerCommand,
}

/// The `ccy timer` verbs.
#[derive(Debug, Subcommand)]
pub enum TimerCommand {
    /// Write, enable and start the timers (again, after a change)
    ///
    /// Checks each schedule with systemd's own parser (`systemd-analyze
    /// calendar`) before writing anything: an invalid schedule is an error
    /// and leaves the installed timers as they were. Removes the idle timer
    /// while `[idle] stop` is `off`.
    ///
    /// Exit status: 0 enabled and started; 2 invalid configuration or
    /// schedule; 3 no user manager; 4 the timer failed to load or start.
    Enable,
    /// Stop and disable the timers and remove their unit files
    ///
    /// A run in progress finishes. The next `ccy` that creates a session
    /// installs them again unless `[prune] timer = false`.
    ///
    /// Exit status: 0 disabled (or was not enabled); 3 no user manager; 4
    /// the timer failed to stop.
    Disable,
    /// Show the timers' state, schedule, next run and last run
    ///
    /// Prints for each timer whether it is enabled and active, its schedule
    /// (and the configured one when that differs), the next run, and the
    /// last run with its result (`journalctl --user -u ccy-prune.service`
    /// has its output).
    ///
    /// Exit status: 0 (also when the timer is not enabled: the output says
    /// so); 3 no user manager.
    Status,
}

/// Runs a `ccy timer` verb.
///
/// # Errors
/// See the exit status in [`TimerArgs`].
pub fn run(ctx: &Ctx, args: &TimerArgs) -> Result<()> {
    match args.command {
        TimerCommand::Enable => enable(ctx),
        TimerCommand::Disable => disable(ctx),
        TimerCommand::Status => status(ctx),
    }
}

fn enable(ctx: &Ctx) -> Result<()> {
    let loaded = ctx.config(None)?.finish()?;
    ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        let done = timer::enable(&host, &loaded.config).await?;
        let now = now_secs();
        for i in &done.installed {
            crate::outln!(
                "enabled {}: runs '{} {}' on schedule {:?} ({}); next run: {}",
                i.task.timer_unit(),
                done.ccy.display(),
                i.task.verb(),
                i.schedule,
                i.normalized,
                when(i.next_elapse_usec, now)
            );
        }
        for t in &done.removed {
            crate::outln!("removed {}: [idle] stop is \"off\"", t.timer_unit());
        }
        Ok(())
    })
}

fn disable(ctx: &Ctx) -> Result<()> {
    ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        let had = timer::disable(&host).await?;
        if had.is_empty() {
            crate::outln!("ccy's timers are not enabled");
        }
        for t in had {
            crate::outln!(
                "disabled {} and removed its units from {}",
                t.timer_unit(),
                display_home(&ctx.paths.systemd_user_dir(), &ctx.paths.home)
            );
        }
        crate::outln!("hint: the next new session installs them again unless prune.timer = false");
        Ok(())
    })
}

fn status(ctx: &Ctx) -> Result<()> {
    let loaded = ctx.config(None)?.finish()?;
    let all = ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        timer::details(&host.mgr).await
    })?;
    let now = now_secs();
    let mut out = String::new();
    for (task, d) in &all {
        let configured = timer::schedule(&loaded.config, *task);
        let normalized =
            configured.and_then(|c| check_schedule(task.verb(), c).ok().map(|c| c.normalized));
        out.push_str(&status_text(
            *task,
            d,
            configured,
            normalized.as_deref(),
            now,
        ));
    }
    crate::out!("{out}");
    Ok(())
}

/// The text of `ccy timer status` for `task`'s timer (pure, for tests):
/// `configured` is the configuration's schedule (`None`: the task is off),
/// `normalized` systemd's form of it when it parses; `now` seconds since
/// the Unix epoch.
#[must_use]
pub fn status_text(
    task: Task,
    d: &TimerDetails,
    configured: Option<&str>,
    normalized: Option<&str>,
    now: u64,
) -> String {
    use std::fmt::Write as _;
    let (timer_unit, service_unit) = (task.timer_unit(), task.service_unit());
    let mut out = String::new();
    let key = format!("{}.schedule", task.verb());
    if d.load_state != LoadState::Loaded {
        let _ = writeln!(out, "{timer_unit}: not enabled (not installed)");
        match configured {
            Some(c) => {
                let _ = writeln!(out, "  schedule:  {c} (config {key})");
                let _ = writeln!(out, "  hint: enable it with 'ccy timer enable'");
            }
            None => {
                let _ = writeln!(out, "  off: config idle.stop is \"off\"");
            }
        }
        return out;
    }
    let configured = configured.unwrap_or("off");
    let _ = writeln!(
        out,
        "{timer_unit}: {}, {}",
        d.unit_file_state, d.active_state
    );
    let installed = d.calendar.join("; ");
    let _ = writeln!(out, "  schedule:  {installed}");
    if normalized.is_some_and(|n| !d.calendar.iter().any(|c| c == n)) {
        let _ = writeln!(
            out,
            "             (the configuration says {configured:?}: run 'ccy timer enable' to apply it)"
        );
    }
    let _ = writeln!(out, "  next run:  {}", when(d.next_elapse_usec, now));
    let last = if d.service_active_state == ActiveState::Activating {
        format!("running now (since {})", when(d.service_start_usec, now))
    } else if d.service_start_usec > 0 {
        let result = match d.service_result.as_str() {
            "success" => "success".to_owned(),
            r => format!(
                "{r} (exit status {}; see 'journalctl --user -u {service_unit}')",
                d.service_exit_status
            ),
        };
        format!("{}: {result}", when(d.service_start_usec, now))
    } else if d.last_trigger_usec > 0 {
        // The timer's stamp outlives the user manager; the service's result
        // does not.
        format!(
            "{}: result not known since the user manager restarted (see 'journalctl --user -u {service_unit}')",
            when(d.last_trigger_usec, now)
        )
    } else {
        "never".to_owned()
    };
    let _ = writeln!(out, "  last run:  {last}");
    out
}

/// `2026-11-22T00:03:12Z (in 15h)` for a time in µs since the epoch;
/// `none` for 0.
fn when(usec: u64, now: u64) -> String {
    // 0: never; u64::MAX (USEC_INFINITY): not scheduled now, e.g. while
    // the service runs.
    if usec == 0 || usec == u64::MAX {
        return "none".to_owned();
    }
    // Beyond year 9999 is not a time to print.
    if usec / 1_000_000 > 253_402_300_799 {
        return "never".to_owned();
    }
    let secs = usec / 1_000_000;
    let rel = if secs > now {
        format!("in {}", ui::span(secs - now))
    } else {
        ui::ago(now, secs)
    };
    format!("{} ({rel})", ui::rfc3339(secs))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn unset_and_infinite_times() {
        assert_eq!(when(0, 100), "none");
        assert_eq!(when(u64::MAX, 100), "none");
        assert_eq!(when(u64::MAX - 1, 100), "never");
        assert_eq!(when(160_000_000, 100), "1970-01-01T00:02:40Z (in 1m)");
    }

    #[test]
    fn status_text_snapshots() {
        let now = 1_795_237_200; // 2026-11-21T05:00:00Z
        let d = TimerDetails {
            load_state: "loaded".into(),
            unit_file_state: "enabled".into(),
            active_state: "active".into(),
            calendar: vec!["*-*-* 00:00:00".into()],
            next_elapse_usec: (now + 19 * 3600 + 120) * 1_000_000,
            last_trigger_usec: (now - 5 * 3600) * 1_000_000,
            service_active_state: "inactive".into(),
            service_result: "exit-code".into(),
            service_start_usec: (now - 5 * 3600 + 1) * 1_000_000,
            service_exit_usec: (now - 5 * 3600 + 2) * 1_000_000,
            service_exit_status: 4,
        };
        insta::assert_snapshot!(status_text(Task::Prune, &d, Some("hourly"), Some("*-*-* *:00:00"), now), @r#"
        ccy-prune.timer: enabled, active
          schedule:  *-*-* 00:00:00
                     (the configuration says "hourly": run 'ccy timer enable' to apply it)
          next run:  2026-11-22T00:02:00Z (in 19h)
          last run:  2026-11-21T00:00:01Z (4h ago): exit-code (exit status 4; see 'journalctl --user -u ccy-prune.service')
        "#);
        let missing = TimerDetails {
            load_state: "not-found".into(),
            ..TimerDetails::default()
        };
        insta::assert_snapshot!(status_text(Task::Prune, &missing, Some("daily"), Some("*-*-* 00:00:00"), now), @"
        ccy-prune.timer: not enabled (not installed)
          schedule:  daily (config prune.schedule)
          hint: enable it with 'ccy timer enable'
        ");
        insta::assert_snapshot!(status_text(Task::Idle, &missing, None, None, now), @r#"
        ccy-idle.timer: not enabled (not installed)
          off: config idle.stop is "off"
        "#);
    }
}
