//! ccy's timers in the user manager: `ccy-idle.timer` runs `ccy idle`
//! (config `[idle] schedule`, installed while `[idle] stop` is not `off`)
//! and `ccy-prune.timer` runs `ccy prune` (`[prune] schedule`). Their unit
//! files live in `~/.config/systemd/user/` (systemd.unit(5) search path of
//! a user manager); `ccy timer` manages them, and the first session
//! created installs them unless `[prune] timer = false` ([`ensure`]).

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::ctx::notice;
use crate::error::{Context, Error, ExitKind, Result};
use crate::host::fs::write_atomic;
use crate::host::systemd::LoadState;
use crate::host::systemd::calendar::{Calendar, check_schedule};
use crate::host::systemd::details::TimerDetails;
use crate::quadlet::render::{self, Task, TimerSpec};
use crate::session::Host;
use crate::session::store::UNIT_FILE_MODE;

/// One timer as installed by [`enable`].
#[derive(Debug, Clone)]
pub struct Installed {
    /// Which task it runs.
    pub task: Task,
    /// The schedule as configured (`daily`).
    pub schedule: String,
    /// systemd's normalized form of it (`*-*-* 00:00:00`).
    pub normalized: String,
    /// The next elapse, µs since the Unix epoch (0: none).
    pub next_elapse_usec: u64,
}

/// What [`enable`] did.
#[derive(Debug, Clone)]
pub struct Enabled {
    /// The ccy binary the services run.
    pub ccy: PathBuf,
    /// The timers now installed, enabled and started.
    pub installed: Vec<Installed>,
    /// Timers removed because the configuration turns them off (the idle
    /// timer while `[idle] stop = "off"`).
    pub removed: Vec<Task>,
}

/// The task's schedule in `config`, or `None` when the task is off.
#[must_use]
pub fn schedule(config: &Config, task: Task) -> Option<&str> {
    match task {
        Task::Idle if config.idle.is_off() => None,
        Task::Idle => Some(config.idle.schedule.trim()),
        Task::Prune => Some(config.prune.schedule.trim()),
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

/// The `.service` and `.timer` files of `task` in `dir`.
#[must_use]
pub fn unit_files(dir: &Path, task: Task) -> (PathBuf, PathBuf) {
    (dir.join(task.service_unit()), dir.join(task.timer_unit()))
}

/// Whether the prune timer's unit file is installed: the cheap check the
/// create path makes before [`ensure`] does anything.
#[must_use]
pub fn installed(dir: &Path) -> bool {
    unit_files(dir, Task::Prune).1.exists()
}

/// [`ensure`] and [`crate::session::notify::ensure`] with the user's own
/// configuration (never a project's), after the cheap check that the
/// prune timer or the notifier is not installed yet: what session
/// creation calls, as it turns on linger.
pub async fn ensure_for_user(host: &Host<'_>) {
    let dir = host.ctx.paths.systemd_user_dir();
    if installed(&dir) && crate::session::notify::installed(&dir) {
        return;
    }
    if let Ok(user) = host
        .ctx
        .config(None)
        .and_then(crate::config::Loader::finish)
    {
        ensure(host, &user.config).await;
        crate::session::notify::ensure(host, &user.config).await;
    }
}

/// Installs ccy's timers when `config` (the user's own configuration:
/// `[prune] timer`) wants them and the prune timer is not installed yet,
/// printing one line when it does; a failure is a warning, as sessions
/// work without the timers. Called by session creation, like linger.
pub async fn ensure(host: &Host<'_>, config: &Config) {
    if !config.prune.timer || installed(&host.ctx.paths.systemd_user_dir()) {
        return;
    }
    match enable(host, config).await {
        Ok(done) => notice(&format!(
            "installed ccy's timers: {} (opt out: prune.timer = false; see 'ccy timer status')",
            done.installed
                .iter()
                .map(|i| format!("{} {}", i.task.verb(), i.schedule))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Err(e) => notice(&format!(
            "warning: could not install ccy's timers: {}",
            e.to_string().replace('\n', "\n  ")
        )),
    }
}

/// Writes, enables and (re)starts ccy's timers per `config`: each task's
/// schedule is checked with systemd's own parser first (an invalid one
/// changes nothing), then the unit files are written atomically, the user
/// manager reloaded, each timer enabled and started (restarted when it
/// ran: a running timer keeps its old schedule). The idle timer is removed
/// when `[idle] stop` is `off`. When the manager does not load a unit,
/// the previous files are restored.
///
/// # Errors
/// An invalid schedule ([`ExitKind::Usage`]); a unit the manager does not
/// load or a job that does not end `done` ([`ExitKind::Session`]); D-Bus
/// or file errors.
pub async fn enable(host: &Host<'_>, config: &Config) -> Result<Enabled> {
    let ctx = host.ctx;
    let mgr = &host.mgr;
    let dir = ctx.paths.systemd_user_dir();
    let (wanted, removed) = plan(config)?;
    let (ccy, environment) = crate::session::timer::service_command()?;
    let mut texts = Vec::new();
    for (task, schedule, calendar) in &wanted {
        let (randomized_delay_secs, accuracy_secs) = spread(calendar.interval_secs);
        let units = render::task_timer(&TimerSpec {
            task: *task,
            ccy: ccy.clone(),
            schedule: schedule.clone(),
            randomized_delay_secs,
            accuracy_secs,
            environment: environment.clone(),
        })?;
        texts.push((*task, units));
    }
    // Every file that may change, with its text before, to put back.
    let old: Vec<(PathBuf, Option<Vec<u8>>)> = Task::ALL
        .iter()
        .flat_map(|t| {
            let (s, t) = unit_files(&dir, *t);
            [s, t]
        })
        .map(|p| {
            let text = std::fs::read(&p).ok();
            (p, text)
        })
        .collect();
    let restore_all = || -> Result<()> {
        for (path, text) in &old {
            restore(path, text.as_deref())?;
        }
        Ok(())
    };
    let really_removed = remove_turned_off(host, &removed).await?;
    for (task, units) in &texts {
        let (service, timer) = unit_files(&dir, *task);
        write_atomic(&service, units.service.as_bytes(), UNIT_FILE_MODE)?;
        write_atomic(&timer, units.timer.as_bytes(), UNIT_FILE_MODE)?;
    }
    mgr.reload().await?;
    for (task, _) in &texts {
        for unit in [task.timer_unit(), task.service_unit()] {
            let state = mgr.unit_state(unit).await?;
            if state.load_state != LoadState::Loaded {
                let err = Error::new(
                    ExitKind::Session,
                    format!(
                        "your user manager did not load {unit} ({}); the previous units are restored",
                        state.load_state
                    ),
                )
                .hint(format!(
                    "see why with 'systemd-analyze --user verify {}'",
                    dir.join(unit).display()
                ));
                restore_all()?;
                mgr.reload().await?;
                return Err(err);
            }
        }
    }
    for (task, _) in &texts {
        mgr.enable_unit_file(task.timer_unit()).await?;
    }
    // As `systemctl enable` does: the new [Install] symlinks are part of
    // the units' configuration.
    mgr.reload().await?;
    let installed = start_all(mgr, wanted).await?;
    Ok(Enabled {
        ccy,
        installed,
        removed: really_removed,
    })
}

/// A timer to install: its task, the schedule as configured and systemd's
/// reading of it.
type Wanted = (Task, String, Calendar);

/// Each task's schedule in `config`, checked with systemd's parser: the
/// timers wanted and the tasks turned off.
fn plan(config: &Config) -> Result<(Vec<Wanted>, Vec<Task>)> {
    let mut wanted: Vec<Wanted> = Vec::new();
    let mut removed = Vec::new();
    for task in Task::ALL {
        match schedule(config, task) {
            Some(s) => {
                let calendar = check_schedule(task.verb(), s)?;
                wanted.push((task, s.to_owned(), calendar));
            }
            None => removed.push(task),
        }
    }
    Ok((wanted, removed))
}

/// Restarts `unit` when it `was_up` (so new unit files apply), else
/// starts it, and waits for the job.
///
/// # Errors
/// [`ExitKind::Session`] naming the job result when it is not `done`
/// (with the journal command as hint); D-Bus errors as
/// [`crate::host::systemd::UserManager::start`].
pub async fn start_or_restart(
    mgr: &crate::host::systemd::UserManager,
    unit: &str,
    was_up: bool,
) -> Result<()> {
    let result = if was_up {
        mgr.restart(unit).await?
    } else {
        mgr.start(unit).await?
    };
    result
        .done_or_error(&format!("starting {unit}"))
        .map_err(|e| e.hint(format!("look at 'journalctl --user -u {unit}'")))
}

/// What a unit of ccy's own (a timer's service, the notifier) runs: this
/// binary by its canonical path, and the `XDG_CONFIG_HOME` and
/// `XDG_STATE_HOME` of the caller when they are absolute (the user
/// manager's environment may lack them; systemd.exec(5) `Environment=`).
///
/// # Errors
/// When the binary's path cannot be found.
pub fn service_command() -> Result<(PathBuf, Vec<(String, String)>)> {
    let ccy = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .context("cannot find the path of the ccy binary")?;
    let mut environment = Vec::new();
    for var in ["XDG_CONFIG_HOME", "XDG_STATE_HOME"] {
        if let Some(v) = std::env::var_os(var).and_then(|v| v.into_string().ok())
            && Path::new(&v).is_absolute()
        {
            environment.push((var.to_owned(), v));
        }
    }
    Ok((ccy, environment))
}

/// Stops `unit` when it `was_up` (waiting for the job) and disables it
/// (removes its `[Install]` symlinks); the caller removes the unit file
/// and reloads.
///
/// # Errors
/// [`ExitKind::Session`] naming the job result when the stop job does not
/// end `done`; D-Bus errors.
pub async fn stop_and_disable(
    mgr: &crate::host::systemd::UserManager,
    unit: &str,
    was_up: bool,
) -> Result<()> {
    if was_up {
        mgr.stop(unit)
            .await?
            .done_or_error(&format!("stopping {unit}"))?;
    }
    mgr.disable_unit_file(unit).await
}

/// Starts (or restarts, so a new schedule applies) each wanted timer and
/// reads its next elapse.
async fn start_all(
    mgr: &crate::host::systemd::UserManager,
    wanted: Vec<Wanted>,
) -> Result<Vec<Installed>> {
    let mut installed = Vec::new();
    for (task, schedule, calendar) in wanted {
        let unit = task.timer_unit();
        let was_up = mgr.unit_state(unit).await?.is_up();
        start_or_restart(mgr, unit, was_up).await?;
        let d = mgr.timer_details(unit, task.service_unit()).await?;
        installed.push(Installed {
            task,
            schedule,
            normalized: calendar.normalized,
            next_elapse_usec: d.next_elapse_usec,
        });
    }
    Ok(installed)
}

/// Stops, disables and removes the timers of `tasks` (turned off by the
/// configuration) that are there; returns those that were.
async fn remove_turned_off(host: &Host<'_>, tasks: &[Task]) -> Result<Vec<Task>> {
    let mgr = &host.mgr;
    let dir = host.ctx.paths.systemd_user_dir();
    let mut really_removed = Vec::new();
    for task in tasks {
        let state = mgr.unit_state(task.timer_unit()).await?;
        if state.load_state == LoadState::NotFound && !unit_files(&dir, *task).1.exists() {
            continue;
        }
        if state.is_up() {
            mgr.stop(task.timer_unit()).await?;
        }
        mgr.disable_unit_file(task.timer_unit()).await?;
        let (service, timer) = unit_files(&dir, *task);
        restore(&timer, None)?;
        restore(&service, None)?;
        really_removed.push(*task);
    }
    Ok(really_removed)
}

/// Stops and disables ccy's timers and removes their unit files (a run in
/// progress finishes). Returns the timers that were there.
///
/// # Errors
/// A stop job that does not end `done` ([`ExitKind::Session`]); D-Bus or
/// file errors.
pub async fn disable(host: &Host<'_>) -> Result<Vec<Task>> {
    let mgr = &host.mgr;
    let dir = host.ctx.paths.systemd_user_dir();
    let mut had = Vec::new();
    for task in Task::ALL {
        let unit = task.timer_unit();
        let (service, timer) = unit_files(&dir, task);
        let state = mgr.unit_state(unit).await?;
        if !service.exists() && !timer.exists() && state.load_state == LoadState::NotFound {
            continue;
        }
        stop_and_disable(mgr, unit, state.is_up()).await?;
        restore(&timer, None)?;
        restore(&service, None)?;
        had.push(task);
    }
    if !had.is_empty() {
        mgr.reload().await?;
    }
    Ok(had)
}

/// The state of each of ccy's timers, in [`Task::ALL`] order.
///
/// # Errors
/// D-Bus errors.
pub async fn details(mgr: &crate::host::systemd::UserManager) -> Result<Vec<(Task, TimerDetails)>> {
    let mut out = Vec::new();
    for task in Task::ALL {
        let d = mgr
            .timer_details(task.timer_unit(), task.service_unit())
            .await?;
        out.push((task, d));
    }
    Ok(out)
}

/// Puts back a unit file's previous text, or removes it when there was
/// none.
fn restore(path: &Path, old: Option<&[u8]>) -> Result<()> {
    match old {
        Some(text) => write_atomic(path, text, UNIT_FILE_MODE),
        None => match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", path.display()))
            }
            _ => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn spread_is_a_tenth_within_bounds() {
        assert_eq!(spread(Some(86_400)), (300, 60));
        assert_eq!(spread(Some(3600)), (300, 60));
        assert_eq!(spread(Some(300)), (30, 30));
        assert_eq!(spread(Some(5)), (0, 1));
        assert_eq!(spread(None), (300, 60));
    }

    #[test]
    fn idle_timer_only_while_idle_stop_is_on() {
        let mut config: Config = toml::from_str(crate::config::DEFAULTS).unwrap();
        assert_eq!(schedule(&config, Task::Idle), Some("hourly"));
        assert_eq!(schedule(&config, Task::Prune), Some("daily"));
        for off in ["off", "OFF", " 0 ", ""] {
            config.idle.stop = off.to_owned();
            assert_eq!(schedule(&config, Task::Idle), None, "{off:?}");
        }
        assert_eq!(schedule(&config, Task::Prune), Some("daily"));
    }
}
