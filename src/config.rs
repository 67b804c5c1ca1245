//! Configuration: defaults, then `~/.config/ccy/config.toml`, then the
//! project's `.claude/ccy/config.toml`, then `CCY_*` environment variables,
//! then command-line flags. Later layers win key by key.
//!
//! Every layer is checked against the schema on its own, so an unknown key
//! is reported with the file (or variable) it came from. The effective value
//! of each key remembers its [`Source`] for `ccy config show`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where an effective configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "from")]
pub enum Source {
    /// ccy's built-in default.
    Default,
    /// A configuration file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Env(v) => write!(f, "env {v}"),
            Self::Flag(v) => write!(f, "flag {v}"),
        }
    }
}

/// `[image]`: the agent image.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImageConfig {
    /// The image sessions run; built from ccy's Containerfile when missing.
    pub name: String,
    /// The image ccy's Containerfile starts `FROM` when it builds `name`.
    pub base: String,
    /// Shell command run in the image build to install the agent; empty
    /// skips it (tests use a shell as the agent).
    pub agent_install: String,
}

/// `[agent]`: what runs in the session's tmux pane.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The agent's argv; arguments after `--` on ccy's command line are
    /// appended.
    pub command: Vec<String>,
}

/// `[session]`: how session containers are run.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// Start the session at login / boot (`[Install] WantedBy=default.target`).
    pub autostart: bool,
}

/// The effective configuration.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[image]`.
    pub image: ImageConfig,
    /// `[agent]`.
    pub agent: AgentConfig,
    /// `[session]`.
    pub session: SessionConfig,
}

/// The built-in defaults, as TOML (the one place they are written down).
pub const DEFAULTS: &str = r#"
[image]
name = "localhost/ccy:latest"
base = "docker.io/library/node:22-trixie-slim"
agent_install = "npm install -g @anthropic-ai/claude-code"

[agent]
command = ["claude", "--dangerously-skip-permissions"]

[session]
autostart = true
"#;

/// A configuration with the source of every key.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The effective values.
    pub config: Config,
    /// Dotted key (`image.name`) → where its value came from.
    pub sources: BTreeMap<String, Source>,
}

/// Builds the effective configuration in layers.
#[derive(Debug)]
pub struct Loader {
    table: toml::Table,
    sources: BTreeMap<String, Source>,
}

impl Loader {
    /// Starts from the built-in [`DEFAULTS`].
    ///
    /// # Panics
    /// Never: the defaults are checked by a unit test.
    #[must_use]
    pub fn new() -> Self {
        #[expect(
            clippy::expect_used,
            reason = "DEFAULTS is a constant covered by tests"
        )]
        let table: toml::Table = toml::from_str(DEFAULTS).expect("built-in defaults parse");
        let mut sources = BTreeMap::new();
        for key in dotted_keys(&table) {
            sources.insert(key, Source::Default);
        }
        Self { table, sources }
    }

    /// Overlays the TOML file at `path` when it exists.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] for a syntax error, an unknown key or
    /// a value of the wrong type, naming the file; any other read error.
    pub fn file(self, path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(self),
            Err(e) => {
                return Err(
                    Error::failure(format!("cannot read {}", path.display())).with_source(e)
                );
            }
        };
        let layer: toml::Table = toml::from_str(&text).map_err(|e| {
            Error::usage(format!("invalid configuration in {}", path.display()))
                .detail(e.message().to_owned())
                .hint("fix the file; 'ccy config show' prints the keys ccy knows")
        })?;
        self.overlay(layer, &Source::File(path.to_path_buf()))
    }

    /// Overlays `CCY_<SECTION>_<KEY>` environment variables for every key
    /// ccy knows (`CCY_IMAGE_NAME`, `CCY_AGENT_COMMAND`, …). A value is read
    /// as a TOML value when it parses as one (`2`, `true`, `["a","b"]`),
    /// otherwise as a string.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] when a value has the wrong type.
    pub fn env(self, vars: impl IntoIterator<Item = (String, String)>) -> Result<Self> {
        let known = dotted_keys(&self.table);
        let mut loader = self;
        for (var, value) in vars {
            let Some(key) = known.iter().find(|k| env_name(k) == var) else {
                continue;
            };
            let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(value));
            let layer = nest(key, parsed);
            loader = loader.overlay(layer, &Source::Env(var))?;
        }
        Ok(loader)
    }

    /// Overlays one value set by a command-line flag.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] when the value has the wrong type.
    pub fn flag(self, key: &str, value: toml::Value, flag: &str) -> Result<Self> {
        self.overlay(nest(key, value), &Source::Flag(flag.to_owned()))
    }

    /// Finishes: the effective configuration and the source of each key.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] if the merged values do not fit the
    /// schema (cannot happen when every layer was checked, kept for safety).
    pub fn finish(self) -> Result<Loaded> {
        let config = Config::deserialize(toml::Value::Table(self.table))
            .map_err(|e| Error::usage("invalid configuration").detail(e.to_string()))?;
        Ok(Loaded {
            config,
            sources: self.sources,
        })
    }

    fn overlay(mut self, layer: toml::Table, source: &Source) -> Result<Self> {
        let keys = dotted_keys(&layer);
        let mut merged = self.table.clone();
        merge(&mut merged, layer);
        // Check the layer in context: unknown keys and wrong types are
        // reported against the layer that brought them.
        Config::deserialize(toml::Value::Table(merged.clone())).map_err(|e| {
            Error::usage(format!("invalid configuration from {source}"))
                .detail(e.to_string())
                .hint("'ccy config show' prints the keys ccy knows and their values")
        })?;
        for key in keys {
            self.sources.insert(key, source.clone());
        }
        self.table = merged;
        Ok(self)
    }
}

impl Default for Loader {
    fn default() -> Self {
        Self::new()
    }
}

/// The environment variable for a dotted key: `image.name` → `CCY_IMAGE_NAME`.
#[must_use]
pub fn env_name(key: &str) -> String {
    format!("CCY_{}", key.replace('.', "_").to_ascii_uppercase())
}

fn nest(key: &str, value: toml::Value) -> toml::Table {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap_or(key);
    let mut table = toml::Table::new();
    table.insert(last.to_owned(), value);
    for part in parts.into_iter().rev() {
        let mut outer = toml::Table::new();
        outer.insert(part.to_owned(), toml::Value::Table(table));
        table = outer;
    }
    table
}

fn merge(base: &mut toml::Table, layer: toml::Table) {
    for (k, v) in layer {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(l)) => merge(b, l),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Dotted keys of the leaves of `table` (arrays are leaves).
fn dotted_keys(table: &toml::Table) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in table {
        match v {
            toml::Value::Table(t) => {
                out.extend(dotted_keys(t).into_iter().map(|sub| format!("{k}.{sub}")));
            }
            _ => out.push(k.clone()),
        }
    }
    out
}

/// Loads the configuration for a worktree from the standard layers (no
/// flags): defaults, `user_file`, `WORKTREE/.claude/ccy/config.toml`, the
/// process environment.
///
/// # Errors
/// As [`Loader::file`] and [`Loader::env`].
pub fn load(user_file: &Path, worktree: Option<&Path>) -> Result<Loader> {
    let mut loader = Loader::new().file(user_file)?;
    if let Some(wt) = worktree {
        loader = loader.file(&project_file(wt))?;
    }
    loader.env(std::env::vars())
}

/// The project configuration file of a worktree.
#[must_use]
pub fn project_file(worktree: &Path) -> PathBuf {
    worktree.join(".claude/ccy/config.toml")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_parse() {
        let loaded = Loader::new().finish().unwrap();
        assert_eq!(loaded.config.image.name, "localhost/ccy:latest");
        assert_eq!(
            loaded.config.agent.command,
            ["claude", "--dangerously-skip-permissions"]
        );
        assert!(loaded.sources.values().all(|s| *s == Source::Default));
    }

    #[test]
    fn layers_override_key_by_key_and_remember_sources() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("user.toml");
        std::fs::write(&user, "[image]\nbase = \"localhost/b\"\n").unwrap();
        let loaded = Loader::new()
            .file(&user)
            .unwrap()
            .env([
                (
                    "CCY_AGENT_COMMAND".to_owned(),
                    r#"["bash", "-l"]"#.to_owned(),
                ),
                ("CCY_IMAGE_NAME".to_owned(), "localhost/x:1".to_owned()),
                ("UNRELATED".to_owned(), "1".to_owned()),
            ])
            .unwrap()
            .flag(
                "session.autostart",
                toml::Value::Boolean(false),
                "--no-autostart",
            )
            .unwrap()
            .finish()
            .unwrap();
        let c = &loaded.config;
        assert_eq!(c.image.base, "localhost/b");
        assert_eq!(c.image.name, "localhost/x:1");
        assert_eq!(c.agent.command, ["bash", "-l"]);
        assert!(!c.session.autostart);
        assert_eq!(loaded.sources["image.base"], Source::File(user.clone()));
        assert_eq!(
            loaded.sources["image.name"],
            Source::Env("CCY_IMAGE_NAME".into())
        );
        assert_eq!(loaded.sources["image.agent_install"], Source::Default);
        assert_eq!(
            loaded.sources["session.autostart"],
            Source::Flag("--no-autostart".into())
        );
    }

    #[test]
    fn unknown_key_names_the_key_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("config.toml");
        std::fs::write(&f, "[image]\nnmae = \"typo\"\n").unwrap();
        let err = Loader::new().file(&f).unwrap_err().to_string();
        assert!(err.contains(&f.display().to_string()), "{err}");
        assert!(err.contains("nmae"), "{err}");
        assert!(err.contains("hint: "), "{err}");
    }

    #[test]
    fn wrong_type_from_env_is_refused() {
        let err = Loader::new()
            .env([("CCY_SESSION_AUTOSTART".to_owned(), "maybe".to_owned())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("CCY_SESSION_AUTOSTART"), "{err}");
    }

    #[test]
    fn missing_file_is_fine() {
        assert!(
            Loader::new()
                .file(Path::new("/nonexistent/ccy.toml"))
                .is_ok()
        );
    }

    #[test]
    fn env_names() {
        assert_eq!(env_name("image.agent_install"), "CCY_IMAGE_AGENT_INSTALL");
    }
}
