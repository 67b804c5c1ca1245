//! Test support: read a generated `.service` the way systemd does.
//!
//! Given the text of a unit file (for instance one block of
//! `/usr/libexec/podman/quadlet -dryrun -user` output, split by
//! `ccy::quadlet::dryrun::split`),
//! [`UnitFile::parse`] returns its sections and keys, and [`parse_exec`]
//! splits an `ExecStart=`-style value into commands and arguments exactly as
//! systemd 257 does, so a test can assert that, say, the argument after
//! `--label` is `ccy.worktree=` followed by the input, byte for byte.
//!
//! The rules followed, with their sources:
//!
//! - File syntax (systemd.syntax(7); `config_parse` and `parse_line` in
//!   `src/shared/conf-parser.c`): lines whose first non-blank character is
//!   `#` or `;` are comments, also inside a continuation; a line ending in an
//!   odd number of backslashes continues on the next one, the last backslash
//!   becoming a space; each line is stripped of ASCII white space (`" \t\n\r"`);
//!   `[Name]` opens a section; otherwise the line is `Key=Value`, both
//!   stripped. Repeated sections are merged.
//! - Command lines (systemd.service(5) "Command lines"; `config_parse_exec`
//!   in `src/core/load-fragment.c`): words are split on ASCII white space
//!   with `EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE` (`extract_first_word` in
//!   `src/basic/extract-word.c`, `cunescape_one` in `src/basic/escape.c`);
//!   a bare `;` word separates commands, `\;` is a literal `;`; the first
//!   word may carry the prefixes `-`, `@`, `:`, `+`, `!`, `!!`; specifiers
//!   (systemd.unit(5) "Specifiers") are then expanded in each word, `%%`
//!   being `%`.
//! - Environment substitution at exec time (`replace_env_argv` in
//!   `src/basic/env-util.c`): `$$` is `$`; `${NAME}` anywhere and `$NAME` as
//!   a whole word are replaced from the environment. [`ExecCommand::exec_argv`]
//!   performs the `$$` step and refuses variable references, whose value a
//!   test cannot know.
//!
//! Lines holding a Unicode noncharacter (U+FDD0..U+FDEF, U+xFFFE/F), which
//! systemd ignores as "not UTF-8 clean", are errors here.
//!
//! Anything outside that (carriage returns, NUL, a leading byte-order mark, lines
//! systemd would ignore with a warning, unknown specifiers, invalid escapes)
//! is an error rather than a guess.

use std::collections::BTreeMap;

/// Why a unit file or command line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitParseError {
    /// A line of the unit file is not a comment, section header or
    /// assignment, or uses syntax this parser does not support.
    #[error("line {line}: {reason}: {text:?}")]
    Line {
        /// 1-based line number (the last line of a continued line).
        line: usize,
        /// What is wrong.
        reason: &'static str,
        /// The offending text.
        text: String,
    },
    /// A command line cannot be split the way systemd would.
    #[error("command line {value:?}: {reason}")]
    Exec {
        /// The value after `ExecStart=`.
        value: String,
        /// What is wrong.
        reason: String,
    },
}

/// One `Key=Value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key, stripped.
    pub key: String,
    /// The value, stripped, continuations joined; not otherwise decoded.
    pub value: String,
    /// 1-based line number where the assignment ends.
    pub line: usize,
}

/// One section with its assignments in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name between the brackets.
    pub name: String,
    /// The assignments, in order.
    pub entries: Vec<Entry>,
}

/// A parsed unit file: sections in order of first appearance, repeated
/// sections merged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnitFile {
    /// The sections.
    pub sections: Vec<Section>,
}

const WHITESPACE: &[char] = &[' ', '\t', '\n', '\r'];

fn line_err(line: usize, reason: &'static str, text: &str) -> UnitParseError {
    UnitParseError::Line {
        line,
        reason,
        text: text.to_owned(),
    }
}

impl UnitFile {
    /// Parses unit-file text by systemd's rules (see the module docs).
    ///
    /// # Errors
    ///
    /// A carriage return or NUL anywhere, a byte-order mark starting a line; an assignment
    /// before the first section; a line without `=` or with an empty key; an
    /// invalid section header.
    pub fn parse(text: &str) -> Result<Self, UnitParseError> {
        if let Some(pos) = text.find(['\r', '\0']) {
            let line = text[..pos].matches('\n').count() + 1;
            return Err(line_err(
                line,
                "carriage return or NUL (systemd's read_line also ends lines there)",
                text.lines().nth(line - 1).unwrap_or_default(),
            ));
        }
        let mut file = UnitFile::default();
        let mut current: Option<usize> = None;
        let mut continuation: Option<String> = None;
        let mut last_line = 0;
        for (idx, raw) in text.split('\n').enumerate() {
            let line = idx + 1;
            last_line = line;
            if raw.starts_with('\u{feff}') {
                return Err(line_err(
                    line,
                    "byte-order mark at the start of a line",
                    raw,
                ));
            }
            if raw.trim_start_matches(WHITESPACE).starts_with(['#', ';']) {
                continue;
            }
            let mut joined = match continuation.take() {
                Some(mut c) => {
                    c.push_str(raw);
                    c
                }
                None => raw.to_owned(),
            };
            if ends_with_unescaped_backslash(&joined) {
                joined.pop();
                joined.push(' ');
                continuation = Some(joined);
                continue;
            }
            file.parse_line(line, &joined, &mut current)?;
        }
        if let Some(rest) = continuation {
            file.parse_line(last_line, &rest, &mut current)?;
        }
        Ok(file)
    }

    fn parse_line(
        &mut self,
        line: usize,
        text: &str,
        current: &mut Option<usize>,
    ) -> Result<(), UnitParseError> {
        let l = text.trim_matches(WHITESPACE);
        if l.is_empty() {
            return Ok(());
        }
        if l.chars().any(is_noncharacter) {
            return Err(line_err(
                line,
                "Unicode noncharacter: systemd ignores the line as not UTF-8 clean",
                l,
            ));
        }
        if let Some(rest) = l.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']') else {
                return Err(line_err(line, "invalid section header", l));
            };
            if name.is_empty()
                || name.contains(|c: char| c.is_control() || matches!(c, '"' | '\'' | '\\'))
            {
                return Err(line_err(line, "bad characters in section header", l));
            }
            let idx = if let Some(i) = self.sections.iter().position(|s| s.name == name) {
                i
            } else {
                self.sections.push(Section {
                    name: name.to_owned(),
                    entries: Vec::new(),
                });
                self.sections.len() - 1
            };
            *current = Some(idx);
            return Ok(());
        }
        let Some(idx) = *current else {
            return Err(line_err(line, "assignment outside of any section", l));
        };
        let Some((key, value)) = l.split_once('=') else {
            return Err(line_err(line, "missing '='", l));
        };
        if key.is_empty() {
            return Err(line_err(line, "missing key name before '='", l));
        }
        self.sections[idx].entries.push(Entry {
            key: key.trim_matches(WHITESPACE).to_owned(),
            value: value.trim_matches(WHITESPACE).to_owned(),
            line,
        });
        Ok(())
    }

    /// Section names in order.
    #[must_use]
    pub fn section_names(&self) -> Vec<&str> {
        self.sections.iter().map(|s| s.name.as_str()).collect()
    }

    /// The section called `name`, if any.
    #[must_use]
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// Every value of `key` in `section`, in file order.
    #[must_use]
    pub fn values(&self, section: &str, key: &str) -> Vec<&str> {
        self.section(section)
            .map(|s| {
                s.entries
                    .iter()
                    .filter(|e| e.key == key)
                    .map(|e| e.value.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The last value of `key` in `section`.
    #[must_use]
    pub fn last(&self, section: &str, key: &str) -> Option<&str> {
        self.values(section, key).pop()
    }

    /// The distinct keys of `section`, in order of first appearance.
    #[must_use]
    pub fn keys(&self, section: &str) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        if let Some(s) = self.section(section) {
            for e in &s.entries {
                if !keys.contains(&e.key.as_str()) {
                    keys.push(&e.key);
                }
            }
        }
        keys
    }
}

/// `!unichar_is_valid` for a Rust `char`: U+FDD0..=U+FDEF and every
/// U+xFFFE/U+xFFFF (`src/basic/utf8.c`).
fn is_noncharacter(ch: char) -> bool {
    let c = u32::from(ch);
    (0xFDD0..=0xFDEF).contains(&c) || (c & 0xFFFE) == 0xFFFE
}

/// systemd's continuation test: the line ends in a backslash that is not
/// itself escaped by a preceding backslash.
fn ends_with_unescaped_backslash(s: &str) -> bool {
    let mut escaped = false;
    for b in s.bytes() {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        }
    }
    escaped
}

/// Values for specifiers (systemd.unit(5) "Specifiers"). `%%` is always a
/// literal `%`; any specifier not given here makes [`parse_exec`] fail, as
/// an unknown one makes systemd refuse the unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Specifiers {
    map: BTreeMap<char, String>,
}

impl Specifiers {
    /// No specifiers but `%%`.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// Adds or replaces the value of `%c`.
    #[must_use]
    pub fn with(mut self, c: char, value: impl Into<String>) -> Self {
        self.map.insert(c, value.into());
        self
    }

    /// The ones a Quadlet-generated user service uses: `%n` (full unit
    /// name), `%N` (unit name without suffix), `%t` (runtime directory),
    /// `%h` (home directory).
    #[must_use]
    pub fn quadlet_user(unit: &str, runtime_dir: &str, home: &str) -> Self {
        let stem = unit.rsplit_once('.').map_or(unit, |(s, _)| s);
        Self::none()
            .with('n', unit)
            .with('N', stem)
            .with('t', runtime_dir)
            .with('h', home)
    }

    /// `specifier_printf`: `%%` → `%`, `%c` → value, a trailing lone `%`
    /// stays.
    ///
    /// # Errors
    /// An unknown specifier or a lone `%` at the end.
    pub fn expand(&self, word: &str) -> Result<String, String> {
        let mut out = String::with_capacity(word.len());
        let mut chars = word.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                None | Some('%') => out.push('%'),
                Some(s) => match self.map.get(&s) {
                    Some(v) => out.push_str(v),
                    None => {
                        return Err(format!("unknown or unsupplied specifier %{s} in {word:?}"));
                    }
                },
            }
        }
        Ok(out)
    }
}

/// One command of an `Exec*=` value, as systemd stores it after loading the
/// unit (what `systemctl show -p ExecStart` and D-Bus report).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecCommand {
    /// The executable, specifiers expanded, simplified (`path_simplify`).
    pub path: String,
    /// The arguments including `argv[0]`, specifiers expanded, `$`
    /// not yet substituted.
    pub argv: Vec<String>,
    /// Prefix `-`: failure is ignored.
    pub ignore_failure: bool,
    /// Prefix `@`: `argv[0]` is the second word.
    pub separate_argv0: bool,
    /// Prefix `:`: no environment substitution.
    pub no_env_expand: bool,
    /// Prefix `+`, `!` or `!!`.
    pub privileges: Privileges,
}

/// The privilege prefix of a command (systemd.service(5), table "Special
/// executable prefixes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Privileges {
    /// No prefix.
    #[default]
    Normal,
    /// `+`: full privileges, no sandboxing.
    Full,
    /// `!`: sandboxing, but no credential change.
    NoSetuid,
    /// `!!`: credentials only if ambient capabilities are supported.
    AmbientMagic,
}

impl ExecCommand {
    /// The argument vector the process receives: `$$` → `$` unless the
    /// command had the `:` prefix.
    ///
    /// # Errors
    ///
    /// A word that is `$NAME` (or starts with `$` not followed by `{` or
    /// `$`: systemd replaces or drops it) or contains `${`: both depend on
    /// the runtime environment.
    pub fn exec_argv(&self) -> Result<Vec<String>, UnitParseError> {
        if self.no_env_expand {
            return Ok(self.argv.clone());
        }
        self.argv.iter().map(|w| substitute_dollars(w)).collect()
    }
}

fn substitute_dollars(word: &str) -> Result<String, UnitParseError> {
    let refuse = |why: &str| UnitParseError::Exec {
        value: word.to_owned(),
        reason: why.to_owned(),
    };
    let mut chars = word.chars().peekable();
    if word.starts_with('$') && !matches!(word[1..].chars().next(), Some('{' | '$')) {
        return Err(refuse(
            "a word starting with $NAME is replaced by (or, if invalid, dropped for) an environment variable",
        ));
    }
    let mut out = String::with_capacity(word.len());
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('$') => {
                chars.next();
                out.push('$');
            }
            Some('{') => return Err(refuse("${NAME} is replaced by an environment variable")),
            _ => out.push('$'),
        }
    }
    Ok(out)
}

fn exec_err(value: &str, reason: impl Into<String>) -> UnitParseError {
    UnitParseError::Exec {
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// Splits an `ExecStart=`-style value into commands (see the module docs).
/// An empty value (which resets the list in systemd) gives no commands.
///
/// # Errors
///
/// Anything systemd would reject or warn about: unbalanced quotes, a
/// trailing or unknown escape, a NUL or non-UTF-8 result, an unknown
/// specifier, an empty or unsafe executable path.
pub fn parse_exec(
    value: &str,
    specifiers: &Specifiers,
) -> Result<Vec<ExecCommand>, UnitParseError> {
    let mut commands = Vec::new();
    let mut p = value.trim_matches(WHITESPACE).as_bytes();
    while let Some((first, rest)) = extract_word(p).map_err(|e| exec_err(value, e))? {
        p = rest;
        if first == ";" {
            continue;
        }
        let mut cmd = ExecCommand::default();
        let mut f = first.as_str();
        loop {
            if let Some(r) = f.strip_prefix('-').filter(|_| !cmd.ignore_failure) {
                cmd.ignore_failure = true;
                f = r;
            } else if let Some(r) = f.strip_prefix('@').filter(|_| !cmd.separate_argv0) {
                cmd.separate_argv0 = true;
                f = r;
            } else if let Some(r) = f.strip_prefix(':').filter(|_| !cmd.no_env_expand) {
                cmd.no_env_expand = true;
                f = r;
            } else if let Some(r) = f
                .strip_prefix('+')
                .filter(|_| cmd.privileges == Privileges::Normal)
            {
                cmd.privileges = Privileges::Full;
                f = r;
            } else if let Some(r) = f
                .strip_prefix('!')
                .filter(|_| cmd.privileges == Privileges::Normal)
            {
                cmd.privileges = Privileges::NoSetuid;
                f = r;
            } else if let Some(r) = f
                .strip_prefix('!')
                .filter(|_| cmd.privileges == Privileges::NoSetuid)
            {
                cmd.privileges = Privileges::AmbientMagic;
                f = r;
            } else {
                break;
            }
        }
        let path = specifiers.expand(f).map_err(|e| exec_err(value, e))?;
        if path.is_empty() {
            return Err(exec_err(value, "empty executable path"));
        }
        if path.contains(|c: char| c.is_ascii_control() || matches!(c, '"' | '\'' | '\\')) {
            return Err(exec_err(
                value,
                "executable name contains special characters",
            ));
        }
        if path.ends_with('/') {
            return Err(exec_err(value, "executable path specifies a directory"));
        }
        if !path.starts_with('/') && (path.contains('/') || path == "." || path == "..") {
            return Err(exec_err(
                value,
                "neither a valid executable name nor an absolute path",
            ));
        }
        if !cmd.separate_argv0 {
            cmd.argv.push(path.clone());
        }
        cmd.path = simplify_path(&path);
        while !p.is_empty() {
            if p[0] == b';' && p.get(1).is_none_or(|b| b" \t\n\r".contains(b)) {
                p = skip_ws(&p[1..]);
                break;
            }
            if p.starts_with(b"\\;") && p.get(2).is_none_or(|b| b" \t\n\r".contains(b)) {
                p = skip_ws(&p[2..]);
                cmd.argv.push(";".to_owned());
                continue;
            }
            let Some((word, rest)) = extract_word(p).map_err(|e| exec_err(value, e))? else {
                p = &[];
                break;
            };
            p = rest;
            cmd.argv
                .push(specifiers.expand(&word).map_err(|e| exec_err(value, e))?);
        }
        if cmd.argv.is_empty() {
            return Err(exec_err(value, "empty executable name or zeroeth argument"));
        }
        commands.push(cmd);
        if p.is_empty() {
            break;
        }
    }
    Ok(commands)
}

/// Splits an `Environment=` value into `(name, value)` pairs as systemd
/// does (`config_parse_environ` in `load-fragment.c`: words split with
/// `EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE`, then specifiers expanded; no `$`
/// substitution).
///
/// # Errors
///
/// A word systemd cannot split (see [`parse_exec`]), an unknown specifier,
/// or a word that is not `NAME=VALUE` with a valid name (systemd would
/// ignore it with a warning).
pub fn parse_environment(
    value: &str,
    specifiers: &Specifiers,
) -> Result<Vec<(String, String)>, UnitParseError> {
    let mut out = Vec::new();
    let mut p = value.trim_matches(WHITESPACE).as_bytes();
    while let Some((word, rest)) = extract_word(p).map_err(|e| exec_err(value, e))? {
        p = rest;
        let word = specifiers.expand(&word).map_err(|e| exec_err(value, e))?;
        let Some((name, val)) = word.split_once('=') else {
            return Err(exec_err(value, format!("{word:?} is not an assignment")));
        };
        let valid_name = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
        if !valid_name {
            return Err(exec_err(value, format!("invalid variable name {name:?}")));
        }
        out.push((name.to_owned(), val.to_owned()));
    }
    Ok(out)
}

fn skip_ws(p: &[u8]) -> &[u8] {
    let n = p.iter().take_while(|b| b" \t\n\r".contains(b)).count();
    &p[n..]
}

/// `path_simplify`: drops empty and `.` components (keeps `..`).
fn simplify_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// `extract_first_word(p, WHITESPACE, EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE)`:
/// the next word (quotes removed, escapes decoded) and the rest after the
/// separators that follow it, or `None` at the end.
fn extract_word(p: &[u8]) -> Result<Option<(String, &[u8])>, String> {
    let p = skip_ws(p);
    if p.is_empty() {
        return Ok(None);
    }
    let mut out: Vec<u8> = Vec::new();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    loop {
        let Some(&c) = p.get(i) else {
            if quote.is_some() {
                return Err("unbalanced quotes".into());
            }
            break;
        };
        if c == b'\\' {
            let n = cunescape_one(&p[i + 1..], &mut out)?;
            i += 1 + n;
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if b" \t\n\r".contains(&c) => break,
            Some(_) | None => out.push(c),
        }
        i += 1;
    }
    let word =
        String::from_utf8(out).map_err(|_| "escape sequence produced invalid UTF-8".to_owned())?;
    Ok(Some((word, skip_ws(&p[i..]))))
}

fn hex(b: u8) -> Option<u32> {
    char::from(b).to_digit(16)
}

/// `cunescape_one` without `accept_nul`: decodes the escape after a
/// backslash into `out`, returns how many bytes it used.
fn cunescape_one(p: &[u8], out: &mut Vec<u8>) -> Result<usize, String> {
    let Some(&c) = p.first() else {
        return Err("trailing backslash".into());
    };
    let simple = match c {
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        b'\\' | b'"' | b'\'' => Some(c),
        b's' => Some(b' '),
        _ => None,
    };
    if let Some(b) = simple {
        out.push(b);
        return Ok(1);
    }
    let digits = |n: usize, radix_hex: bool| -> Option<u32> {
        let d = p.get(1..=n)?;
        d.iter().try_fold(0u32, |acc, &b| {
            if radix_hex {
                Some(acc * 16 + hex(b)?)
            } else {
                (b'0'..=b'7')
                    .contains(&b)
                    .then(|| acc * 8 + u32::from(b - b'0'))
            }
        })
    };
    match c {
        b'x' => {
            let v = digits(2, true).ok_or("invalid \\x escape")?;
            if v == 0 {
                return Err("\\x00 is refused".into());
            }
            out.push(u8::try_from(v).map_err(|_| "invalid \\x escape")?);
            Ok(3)
        }
        b'u' | b'U' => {
            let n = if c == b'u' { 4 } else { 8 };
            let v = digits(n, true).ok_or("invalid \\u/\\U escape")?;
            let ch = char::from_u32(v)
                .filter(|&ch| ch != '\0' && !is_noncharacter(ch))
                .ok_or("\\u/\\U escape is NUL, a surrogate, a noncharacter or out of range")?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            Ok(n + 1)
        }
        b'0'..=b'7' => {
            // The first digit is p[0]; read three digits starting there.
            let d = p.get(0..3).ok_or("invalid octal escape")?;
            let mut v = 0u32;
            for &b in d {
                if !(b'0'..=b'7').contains(&b) {
                    return Err("invalid octal escape".into());
                }
                v = v * 8 + u32::from(b - b'0');
            }
            if v == 0 {
                return Err("\\000 is refused".into());
            }
            out.push(u8::try_from(v).map_err(|_| "octal escape above 255")?);
            Ok(3)
        }
        _ => Err(format!("unknown escape \\{}", char::from(c))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn one(value: &str) -> Vec<String> {
        let cmds = parse_exec(value, &Specifiers::none()).unwrap();
        assert_eq!(cmds.len(), 1, "{cmds:?}");
        cmds[0].exec_argv().unwrap()
    }

    #[test]
    fn parses_sections_keys_comments_continuations() {
        let text = "# top\n[Unit]\nDescription = a b  \n\n[Service]\n; c\nEnvironment=A=1\nExecStart=/bin/a \\\n  # inside\n  b\nEnvironment=B=2\n[Unit]\nAfter=x.target\nX=a\\\\\nY=1\n";
        let u = UnitFile::parse(text).unwrap();
        assert_eq!(u.section_names(), ["Unit", "Service"]);
        assert_eq!(u.last("Unit", "Description"), Some("a b"));
        assert_eq!(u.values("Service", "Environment"), ["A=1", "B=2"]);
        assert_eq!(u.last("Service", "ExecStart"), Some("/bin/a    b"));
        assert_eq!(u.keys("Unit"), ["Description", "After", "X", "Y"]);
        assert_eq!(u.last("Unit", "X"), Some("a\\\\"));
        assert_eq!(u.last("Unit", "Nope"), None);
    }

    /// Checked against systemd 257 (`busctl get-property ... ExecStart`):
    /// argv `["/bin/echo", "a", "b\\"]`, environment `["A=1", "B=2"]`.
    #[test]
    fn continuation_matches_systemd() {
        let text = "[Service]\nExecStart=/bin/echo a \\\n# comment inside\n  b\\\\\nEnvironment=\"A=1\" \\\n  B=2\n";
        let u = UnitFile::parse(text).unwrap();
        let cmds =
            parse_exec(u.last("Service", "ExecStart").unwrap(), &Specifiers::none()).unwrap();
        assert_eq!(cmds[0].argv, ["/bin/echo", "a", "b\\"]);
        let env = parse_environment(
            u.last("Service", "Environment").unwrap(),
            &Specifiers::none(),
        )
        .unwrap();
        assert_eq!(
            env,
            [
                ("A".to_owned(), "1".to_owned()),
                ("B".to_owned(), "2".to_owned())
            ]
        );
    }

    #[test]
    fn refuses_what_it_does_not_support() {
        assert!(UnitFile::parse("Key=v\n").is_err());
        assert!(UnitFile::parse("[A]\nnoequals\n").is_err());
        assert!(UnitFile::parse("[A]\n=v\n").is_err());
        assert!(UnitFile::parse("[A\n").is_err());
        assert!(UnitFile::parse("[A]\nK=v\r\n").is_err());
        assert!(UnitFile::parse("[A]\nK=\0\n").is_err());
        assert!(UnitFile::parse("\u{feff}[A]\n").is_err());
        assert!(UnitFile::parse("[A]\nK=\u{fdd7}\n").is_err());
        assert!(UnitFile::parse("[A]\nK=\u{1ffff}\n").is_err());
        assert_eq!(
            UnitFile::parse("[A]\nK=a\u{feff}b\n")
                .unwrap()
                .last("A", "K"),
            Some("a\u{feff}b")
        );
    }

    #[test]
    fn splits_like_systemd() {
        assert_eq!(one("/bin/echo a  b"), ["/bin/echo", "a", "b"]);
        assert_eq!(
            one("/bin/echo \"a b\" 'c d' e\"f g\"h"),
            ["/bin/echo", "a b", "c d", "ef gh"]
        );
        assert_eq!(one("/bin/echo \"\" x"), ["/bin/echo", "", "x"]);
        assert_eq!(
            one(r#"/bin/echo "a\"b" 'it\'s' \\ \s"#),
            ["/bin/echo", "a\"b", "it's", "\\", " "]
        );
        assert_eq!(
            one(r"/bin/echo \n\t\x41\101\u00e9\U0001F600\a"),
            ["/bin/echo", "\n\tAAé😀\u{7}"]
        );
        assert_eq!(one(r"/bin/echo caf\xc3\xa9"), ["/bin/echo", "café"]);
        assert_eq!(
            one("/bin/echo 100%% $$HOME a$b a$$$"),
            ["/bin/echo", "100%", "$HOME", "a$b", "a$$"]
        );
        assert_eq!(one("/bin/echo \\; \";\""), ["/bin/echo", ";", ";"]);
    }

    #[test]
    fn semicolons_separate_commands() {
        let cmds = parse_exec("/bin/a x ; /bin/b ;", &Specifiers::none()).unwrap();
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0].argv, ["/bin/a", "x"]);
        assert_eq!(cmds[1].argv, ["/bin/b"]);
        assert!(parse_exec("", &Specifiers::none()).unwrap().is_empty());
    }

    #[test]
    fn prefixes_and_specifiers() {
        let s = Specifiers::quadlet_user("ccy-x.service", "/run/user/1000", "/home/dev");
        let cmds = parse_exec("-/usr/bin/podman rm --cidfile=%t/%N.cid %n %%t %", &s).unwrap();
        assert!(cmds[0].ignore_failure);
        assert_eq!(cmds[0].path, "/usr/bin/podman");
        assert_eq!(
            cmds[0].argv,
            [
                "/usr/bin/podman",
                "rm",
                "--cidfile=/run/user/1000/ccy-x.cid",
                "ccy-x.service",
                "%t",
                "%"
            ]
        );
        let c = &parse_exec("@:/bin//x name $$", &s).unwrap()[0];
        assert!(c.separate_argv0 && c.no_env_expand);
        assert_eq!(c.path, "/bin/x");
        assert_eq!(c.exec_argv().unwrap(), ["name", "$$"]);
        let c = &parse_exec("!!/bin/x", &s).unwrap()[0];
        assert_eq!(c.privileges, Privileges::AmbientMagic);
        let c = &parse_exec("!/bin/x", &s).unwrap()[0];
        assert_eq!(c.privileges, Privileges::NoSetuid);
        let c = &parse_exec("+/bin/x", &s).unwrap()[0];
        assert_eq!(c.privileges, Privileges::Full);
        assert!(parse_exec("+!/bin/x", &s).is_err());
    }

    #[test]
    fn exec_errors() {
        let n = Specifiers::none();
        assert!(parse_exec("/bin/a \"open", &n).is_err());
        assert!(parse_exec("/bin/a x\\", &n).is_err());
        assert!(parse_exec("/bin/a \\q", &n).is_err());
        assert!(parse_exec("/bin/a \\x00", &n).is_err());
        assert!(parse_exec("/bin/a \\xff", &n).is_err());
        assert!(parse_exec("/bin/a %t", &n).is_err());
        assert!(parse_exec("- x", &n).is_err());
        assert!(parse_exec("/bin/ x", &n).is_err());
        assert!(parse_exec("@/bin/a", &n).is_err());
        let c = &parse_exec("/bin/a $HOME", &n).unwrap()[0];
        assert!(c.exec_argv().is_err());
        let c = &parse_exec("/bin/a x${HOME}", &n).unwrap()[0];
        assert!(c.exec_argv().is_err());
        let c = &parse_exec("/bin/a $", &n).unwrap()[0];
        assert!(c.exec_argv().is_err());
    }

    #[test]
    fn environment_values() {
        let s = Specifiers::none().with('n', "u.service");
        assert_eq!(
            parse_environment(r#""A=x y" B=%n\t$C "D=a\"b" E="""#, &s).unwrap(),
            [
                ("A".to_owned(), "x y".to_owned()),
                ("B".to_owned(), "u.service\t$C".to_owned()),
                ("D".to_owned(), "a\"b".to_owned()),
                ("E".to_owned(), String::new()),
            ]
        );
        assert!(parse_environment("novalue", &s).is_err());
        assert!(parse_environment("1A=x", &s).is_err());
        assert!(parse_environment("A=%q", &s).is_err());
    }
}
