//! What a project's `.claude/ccy/config.toml` brings that needs the
//! user's approval: [`ProjectFile`] (the file as read) and its
//! [`Widening`] keys, found by [`widening_keys`].

use std::path::PathBuf;

/// A project's `.claude/ccy/config.toml` as read: the input of the trust
/// check (`crate::session::trust`), which honours its [`Widening`] keys
/// only once the user approved these exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFile {
    /// The file's path, as given.
    pub path: PathBuf,
    /// Its exact contents (what an approval's hash covers).
    pub bytes: Vec<u8>,
    /// The keys in it that widen a session's reach beyond its worktree.
    pub widening: Vec<Widening>,
}

/// One configuration key, set in a project file or an archive, that gives
/// the session more than its worktree: host paths (`session.mounts`), SSH
/// keys (`session.ssh_keys`), ccy's own environment (`session.env` entries
/// `NAME`, which pass the host's value) or a network other than Podman's
/// default or `none` (`session.network`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Widening {
    /// The dotted key, e.g. `session.mounts`.
    pub key: String,
    /// The values that widen, as written (for the message).
    pub values: Vec<String>,
}

/// The keys of `layer` (one file's table, unchecked) that widen a
/// session's reach beyond its worktree; see [`Widening`]. Keys with
/// values of the wrong type are left to the schema check.
#[must_use]
pub fn widening_keys(layer: &toml::Table) -> Vec<Widening> {
    let session = layer.get("session").and_then(toml::Value::as_table);
    let strings = |key: &str| -> Vec<String> {
        session
            .and_then(|s| s.get(key))
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(toml::Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for key in ["mounts", "ssh_keys"] {
        let values = strings(key);
        if !values.is_empty() {
            out.push(Widening {
                key: format!("session.{key}"),
                values,
            });
        }
    }
    let passed: Vec<String> = strings("env")
        .into_iter()
        .filter(|e| !e.contains('='))
        .collect();
    if !passed.is_empty() {
        out.push(Widening {
            key: "session.env".into(),
            values: passed,
        });
    }
    if let Some(net) = session
        .and_then(|s| s.get("network"))
        .and_then(toml::Value::as_str)
        && !matches!(net.trim(), "" | "none")
    {
        out.push(Widening {
            key: "session.network".into(),
            values: vec![net.to_owned()],
        });
    }
    out
}
