//! The keep label: `ccy.keep=true` on a session (`Label=` in its
//! `.container` file, so on its container once it starts). `ccy prune`
//! never removes a kept session; it reads the unit file, so a label set
//! with `ccy keep` counts at once, before the container restarts.
//!
//! These functions work on the unit file's text: the file cannot be
//! rendered again from what it records (the configuration it was made
//! from may have changed), so setting the label edits one line.

use crate::quadlet::escape;

/// The label key.
pub const LABEL_KEEP: &str = "ccy.keep";

/// The `Label=` value ccy writes for the keep label (`"ccy.keep=true"`,
/// quoted as [`escape::label`] quotes every label).
///
/// # Panics
/// Never: the key and value are constants [`escape::label`] accepts (a
/// unit test covers it).
#[must_use]
pub fn label_value() -> String {
    #[expect(clippy::expect_used, reason = "constant key and value, tested")]
    escape::label("keep label", LABEL_KEEP, "true").expect("the keep label escapes")
}

/// Whether a `Label=` line's value is the keep label (quoted or not).
fn is_keep_line(line: &str) -> bool {
    let Some(value) = line.trim().strip_prefix("Label=") else {
        return false;
    };
    let value = value.trim();
    let unquoted = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    unquoted == format!("{LABEL_KEEP}=true")
}

/// Whether the `.container` text carries the keep label.
#[must_use]
pub fn is_kept(unit_text: &str) -> bool {
    unit_text.lines().any(is_keep_line)
}

/// The `.container` text with the keep label on (`keep`) or off. On: a
/// `Label=` line after the last `Label=` line of the file (or after
/// `Image=`, or after `[Container]`); off: every keep-label line dropped.
/// Text that already says what is asked comes back unchanged.
#[must_use]
pub fn set_kept(unit_text: &str, keep: bool) -> String {
    if is_kept(unit_text) == keep {
        return unit_text.to_owned();
    }
    let lines: Vec<&str> = unit_text.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len() + 1);
    if keep {
        let after = lines
            .iter()
            .rposition(|l| l.starts_with("Label="))
            .or_else(|| lines.iter().position(|l| l.starts_with("Image=")))
            .or_else(|| lines.iter().position(|l| l.trim() == "[Container]"));
        for (i, l) in lines.iter().enumerate() {
            out.push((*l).to_owned());
            if Some(i) == after {
                out.push(format!("Label={}", label_value()));
            }
        }
        if after.is_none() {
            out.push("[Container]".to_owned());
            out.push(format!("Label={}", label_value()));
        }
    } else {
        out.extend(
            lines
                .iter()
                .filter(|l| !is_keep_line(l))
                .map(|l| (*l).to_owned()),
        );
    }
    let mut text = out.join("\n");
    if unit_text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const UNIT: &str = "# ccy session x\n[Container]\nImage=img\nLabel=\"ccy.project=app\"\nLabel=\"ccy.branch=main\"\nExec=/etc/ccy/start\n";

    #[test]
    fn the_label_is_added_after_the_last_label_and_removed() {
        assert_eq!(label_value(), "\"ccy.keep=true\"");
        assert!(!is_kept(UNIT));
        let kept = set_kept(UNIT, true);
        assert_eq!(
            kept,
            "# ccy session x\n[Container]\nImage=img\nLabel=\"ccy.project=app\"\nLabel=\"ccy.branch=main\"\nLabel=\"ccy.keep=true\"\nExec=/etc/ccy/start\n"
        );
        assert!(is_kept(&kept));
        assert_eq!(set_kept(&kept, true), kept, "idempotent");
        assert_eq!(set_kept(&kept, false), UNIT);
        assert_eq!(set_kept(UNIT, false), UNIT);
    }

    #[test]
    fn other_shapes() {
        assert!(is_kept("Label=ccy.keep=true\n"));
        assert!(!is_kept("Label=\"ccy.keep=false\"\n"));
        assert!(!is_kept("# Label=\"ccy.keep=true\"\n"));
        assert_eq!(
            set_kept("[Container]\nImage=i", true),
            "[Container]\nImage=i\nLabel=\"ccy.keep=true\""
        );
        assert_eq!(
            set_kept("[Unit]\n", true),
            "[Unit]\n[Container]\nLabel=\"ccy.keep=true\"\n"
        );
    }
}
