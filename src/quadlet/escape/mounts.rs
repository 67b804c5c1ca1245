//! Paths, bind and named volumes, mounts and devices.

#[allow(clippy::wildcard_imports)]
use super::values::*;
#[allow(clippy::wildcard_imports)]
use super::*;

/// Checks an absolute, normalised path: starts with `/`, no empty, `.` or
/// `..` component, no trailing `/` (except `/` itself), no line break (`\n`,
/// `\r`), no NUL. Other control characters are carried (see the module
/// docs); positions that cannot carry them check for them themselves.
pub(super) fn check_path(
    field: &str,
    path: &str,
    position: &'static str,
    what: &'static str,
) -> Result<(), EscapeError> {
    check_len(field, path, position)?;
    if !path.starts_with('/') {
        return Err(value_err(field, path, position, what));
    }
    check_chars(field, path, position, |ch| match ch {
        '\0' => Some(R_NUL),
        '\n' | '\r' => Some(
            "a line break cannot be carried in a path: Quadlet writes a bind source raw as \
             RequiresMountsFor=, where systemd ends the line there",
        ),
        _ => None,
    })?;
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
pub(super) fn check_host_path(
    field: &str,
    path: &str,
    position: &'static str,
) -> Result<(), EscapeError> {
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
pub(super) fn check_options(
    field: &str,
    options: &[&str],
    position: &'static str,
) -> Result<(), EscapeError> {
    for opt in options {
        if opt.is_empty() {
            return Err(value_err(
                field,
                opt,
                position,
                "a mount option cannot be empty",
            ));
        }
        check_chars(field, opt, position, |ch| {
            (!(ch.is_ascii_alphanumeric() || matches!(ch, '=' | '_' | '.' | '-')))
                .then_some("mount options are limited to ASCII letters, digits and = _ . -")
        })?;
    }
    Ok(())
}

pub(super) fn refuse_colon(
    field: &str,
    path: &str,
    position: &'static str,
) -> Result<(), EscapeError> {
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

pub(super) fn volume_tail(
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
pub(super) fn push_csv_field(out: &mut String, field: &str) {
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
    check_chars(field, path, POS_DEVICE, |ch| match ch {
        c if c.is_control() && c != '\u{80}' => Some(R_CONTROL),
        ':' => Some("':' separates HOST:CONTAINER:PERMISSIONS in --device"),
        '"' | '\\' => Some(
            "AddDevice= is split without escape handling (LookupAllStrv), so this character cannot be quoted",
        ),
        '\u{80}' => Some(R_U0080),
        _ => None,
    })?;
    let doubled = double_specials(path, true);
    if path.contains(|c: char| c.is_whitespace() || c == '\'') {
        Ok(format!("\"{doubled}\""))
    } else {
        Ok(doubled)
    }
}
