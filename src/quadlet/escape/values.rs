//! Label, environment and verbatim values: `Label=`, `Environment=`, unit text, `PodmanArgs=` words, `WorkingDir=`.

#[allow(clippy::wildcard_imports)]
use super::*;

/// A label key accepted by [`label`]: ASCII letters, digits, `.`, `_`, `-`
/// and `/`, starting with a letter or digit.
pub(super) fn check_label_key(field: &str, key: &str) -> Result<(), EscapeError> {
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
pub(super) fn check_env_name(
    field: &str,
    key: &str,
    position: &'static str,
) -> Result<(), EscapeError> {
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

pub(super) fn key_value_word(key: &str, value: &str) -> String {
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
    check_len(field, value, POS_SERVICE_ENV)?;
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

/// `[Service] EnvironmentFile=-PATH`, which Quadlet copies as is and
/// systemd reads verbatim apart from specifiers
/// (`config_parse_unit_env_file`: `unit_path_printf`, then an absolute
/// path check; systemd.exec(5), `EnvironmentFile=`). The leading `-`
/// means "skip when missing".
///
/// Returns `-PATH` with `%` doubled.
///
/// # Errors
///
/// Refuses a path that does not start with `/`, and what
/// [`unit_text`] refuses (control characters, leading or trailing white
/// space, a trailing `\`, more than [`MAX_VALUE_LEN`] bytes).
pub fn env_file(field: &str, path: &str) -> Result<String, EscapeError> {
    if !path.starts_with('/') {
        return Err(value_err(
            field,
            path,
            POS_ENV_FILE,
            "systemd takes only an absolute EnvironmentFile= path",
        ));
    }
    check_verbatim_line(field, path, POS_ENV_FILE)?;
    Ok(format!("-{}", double_specials(path, false)))
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

pub(super) fn check_verbatim_arg(
    field: &str,
    value: &str,
    position: &'static str,
) -> Result<(), EscapeError> {
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
