//! Calendar expressions, checked by systemd's own parser:
//! `systemd-analyze calendar` (systemd-analyze(1), systemd.time(7)).

use std::process::Command;

use crate::error::{Error, Result};

/// What systemd's parser says of a calendar expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// The normalized form (`*-*-* 00:00:00` for `daily`).
    pub normalized: String,
    /// Seconds between the next two elapses, when there are two and they
    /// could be read.
    pub interval_secs: Option<u64>,
}

/// Checks `schedule`, the value of `[section] schedule` (`idle`, `prune`),
/// with `systemd-analyze calendar --iterations=2` (systemd-analyze(1); the
/// parser the timer will use), in UTC.
///
/// # Errors
/// [`crate::error::ExitKind::Usage`] with systemd's message when it does
/// not parse or never elapses; [`crate::error::ExitKind::Environment`]
/// when `systemd-analyze` cannot run.
pub fn check_schedule(section: &str, schedule: &str) -> Result<Calendar> {
    let out = Command::new("systemd-analyze")
        .args(["calendar", "--iterations=2", "--"])
        .arg(schedule)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| {
            Error::environment("cannot run systemd-analyze to check the schedule")
                .with_source(e)
                .hint("install systemd's tools (systemd-analyze is part of systemd)")
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let bad = |why: String| {
        Error::usage(format!("invalid [{section}] schedule {schedule:?}: {why}"))
            .hint(format!("fix {section}.schedule in ~/.config/ccy/config.toml (e.g. \"daily\", \"hourly\", \"Mon..Fri 18:00\")"))
            .hint("check an expression with 'systemd-analyze calendar EXPR' (man systemd.time)")
    };
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(bad(if msg.is_empty() {
            "systemd cannot parse it".to_owned()
        } else {
            msg
        }));
    }
    parse_calendar(&stdout).ok_or_else(|| bad("it never elapses".to_owned()))
}

/// Reads `systemd-analyze calendar --iterations=2` output (in UTC);
/// `None` when there is no next elapse.
fn parse_calendar(text: &str) -> Option<Calendar> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name).map(str::trim))
    };
    let normalized = field("Normalized form:")?.to_owned();
    let next = field("Next elapse:")?;
    if next == "never" {
        return None;
    }
    let epoch = |v: &str| -> Option<u64> {
        // "Sun 2026-11-22 00:00:00 UTC"
        let mut words = v.split_whitespace();
        let (_dow, date, time, tz) = (words.next()?, words.next()?, words.next()?, words.next()?);
        if tz != "UTC" {
            return None;
        }
        crate::ui::parse_rfc3339(&format!("{date}T{time}Z"))
    };
    // systemd 252 says "Iter. #2:", 257 "Iteration #2:".
    let second = field("Iteration #2:").or_else(|| field("Iter. #2:"));
    let interval_secs = match (epoch(next), second.and_then(epoch)) {
        (Some(a), Some(b)) if b > a => Some(b - a),
        _ => None,
    };
    Some(Calendar {
        normalized,
        interval_secs,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn calendar_output_is_read() {
        let text = "  Original form: daily\nNormalized form: *-*-* 00:00:00\n    Next elapse: Sun 2026-11-22 00:00:00 UTC\n       From now: 15h left\n       Iter. #2: Mon 2026-11-23 00:00:00 UTC\n       From now: 1 day 15h left\n";
        let c = parse_calendar(text).unwrap();
        assert_eq!(c.normalized, "*-*-* 00:00:00");
        assert_eq!(c.interval_secs, Some(86_400));
        assert_eq!(
            parse_calendar("Normalized form: 2020-01-01 00:00:00\n    Next elapse: never\n"),
            None
        );
        let v257 = "Normalized form: *-*-* *:*:00/5\n    Next elapse: Sat 2026-11-21 09:14:15 UTC\n       From now: 1s left\n   Iteration #2: Sat 2026-11-21 09:14:20 UTC\n";
        assert_eq!(parse_calendar(v257).unwrap().interval_secs, Some(5));
        let one =
            "Normalized form: 2030-01-01 00:00:00\n    Next elapse: Tue 2030-01-01 00:00:00 UTC\n";
        assert_eq!(parse_calendar(one).unwrap().interval_secs, None);
    }
}
