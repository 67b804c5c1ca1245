//! Names: Podman resource names, images and unit names.

#[allow(clippy::wildcard_imports)]
use super::*;

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
pub(super) const UNIT_SUFFIXES: [&str; 11] = [
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
