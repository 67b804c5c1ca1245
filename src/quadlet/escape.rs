//! Escaping of user-supplied values for Quadlet (`.container`, `.volume`)
//! files.
//!
//! Every value ccy writes into a Quadlet file passes through up to three
//! interpreters before it reaches Podman, and each of them reads it by
//! different rules. A value must never add a key, a section or a command, and
//! must arrive at Podman byte for byte; a value that cannot must be refused.
//! This module has one function per *kind of position* a value can take; each
//! returns the exact text to put after `Key=` (or one word of it) or an
//! [`EscapeError`] that names the field, the character and the reason.
//!
//! # The three layers
//!
//! 1. **Quadlet's unit-file parser** (podman `pkg/systemd/parser/unitfile.go`,
//!    `split.go`). `UnitFile.Parse` splits the file on `\n`, trims every line
//!    with Go's `strings.TrimSpace` (Unicode white space), and joins a line that
//!    ends in `\` with the next one, *whatever* precedes the backslash. Keys are
//!    then read in one of these ways:
//!    - `LookupLast`/`LookupAll`: the raw rest of the line, no unquoting, no
//!      unescaping (`Volume=`, `Network=`, `PublishPort=`, `[Unit]` keys).
//!    - `Lookup`: as above, then trailing white space is trimmed and double
//!      quotes are trimmed from both ends (`strings.Trim(v, "\"")` in Podman
//!      5.4.2, so `WorkingDir=/work/"` gives `/work/`; later versions strip
//!      one matched pair) — `Image=`, `ContainerName=`, `WorkingDir=`,
//!      `HostName=`, `VolumeName=`, ...
//!    - `LookupAllArgs`/`LookupLastArgs`: split into words like systemd's
//!      `ExecStart=` (`splitString` with `SplitRelax|SplitUnquote|SplitCUnescape`:
//!      quotes removed, C escapes decoded) — `Exec=`, `PodmanArgs=`,
//!      `GlobalArgs=`, `Secret=`, `Mount=`. Only the *last* `Exec=` line is
//!      used. The Go port differs from systemd in one trap: its
//!      `extractFirstWord` returns "no more words" for an empty word, so `""`
//!      silently drops the rest of the line.
//!    - `LookupAllKeyVal`: the same word splitting, then each word is cut at
//!      its first `=` into a map (duplicate keys: last wins; keys are emitted
//!      sorted) — `Label=`, `Environment=`, `Annotation=`.
//!    - `LookupAllStrv`: split on white space, quotes removed, backslashes
//!      kept literally (`SplitRetainEscape|SplitUnquote`) — `AddDevice=`,
//!      `[Install] WantedBy=`, `[Unit]` dependency lists.
//!
//!    Keys of `[Unit]`, `[Service]` and `[Install]` are copied to the
//!    generated `.service` as they were written.
//! 2. **Quadlet's generator** (`pkg/systemd/quadlet/quadlet.go`). It turns the
//!    keys into a Podman argument vector and writes it as `ExecStart=` with
//!    `UnitFile.AddCmdline` → `escapeWords` (`split.go`): a word is wrapped in
//!    double quotes when `wordNeedEscape` says so (ASCII white space or
//!    control characters, `"`, `'`, `\`), with `\\`, `\"`, `\n`-style and
//!    `\xNN` escapes. It does **not** escape `%` or `$`, and it writes an
//!    empty word as nothing and a `;` word bare. `charNeedEscape` tests
//!    `c > 128` where `c >= 128` was meant, so U+0080 is written as `\x80`.
//!    For host paths it also writes `RequiresMountsFor=SOURCE` into `[Unit]`
//!    verbatim (`handleStorageSource`).
//! 3. **systemd** reading the generated `.service`:
//!    - file syntax (systemd.syntax(7), `conf-parser.c`): `#`/`;` comment
//!      lines, a line ending in an unescaped `\` continues on the next line,
//!      keys and values are stripped of ASCII white space;
//!    - `ExecStart=` (systemd.service(5) "Command lines", `config_parse_exec`
//!      in `load-fragment.c`): words split with `EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE`;
//!      a bare `;` word separates two commands; then specifiers are expanded
//!      in each word (systemd.unit(5) "Specifiers": `%%` is a literal `%`, an
//!      unknown specifier makes the unit fail to load); then, at exec time,
//!      `$NAME` (a whole word) and `${NAME}` are replaced from the
//!      environment and `$$` becomes `$` (`replace_env_argv` in `env-util.c`);
//!    - `Environment=` (`config_parse_environ`): words split with
//!      `EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE`, then specifiers; no `$` expansion;
//!      the name must be a shell variable name (`env_name_is_valid`); the
//!      value may hold control characters (`env_value_is_valid`);
//!    - `Description=` (`config_parse_unit_string_printf`): verbatim, then
//!      specifiers;
//!    - `RequiresMountsFor=`: split on white space with `EXTRACT_UNQUOTE`
//!      (no C escapes), then specifiers.
//!
//! # Facts established (Podman 5.4.2, systemd 257)
//!
//! Read in the sources named above, then checked against the real generator
//! (`/usr/libexec/podman/quadlet -dryrun -user`) and the real systemd user
//! manager: about 7,000 generated values (every character class above,
//! random Unicode, strings up to 16 KiB) rendered with this module into 1,200
//! `.container` and 1,200 `.volume` files, every argument of every generated
//! `ExecStart=` parsed back with `unitparse` and compared (0 differences),
//! about 2,100 of the generated services loaded into systemd and its own
//! parse (`ExecStart`, `Environment`, `Description` over D-Bus) compared with
//! `unitparse`'s (0 differences); and two units with hostile labels, `Exec=`
//! words, environment, annotation, `Mount=`/`Volume=` paths, working
//! directory, description and volume label really started, `podman inspect`
//! reporting every value unchanged.
//!
//! - Quadlet expands nothing: `%` and `$` pass through to `ExecStart=`, where
//!   systemd expands both. So every value bound for a Podman argument needs
//!   `%` → `%%` **and** `$` → `$$`. Values that only systemd reads need
//!   `%` → `%%` only: `Description=` and `[Service] Environment=` expand
//!   specifiers but not `$`.
//! - An argument that is exactly `;` cannot be carried: Quadlet writes it
//!   bare and systemd takes it as a command separator (`Service has more
//!   than one ExecStart= setting ... Refusing`; the unit does not load). An
//!   empty argument cannot be carried either (dropped by Quadlet, and
//!   everything after it on the line with it).
//! - systemd ignores a whole assignment that holds a Unicode noncharacter
//!   (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF): `utf8_is_valid` uses
//!   `unichar_is_valid`, and `parse_line` logs "String is not UTF-8 clean,
//!   ignoring assignment". In `ExecStart=` that leaves the service without a
//!   command, so noncharacters are refused in every position.
//! - U+0080 cannot be carried in any Podman argument (the `charNeedEscape`
//!   off-by-one above): the label value arrives as the single byte 0x80.
//!   U+0081..U+009F are written raw and arrive intact.
//! - `Volume=` cannot carry `:` in the source or destination (Quadlet
//!   `addVolumes` splits with `strings.SplitN(v, ":", 3)`, Podman
//!   `specgen.SplitVolumeString` with `strings.Split`; Podman then fails
//!   with "invalid option type"). `Mount=` can: Quadlet reads it as one
//!   word, parses it as CSV (`specgenutilexternal.FindMountType`) and writes
//!   it back as CSV (`convertToCSV`), and Podman parses `--mount` as CSV
//!   again, so a CSV-quoted `"source=/a:b,c"` field arrives whole.
//!   [`bind_mount`] is therefore the position for worktree paths.
//! - Podman cleans bind sources (`filepath.Abs` in `parseVolumes`) and
//!   `--mount` destinations (`path.Clean`), so a non-normalised path would
//!   come back different: paths must be absolute and normalised. Podman
//!   also refuses a `WorkingDir=` that does not exist in the container
//!   (make it a mount destination or create it in the image).
//! - The host source is also written raw as `RequiresMountsFor=` (see layer
//!   2): a source ending in an odd number of `\` would continue that line
//!   into the next one, so it is refused (an even number is an escaped
//!   backslash: carried), and so are `\n` and `\r`, where systemd's `read_line`
//!   ends that line. Sources with white space, other control characters
//!   (tab, ESC, DEL, C1 controls), quotes or backslashes elsewhere are
//!   carried to Podman intact; only that dependency line reads them
//!   differently (systemd splits it on white space and logs
//!   `RequiresMountsFor= path is not absolute, ignoring` for the pieces),
//!   which at worst drops or shortens a mount-point dependency. (Refusing
//!   every control character was more than needed: the rendering property
//!   test, `tests/integration/render_props.rs`, forced ~3,000 such paths
//!   through the generator and they arrived unchanged; real units with them
//!   ran and `podman inspect` reported the sources unchanged.)
//! - Podman 5.4.2's `UnitFile.Lookup` trims *every* leading and trailing
//!   `"` (so `WorkingDir=/work/"` gives `/work/`); keys read with it cannot
//!   start or end with `"`.
//! - An empty `Description=` resets it (systemd then shows the unit name).
//! - Podman's `--env NAME=VALUE` turns `\r\n` in the value into `\n` (a lone
//!   `\r` is kept; labels keep both): found by the rendering property test's
//!   real containers, so [`container_env`] refuses `\r\n`.
//! - `Image=` values ending in `.image` or `.build` name a Quadlet `.image` or
//!   `.build` unit, not an image: without such a unit the generator drops
//!   the container unit ("requested Quadlet image ... was not found"). Found
//!   by the rendering property test (`tests/integration/render_props.rs`).
//!
//! `src/render/unitparse.rs` parses the generated `.service` by systemd's
//! rules so tests can check that each value arrives unchanged.

use std::fmt::Write as _;

/// Longest value (in bytes, before escaping) any function here accepts.
///
/// systemd refuses unit-file lines longer than `LONG_LINE_MAX` (1 MiB,
/// `conf-parser.c`) and escaping can grow a value fourfold (`\x01`), so this
/// keeps a dozen worst-case values on one `ExecStart=` line well inside it.
pub const MAX_VALUE_LEN: usize = 16 * 1024;

/// A value that cannot be written into a Quadlet file without being changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscapeError {
    /// One character of the value cannot be carried in this position.
    #[error(
        "{field}: character {ch:?} (U+{code:04X}) at byte {at} cannot be carried in {position}: {reason}",
        code = u32::from(*ch)
    )]
    Char {
        /// The ccy field the value came from (e.g. `worktree path`).
        field: String,
        /// The offending character.
        ch: char,
        /// Its byte offset in the value.
        at: usize,
        /// Where the value was to be written (e.g. `an Exec= argument`).
        position: &'static str,
        /// Why it cannot be carried.
        reason: &'static str,
    },
    /// The value as a whole cannot be carried in this position.
    #[error("{field}: value {value:?} cannot be carried in {position}: {reason}")]
    Value {
        /// The ccy field the value came from.
        field: String,
        /// The value, cut to its first 64 characters.
        value: String,
        /// Where the value was to be written.
        position: &'static str,
        /// Why it cannot be carried.
        reason: &'static str,
    },
}

impl EscapeError {
    /// The field the refused value belongs to.
    #[must_use]
    pub fn field(&self) -> &str {
        match self {
            Self::Char { field, .. } | Self::Value { field, .. } => field,
        }
    }
}

fn char_err(
    field: &str,
    ch: char,
    at: usize,
    position: &'static str,
    reason: &'static str,
) -> EscapeError {
    EscapeError::Char {
        field: field.to_owned(),
        ch,
        at,
        position,
        reason,
    }
}

fn value_err(
    field: &str,
    value: &str,
    position: &'static str,
    reason: &'static str,
) -> EscapeError {
    EscapeError::Value {
        field: field.to_owned(),
        value: value.chars().take(64).collect(),
        position,
        reason,
    }
}

const POS_ARG: &str = "an Exec=/PodmanArgs= argument";
const POS_KEYVAL: &str = "a Label=/Environment= item";
const POS_SERVICE_ENV: &str = "a [Service] Environment= item";
const POS_UNIT_TEXT: &str = "a systemd text value (Description=)";
const POS_VERBATIM: &str = "a verbatim Quadlet value";
const POS_NAME: &str = "a Podman resource name";
const POS_IMAGE: &str = "an Image= reference";
const POS_UNIT_NAME: &str = "a systemd unit name";
const POS_VOLUME: &str = "a Volume= entry";
const POS_MOUNT: &str = "a Mount= entry";
const POS_DEVICE: &str = "an AddDevice= entry";

const R_NUL: &str = "a NUL byte cannot be part of a command-line argument or unit file";
const R_U0080: &str = "Quadlet escapes U+0080 as \\x80, which systemd decodes to one invalid byte \
                       (charNeedEscape tests c > 128 in podman pkg/systemd/parser/split.go)";
const R_CONTROL: &str = "control characters cannot be written in a key that is read verbatim \
                         (no unescaping is applied to it)";
const R_TOO_LONG: &str = "longer than MAX_VALUE_LEN (16 KiB)";
const R_NONCHAR: &str = "systemd ignores a whole assignment holding a Unicode noncharacter \
                         (\"String is not UTF-8 clean\": utf8_is_valid/unichar_is_valid)";

/// Unicode noncharacters: U+FDD0..=U+FDEF and every U+xFFFE, U+xFFFF.
/// systemd's `unichar_is_valid` (`src/basic/utf8.c`) rejects them, and
/// `parse_line` (`conf-parser.c`) then ignores the whole line.
fn is_noncharacter(ch: char) -> bool {
    let c = u32::from(ch);
    (0xFDD0..=0xFDEF).contains(&c) || (c & 0xFFFE) == 0xFFFE
}

/// The first noncharacter of `value`, as an error.
fn check_nonchar(field: &str, value: &str, position: &'static str) -> Result<(), EscapeError> {
    match value.char_indices().find(|&(_, c)| is_noncharacter(c)) {
        Some((at, ch)) => Err(char_err(field, ch, at, position, R_NONCHAR)),
        None => Ok(()),
    }
}

/// Length and the characters that no position can carry to Podman.
fn check_exec_bound(field: &str, value: &str, position: &'static str) -> Result<(), EscapeError> {
    if value.len() > MAX_VALUE_LEN {
        return Err(value_err(field, value, position, R_TOO_LONG));
    }
    for (at, ch) in value.char_indices() {
        match ch {
            '\0' => return Err(char_err(field, ch, at, position, R_NUL)),
            '\u{80}' => return Err(char_err(field, ch, at, position, R_U0080)),
            c if is_noncharacter(c) => return Err(char_err(field, ch, at, position, R_NONCHAR)),
            _ => {}
        }
    }
    Ok(())
}

/// Checks for values that Quadlet or systemd read verbatim from the line.
fn check_verbatim_line(
    field: &str,
    value: &str,
    position: &'static str,
) -> Result<(), EscapeError> {
    if value.len() > MAX_VALUE_LEN {
        return Err(value_err(field, value, position, R_TOO_LONG));
    }
    for (at, ch) in value.char_indices() {
        if ch.is_control() {
            return Err(char_err(field, ch, at, position, R_CONTROL));
        }
    }
    check_nonchar(field, value, position)?;
    // Leading: both parsers trim ASCII white space only after `Key=`
    // (Quadlet's parseKeyValuePair tests single bytes, systemd strstrip).
    if let Some(ch) = value.chars().next().filter(char::is_ascii_whitespace) {
        return Err(char_err(
            field,
            ch,
            0,
            position,
            "leading white space is trimmed by Quadlet's parser and by systemd",
        ));
    }
    if let Some((at, ch)) = value.char_indices().next_back() {
        // Trailing: Quadlet trims the whole line with Go's strings.TrimSpace,
        // i.e. Unicode white space (U+00A0, U+2028, ...).
        if ch.is_whitespace() {
            return Err(char_err(
                field,
                ch,
                at,
                position,
                "trailing white space (Unicode) is trimmed by Quadlet's parser (strings.TrimSpace)",
            ));
        }
        if ch == '\\' {
            return Err(char_err(
                field,
                ch,
                at,
                position,
                "a trailing backslash continues the line in Quadlet's parser (UnitFile.Parse) and in systemd",
            ));
        }
    }
    Ok(())
}

/// Writes `value` as one double-quoted word that both Quadlet's
/// `splitString(SplitUnquote|SplitCUnescape)` and systemd's
/// `extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE)` decode to `value`
/// with `%` doubled, and `$` doubled if `double_dollar`.
fn push_quoted(out: &mut String, value: &str, double_dollar: bool) {
    out.push('"');
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '%' => out.push_str("%%"),
            '$' if double_dollar => out.push_str("$$"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            // Other C0 controls and DEL. Never \xNN above 0x7f: Quadlet's Go
            // port decodes \xNN to the rune U+00NN, systemd to a raw byte.
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Doubles `%` always and `$` if `double_dollar`; everything else verbatim.
fn double_specials(value: &str, double_dollar: bool) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for ch in value.chars() {
        match ch {
            '%' => out.push_str("%%"),
            '$' if double_dollar => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out
}

/// One argument word for keys Quadlet splits like a command line:
/// `Exec=`, `PodmanArgs=`, `GlobalArgs=`, `Secret=` (read with
/// `LookupAllArgs`/`LookupLastArgs`, podman `pkg/systemd/parser/unitfile.go`).
///
/// Returns a double-quoted word: `\` and `"` backslash-escaped, control
/// characters as C escapes (`\n`, `\x01`), `%` as `%%` (systemd.unit(5)
/// "Specifiers") and `$` as `$$` (systemd.service(5) "Command lines"), other
/// characters (including non-ASCII) literally. Join several with a space, or
/// use [`exec_args`]; Quadlet only honours the *last* `Exec=` line.
///
/// # Errors
///
/// Refuses an empty value (Quadlet's `extractFirstWord` ends the word list
/// at an empty word), a value that is exactly `;` (Quadlet's `escapeWords`
/// writes it bare and systemd's `config_parse_exec` takes it as a command
/// separator), NUL, U+0080 (see the module docs) and values over
/// [`MAX_VALUE_LEN`].
pub fn exec_arg(field: &str, value: &str) -> Result<String, EscapeError> {
    if value.is_empty() {
        return Err(value_err(
            field,
            value,
            POS_ARG,
            "Quadlet drops an empty word and every word after it on the line (extractFirstWord)",
        ));
    }
    if value == ";" {
        return Err(value_err(
            field,
            value,
            POS_ARG,
            "Quadlet writes a lone ';' unquoted into ExecStart=, where systemd takes it as a command separator",
        ));
    }
    check_exec_bound(field, value, POS_ARG)?;
    let mut out = String::with_capacity(value.len() + 2);
    push_quoted(&mut out, value, true);
    Ok(out)
}

/// Several [`exec_arg`] words joined by spaces, for one `Exec=` or
/// `PodmanArgs=` line.
///
/// # Errors
///
/// The first refusal of [`exec_arg`]; the field is suffixed with
/// `[index]`.
pub fn exec_args<S: AsRef<str>>(field: &str, args: &[S]) -> Result<String, EscapeError> {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        let word = exec_arg(&format!("{field}[{i}]"), arg.as_ref())?;
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&word);
    }
    Ok(out)
}

/// A label key accepted by [`label`]: ASCII letters, digits, `.`, `_`, `-`
/// and `/`, starting with a letter or digit.
fn check_label_key(field: &str, key: &str) -> Result<(), EscapeError> {
    let mut chars = key.char_indices();
    match chars.next() {
        None => {
            return Err(value_err(
                field,
                key,
                POS_KEYVAL,
                "a label key cannot be empty",
            ));
        }
        Some((at, ch)) if !ch.is_ascii_alphanumeric() => {
            return Err(char_err(
                field,
                ch,
                at,
                POS_KEYVAL,
                "a label key must start with an ASCII letter or digit",
            ));
        }
        Some(_) => {}
    }
    for (at, ch) in chars {
        if !(ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-' | '/')) {
            return Err(char_err(
                field,
                ch,
                at,
                POS_KEYVAL,
                "label keys are limited to ASCII letters, digits and . _ - / \
                 (Quadlet cuts each item at its first '=')",
            ));
        }
    }
    Ok(())
}

/// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*`, as systemd's
/// `env_name_is_valid` (`env-util.c`) requires and Podman's `--env` parser
/// (which rejects white space and reads a bare name as "copy from host")
/// can take.
fn check_env_name(field: &str, key: &str, position: &'static str) -> Result<(), EscapeError> {
    if key.is_empty() {
        return Err(value_err(
            field,
            key,
            position,
            "a variable name cannot be empty",
        ));
    }
    for (at, ch) in key.char_indices() {
        let ok = ch == '_' || ch.is_ascii_alphabetic() || (at > 0 && ch.is_ascii_digit());
        if !ok {
            return Err(char_err(
                field,
                ch,
                at,
                position,
                "a variable name must match [A-Za-z_][A-Za-z0-9_]* (systemd env_name_is_valid)",
            ));
        }
    }
    Ok(())
}

fn key_value_word(key: &str, value: &str) -> String {
    let mut joined = String::with_capacity(key.len() + value.len() + 1);
    joined.push_str(key);
    joined.push('=');
    joined.push_str(value);
    let mut out = String::with_capacity(joined.len() + 2);
    push_quoted(&mut out, &joined, true);
    out
}

/// One item of `Label=` in `[Container]` or `[Volume]` (also `Annotation=`):
/// Quadlet reads these with `LookupAllKeyVal`, cuts each word at its first
/// `=`, and passes `--label KEY=VALUE` to Podman.
///
/// Returns the double-quoted word `"KEY=VALUE"` escaped like [`exec_arg`];
/// write one item per `Label=` line. Quadlet keeps the last value of a
/// repeated key and sorts keys, so give each key once.
///
/// # Errors
///
/// Refuses a key that is empty or has characters other than ASCII letters,
/// digits, `.`, `_`, `-`, `/` (or does not start with a letter or digit);
/// and in the value NUL, U+0080 and more than [`MAX_VALUE_LEN`] bytes. Any
/// other value, including the empty one, is carried.
pub fn label(field: &str, key: &str, value: &str) -> Result<String, EscapeError> {
    check_label_key(field, key)?;
    check_exec_bound(field, value, POS_KEYVAL)?;
    Ok(key_value_word(key, value))
}

/// One item of `Environment=` in `[Container]`: like [`label`], for
/// `--env NAME=VALUE`.
///
/// Returns the double-quoted word `"NAME=VALUE"`.
///
/// # Errors
///
/// Refuses a name not matching `[A-Za-z_][A-Za-z0-9_]*`, and in the value
/// NUL, U+0080, `\r\n` (Podman's `--env` makes it `\n`) and more than
/// [`MAX_VALUE_LEN`] bytes.
pub fn container_env(field: &str, name: &str, value: &str) -> Result<String, EscapeError> {
    check_env_name(field, name, POS_KEYVAL)?;
    check_exec_bound(field, value, POS_KEYVAL)?;
    if let Some(at) = value.find("\r\n") {
        return Err(char_err(
            field,
            '\r',
            at,
            POS_KEYVAL,
            "Podman's --env turns \\r\\n into \\n (podman 5.4.2; a lone \\r is kept)",
        ));
    }
    Ok(key_value_word(name, value))
}

/// One item of `Environment=` in `[Service]`, which Quadlet copies as is and
/// systemd parses itself (`config_parse_environ`: unquote, C escapes, then
/// specifiers; no `$` expansion; systemd.exec(5) "Environment=").
///
/// Returns the double-quoted word `"NAME=VALUE"` with `%` doubled and `$`
/// left alone.
///
/// # Errors
///
/// Refuses a name not matching `[A-Za-z_][A-Za-z0-9_]*`, and in the value
/// NUL and more than [`MAX_VALUE_LEN`] bytes.
pub fn service_env(field: &str, name: &str, value: &str) -> Result<String, EscapeError> {
    check_env_name(field, name, POS_SERVICE_ENV)?;
    if value.len() > MAX_VALUE_LEN {
        return Err(value_err(field, value, POS_SERVICE_ENV, R_TOO_LONG));
    }
    if let Some(at) = value.find('\0') {
        return Err(char_err(field, '\0', at, POS_SERVICE_ENV, R_NUL));
    }
    check_nonchar(field, value, POS_SERVICE_ENV)?;
    let mut joined = String::with_capacity(name.len() + value.len() + 1);
    joined.push_str(name);
    joined.push('=');
    joined.push_str(value);
    let mut out = String::with_capacity(joined.len() + 2);
    push_quoted(&mut out, &joined, false);
    Ok(out)
}

/// A text value that only systemd reads, verbatim apart from specifiers:
/// `[Unit] Description=` (`config_parse_unit_string_printf`; systemd.unit(5)
/// "Specifiers"). Quadlet copies `[Unit]` lines unchanged.
///
/// Returns the value with `%` doubled; quotes, backslashes and `$` are
/// literal there.
///
/// # Errors
///
/// Refuses an empty value (resets the key), control characters (a newline
/// would start a new key; nothing decodes escapes here), Unicode
/// noncharacters (see the module docs), leading ASCII or trailing Unicode
/// white space (trimmed: Quadlet trims each line with `strings.TrimSpace`),
/// a trailing `\` (line continuation), and more than [`MAX_VALUE_LEN`]
/// bytes.
pub fn unit_text(field: &str, value: &str) -> Result<String, EscapeError> {
    if value.is_empty() {
        return Err(value_err(
            field,
            value,
            POS_UNIT_TEXT,
            "an empty Description= resets it (systemd then shows the unit name)",
        ));
    }
    check_verbatim_line(field, value, POS_UNIT_TEXT)?;
    Ok(double_specials(value, false))
}

/// A value for a Quadlet key that is read verbatim (`Lookup`/`LookupAll`, no
/// unquoting or unescaping) and passed to Podman as one argument:
/// `WorkingDir=` (`--workdir`), `Network=` (`--network`), `HostName=`,
/// `PublishPort=`, and the like (`lookupAndAddString`,
/// `lookupAndAddAllStrings`, `addNetworks` in `quadlet.go`).
///
/// Returns the value with `%` → `%%` and `$` → `$$` (systemd expands both in
/// `ExecStart=`).
///
/// # Errors
///
/// Refuses an empty value (means "unset" to Quadlet), exactly `;` (see
/// [`exec_arg`]), a value that starts or ends with `"` (`Lookup` trims
/// them: all of them with `strings.Trim` in Podman 5.4.2, one matched pair
/// in later versions), control characters (no escape is decoded in these keys),
/// leading ASCII or trailing Unicode white space, a trailing `\`, and more
/// than [`MAX_VALUE_LEN`] bytes.
pub fn verbatim_arg(field: &str, value: &str) -> Result<String, EscapeError> {
    check_verbatim_arg(field, value, POS_VERBATIM)?;
    Ok(double_specials(value, true))
}

fn check_verbatim_arg(field: &str, value: &str, position: &'static str) -> Result<(), EscapeError> {
    if value.is_empty() {
        return Err(value_err(
            field,
            value,
            position,
            "an empty value means 'unset' to Quadlet",
        ));
    }
    if value == ";" {
        return Err(value_err(
            field,
            value,
            position,
            "Quadlet writes a lone ';' unquoted into ExecStart=, where systemd takes it as a command separator",
        ));
    }
    for (at, ch) in [
        (0, value.chars().next()),
        (value.len() - 1, value.chars().next_back()),
    ] {
        if ch == Some('"') {
            return Err(char_err(
                field,
                '"',
                at,
                position,
                "Quadlet's UnitFile.Lookup trims double quotes from both ends \
                 (strings.Trim in podman 5.4; one matched pair in later versions)",
            ));
        }
    }
    check_verbatim_line(field, value, position)
}

/// `WorkingDir=`: an absolute path inside the container, read verbatim by
/// Quadlet (`Lookup`) and passed as `--workdir PATH`.
///
/// Returns the path escaped as by [`verbatim_arg`].
///
/// # Errors
///
/// Refuses a path that does not start with `/`, and everything
/// [`verbatim_arg`] refuses.
pub fn working_dir(field: &str, path: &str) -> Result<String, EscapeError> {
    if !path.starts_with('/') {
        return Err(value_err(
            field,
            path,
            POS_VERBATIM,
            "the working directory must be an absolute path",
        ));
    }
    verbatim_arg(field, path)
}

/// A Podman container or volume name for `ContainerName=`, `VolumeName=`, or
/// the `NAME` / `NAME.volume` part of `Volume=NAME:DST`. Podman accepts
/// names matching `[a-zA-Z0-9][a-zA-Z0-9_.-]*` (`libpod/define` `NameRegex`),
/// none of which any layer interprets.
///
/// Returns the name unchanged.
///
/// # Errors
///
/// Refuses any other name, and names over 253 bytes.
pub fn resource_name(field: &str, name: &str) -> Result<String, EscapeError> {
    let mut chars = name.char_indices();
    match chars.next() {
        None => return Err(value_err(field, name, POS_NAME, "a name cannot be empty")),
        Some((at, ch)) if !ch.is_ascii_alphanumeric() => {
            return Err(char_err(
                field,
                ch,
                at,
                POS_NAME,
                "a Podman name must start with an ASCII letter or digit ([a-zA-Z0-9][a-zA-Z0-9_.-]*)",
            ));
        }
        Some(_) => {}
    }
    for (at, ch) in chars {
        if !(ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '-')) {
            return Err(char_err(
                field,
                ch,
                at,
                POS_NAME,
                "a Podman name may only hold ASCII letters, digits, '_', '.' and '-'",
            ));
        }
    }
    if name.len() > 253 {
        return Err(value_err(
            field,
            name,
            POS_NAME,
            "a name is limited to 253 bytes",
        ));
    }
    Ok(name.to_owned())
}

/// An image reference for `Image=` (read with `Lookup`, passed as the image
/// argument of `podman run`): ASCII letters, digits and `. _ - / : @`,
/// starting with a letter or digit (so it can never be taken for an option).
///
/// Returns the reference unchanged.
///
/// # Errors
///
/// Refuses any other character, an empty reference, more than 255
/// bytes, and a reference ending in `.image` or `.build`, which Quadlet
/// reads as the name of an `.image`/`.build` unit (`quadlet.go`, "requested
/// Quadlet image ... was not found": the container unit is dropped).
pub fn image(field: &str, reference: &str) -> Result<String, EscapeError> {
    let mut chars = reference.char_indices();
    match chars.next() {
        None => {
            return Err(value_err(
                field,
                reference,
                POS_IMAGE,
                "an image reference cannot be empty",
            ));
        }
        Some((at, ch)) if !ch.is_ascii_alphanumeric() => {
            return Err(char_err(
                field,
                ch,
                at,
                POS_IMAGE,
                "an image reference must start with an ASCII letter or digit",
            ));
        }
        Some(_) => {}
    }
    for (at, ch) in chars {
        if !(ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-' | '/' | ':' | '@')) {
            return Err(char_err(
                field,
                ch,
                at,
                POS_IMAGE,
                "image references are limited to ASCII letters, digits and . _ - / : @",
            ));
        }
    }
    if reference.len() > 255 {
        return Err(value_err(
            field,
            reference,
            POS_IMAGE,
            "an image reference is limited to 255 bytes",
        ));
    }
    // Case-sensitive, as Quadlet's strings.HasSuffix.
    if [".image", ".build"].iter().any(|s| reference.ends_with(s)) {
        return Err(value_err(
            field,
            reference,
            POS_IMAGE,
            "Quadlet takes an Image= ending in .image or .build for its .image/.build unit \
             and drops the container unit when there is none (add a :tag)",
        ));
    }
    Ok(reference.to_owned())
}

/// Unit suffixes systemd knows (`unit_type_from_string`).
const UNIT_SUFFIXES: [&str; 11] = [
    ".service",
    ".socket",
    ".target",
    ".device",
    ".mount",
    ".automount",
    ".swap",
    ".timer",
    ".path",
    ".slice",
    ".scope",
];

/// A systemd unit name for `[Install] WantedBy=` and `[Unit]` dependency keys
/// (read by Quadlet with `LookupAllStrv`, by systemd with specifier
/// expansion): ASCII letters, digits and `: _ . - @`, with a unit-type suffix
/// (systemd.unit(5), `unit_name_is_valid`).
///
/// Returns the name unchanged.
///
/// # Errors
///
/// Refuses other characters (including the `\` of `systemd-escape` output,
/// which ccy does not need), a missing suffix, and names over 255 bytes.
pub fn unit_name(field: &str, name: &str) -> Result<String, EscapeError> {
    for (at, ch) in name.char_indices() {
        if !(ch.is_ascii_alphanumeric() || matches!(ch, ':' | '_' | '.' | '-' | '@')) {
            return Err(char_err(
                field,
                ch,
                at,
                POS_UNIT_NAME,
                "unit names are limited to ASCII letters, digits and : _ . - @",
            ));
        }
    }
    let Some(stem) = UNIT_SUFFIXES.iter().find_map(|s| name.strip_suffix(s)) else {
        return Err(value_err(
            field,
            name,
            POS_UNIT_NAME,
            "a unit name needs a unit-type suffix such as .target",
        ));
    };
    if stem.is_empty() || name.len() > 255 {
        return Err(value_err(
            field,
            name,
            POS_UNIT_NAME,
            "a unit name needs 1 to 255 bytes before and with its suffix",
        ));
    }
    Ok(name.to_owned())
}

/// Checks an absolute, normalised path: starts with `/`, no empty, `.` or
/// `..` component, no trailing `/` (except `/` itself), no line break (`\n`,
/// `\r`), no NUL. Other control characters are carried (see the module
/// docs); positions that cannot carry them check for them themselves.
fn check_path(
    field: &str,
    path: &str,
    position: &'static str,
    what: &'static str,
) -> Result<(), EscapeError> {
    if path.len() > MAX_VALUE_LEN {
        return Err(value_err(field, path, position, R_TOO_LONG));
    }
    if !path.starts_with('/') {
        return Err(value_err(field, path, position, what));
    }
    for (at, ch) in path.char_indices() {
        let reason = match ch {
            '\0' => R_NUL,
            '\n' | '\r' => {
                "a line break cannot be carried in a path: Quadlet writes a bind source raw as \
                 RequiresMountsFor=, where systemd ends the line there"
            }
            _ => continue,
        };
        return Err(char_err(field, ch, at, position, reason));
    }
    check_nonchar(field, path, position)?;
    if path != "/"
        && path[1..]
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(value_err(
            field,
            path,
            position,
            "the path is not normalised (empty, '.' or '..' component, or trailing '/'); Podman would clean it",
        ));
    }
    Ok(())
}

/// Host-side source path rules shared by [`bind_volume`] and [`bind_mount`].
fn check_host_path(field: &str, path: &str, position: &'static str) -> Result<(), EscapeError> {
    check_path(
        field,
        path,
        position,
        "a bind source must be an absolute host path",
    )?;
    // systemd continues a line that ends in an unescaped backslash, i.e.
    // an odd run of them; an even run is an escaped backslash and stays.
    let trailing = path.len() - path.trim_end_matches('\\').len();
    if trailing % 2 == 1 {
        return Err(char_err(
            field,
            '\\',
            path.len() - 1,
            position,
            "Quadlet writes the source raw as RequiresMountsFor=, where a trailing (unescaped) backslash continues the line",
        ));
    }
    if path.contains('\u{80}') {
        let at = path.find('\u{80}').unwrap_or(0);
        return Err(char_err(field, '\u{80}', at, position, R_U0080));
    }
    Ok(())
}

/// Mount options: each non-empty and made of ASCII letters, digits, `=`,
/// `_`, `.`, `-`.
fn check_options(field: &str, options: &[&str], position: &'static str) -> Result<(), EscapeError> {
    for opt in options {
        if opt.is_empty() {
            return Err(value_err(
                field,
                opt,
                position,
                "a mount option cannot be empty",
            ));
        }
        for (at, ch) in opt.char_indices() {
            if !(ch.is_ascii_alphanumeric() || matches!(ch, '=' | '_' | '.' | '-')) {
                return Err(char_err(
                    field,
                    ch,
                    at,
                    position,
                    "mount options are limited to ASCII letters, digits and = _ . -",
                ));
            }
        }
    }
    Ok(())
}

fn refuse_colon(field: &str, path: &str, position: &'static str) -> Result<(), EscapeError> {
    if let Some(at) = path.find(':') {
        return Err(char_err(
            field,
            ':',
            at,
            position,
            "Volume= is split on ':' by Quadlet (addVolumes) and Podman (SplitVolumeString); use Mount= (bind_mount)",
        ));
    }
    Ok(())
}

/// `Volume=SOURCE:DEST[:OPTIONS]` for a host directory (Quadlet
/// `addVolumes` → `-v`; Podman `specgen.GenVolumeMounts`).
///
/// Returns the whole value with `%` and `$` doubled (the key is read
/// verbatim, then written into `ExecStart=`).
///
/// # Errors
///
/// Refuses a source or destination that is not absolute and normalised,
/// contains `:` (prefer [`bind_mount`], which can carry it), or contains a
/// control character; a source ending in `\`; options outside ASCII letters,
/// digits and `= _ . -`; and whatever [`verbatim_arg`] refuses for the whole
/// line.
pub fn bind_volume(
    field: &str,
    source: &str,
    dest: &str,
    options: &[&str],
) -> Result<String, EscapeError> {
    check_host_path(field, source, POS_VOLUME)?;
    refuse_colon(field, source, POS_VOLUME)?;
    volume_tail(field, source, dest, options)
}

/// `Volume=NAME:DEST[:OPTIONS]` for a named Podman volume, or
/// `Volume=NAME.volume:DEST` for the volume of a Quadlet `.volume` unit
/// (Quadlet `handleStorageSource` resolves the latter and adds
/// `Requires=`/`After=` on its service).
///
/// Returns the whole value with `%` and `$` doubled.
///
/// # Errors
///
/// Refuses a volume that is not a valid [`resource_name`] and the same
/// destination and options as [`bind_volume`].
pub fn named_volume(
    field: &str,
    volume: &str,
    dest: &str,
    options: &[&str],
) -> Result<String, EscapeError> {
    resource_name(field, volume)?;
    volume_tail(field, volume, dest, options)
}

fn volume_tail(
    field: &str,
    source: &str,
    dest: &str,
    options: &[&str],
) -> Result<String, EscapeError> {
    check_path(
        field,
        dest,
        POS_VOLUME,
        "a container destination must be an absolute path",
    )?;
    refuse_colon(field, dest, POS_VOLUME)?;
    check_options(field, options, POS_VOLUME)?;
    let mut line = format!("{source}:{dest}");
    if !options.is_empty() {
        line.push(':');
        line.push_str(&options.join(","));
    }
    check_verbatim_arg(field, &line, POS_VOLUME)?;
    Ok(double_specials(&line, true))
}

/// Writes one CSV field the way Go's `encoding/csv` reader reads it back:
/// quoted (with `"` doubled) when it holds `,`, `"` or starts with white
/// space, else as is.
fn push_csv_field(out: &mut String, field: &str) {
    let needs_quotes =
        field.contains([',', '"']) || field.starts_with(char::is_whitespace) || field == "\\.";
    if needs_quotes {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// `Mount=type=bind,source=SOURCE,destination=DEST[,OPTION...]` for a host
/// directory. This is the position for worktree paths: unlike `Volume=` it
/// carries `:` and `,`.
///
/// Quadlet reads `Mount=` as one command-line word (`LookupAllArgs`), parses
/// it as CSV (`specgenutilexternal.FindMountType`), writes the source raw as
/// `RequiresMountsFor=` and re-encodes the fields as CSV (`convertToCSV`);
/// Podman parses `--mount` as CSV again (`specgenutil` `parseMountOptions`).
///
/// Returns the value as one double-quoted word (as [`exec_arg`]) around the
/// CSV record, with the `source=`/`destination=` fields CSV-quoted when they
/// hold `,` or `"`.
///
/// # Errors
///
/// Refuses a source or destination that is not absolute and normalised or
/// holds a line break (`\n`, `\r`), NUL or U+0080; a source ending in `\`;
/// options outside ASCII letters, digits and `= _ . -`; and values over
/// [`MAX_VALUE_LEN`].
pub fn bind_mount(
    field: &str,
    source: &str,
    dest: &str,
    options: &[&str],
) -> Result<String, EscapeError> {
    check_host_path(field, source, POS_MOUNT)?;
    check_path(
        field,
        dest,
        POS_MOUNT,
        "a container destination must be an absolute path",
    )?;
    if dest.contains('\u{80}') {
        let at = dest.find('\u{80}').unwrap_or(0);
        return Err(char_err(field, '\u{80}', at, POS_MOUNT, R_U0080));
    }
    check_options(field, options, POS_MOUNT)?;
    let mut csv = String::from("type=bind,");
    push_csv_field(&mut csv, &format!("source={source}"));
    csv.push(',');
    push_csv_field(&mut csv, &format!("destination={dest}"));
    for opt in options {
        csv.push(',');
        csv.push_str(opt);
    }
    let mut out = String::with_capacity(csv.len() + 2);
    push_quoted(&mut out, &csv, true);
    Ok(out)
}

/// `AddDevice=HOST-PATH`: a host device node passed as `--device`. Quadlet
/// reads the key with `LookupAllStrv` (white-space split, quotes removed,
/// backslashes kept) and treats a leading `-` as "skip if missing".
///
/// Returns the path with `%` and `$` doubled, in double quotes if it holds
/// white space or `'`.
///
/// # Errors
///
/// Refuses a path that is not absolute and normalised, holds `:` (the
/// `HOST:CONTAINER:PERMS` separator), `"`, `\`, control characters or
/// U+0080, or is longer than [`MAX_VALUE_LEN`].
pub fn add_device(field: &str, path: &str) -> Result<String, EscapeError> {
    check_path(
        field,
        path,
        POS_DEVICE,
        "a device must be an absolute host path",
    )?;
    for (at, ch) in path.char_indices() {
        let reason = match ch {
            c if c.is_control() && c != '\u{80}' => R_CONTROL,
            ':' => "':' separates HOST:CONTAINER:PERMISSIONS in --device",
            '"' | '\\' => {
                "AddDevice= is split without escape handling (LookupAllStrv), so this character cannot be quoted"
            }
            '\u{80}' => R_U0080,
            _ => continue,
        };
        return Err(char_err(field, ch, at, POS_DEVICE, reason));
    }
    let doubled = double_specials(path, true);
    if path.contains(|c: char| c.is_whitespace() || c == '\'') {
        Ok(format!("\"{doubled}\""))
    } else {
        Ok(doubled)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Characters the brief names as hostile, one per string.
    const NASTY: [&str; 24] = [
        "a\nb",
        "50%",
        "%n",
        "%%",
        "say \"hi\"",
        "it's",
        "back\\slash",
        "$HOME",
        "${HOME}",
        "$$",
        "two words",
        "a;b",
        "-rf",
        "--flag=x",
        "héllo wörld",
        "日本語",
        "tab\there",
        "cr\rlf",
        "bell\u{7}",
        "del\u{7f}",
        "nel\u{85}",
        "#hash",
        "[Section]",
        "\u{1f600}",
    ];

    fn is_char_err(e: &EscapeError, want: char) -> bool {
        matches!(e, EscapeError::Char { ch, .. } if *ch == want)
    }

    #[test]
    fn exec_arg_quotes_and_doubles() {
        assert_eq!(exec_arg("f", "plain").unwrap(), "\"plain\"");
        assert_eq!(exec_arg("f", "a b").unwrap(), "\"a b\"");
        assert_eq!(exec_arg("f", "50%").unwrap(), "\"50%%\"");
        assert_eq!(exec_arg("f", "$HOME").unwrap(), "\"$$HOME\"");
        assert_eq!(exec_arg("f", "say \"hi\"").unwrap(), "\"say \\\"hi\\\"\"");
        assert_eq!(exec_arg("f", "it's").unwrap(), "\"it's\"");
        assert_eq!(exec_arg("f", "a\\b").unwrap(), "\"a\\\\b\"");
        assert_eq!(exec_arg("f", "a\nb\tc\rd").unwrap(), "\"a\\nb\\tc\\rd\"");
        assert_eq!(
            exec_arg("f", "\u{1}\u{7f}\u{1b}").unwrap(),
            "\"\\x01\\x7f\\x1b\""
        );
        assert_eq!(
            exec_arg("f", "\u{7}\u{8}\u{b}\u{c}").unwrap(),
            "\"\\a\\b\\v\\f\""
        );
        assert_eq!(exec_arg("f", "-rf").unwrap(), "\"-rf\"");
        assert_eq!(exec_arg("f", "a;b").unwrap(), "\"a;b\"");
        assert_eq!(exec_arg("f", "日本\u{85}").unwrap(), "\"日本\u{85}\"");
    }

    #[test]
    fn exec_arg_never_breaks_the_line() {
        for s in NASTY {
            let w = exec_arg("f", s).unwrap();
            assert!(!w.contains(['\n', '\r', '\0']), "{w:?}");
            assert!(w.starts_with('"') && w.ends_with('"'));
            // Every '%' and '$' comes in pairs.
            assert_eq!(w.matches('%').count() % 2, 0);
            assert_eq!(w.matches('$').count() % 2, 0);
        }
    }

    #[test]
    fn exec_arg_refusals() {
        let e = exec_arg("agent arg", "").unwrap_err();
        assert!(matches!(e, EscapeError::Value { .. }));
        assert!(e.to_string().starts_with("agent arg: value \"\""), "{e}");
        assert!(exec_arg("f", ";").is_err());
        assert!(exec_arg("f", " ; ").is_ok());
        let e = exec_arg("agent arg", "a\0b").unwrap_err();
        assert!(is_char_err(&e, '\0'));
        assert!(e.to_string().contains("'\\0' (U+0000) at byte 1"), "{e}");
        let e = exec_arg("f", "x\u{80}").unwrap_err();
        assert!(e.to_string().contains("U+0080"), "{e}");
        assert!(exec_arg("f", "\u{81}\u{9f}").is_ok());
        for nc in [
            '\u{fdd0}',
            '\u{fdef}',
            '\u{fffe}',
            '\u{ffff}',
            '\u{1fffe}',
            '\u{10ffff}',
        ] {
            let e = exec_arg("f", &format!("a{nc}")).unwrap_err();
            assert!(is_char_err(&e, nc), "{e}");
            assert!(e.to_string().contains("noncharacter"), "{e}");
            assert!(label("f", "k", &nc.to_string()).is_err());
            assert!(service_env("f", "K", &nc.to_string()).is_err());
            assert!(verbatim_arg("f", &format!("a{nc}b")).is_err());
            assert!(bind_mount("f", &format!("/a{nc}"), "/w", &[]).is_err());
        }
        assert!(exec_arg("f", "\u{fdcf}\u{fdf0}\u{fffd}\u{1fffd}").is_ok());
        assert!(exec_arg("f", &"x".repeat(MAX_VALUE_LEN)).is_ok());
        assert!(exec_arg("f", &"x".repeat(MAX_VALUE_LEN + 1)).is_err());
    }

    #[test]
    fn exec_args_joins_and_names_index() {
        assert_eq!(exec_args("cmd", &["a", "b c"]).unwrap(), "\"a\" \"b c\"");
        assert_eq!(exec_args::<&str>("cmd", &[]).unwrap(), "");
        let e = exec_args("cmd", &["ok", ";"]).unwrap_err();
        assert_eq!(e.field(), "cmd[1]");
    }

    #[test]
    fn label_and_env_items() {
        assert_eq!(
            label("l", "ccy.worktree", "/a b").unwrap(),
            "\"ccy.worktree=/a b\""
        );
        assert_eq!(label("l", "k", "").unwrap(), "\"k=\"");
        assert_eq!(label("l", "k", "x=y").unwrap(), "\"k=x=y\"");
        assert_eq!(label("l", "k", ";").unwrap(), "\"k=;\"");
        assert_eq!(label("l", "k", "%n$X\n").unwrap(), "\"k=%%n$$X\\n\"");
        assert_eq!(
            label("l", "com.example/a-b_c", "v").unwrap(),
            "\"com.example/a-b_c=v\""
        );
        for s in NASTY {
            assert!(label("l", "k", s).is_ok(), "{s:?}");
            assert!(container_env("e", "K", s).is_ok(), "{s:?}");
        }
        assert!(is_char_err(&label("l", "a=b", "v").unwrap_err(), '='));
        assert!(is_char_err(&label("l", "a b", "v").unwrap_err(), ' '));
        assert!(is_char_err(&label("l", ".a", "v").unwrap_err(), '.'));
        assert!(label("l", "", "v").is_err());
        assert!(is_char_err(&label("l", "k", "\0").unwrap_err(), '\0'));
        assert!(is_char_err(
            &label("l", "k", "\u{80}").unwrap_err(),
            '\u{80}'
        ));
        assert_eq!(container_env("e", "_A1", "v v").unwrap(), "\"_A1=v v\"");
        assert!(is_char_err(
            &container_env("e", "1A", "v").unwrap_err(),
            '1'
        ));
        assert!(is_char_err(
            &container_env("e", "A-B", "v").unwrap_err(),
            '-'
        ));
        assert!(container_env("e", "", "v").is_err());
        // Found by the rendering property test (real containers): Podman's
        // --env makes \r\n a \n.
        let e = container_env("agent command", "CCY_AGENT", "a '\r\n'").unwrap_err();
        assert!(is_char_err(&e, '\r'), "{e}");
        assert!(e.to_string().contains("at byte 3"), "{e}");
        assert!(container_env("e", "K", "a\rb\n\n\r").is_ok());
    }

    #[test]
    fn service_env_keeps_dollar() {
        assert_eq!(service_env("e", "A", "$x %n").unwrap(), "\"A=$x %%n\"");
        assert_eq!(
            service_env("e", "A", "a\"b\\c\nd").unwrap(),
            "\"A=a\\\"b\\\\c\\nd\""
        );
        assert_eq!(service_env("e", "A", "\u{80}").unwrap(), "\"A=\u{80}\"");
        assert!(service_env("e", "A", "a\0").is_err());
        assert!(service_env("e", "A B", "v").is_err());
    }

    #[test]
    fn unit_text_rules() {
        assert_eq!(
            unit_text("d", "ccy: 50% \"done\" $x ;#").unwrap(),
            "ccy: 50%% \"done\" $x ;#"
        );
        assert!(unit_text("d", "").is_err());
        assert!(is_char_err(
            &unit_text("d", "a\u{fdd7}").unwrap_err(),
            '\u{fdd7}'
        ));
        assert!(is_char_err(&unit_text("d", "a\nb").unwrap_err(), '\n'));
        assert!(is_char_err(&unit_text("d", "a\tb").unwrap_err(), '\t'));
        assert!(is_char_err(&unit_text("d", " a").unwrap_err(), ' '));
        assert!(is_char_err(
            &unit_text("d", "a\u{a0}").unwrap_err(),
            '\u{a0}'
        ));
        assert!(is_char_err(
            &unit_text("d", "a\u{2028}").unwrap_err(),
            '\u{2028}'
        ));
        assert_eq!(unit_text("d", "\u{a0}a").unwrap(), "\u{a0}a");
        assert!(is_char_err(&unit_text("d", "a\\").unwrap_err(), '\\'));
        assert_eq!(unit_text("d", "a\\b").unwrap(), "a\\b");
        assert!(is_char_err(
            &unit_text("d", "a\u{85}b").unwrap_err(),
            '\u{85}'
        ));
    }

    #[test]
    fn verbatim_arg_rules() {
        assert_eq!(verbatim_arg("w", "/a b/%h/$X").unwrap(), "/a b/%%h/$$X");
        assert_eq!(verbatim_arg("w", "a\"b").unwrap(), "a\"b");
        assert!(verbatim_arg("w", "\"a\"").is_err());
        assert!(is_char_err(&verbatim_arg("w", "\"a").unwrap_err(), '"'));
        assert!(is_char_err(&verbatim_arg("w", "a\"").unwrap_err(), '"'));
        assert!(verbatim_arg("w", "\"").is_err());
        assert!(verbatim_arg("w", "").is_err());
        assert!(verbatim_arg("w", ";").is_err());
        assert!(verbatim_arg("w", "a\\").is_err());
        assert!(verbatim_arg("w", "a ").is_err());
        assert!(verbatim_arg("w", "a\u{80}").is_err());
        assert_eq!(working_dir("w", "/x y").unwrap(), "/x y");
        assert!(working_dir("w", "x").is_err());
    }

    #[test]
    fn names_images_units() {
        assert_eq!(resource_name("n", "ccy-main_1.2").unwrap(), "ccy-main_1.2");
        assert_eq!(
            resource_name("n", "ccy-home.volume").unwrap(),
            "ccy-home.volume"
        );
        assert!(is_char_err(&resource_name("n", "-x").unwrap_err(), '-'));
        assert!(is_char_err(&resource_name("n", "a b").unwrap_err(), ' '));
        assert!(is_char_err(&resource_name("n", "a%b").unwrap_err(), '%'));
        assert!(resource_name("n", "").is_err());
        assert!(resource_name("n", &"a".repeat(254)).is_err());
        assert_eq!(
            image("i", "localhost/ccy:latest").unwrap(),
            "localhost/ccy:latest"
        );
        assert_eq!(
            image("i", "r.io/a/b@sha256:00ff").unwrap(),
            "r.io/a/b@sha256:00ff"
        );
        assert!(is_char_err(&image("i", "--privileged").unwrap_err(), '-'));
        // Quadlet reads these as .image/.build unit names and drops the unit.
        for r in ["localhost/foo.image", "foo.build", "r.io/a/b.build"] {
            let e = image("image", r).unwrap_err();
            assert!(e.to_string().contains(".image or .build"), "{e}");
        }
        assert!(image("i", "localhost/foo.image:latest").is_ok());
        assert!(image("i", "localhost/foo.images").is_ok());
        assert!(is_char_err(&image("i", "a b").unwrap_err(), ' '));
        assert_eq!(unit_name("u", "default.target").unwrap(), "default.target");
        assert_eq!(unit_name("u", "a@b.service").unwrap(), "a@b.service");
        assert!(unit_name("u", "default").is_err());
        assert!(unit_name("u", ".target").is_err());
        assert!(is_char_err(
            &unit_name("u", "a\\x2d.target").unwrap_err(),
            '\\'
        ));
        assert!(is_char_err(&unit_name("u", "a b.target").unwrap_err(), ' '));
    }

    #[test]
    fn bind_volume_rules() {
        assert_eq!(
            bind_volume("wt", "/src/a b", "/w", &[]).unwrap(),
            "/src/a b:/w"
        );
        assert_eq!(
            bind_volume("wt", "/a%b$c", "/w", &["ro", "z"]).unwrap(),
            "/a%%b$$c:/w:ro,z"
        );
        assert_eq!(bind_volume("wt", "/a\\b", "/w", &[]).unwrap(), "/a\\b:/w");
        let e = bind_volume("worktree path", "/a:b", "/w", &[]).unwrap_err();
        assert!(is_char_err(&e, ':'));
        assert!(
            e.to_string().starts_with("worktree path: character ':'"),
            "{e}"
        );
        assert!(bind_volume("wt", "/a", "/w:x", &[]).is_err());
        assert!(bind_volume("wt", "rel", "/w", &[]).is_err());
        assert!(bind_volume("wt", "/a/../b", "/w", &[]).is_err());
        assert!(bind_volume("wt", "/a/", "/w", &[]).is_err());
        assert!(bind_volume("wt", "/a//b", "/w", &[]).is_err());
        assert!(bind_volume("wt", "/a\\", "/w", &[]).is_err());
        assert!(bind_volume("wt", "/a\nb", "/w", &[]).is_err());
        assert!(bind_volume("wt", "/a", "/w ", &[]).is_err());
        assert!(bind_volume("wt", "/a", "/w", &["r o"]).is_err());
        assert!(bind_volume("wt", "/a", "/w", &[""]).is_err());
        assert_eq!(bind_volume("wt", "/", "/host", &[]).unwrap(), "/:/host");
        assert_eq!(
            named_volume("v", "ccy-home.volume", "/home/u", &["U"]).unwrap(),
            "ccy-home.volume:/home/u:U"
        );
        assert!(named_volume("v", "/abs", "/x", &[]).is_err());
    }

    #[test]
    fn bind_mount_carries_colon_and_comma() {
        assert_eq!(
            bind_mount("wt", "/a:b", "/w", &[]).unwrap(),
            "\"type=bind,source=/a:b,destination=/w\""
        );
        assert_eq!(
            bind_mount("wt", "/a,b \"q\"", "/w", &["ro"]).unwrap(),
            "\"type=bind,\\\"source=/a,b \\\"\\\"q\\\"\\\"\\\",destination=/w,ro\""
        );
        assert_eq!(
            bind_mount("wt", "/%$\\x", "/w", &[]).unwrap(),
            "\"type=bind,source=/%%$$\\\\x,destination=/w\""
        );
        assert!(bind_mount("wt", "/a\\", "/w", &[]).is_err());
        // Found by the rendering property test: an escaped (even) trailing
        // run of backslashes does not continue RequiresMountsFor=.
        assert!(bind_mount("wt", "/a\\\\", "/w", &[]).is_ok());
        assert!(bind_mount("wt", "/a\\\\\\", "/w", &[]).is_err());
        // Found by the rendering property test: control characters other
        // than line breaks reach Podman unchanged (C escapes in the word).
        assert_eq!(
            bind_mount("wt", "/a\tb\u{1b}\u{7f}\u{85}", "/w", &[]).unwrap(),
            "\"type=bind,source=/a\\tb\\x1b\\x7f\u{85},destination=/w\""
        );
        for bad in ["/a\nb", "/a\rb", "/a\0b"] {
            let e = bind_mount("wt", bad, "/w", &[]).unwrap_err();
            assert!(e.to_string().contains("(U+000"), "{e}");
        }
        assert!(bind_mount("wt", "/a\u{80}", "/w", &[]).is_err());
        assert!(bind_mount("wt", "/a", "w", &[]).is_err());
        assert!(bind_mount("wt", "/a", "/w", &["a,b"]).is_err());
    }

    #[test]
    fn add_device_rules() {
        assert_eq!(add_device("d", "/dev/fuse").unwrap(), "/dev/fuse");
        assert_eq!(add_device("d", "/dev/a b%").unwrap(), "\"/dev/a b%%\"");
        assert!(add_device("d", "-/dev/x").is_err());
        assert!(add_device("d", "/dev/a:b").is_err());
        assert!(add_device("d", "/dev/a\"b").is_err());
        assert!(add_device("d", "/dev/a\\b").is_err());
    }

    #[test]
    fn error_display_names_field_char_and_reason() {
        let e = label("label ccy.branch", "ccy.branch", "x\u{80}").unwrap_err();
        let s = e.to_string();
        assert!(
            s.starts_with("label ccy.branch: character '\\u{80}' (U+0080) at byte 1"),
            "{s}"
        );
        assert!(s.contains("Label=/Environment="), "{s}");
    }
}
