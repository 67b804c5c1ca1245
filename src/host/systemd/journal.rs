//! The user journal, through `journalctl --user` (journalctl(1)): ccy
//! reads it on error paths and for `ccy logs`, never on a fast path.

use std::ffi::OsString;
use std::process::Command;

use crate::error::Error;

/// The last `lines` lines of a user unit's journal (`journalctl --user
/// -o cat -n LINES -u UNIT`), empty when the journal cannot be read.
#[must_use]
pub fn tail(unit: &str, lines: u32) -> Vec<String> {
    Command::new("journalctl")
        .args(["--user", "--no-pager", "-o", "cat", "-n"])
        .arg(lines.to_string())
        .arg("-u")
        .arg(unit)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the journal has any line of the user unit `unit`.
#[must_use]
pub fn has_lines(unit: &str) -> bool {
    Command::new("journalctl")
        .args(["--user", "-q", "-n", "1", "-o", "cat", "-u"])
        .arg(unit)
        .output()
        .is_ok_and(|o| !o.stdout.is_empty())
}

/// The `journalctl` argv for the user unit `unit`: the last `lines`
/// lines, and following when `follow`.
#[must_use]
pub fn argv(unit: &str, lines: u32, follow: bool) -> Vec<OsString> {
    let mut argv: Vec<OsString> = ["journalctl", "--user", "--no-pager", "-n"]
        .iter()
        .map(OsString::from)
        .collect();
    argv.push(lines.to_string().into());
    if follow {
        argv.push("-f".into());
    }
    argv.push("-u".into());
    argv.push(unit.into());
    argv
}

/// Replaces the ccy process with `journalctl` run as [`argv`] says.
/// Returns only on failure.
#[must_use]
pub fn exec(unit: &str, lines: u32, follow: bool) -> Error {
    crate::host::exec::exec_replace(&argv(unit, lines, follow))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn journalctl_arguments() {
        let s = |v: Vec<OsString>| -> Vec<String> {
            v.into_iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        let unit = "ccy-app-0123abcd.service";
        assert_eq!(
            s(argv(unit, 5, false)),
            ["journalctl", "--user", "--no-pager", "-n", "5", "-u", unit]
        );
        assert_eq!(
            s(argv(unit, 50, true)),
            [
                "journalctl",
                "--user",
                "--no-pager",
                "-n",
                "50",
                "-f",
                "-u",
                unit
            ]
        );
    }
}
