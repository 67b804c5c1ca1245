//! The units of ccy's own services: the timers' `ccy-VERB.service` and
//! `ccy-VERB.timer` ([`Task`]), and `ccy-notify.service`.

use serde::Serialize;

use super::{RenderError, check_executable, render_template, utf8};
use crate::quadlet::escape;

/// The template of the service of ccy's timers, `units/ccy-task.service`.
pub const TASK_SERVICE: &str = include_str!("../../../units/ccy-task.service");
/// The template of ccy's timers, `units/ccy-task.timer`.
pub const TASK_TIMER: &str = include_str!("../../../units/ccy-task.timer");
/// The notifier's service template (`ccy-notify.service`).
pub const NOTIFY_SERVICE: &str = include_str!("../../../units/ccy-notify.service");

/// The jobs ccy's timers run: each is a `ccy VERB` run by its own
/// `ccy-VERB.service`, started by `ccy-VERB.timer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Task {
    /// `ccy idle` (config `[idle] schedule`, hourly by default): stops
    /// sessions idle longer than `[idle] stop`.
    Idle,
    /// `ccy prune` (config `[prune] schedule`, daily by default): removes
    /// sessions stopped longer than `[prune] age`.
    Prune,
}

impl Task {
    /// Both tasks, in the order they are installed and shown.
    pub const ALL: [Self; 2] = [Self::Idle, Self::Prune];

    /// The ccy verb the service runs: `idle`, `prune`.
    #[must_use]
    pub const fn verb(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Prune => "prune",
        }
    }

    /// The timer unit: `ccy-idle.timer`, `ccy-prune.timer`.
    #[must_use]
    pub const fn timer_unit(self) -> &'static str {
        match self {
            Self::Idle => "ccy-idle.timer",
            Self::Prune => "ccy-prune.timer",
        }
    }

    /// The service unit the timer starts: `ccy-idle.service`,
    /// `ccy-prune.service`.
    #[must_use]
    pub const fn service_unit(self) -> &'static str {
        match self {
            Self::Idle => "ccy-idle.service",
            Self::Prune => "ccy-prune.service",
        }
    }

    /// What the task does, for the units' `Description=`.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::Idle => "stop idle sessions",
            Self::Prune => "prune stale sessions",
        }
    }
}

/// What one of ccy's timers is made from (`ccy timer enable`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerSpec {
    /// Which task the timer runs.
    pub task: Task,
    /// The absolute path of the ccy binary the service runs.
    pub ccy: std::path::PathBuf,
    /// The `OnCalendar=` expression (config `[idle] schedule` or `[prune]
    /// schedule`), already checked by systemd's parser.
    pub schedule: String,
    /// `RandomizedDelaySec=`, in seconds.
    pub randomized_delay_secs: u64,
    /// `AccuracySec=`, in seconds (at least 1).
    pub accuracy_secs: u64,
    /// Environment the service needs from the shell that enabled it
    /// (`XDG_CONFIG_HOME`, `XDG_STATE_HOME` when set): `(name, value)`.
    pub environment: Vec<(String, String)>,
}

/// The text of a task's `.service` and `.timer` files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerUnits {
    /// `ccy-VERB.service`.
    pub service: String,
    /// `ccy-VERB.timer`.
    pub timer: String,
}

#[derive(Serialize)]
struct TaskServiceCtx {
    verb: &'static str,
    description: &'static str,
    version: &'static str,
    environment: Vec<String>,
    exec: String,
}

#[derive(Serialize)]
struct TaskTimerCtx {
    verb: &'static str,
    description: &'static str,
    version: &'static str,
    schedule: String,
    randomized_delay: String,
    accuracy: String,
}

/// Renders the units of one of ccy's timers from `spec`: the service runs
/// `CCY VERB` (`Type=oneshot`), the timer starts it on `spec.schedule`
/// (`Persistent=true`).
///
/// # Errors
/// [`RenderError::Value`] when the binary path, the schedule or an
/// environment value cannot be written unchanged; [`RenderError::Template`]
/// for a template bug.
pub fn task_timer(spec: &TimerSpec) -> Result<TimerUnits, RenderError> {
    let ccy = utf8("ccy binary path", &spec.ccy)?;
    check_executable(ccy)?;
    let environment = spec
        .environment
        .iter()
        .map(|(k, v)| escape::service_env("service environment", k, v))
        .collect::<Result<Vec<_>, _>>()?;
    let task = spec.task;
    let service = TaskServiceCtx {
        verb: task.verb(),
        description: task.description(),
        version: env!("CARGO_PKG_VERSION"),
        environment,
        exec: escape::exec_args("ccy binary path", &[ccy, task.verb()])?,
    };
    let timer = TaskTimerCtx {
        verb: task.verb(),
        description: task.description(),
        version: env!("CARGO_PKG_VERSION"),
        schedule: escape::unit_text("schedule", &spec.schedule)?,
        randomized_delay: format!("{}s", spec.randomized_delay_secs),
        accuracy: format!("{}s", spec.accuracy_secs.max(1)),
    };
    Ok(TimerUnits {
        service: render_template(task.service_unit(), TASK_SERVICE, &service)?,
        timer: render_template(task.timer_unit(), TASK_TIMER, &timer)?,
    })
}

#[derive(Serialize)]
struct NotifyServiceCtx {
    version: &'static str,
    environment: Vec<String>,
    exec: String,
}

/// Renders `ccy-notify.service`, which runs `CCY notify-daemon` (the
/// binary `ccy`, absolute) with `environment` (`(name, value)`:
/// `XDG_CONFIG_HOME`, `XDG_STATE_HOME` when set).
///
/// # Errors
/// [`RenderError::Value`] when the binary path or an environment value
/// cannot be written unchanged; [`RenderError::Template`] for a template
/// bug.
pub fn notify_service(
    ccy: &std::path::Path,
    environment: &[(String, String)],
) -> Result<String, RenderError> {
    let ccy = utf8("ccy binary path", ccy)?;
    check_executable(ccy)?;
    let environment = environment
        .iter()
        .map(|(k, v)| escape::service_env("service environment", k, v))
        .collect::<Result<Vec<_>, _>>()?;
    let ctx = NotifyServiceCtx {
        version: env!("CARGO_PKG_VERSION"),
        environment,
        exec: escape::exec_args("ccy binary path", &[ccy, "notify-daemon"])?,
    };
    render_template("ccy-notify.service", NOTIFY_SERVICE, &ctx)
}
