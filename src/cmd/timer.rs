//! `ccy timer enable|disable|status`: a systemd user timer that runs
//! `ccy idle` then `ccy prune` on the schedule of config `[prune]
//! schedule`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::ctx::Ctx;
use crate::error::{Context, Error, ExitKind, Result};
use crate::host::systemd::ActiveState;
use crate::host::systemd::JobResult;
use crate::host::systemd::LoadState;
use crate::host::systemd::calendar::check_schedule;
use crate::host::systemd::details::TimerDetails;
use crate::paths::display_home;
use crate::quadlet::render::{self, TimerSpec};
use crate::session::Host;
use crate::ui;

/// The timer unit `ccy timer` installs.
pub const TIMER_UNIT: &str = "ccy-prune.timer";
/// The service the timer starts.
pub const SERVICE_UNIT: &str = "ccy-prune.service";

/// Run `ccy idle` and `ccy prune` on a schedule (a systemd user timer)
///
/// `ccy timer enable` writes `ccy-prune.service` and `ccy-prune.timer`
/// into `~/.config/systemd/user/`, reloads your systemd user manager,
/// enables the timer (it starts at login and boot, with linger) and starts
/// it. On each elapse the service runs this ccy binary (by its absolute
/// path) as `ccy idle` (stop sessions idle longer than `[idle] stop`),
/// then `ccy prune` (remove sessions stopped longer than `[prune] age`).
/// The schedule is `[prune] schedule` of your configuration
/// (`~/.config/ccy/config.toml` and `CCY_PRUNE_SCHEDULE`; not a project's
/// file), a systemd calendar expression such as `daily` or `hourly`; a run
/// missed while the machine was off happens at the next boot. Run `ccy
/// timer enable` again after changing the schedule or moving ccy.
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
    /// Write, enable and start the timer (again, after a change)
    ///
    /// Checks `[prune] schedule` with systemd's own parser (`systemd-analyze
    /// calendar`) before writing anything: an invalid schedule is an error
    /// and leaves the installed timer as it was.
    ///
    /// Exit status: 0 enabled and started; 2 invalid configuration or
    /// schedule; 3 no user manager; 4 the timer failed to load or start.
    Enable,
    /// Stop and disable the timer and remove its unit files
    ///
    /// A run in progress finishes.
    ///
    /// Exit status: 0 disabled (or was not enabled); 3 no user manager; 4
    /// the timer failed to stop.
    Disable,
    /// Show the timer's state, schedule, next run and last run
    ///
    /// Prints whether the timer is enabled and active, its schedule (and
    /// the configured one when that differs), the next run, and the last
    /// run with its result (`journalctl --user -u ccy-prune.service` has
    /// its output).
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

/// `(RandomizedDelaySec, AccuracySec)` in seconds for a schedule whose
/// elapses are `interval` seconds apart: a tenth of it, the delay at most
/// 5 min, the accuracy between 1 s and 1 min (systemd's default accuracy
/// is 1 min, which would swallow a schedule of seconds).
#[must_use]
pub fn spread(interval: Option<u64>) -> (u64, u64) {
    match interval {
        None => (300, 60),
        Some(i) => ((i / 10).min(300), (i / 10).clamp(1, 60)),
    }
}

fn unit_files(ctx: &Ctx) -> (PathBuf, PathBuf) {
    let dir = ctx.paths.systemd_user_dir();
    (dir.join(SERVICE_UNIT), dir.join(TIMER_UNIT))
}

fn enable(ctx: &Ctx) -> Result<()> {
    let loaded = ctx.config(None)?.finish()?;
    let schedule = loaded.config.prune.schedule.trim().to_owned();
    let calendar = check_schedule(&schedule)?;
    let ccy = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .context("cannot find the path of the ccy binary")?;
    let (randomized_delay_secs, accuracy_secs) = spread(calendar.interval_secs);
    let mut environment = Vec::new();
    for var in ["XDG_CONFIG_HOME", "XDG_STATE_HOME"] {
        if let Some(v) = std::env::var_os(var).and_then(|v| v.into_string().ok())
            && Path::new(&v).is_absolute()
        {
            environment.push((var.to_owned(), v));
        }
    }
    let units = render::prune_timer(&TimerSpec {
        ccy: ccy.clone(),
        schedule: schedule.clone(),
        randomized_delay_secs,
        accuracy_secs,
        environment,
    })?;
    let (service_file, timer_file) = unit_files(ctx);
    let old = (
        std::fs::read(&service_file).ok(),
        std::fs::read(&timer_file).ok(),
    );
    crate::host::fs::write_atomic(&service_file, units.service.as_bytes(), 0o644)?;
    crate::host::fs::write_atomic(&timer_file, units.timer.as_bytes(), 0o644)?;
    ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        let mgr = &host.mgr;
        mgr.reload().await?;
        let timer = mgr.unit_state(TIMER_UNIT).await?;
        let service = mgr.unit_state(SERVICE_UNIT).await?;
        if let Some(bad) = [&timer, &service]
            .into_iter()
            .find(|u| u.load_state != LoadState::Loaded)
        {
            let err = Error::new(
                ExitKind::Session,
                format!(
                    "your user manager did not load {} ({}); the previous units are restored",
                    bad.name, bad.load_state
                ),
            )
            .hint(format!(
                "see why with 'systemd-analyze --user verify {}'",
                ctx.paths.systemd_user_dir().join(&bad.name).display()
            ));
            restore(&service_file, old.0.as_deref())?;
            restore(&timer_file, old.1.as_deref())?;
            mgr.reload().await?;
            return Err(err);
        }
        mgr.enable_unit_file(TIMER_UNIT).await?;
        // As `systemctl enable` does: the new [Install] symlink is part of
        // the unit's configuration.
        mgr.reload().await?;
        // A running timer keeps its old schedule until restarted.
        let result = if timer.is_up() {
            mgr.restart(TIMER_UNIT).await?
        } else {
            mgr.start(TIMER_UNIT).await?
        };
        if result != JobResult::Done {
            return Err(Error::new(
                ExitKind::Session,
                format!(
                    "starting {TIMER_UNIT} ended with job result {}",
                    result.as_str()
                ),
            )
            .hint(format!("look at 'journalctl --user -u {TIMER_UNIT}'")));
        }
        let d = mgr.timer_details(TIMER_UNIT, SERVICE_UNIT).await?;
        crate::outln!(
            "enabled {TIMER_UNIT}: runs '{} idle' then '{} prune' on schedule {schedule:?} ({})",
            ccy.display(),
            ccy.display(),
            calendar.normalized
        );
        crate::outln!("next run: {}", when(d.next_elapse_usec, now_secs()));
        Ok(())
    })
}

/// Puts back a unit file's previous text, or removes it when there was
/// none.
fn restore(path: &Path, old: Option<&[u8]>) -> Result<()> {
    match old {
        Some(text) => crate::host::fs::write_atomic(path, text, 0o644),
        None => match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", path.display()))
            }
            _ => Ok(()),
        },
    }
}

fn disable(ctx: &Ctx) -> Result<()> {
    let (service_file, timer_file) = unit_files(ctx);
    ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        let mgr = &host.mgr;
        let timer = mgr.unit_state(TIMER_UNIT).await?;
        let had_files = service_file.exists() || timer_file.exists();
        if !had_files && timer.load_state == LoadState::NotFound {
            crate::outln!("{TIMER_UNIT} is not enabled");
            return Ok(());
        }
        if timer.is_up() {
            let result = mgr.stop(TIMER_UNIT).await?;
            if result != JobResult::Done {
                return Err(Error::new(
                    ExitKind::Session,
                    format!(
                        "stopping {TIMER_UNIT} ended with job result {}",
                        result.as_str()
                    ),
                ));
            }
        }
        mgr.disable_unit_file(TIMER_UNIT).await?;
        restore(&timer_file, None)?;
        restore(&service_file, None)?;
        mgr.reload().await?;
        crate::outln!(
            "disabled {TIMER_UNIT} and removed its units from {}",
            display_home(&ctx.paths.systemd_user_dir(), &ctx.paths.home)
        );
        Ok(())
    })
}

fn status(ctx: &Ctx) -> Result<()> {
    let loaded = ctx.config(None)?.finish()?;
    let configured = loaded.config.prune.schedule.trim().to_owned();
    let d = ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        let mgr = &host.mgr;
        mgr.timer_details(TIMER_UNIT, SERVICE_UNIT).await
    })?;
    let normalized = check_schedule(&configured).ok().map(|c| c.normalized);
    crate::out!(
        "{}",
        status_text(&d, &configured, normalized.as_deref(), now_secs())
    );
    Ok(())
}

/// The text of `ccy timer status` (pure, for tests): `configured` is the
/// configuration's schedule, `normalized` systemd's form of it when it
/// parses; `now` seconds since the Unix epoch.
#[must_use]
pub fn status_text(
    d: &TimerDetails,
    configured: &str,
    normalized: Option<&str>,
    now: u64,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if d.load_state != LoadState::Loaded {
        let _ = writeln!(
            out,
            "timer:     not enabled ({TIMER_UNIT} is not installed)"
        );
        let _ = writeln!(out, "schedule:  {configured} (config prune.schedule)");
        let _ = writeln!(out, "hint: enable it with 'ccy timer enable'");
        return out;
    }
    let _ = writeln!(
        out,
        "timer:     {TIMER_UNIT}, {}, {}",
        d.unit_file_state, d.active_state
    );
    let installed = d.calendar.join("; ");
    let _ = writeln!(out, "schedule:  {installed}");
    if normalized.is_some_and(|n| !d.calendar.iter().any(|c| c == n)) {
        let _ = writeln!(
            out,
            "           (the configuration says {configured:?}: run 'ccy timer enable' to apply it)"
        );
    }
    let _ = writeln!(out, "next run:  {}", when(d.next_elapse_usec, now));
    let last = if d.service_active_state == ActiveState::Activating {
        format!("running now (since {})", when(d.service_start_usec, now))
    } else if d.service_start_usec > 0 {
        let result = match d.service_result.as_str() {
            "success" => "success".to_owned(),
            r => format!(
                "{r} (exit status {}; see 'journalctl --user -u {SERVICE_UNIT}')",
                d.service_exit_status
            ),
        };
        format!("{}: {result}", when(d.service_start_usec, now))
    } else if d.last_trigger_usec > 0 {
        // The timer's stamp outlives the user manager; the service's result
        // does not.
        format!(
            "{}: result not known since the user manager restarted (see 'journalctl --user -u {SERVICE_UNIT}')",
            when(d.last_trigger_usec, now)
        )
    } else {
        "never".to_owned()
    };
    let _ = writeln!(out, "last run:  {last}");
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
    fn spread_is_a_tenth_within_bounds() {
        assert_eq!(spread(Some(86_400)), (300, 60));
        assert_eq!(spread(Some(3600)), (300, 60));
        assert_eq!(spread(Some(300)), (30, 30));
        assert_eq!(spread(Some(5)), (0, 1));
        assert_eq!(spread(None), (300, 60));
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
        insta::assert_snapshot!(status_text(&d, "hourly", Some("*-*-* *:00:00"), now), @r#"
        timer:     ccy-prune.timer, enabled, active
        schedule:  *-*-* 00:00:00
                   (the configuration says "hourly": run 'ccy timer enable' to apply it)
        next run:  2026-11-22T00:02:00Z (in 19h)
        last run:  2026-11-21T00:00:01Z (4h ago): exit-code (exit status 4; see 'journalctl --user -u ccy-prune.service')
        "#);
        insta::assert_snapshot!(status_text(&TimerDetails {
            load_state: "not-found".into(),
            ..TimerDetails::default()
        }, "daily", Some("*-*-* 00:00:00"), now), @"
        timer:     not enabled (ccy-prune.timer is not installed)
        schedule:  daily (config prune.schedule)
        hint: enable it with 'ccy timer enable'
        ");
    }
}
