//! [`Loader`]: the effective configuration built layer by layer, each
//! layer checked against the schema on its own, and [`Loaded`], the result
//! with the source of every key.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::schema::HOST_ENTRY_KEYS;
use super::table::{dotted_keys, env_name, lookup, merge, nest};
use super::{Config, DEFAULTS, NOTIFY_STATES, ProjectFile, Source, widening_keys};
use crate::error::{Error, Result};

/// A configuration with the source of every key.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The effective values.
    pub config: Config,
    /// Dotted key (`image.name`) → where its value came from.
    pub sources: BTreeMap<String, Source>,
    /// The project file, when one was read ([`Loader::project_file`]):
    /// its exact bytes and the keys in it that widen a session's reach.
    pub project: Option<ProjectFile>,
}

/// Builds the effective configuration in layers.
#[derive(Debug)]
pub struct Loader {
    table: toml::Table,
    sources: BTreeMap<String, Source>,
    project: Option<ProjectFile>,
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
        Self {
            table,
            sources,
            project: None,
        }
    }

    /// Starts from an effective configuration, every key counted as a
    /// default: for overlaying more layers on a finished one.
    ///
    /// # Errors
    /// When `config` does not serialize back to TOML (it always does).
    pub fn from_config(config: &Config) -> Result<Self> {
        let table = toml::Table::try_from(config)
            .map_err(|e| Error::failure(format!("cannot serialize the configuration: {e}")))?;
        Self::new().overlay(table, &Source::Default)
    }

    /// Overlays the TOML file at `path` when it exists.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] for a syntax error, an unknown key or
    /// a value of the wrong type, naming the file; any other read error.
    pub fn file(self, path: &Path) -> Result<Self> {
        match read_layer(path)? {
            Some((_, layer)) => self.overlay(layer, &Source::File(path.to_path_buf())),
            None => Ok(self),
        }
    }

    /// Overlays the project file at `path` when it exists, as
    /// [`Loader::file`] does, and remembers its bytes and its
    /// [`widening_keys`] for the trust check ([`Loaded::project`]).
    ///
    /// # Errors
    /// As [`Loader::file`].
    pub fn project_file(self, path: &Path) -> Result<Self> {
        let Some((bytes, layer)) = read_layer(path)? else {
            return Ok(self);
        };
        if layer.contains_key("hosts") {
            return Err(Error::usage(format!(
                "invalid configuration in {}: [hosts] is read from your own configuration only",
                path.display()
            ))
            .hint("move [hosts] to ~/.config/ccy/config.toml"));
        }
        let widening = widening_keys(&layer);
        let mut loader = self.overlay(layer, &Source::File(path.to_path_buf()))?;
        loader.project = Some(ProjectFile {
            path: path.to_path_buf(),
            bytes,
            widening,
        });
        Ok(loader)
    }

    /// Overlays `CCY_<SECTION>_<KEY>` environment variables for every key
    /// ccy knows (`CCY_IMAGE_NAME`, `CCY_AGENT_COMMAND`, …). A value is read
    /// as a TOML value when it parses as one (`2`, `true`, `["a","b"]`),
    /// otherwise as a string; for a list key, a value that is not a TOML
    /// list is a list of that one value (`CCY_SESSION_SSH_KEYS=~/.ssh/id`).
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] when a value has the wrong type, or
    /// for a variable `CCY_<SECTION>_…` of a known section that names no
    /// key (a typo such as `CCY_SESSION_MEMROY`). Other `CCY_*` variables
    /// (`CCY_SESSION`, set in containers, test settings) are not ccy's
    /// configuration and are ignored.
    pub fn env(self, vars: impl IntoIterator<Item = (String, String)>) -> Result<Self> {
        let known = dotted_keys(&self.table);
        let sections: Vec<String> = self
            .table
            .keys()
            .map(|s| format!("CCY_{}_", s.to_ascii_uppercase()))
            .collect();
        let mut vars: Vec<(String, String)> = vars.into_iter().collect();
        // The environment's order is arbitrary: apply in a stable order.
        vars.sort();
        let mut loader = self;
        for (var, value) in vars {
            let Some(key) = known.iter().find(|k| env_name(k) == var) else {
                if sections.iter().any(|p| var.starts_with(p.as_str())) {
                    return Err(unknown_key_error(
                        &var.trim_start_matches("CCY_")
                            .to_ascii_lowercase()
                            .replacen('_', ".", 1),
                        &Source::Env(var.clone()),
                        &known,
                    ));
                }
                continue;
            };
            let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
                .ok()
                .and_then(|mut t| t.remove("v"));
            let is_list = matches!(lookup(&loader.table, key), Some(toml::Value::Array(_)));
            let parsed = match parsed {
                Some(v @ toml::Value::Array(_)) => v,
                Some(v) if !is_list => v,
                _ if is_list => toml::Value::Array(vec![toml::Value::String(value)]),
                _ => toml::Value::String(value),
            };
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

    /// Adds `values` to the list `key` (a repeatable flag such as
    /// `--mount`: flags add to the configured list rather than replace it).
    /// Does nothing when `values` is empty.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] when `key` is not a list.
    pub fn flag_append(self, key: &str, values: &[String], flag: &str) -> Result<Self> {
        if values.is_empty() {
            return Ok(self);
        }
        let mut list = match lookup(&self.table, key) {
            Some(toml::Value::Array(a)) => a.clone(),
            _ => {
                return Err(Error::usage(format!("{key} is not a list (flag {flag})")));
            }
        };
        list.extend(values.iter().cloned().map(toml::Value::String));
        self.flag(key, toml::Value::Array(list), flag)
    }

    /// The current value of the dotted `key`, if any.
    #[must_use]
    pub fn value(&self, key: &str) -> Option<&toml::Value> {
        lookup(&self.table, key)
    }

    /// Finishes: the effective configuration and the source of each key.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] if the merged values do not fit the
    /// schema (cannot happen when every layer was checked, kept for safety).
    pub fn finish(self) -> Result<Loaded> {
        let config = Config::deserialize(toml::Value::Table(self.table))
            .map_err(|e| Error::usage("invalid configuration").detail(e.to_string()))?;
        let unknown = config.notify.unknown_states();
        if !unknown.is_empty() {
            let from = self
                .sources
                .get("notify.on")
                .map_or_else(|| "ccy's defaults".to_owned(), ToString::to_string);
            return Err(Error::usage(format!(
                "invalid configuration: notify.on names no agent state: {} (from {from})",
                unknown.join(", ")
            ))
            .hint(format!("the states are {}", NOTIFY_STATES.join(", "))));
        }
        Ok(Loaded {
            config,
            sources: self.sources,
            project: self.project,
        })
    }

    fn overlay(mut self, layer: toml::Table, source: &Source) -> Result<Self> {
        let keys = dotted_keys(&layer);
        // Every key ccy knows is in the defaults, so a key of the layer
        // that is not there is unknown: name it and where it came from.
        let known = dotted_keys(&self.table);
        for key in &keys {
            let is_section = self.table.contains_key(key.as_str());
            if !is_section && !known.contains(key) && !is_host_key(key) {
                return Err(unknown_key_error(key, source, &known));
            }
        }
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

/// Whether `key` is `hosts.NAME.KEY` for a key of [`HostEntry`]: the
/// one section whose tables are named by the user.
fn is_host_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split('.').collect();
    matches!(parts.as_slice(), ["hosts", name, k] if *name != "timeout" && HOST_ENTRY_KEYS.contains(k))
}

/// The bytes and the table of the TOML file at `path`, or `None` when it
/// does not exist.
fn read_layer(path: &Path) -> Result<Option<(Vec<u8>, toml::Table)>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::failure(format!("cannot read {}", path.display())).with_source(e));
        }
    };
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        Error::usage(format!("invalid configuration in {}", path.display()))
            .detail(format!("not UTF-8 text ({e})"))
    })?;
    let layer: toml::Table = toml::from_str(text).map_err(|e| {
        Error::usage(format!("invalid configuration in {}", path.display()))
            .detail(e.message().to_owned())
            .hint("fix the file; 'ccy config show' prints the keys ccy knows")
    })?;
    Ok(Some((bytes, layer)))
}

/// "in FILE", "from environment variable X", … for messages.
fn origin(source: &Source) -> String {
    match source {
        Source::Default => "in ccy's defaults".to_owned(),
        Source::File(p) => format!("in {}", p.display()),
        Source::Env(v) => format!("from environment variable {v}"),
        Source::Flag(f) => format!("from flag {f}"),
    }
}

/// The error for an unknown dotted `key`, with the keys of its section.
fn unknown_key_error(key: &str, source: &Source, known: &[String]) -> Error {
    let section = key.split('.').next().unwrap_or(key);
    let siblings: Vec<&str> = known
        .iter()
        .filter(|k| k.split('.').next() == Some(section))
        .map(String::as_str)
        .collect();
    let mut err = Error::usage(format!(
        "unknown configuration key {key} {}",
        origin(source)
    ));
    err = if siblings.is_empty() {
        let sections: Vec<&str> = known.iter().filter_map(|k| k.split('.').next()).collect();
        let mut sections = sections;
        sections.dedup();
        err.detail(format!("ccy's sections are [{}]", sections.join("], [")))
    } else {
        err.detail(format!("keys of [{section}]: {}", siblings.join(", ")))
    };
    err.hint("fix the key; 'ccy config show' prints the keys ccy knows and their values")
}
