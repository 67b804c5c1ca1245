//! Terminal output: aligned tables, colour only where it belongs, prompts.
//!
//! Colour goes through `anstream`, which strips it when the stream is not a
//! terminal or `NO_COLOR` is set (<https://no-color.org>), and honours
//! `CLICOLOR_FORCE`. Tables are `comfy-table` without borders.

use std::io::{BufRead, IsTerminal, Write};

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

/// Prints `text` to standard output through `anstream` (colour stripped
/// when not wanted).
pub fn print(text: &str) {
    let mut out = anstream::stdout();
    out.write_all(text.as_bytes()).ok();
    out.flush().ok();
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
    fn paint_wraps_in_escape_codes() {
        let p = paint(BAD, "failed");
        assert!(p.contains("failed") && p.starts_with('\u{1b}'));
        assert_eq!(anstream::adapter::strip_str(&p).to_string(), "failed");
    }
}
