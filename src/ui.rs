//! Terminal output: aligned tables, colour only where it belongs, prompts.
//!
//! Colour goes through `anstream`, which strips it when the stream is not a
//! terminal or `NO_COLOR` is set (<https://no-color.org>), and honours
//! `CLICOLOR_FORCE`. Tables are `comfy-table` without borders.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use anstyle::{AnsiColor, Style};
use comfy_table::{Cell, ContentArrangement, Table, presets};

use crate::error::{Error, ExitKind, Result};

/// Style for headers.
pub const HEADER: Style = Style::new().bold();
/// Style for good states (`running`, `ok`).
pub const GOOD: Style = AnsiColor::Green.on_default();
/// Style for warnings (`stopped`, `warning`).
pub const WARN: Style = AnsiColor::Yellow.on_default();
/// Style for bad states (`failed`, `problem`).
pub const BAD: Style = AnsiColor::Red.on_default().bold();

/// `text` wrapped in `style`'s escape codes (stripped later by `anstream`
/// when colour is off).
#[must_use]
pub fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// Renders rows under `headers` as columns separated by two spaces, with no
/// borders; cells may hold colour codes from [`paint`]. Ends with a newline.
#[must_use]
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers.iter().map(|h| Cell::new(paint(HEADER, h))));
    for row in rows {
        t.add_row(row.iter().map(Cell::new));
    }
    // comfy-table pads every column on both sides with one space; trim the
    // leading one so tables start at column 0, and trailing blanks.
    let mut out = String::new();
    for line in t.lines() {
        let line = line.strip_prefix(' ').unwrap_or(&line);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A time span in its largest whole unit: `45s`, `3m`, `2h`, `5d`.
#[must_use]
pub fn span(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

/// How long ago `then` was at `now` (both seconds since the Unix epoch),
/// as `3m ago`; a `then` in the future (clock skew) is `0s ago`.
#[must_use]
pub fn ago(now: u64, then: u64) -> String {
    format!("{} ago", span(now.saturating_sub(then)))
}

/// A duration in its two largest units: `45s`, `12m 5s`, `2h 13m`, `3d 4h`.
#[must_use]
pub fn duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {}s", secs / 60, secs % 60),
        3600..86400 => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {}h", secs / 86400, secs % 86400 / 3600),
    }
}

/// A byte count in binary units with one decimal: `512 B`, `45.2 MiB`.
#[must_use]
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "one decimal is shown; f64 is exact far beyond that"
    )]
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Seconds since the Unix epoch as RFC 3339 UTC (`2026-11-21T05:00:00Z`).
#[must_use]
pub fn rfc3339(epoch_secs: u64) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(epoch_secs),
    )
    .to_string()
}

/// Parses an RFC 3339 time (as ccy writes them) into seconds since the
/// Unix epoch; `None` when it does not parse.
#[must_use]
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    humantime::parse_rfc3339_weak(text)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
}

/// Set once a write to standard output failed because the reader went
/// away (`EPIPE`, as in `ccy prune | head -2`); later output is dropped.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether standard output was found closed (a write failed with
/// `BrokenPipe`). The verb goes on with its work; only printing stops.
#[must_use]
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Writes `text` to `out` and flushes; any error is swallowed, and a
/// `BrokenPipe` one sets `closed` so later writes are skipped. This is
/// the one rule for ccy's output: a closed pipe stops the printing,
/// never the work (no panic as `println!` would).
fn write_quietly(out: &mut dyn Write, closed: &AtomicBool, text: &str) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    let r = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    if let Err(e) = r
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        closed.store(true, Ordering::Relaxed);
    }
}

/// What [`print`] and [`eprint`] write while a capture runs (`ccy ui`
/// shows the session layer's messages in its own footer).
static CAPTURED: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Appends `text` (without colour) to the capture when one runs.
fn captured(text: &str) -> bool {
    let mut c = CAPTURED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match c.as_mut() {
        Some(buf) => {
            buf.push_str(&anstream::adapter::strip_str(text).to_string());
            true
        }
        None => false,
    }
}

/// Runs `f` with what it prints to standard output and error (through
/// [`print`](fn@print), [`eprint`](fn@eprint) and their macros) captured instead of written;
/// returns its result and that text, colour stripped. Captures do not
/// nest (an inner one takes the text).
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, String) {
    let set = |v: Option<String>| {
        std::mem::replace(
            &mut *CAPTURED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            v,
        )
    };
    set(Some(String::new()));
    let r = f();
    (r, set(None).unwrap_or_default())
}

/// Prints `text` to standard output through `anstream` (colour stripped
/// when not wanted). A closed pipe is not an error: see [`stdout_closed`].
pub fn print(text: &str) {
    if captured(text) {
        return;
    }
    write_quietly(&mut anstream::stdout(), &STDOUT_CLOSED, text);
}

/// Prints `text`, which holds no terminal escapes (JSON: `serde_json`
/// escapes every control character), to standard output as it is: as
/// [`print`](fn@print) without `anstream`'s scan of every byte for escapes to
/// strip, which costs milliseconds on the half megabyte of
/// `ccy list --json` at 1000 sessions.
pub fn print_plain(text: &str) {
    if captured(text) {
        return;
    }
    write_quietly(&mut std::io::stdout().lock(), &STDOUT_CLOSED, text);
}

/// Set once a write to standard error failed with `BrokenPipe`.
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Prints `text` to standard error through `anstream`; errors (a closed
/// pipe among them) are swallowed, as in [`print`](fn@print).
pub fn eprint(text: &str) {
    if captured(text) {
        return;
    }
    write_quietly(&mut anstream::stderr(), &STDERR_CLOSED, text);
}

/// `println!` that never panics: formats its arguments, adds a newline and
/// prints through [`ui::print`](crate::ui::print) (a closed pipe stops the
/// printing, not the work).
#[macro_export]
macro_rules! outln {
    () => { $crate::ui::print("\n") };
    ($($arg:tt)*) => { $crate::ui::print(&format!("{}\n", format_args!($($arg)*))) };
}

/// `print!` that never panics; see [`outln!`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::ui::print(&format!($($arg)*)) };
}

/// `eprintln!` that never panics; see [`outln!`].
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => { $crate::ui::eprint(&format!("{}\n", format_args!($($arg)*))) };
}

/// Whether prompts can be shown: standard input and error are terminals.
#[must_use]
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks on the terminal which of `items` to use (a numbered list on
/// standard error, the answer read from standard input) and returns its
/// index.
///
/// # Errors
/// [`ExitKind::Refused`] when the user answers nothing or end of input.
pub fn choose(question: &str, items: &[String]) -> Result<usize> {
    let mut err = anstream::stderr();
    writeln!(err, "{question}").ok();
    for (i, item) in items.iter().enumerate() {
        writeln!(err, "  {}) {item}", i + 1).ok();
    }
    loop {
        write!(err, "number [1-{}]: ", items.len()).ok();
        err.flush().ok();
        let mut line = String::new();
        let n = std::io::stdin().lock().read_line(&mut line).unwrap_or(0);
        if n == 0 || line.trim().is_empty() {
            return Err(Error::new(ExitKind::Refused, "nothing chosen"));
        }
        match line.trim().parse::<usize>() {
            Ok(k) if (1..=items.len()).contains(&k) => return Ok(k - 1),
            _ => writeln!(err, "please answer a number from 1 to {}", items.len()).ok(),
        };
    }
}

/// Asks a yes/no `question` on the terminal; only `y`/`yes` is yes.
#[must_use]
pub fn confirm(question: &str) -> bool {
    let mut err = anstream::stderr();
    write!(err, "{question} [y/N] ").ok();
    err.flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok();
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_without_borders() {
        let t = table(
            &["NAME", "STATE"],
            &[
                vec!["ccy-app-0123abcd".into(), "running".into()],
                vec!["x".into(), "stopped".into()],
            ],
        );
        let plain = anstream::adapter::strip_str(&t).to_string();
        insta::assert_snapshot!(plain, @"
        NAME              STATE
        ccy-app-0123abcd  running
        x                 stopped
        ");
    }

    #[test]
    fn spans_and_durations() {
        assert_eq!(ago(100, 100), "0s ago");
        assert_eq!(ago(100, 200), "0s ago");
        assert_eq!(ago(1000, 955), "45s ago");
        assert_eq!(ago(1000, 820), "3m ago");
        assert_eq!(ago(100_000, 100_000 - 7200 - 59), "2h ago");
        assert_eq!(ago(1_000_000, 1_000_000 - 5 * 86400), "5d ago");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(725), "12m 5s");
        assert_eq!(duration(2 * 3600 + 13 * 60 + 9), "2h 13m");
        assert_eq!(duration(3 * 86400 + 4 * 3600 + 1), "3d 4h");
    }

    #[test]
    fn byte_counts() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.0 KiB");
        assert_eq!(bytes(47_395_635), "45.2 MiB");
        assert_eq!(bytes(16_642_998_272), "15.5 GiB");
    }

    #[test]
    fn rfc3339_round_trips() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339("2026-11-21T05:00:00Z"), Some(1_795_237_200));
        assert_eq!(rfc3339(1_795_237_200), "2026-11-21T05:00:00Z");
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn a_closed_pipe_is_remembered_not_raised() {
        struct Closed(usize);
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                self.0 += 1;
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let closed = AtomicBool::new(false);
        let mut w = Closed(0);
        write_quietly(&mut w, &closed, "a\n");
        assert!(closed.load(Ordering::Relaxed));
        write_quietly(&mut w, &closed, "b\n");
        assert_eq!(w.0, 1, "no write after the pipe closed");
    }

    #[test]
    fn capture_takes_what_is_printed() {
        let (r, text) = capture(|| {
            crate::outln!("stopped {}", "x");
            crate::errln!("ccy: {}", paint(BAD, "oops"));
            7
        });
        assert_eq!((r, text.as_str()), (7, "stopped x\nccy: oops\n"));
        assert_eq!(capture(|| ()).1, "");
    }

    #[test]
    fn paint_wraps_in_escape_codes() {
        let p = paint(BAD, "failed");
        assert!(p.contains("failed") && p.starts_with('\u{1b}'));
        assert_eq!(anstream::adapter::strip_str(&p).to_string(), "failed");
    }
}
