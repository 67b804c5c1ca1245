//! Reading `quadlet -dryrun` output: the generator prints each unit it
//! would write as a `---NAME---` line, the unit text, and one empty line
//! (podman-systemd.unit(5), "Debugging"; checked against Podman 5.4).

/// Splits the standard output of `quadlet -dryrun` into `(unit name,
/// text)` pairs, in the order printed.
///
/// # Errors
/// Text before the first header, or a header without a name, as a message.
pub fn split(output: &str) -> Result<Vec<(String, String)>, String> {
    let mut units: Vec<(String, String)> = Vec::new();
    for line in output.split_inclusive('\n') {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        let header = bare
            .strip_prefix("---")
            .and_then(|r| r.strip_suffix("---"))
            .filter(|n| !n.contains(['=', '[', ' ']));
        if let Some(name) = header {
            if name.is_empty() {
                return Err("dry-run output: header without a unit name".into());
            }
            units.push((name.to_owned(), String::new()));
        } else if let Some((_, text)) = units.last_mut() {
            text.push_str(line);
        } else if !bare.is_empty() {
            return Err(format!(
                "dry-run output: text before the first ---NAME--- header: {bare:?}"
            ));
        }
    }
    for (_, text) in &mut units {
        // The generator prints the unit (ending in '\n') and one more '\n'.
        if text.ends_with("\n\n") {
            text.pop();
        }
    }
    Ok(units)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn splits_dryrun_output() {
        let out = "---a.service---\n[Unit]\nA=1\n\n---b-volume.service---\n[Service]\nB=2\n\n";
        let units = split(out).unwrap();
        assert_eq!(units.len(), 2);
        assert_eq!(
            units[0],
            ("a.service".to_owned(), "[Unit]\nA=1\n".to_owned())
        );
        assert_eq!(units[1].0, "b-volume.service");
        assert!(split("junk\n---a---\n").is_err());
    }
}
