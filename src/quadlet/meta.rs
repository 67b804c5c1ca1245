//! The metadata line at the top of every `.container` file ccy writes:
//! [`META_PREFIX`] followed by the session's [`SessionMeta`] as JSON, so
//! ccy lists stopped sessions without parsing unit syntax. The same facts
//! are on the container as labels (`crate::contract`).

use crate::quadlet::spec::SessionMeta;

/// The comment that starts the metadata line of a ccy `.container` file.
pub const META_PREFIX: &str = "# ccy-session-v1 ";

/// Parses the metadata line of a `.container` file's text, or `None` when
/// it is not a ccy session file.
#[must_use]
pub fn parse_meta(text: &str) -> Option<SessionMeta> {
    text.lines()
        .take(5)
        .find_map(|l| l.strip_prefix(META_PREFIX))
        .and_then(|json| serde_json::from_str(json).ok())
}

/// `text` (a `.container` file) with its metadata line replaced by one
/// holding `meta`, or `None` when it has no metadata line. The rest of the
/// file is unchanged.
#[must_use]
pub fn replace_meta(text: &str, meta: &SessionMeta) -> Option<String> {
    let json = serde_json::to_string(meta).ok()?;
    let mut found = false;
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        if !found && line.starts_with(META_PREFIX) {
            found = true;
            out.push_str(META_PREFIX);
            out.push_str(&json);
            out.push('\n');
        } else {
            out.push_str(line);
        }
    }
    found.then_some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::quadlet::spec::CreatedWorktree;

    use crate::quadlet::spec::example_meta as meta;

    #[test]
    fn older_meta_lines_parse_and_the_worktree_field_round_trips() {
        let old = r#"{"name":"a","project":"p","worktree":"/w","branch":"main","created":"2026-01-01T00:00:00Z","image":"i"}"#;
        let m = parse_meta(&format!("{META_PREFIX}{old}\n")).unwrap();
        assert_eq!(m.created_worktree, None);
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            old,
            "absent stays absent"
        );
        let mut m2 = m.clone();
        m2.created_worktree = Some(CreatedWorktree {
            branch: "feat/x".into(),
            new_branch: true,
        });
        let line = format!("{META_PREFIX}{}", serde_json::to_string(&m2).unwrap());
        assert!(
            line.ends_with(r#","created_worktree":{"branch":"feat/x","new_branch":true}}"#),
            "{line}"
        );
        assert_eq!(parse_meta(&line), Some(m2));
    }

    #[test]
    fn the_metadata_line_is_replaced_and_nothing_else() {
        let m = meta("a");
        let text = format!(
            "# head\n{META_PREFIX}{}\n[Container]\nX=1\n",
            serde_json::to_string(&m).unwrap()
        );
        let mut m2 = m.clone();
        m2.state_volume = Some("a-state-2".into());
        let out = replace_meta(&text, &m2).unwrap();
        assert_eq!(parse_meta(&out), Some(m2.clone()));
        assert_eq!(m2.current_state_volume(), "a-state-2");
        assert_eq!(m.current_state_volume(), "a-state");
        assert!(out.starts_with("# head\n") && out.ends_with("\n[Container]\nX=1\n"));
        assert_eq!(replace_meta("[Container]\n", &m2), None);
    }
}
