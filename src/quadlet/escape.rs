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
//! `tests/support/unitparse.rs` parses the generated `.service` by systemd's
//! rules so tests can check that each value arrives unchanged.

use std::fmt::Write as _;

mod mounts;
mod names;
mod values;

pub use mounts::{add_device, bind_mount, bind_volume, named_volume};
pub use names::{image, resource_name, unit_name};
pub use values::{
    container_env, env_file, label, service_env, unit_text, verbatim_arg, working_dir,
};

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

pub(super) fn char_err(
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

pub(super) fn value_err(
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

pub(super) const POS_ARG: &str = "an Exec=/PodmanArgs= argument";
pub(super) const POS_KEYVAL: &str = "a Label=/Environment= item";
pub(super) const POS_SERVICE_ENV: &str = "a [Service] Environment= item";
pub(super) const POS_UNIT_TEXT: &str = "a systemd text value (Description=)";
pub(super) const POS_ENV_FILE: &str = "an EnvironmentFile= path";
pub(super) const POS_VERBATIM: &str = "a verbatim Quadlet value";
pub(super) const POS_NAME: &str = "a Podman resource name";
pub(super) const POS_IMAGE: &str = "an Image= reference";
pub(super) const POS_UNIT_NAME: &str = "a systemd unit name";
pub(super) const POS_VOLUME: &str = "a Volume= entry";
pub(super) const POS_MOUNT: &str = "a Mount= entry";
pub(super) const POS_DEVICE: &str = "an AddDevice= entry";

pub(super) const R_NUL: &str = "a NUL byte cannot be part of a command-line argument or unit file";
pub(super) const R_U0080: &str = "Quadlet escapes U+0080 as \\x80, which systemd decodes to one invalid byte \
                       (charNeedEscape tests c > 128 in podman pkg/systemd/parser/split.go)";
pub(super) const R_CONTROL: &str = "control characters cannot be written in a key that is read verbatim \
                         (no unescaping is applied to it)";
pub(super) const R_TOO_LONG: &str = "longer than MAX_VALUE_LEN (16 KiB)";
pub(super) const R_NONCHAR: &str = "systemd ignores a whole assignment holding a Unicode noncharacter \
                         (\"String is not UTF-8 clean\": utf8_is_valid/unichar_is_valid)";

/// Unicode noncharacters: U+FDD0..=U+FDEF and every U+xFFFE, U+xFFFF.
/// systemd's `unichar_is_valid` (`src/basic/utf8.c`) rejects them, and
/// `parse_line` (`conf-parser.c`) then ignores the whole line.
pub(super) fn is_noncharacter(ch: char) -> bool {
    let c = u32::from(ch);
    (0xFDD0..=0xFDEF).contains(&c) || (c & 0xFFFE) == 0xFFFE
}

/// The first character of `value` that `refusal` gives a reason for, as
/// an error with that reason; `Ok` when there is none.
fn check_chars(
    field: &str,
    value: &str,
    position: &'static str,
    refusal: impl Fn(char) -> Option<&'static str>,
) -> Result<(), EscapeError> {
    match value
        .char_indices()
        .find_map(|(at, ch)| Some((at, ch, refusal(ch)?)))
    {
        Some((at, ch, reason)) => Err(char_err(field, ch, at, position, reason)),
        None => Ok(()),
    }
}

/// `value` longer than [`MAX_VALUE_LEN`], as an error.
fn check_len(field: &str, value: &str, position: &'static str) -> Result<(), EscapeError> {
    if value.len() > MAX_VALUE_LEN {
        return Err(value_err(field, value, position, R_TOO_LONG));
    }
    Ok(())
}

/// The first noncharacter of `value`, as an error.
pub(super) fn check_nonchar(
    field: &str,
    value: &str,
    position: &'static str,
) -> Result<(), EscapeError> {
    check_chars(field, value, position, |c| {
        is_noncharacter(c).then_some(R_NONCHAR)
    })
}

/// Length and the characters that no position can carry to Podman.
pub(super) fn check_exec_bound(
    field: &str,
    value: &str,
    position: &'static str,
) -> Result<(), EscapeError> {
    check_len(field, value, position)?;
    check_chars(field, value, position, |c| match c {
        '\0' => Some(R_NUL),
        '\u{80}' => Some(R_U0080),
        c if is_noncharacter(c) => Some(R_NONCHAR),
        _ => None,
    })
}

/// Checks for values that Quadlet or systemd read verbatim from the line.
pub(super) fn check_verbatim_line(
    field: &str,
    value: &str,
    position: &'static str,
) -> Result<(), EscapeError> {
    check_len(field, value, position)?;
    check_chars(field, value, position, |c| {
        c.is_control().then_some(R_CONTROL)
    })?;
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
pub(super) fn push_quoted(out: &mut String, value: &str, double_dollar: bool) {
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
pub(super) fn double_specials(value: &str, double_dollar: bool) -> String {
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

#[cfg(test)]
mod tests;
