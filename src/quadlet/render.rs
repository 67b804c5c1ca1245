//! Pure rendering of Quadlet and systemd unit files.
//!
//! Templates live in `units/` (tera syntax) and are compiled into the
//! binary. Values never reach a template raw: this module turns each into
//! the text its key needs with [`escape`], which refuses what a key cannot
//! carry. Templates only lay keys out. Rendering does no I/O.
//!
//! The parts: `container` (a session's `.container` and `.volume`),
//! `tasks` (ccy's timers and notifier) and `examples` (the specs the
//! snapshot tests render); the errors and the helpers they share are here.

mod container;
mod examples;
mod tasks;

use serde::Serialize;

pub use container::{SESSION_CONTAINER, SESSION_VOLUME, SessionUnits, session, state_volume};
pub use examples::examples;
pub use tasks::{
    NOTIFY_SERVICE, TASK_SERVICE, TASK_TIMER, Task, TimerSpec, TimerUnits, notify_service,
    task_timer,
};

use crate::error::{Error, ExitKind};
use crate::quadlet::escape;

/// Why a session could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A value cannot be written into its key; the error names the field.
    #[error("{source}")]
    Value {
        /// What the value is (`worktree path`, `branch`, …).
        field: &'static str,
        /// Why.
        source: escape::EscapeError,
    },
    /// A template failed (a bug in `units/`).
    #[error("template {name}: {message}")]
    Template {
        /// The template file name.
        name: &'static str,
        /// Tera's message.
        message: String,
    },
}

impl From<escape::EscapeError> for RenderError {
    fn from(source: escape::EscapeError) -> Self {
        Self::Value {
            field: "value",
            source,
        }
    }
}

impl From<RenderError> for Error {
    fn from(e: RenderError) -> Self {
        let hint = match &e {
            RenderError::Value { .. } => {
                "rename or move it (or change the setting), then run ccy again"
            }
            RenderError::Template { .. } => "this is a bug in ccy; please report it",
        };
        Error::new(ExitKind::Usage, e.to_string()).hint(hint)
    }
}

fn utf8<'a>(field: &'static str, path: &'a std::path::Path) -> Result<&'a str, RenderError> {
    path.to_str().ok_or_else(|| RenderError::Value {
        field,
        source: escape::EscapeError::Value {
            field: field.to_owned(),
            value: path.to_string_lossy().chars().take(64).collect(),
            position: "a unit file",
            reason: "it is not valid UTF-8",
        },
    })
}

/// Refuses a ccy path that systemd cannot take as the executable of an
/// `Exec*=` line: systemd substitutes variables in arguments but not in the
/// executable, so `$$` would stay doubled there; and it ignores a command
/// whose executable has a quote, a backslash or a control character
/// ("Executable name contains special characters", `string_is_safe()` in
/// systemd's `config_parse_exec`), which for ccy's `ExecStop=` would mean a
/// stop that silently keeps nothing.
fn check_executable(ccy: &str) -> Result<(), RenderError> {
    let reason = if ccy.contains('$') {
        "systemd does not unescape '$$' in the executable path"
    } else if ccy.contains(|c: char| c.is_control() || matches!(c, '"' | '\'' | '\\')) {
        "systemd refuses an executable path with a quote, a backslash or a control character"
    } else {
        return Ok(());
    };
    Err(RenderError::Value {
        field: "ccy binary path",
        source: escape::EscapeError::Value {
            field: "ccy binary path".to_owned(),
            value: ccy.chars().take(64).collect(),
            position: "the executable of ExecStart= or ExecStop=",
            reason,
        },
    })
}

fn render_template<T: Serialize>(
    name: &'static str,
    template: &str,
    ctx: &T,
) -> Result<String, RenderError> {
    let err = |e: tera::Error| RenderError::Template {
        name,
        message: e.to_string(),
    };
    let context = tera::Context::from_serialize(ctx).map_err(err)?;
    let mut out = tera::Tera::one_off(template, &context, false).map_err(err)?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
