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
    /// The Claude token name (`~/.claude-tokens/ccy/tokens/NAME.*.token`);
    /// empty: the newest token file.
    pub token: String,
}

/// `[session]`: how session containers are run.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// Start the session at login / boot (`[Install] WantedBy=default.target`).
    pub autostart: bool,
    /// The Podman network: empty for Podman's default (rootless: pasta),
    /// `none` for no network, else a network name (`podman network ls`).
    pub network: String,
    /// Memory limit (`podman run --memory`: a number with an optional unit
    /// b, k, m or g, e.g. `8g`); empty: no limit.
    pub memory: String,
    /// CPU limit in CPUs (`podman run --cpus`, e.g. `1.5`); 0: no limit.
    pub cpus: f64,
    /// Process limit (`podman run --pids-limit`); 0: Podman's default.
    pub pids: u32,
    /// Most sessions running at once for this user; creating or starting
    /// another is refused. 0: no limit.
    pub max_running: u32,
    /// Extra bind mounts, `HOST:CONTAINER[:ro|rw]` (`~` expands; the host
    /// path must exist; read-write unless `:ro`).
    pub mounts: Vec<String>,
    /// Environment for the agent: `NAME` passes ccy's value of `NAME` at
    /// creation, `NAME=VALUE` sets it. Written into the unit file: no
    /// secrets here.
    pub env: Vec<String>,
    /// SSH private keys mounted read-only and added to the session's
    /// ssh-agent (`~` expands).
    pub ssh_keys: Vec<String>,
}

/// `[prune]`: what `ccy prune` removes, and when `ccy timer` runs it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PruneConfig {
    /// Stopped sessions idle for longer than this are pruned (`30m`,
    /// `12h`, `7d`; see `cmd::prune::parse_age`).
    pub age: String,
    /// When `ccy-prune.timer` runs `ccy prune`: a systemd calendar
    /// expression (systemd.time(7), `OnCalendar=`).
    pub schedule: String,
    /// Whether the first `ccy` that creates a session installs ccy's timers
    /// (`ccy timer enable`), as it turns on linger; `doctor` reports them
    /// missing. `false` opts out.
    pub timer: bool,
}

/// `[idle]`: stopping sessions nobody uses (`ccy idle`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdleConfig {
    /// Stop a running session after this long without input, output or an
    /// attached client (`24h`); `off`: never.
    pub stop: String,
    /// How long before stopping ccy warns in the session (`1h`); `off`: no
    /// warning.
    pub warn: String,
    /// When `ccy-idle.timer` runs `ccy idle`: a systemd calendar
    /// expression (systemd.time(7), `OnCalendar=`). The timer is installed
    /// only while `stop` is not `off`.
    pub schedule: String,
}

impl IdleConfig {
    /// Whether `stop` turns idle stopping off (`off`, empty or `0`), so
    /// that no idle timer is needed.
    #[must_use]
    pub fn is_off(&self) -> bool {
        let v = self.stop.trim();
        v.is_empty() || v.eq_ignore_ascii_case("off") || v == "0"
    }
}

/// `[hosts]`: other workstations ccy reaches over SSH (`ccy --host H`,
/// `H:NAME`, `ccy list --all-hosts`). Read from the user's own file and
/// `CCY_HOSTS_TIMEOUT` only, never from a project file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct HostsConfig {
    /// Seconds to wait for a host's answer (connecting included).
    pub timeout: f64,
    /// The configured hosts: name → how to reach it (`[hosts.NAME]`).
    #[serde(flatten)]
    pub named: BTreeMap<String, HostEntry>,
}

/// `[hosts.NAME]`: one workstation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HostEntry {
    /// The ssh destination (`[user@]host` or a `Host` of `~/.ssh/config`);
    /// empty: the name.
    #[serde(default)]
    pub ssh: String,
    /// Extra `ssh` options before the destination (`["-p", "2222"]`).
    #[serde(default)]
    pub options: Vec<String>,
    /// The ccy command on that host, as its shell reads it (a path such
    /// as `~/.local/bin/ccy` works); default `ccy` (on its `PATH`).
    #[serde(default = "default_remote_ccy")]
    pub ccy: String,
}

fn default_remote_ccy() -> String {
    "ccy".to_owned()
}

/// The key names a `[hosts.NAME]` table may hold.
const HOST_ENTRY_KEYS: [&str; 3] = ["ssh", "options", "ccy"];

/// `[notify]`: telling the user when an agent needs them
/// (`ccy-notify.service`, `ccy notify`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// Whether `ccy-notify.service` notifies at all, and whether the first
    /// `ccy` that creates a session installs it. `false`: silent.
    pub enabled: bool,
    /// The agent states whose start notifies (`waiting`, `done`; also
    /// `idle`, `busy`, `exited`).
    pub on: Vec<String>,
}

/// The agent states `[notify] on` may name (the `state` values of the
/// session's `agent.json`).
pub const NOTIFY_STATES: [&str; 5] = ["idle", "busy", "waiting", "done", "exited"];

impl NotifyConfig {
    /// Whether a transition into `state` notifies: notifications are on
    /// and `state` is in `on` (compared without case).
    #[must_use]
    pub fn notifies(&self, state: &str) -> bool {
        self.enabled && self.on.iter().any(|s| s.trim().eq_ignore_ascii_case(state))
    }

    /// The entries of `on` that name no agent state.
    #[must_use]
    pub fn unknown_states(&self) -> Vec<&str> {
        self.on
            .iter()
            .map(|s| s.trim())
            .filter(|s| !NOTIFY_STATES.iter().any(|k| k.eq_ignore_ascii_case(s)))
            .collect()
    }
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
    /// `[prune]`.
    pub prune: PruneConfig,
    /// `[idle]`.
    pub idle: IdleConfig,
    /// `[hosts]`.
    pub hosts: HostsConfig,
    /// `[notify]`.
    pub notify: NotifyConfig,
}

impl Config {
    /// ccy's built-in defaults ([`DEFAULTS`]).
    ///
    /// # Panics
    /// Never: the unit tests parse [`DEFAULTS`].
    #[must_use]
    pub fn defaults() -> Self {
        #[expect(
            clippy::expect_used,
            reason = "DEFAULTS is a constant, parsed by the tests"
        )]
        toml::from_str(DEFAULTS).expect("ccy's DEFAULTS parse")
    }
}

/// The built-in defaults, as TOML (the one place they are written down),
/// commented: this text is also the configuration reference
/// (`docs/configuration.md` and ccy(1) CONFIGURATION hold it verbatim,
/// checked by tests, and `ccy config show` can print it). Every key is
/// here, so a key that is not is unknown.
pub const DEFAULTS: &str = r#"# ccy configuration: ~/.config/ccy/config.toml (yours), then the
# project's .claude/ccy/config.toml, then CCY_<SECTION>_<KEY> environment
# variables (CCY_SESSION_MEMORY=8g), then command-line flags. Later layers
# win key by key; a key ccy does not know is an error. Values below are the
# defaults. Options and variables apply when a session is created.
# A project file's keys that reach beyond the worktree (session.mounts,
# session.ssh_keys, session.env entries NAME, session.network other than
# "" or "none") apply only once you approve that file's exact content
# with 'ccy trust'; until then ccy refuses to create a session from it.

[image]
# The image sessions run. ccy builds it from its built-in Containerfile when
# it is missing or was built from other settings; an image without ccy's
# label is used as it is. A project's .claude/ccy/Dockerfile, if any, is
# built FROM this image (build argument CCY_IMAGE) and used instead.
name = "localhost/ccy:latest"
# The image ccy's Containerfile starts FROM.
base = "docker.io/library/node:22-trixie-slim"
# Shell command run in the image build to install the agent ("" skips it).
agent_install = "npm install -g @anthropic-ai/claude-code"

[agent]
# The agent's command line in the session's tmux pane; arguments after
# `ccy -- ` are appended.
command = ["claude", "--dangerously-skip-permissions"]
# Claude token: NAME picks the newest ~/.claude-tokens/ccy/tokens/NAME.*.token;
# "" picks the newest token file (see `ccy tokens`). Flag: --token NAME.
token = ""

[session]
# Start the session at login and boot (with linger). Flag: --no-autostart.
autostart = true
# Podman network: "" for Podman's default, "none" for no network (loopback
# only), or a network name from `podman network ls`. "host" and the
# MODE:ARG forms ("container:NAME", "ns:PATH", "pasta:OPTIONS") share or
# open the host's network: ccy takes them only from your own file, a
# CCY_SESSION_NETWORK variable or --network, never from a project file or
# an archive, and warns when a session gets one.
# Flags: --network NET, --no-network.
network = ""
# Memory limit, a number with unit b, k, m or g ("8g"); "" for none.
# Flag: --memory.
memory = ""
# CPU limit in CPUs (1.5); 0 for none. Flag: --cpus.
cpus = 0.0
# Process limit; 0 for Podman's default. Flag: --pids.
pids = 0
# Most sessions running at once for your user; creating or starting one
# more is refused, listing them. 0 for no limit.
max_running = 0
# Extra bind mounts "HOST:CONTAINER[:ro|rw]" (read-write unless :ro; ~
# expands; the host path must exist). Flag: --mount (adds to this list).
mounts = []
# Environment for the agent: "NAME" passes ccy's value of NAME, "NAME=VALUE"
# sets it. Written into the unit file: no secrets (the Claude token has its
# own way in). Flag: --env (adds).
env = []
# SSH private keys, mounted read-only and added to the session's own
# ssh-agent (git over SSH works; ~/.ssh/known_hosts is mounted read-only
# beside them). Flag: --ssh-key (adds).
ssh_keys = []

[prune]
# `ccy prune` removes stopped sessions idle for longer than this: a number
# and a unit, "30m", "12h", "7d", "2w". Flag: ccy prune --age.
age = "7d"
# When ccy-prune.timer runs 'ccy prune': a systemd calendar expression (man
# systemd.time: "daily", "hourly", "Mon..Fri 18:00"; check one with
# 'systemd-analyze calendar EXPR'). Runs missed while the machine was off
# happen at the next boot. After a change, run 'ccy timer enable' again.
schedule = "daily"
# The first 'ccy' that creates a session installs ccy's timers (prune, and
# idle unless [idle] stop is "off"), as it turns on linger; 'ccy doctor'
# reports them missing. false: ccy never installs them by itself ('ccy
# timer enable' still does).
timer = true

[idle]
# Stop a running session after this long with no input, no output and no
# attached client ("24h", "90m", "2d"); "off" never stops one. Applied by
# 'ccy idle', which ccy-idle.timer runs. Kept sessions ('ccy keep') are
# never stopped. The panes are saved first; 'ccy' starts the session again
# (what a stop keeps: docs/sessions.md).
stop = "24h"
# Warn this long before stopping ("1h"; "off" for no warning): a message in
# the session's status line says when it stops and how to keep it. The
# session stops no sooner than this after the warning.
warn = "1h"
# When ccy-idle.timer runs 'ccy idle' (a systemd calendar expression, as
# [prune] schedule). Installed only while stop is not "off". After a
# change, run 'ccy timer enable' again.
schedule = "hourly"

[hosts]
# Seconds to wait for a host's answer over SSH, connecting included
# ('ccy --host', HOST:NAME, 'ccy list --all-hosts'); a host that does not
# answer in time is reported unreachable.
timeout = 3.0
# Each other workstation is a table [hosts.NAME]; 'ccy --host NAME' and
# NAME:SESSION use it ('ccy list --all-hosts' asks them all). ssh runs with
# your ~/.ssh/config, keys and agent. Read from your own file only. ccy
# keeps one ssh connection per host open for 10 minutes after its last use
# (ControlMaster in $XDG_RUNTIME_DIR/ccy), unless options or your ssh
# config set ControlMaster or ControlPath for the host.
#   [hosts.lab1]
#   ssh = "dev@lab1.example.org"   # the ssh destination ("": the name)
#   options = ["-p", "2222"]       # extra ssh options
#   ccy = "ccy"                    # the ccy command there (default: on PATH)

[notify]
# ccy-notify.service tells you when an agent needs you: a desktop
# notification (org.freedesktop.Notifications on your session bus), or,
# without a notification server, a message and a bell in the tmux clients
# attached to your other sessions. It stays silent while you are attached
# to the session whose prompt started the turn. The first 'ccy' that
# creates a session installs it unless enabled is false; false also
# silences a running one. Manage it with 'ccy notify'.
enabled = true
# The agent states that notify when an agent enters them: "waiting" (it
# asks a question or for a permission), "done" (its turn is over); also
# "idle", "busy", "exited".
on = ["waiting", "done"]
"#;

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

/// The value at dotted `key` in `table`.
fn lookup<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut parts = key.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
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
        loader = loader.project_file(&project_file(wt))?;
    }
    loader.env(std::env::vars())
}

/// The project configuration file of a worktree.
#[must_use]
pub fn project_file(worktree: &Path) -> PathBuf {
    worktree.join(".claude/ccy/config.toml")
}

#[cfg(test)]
mod tests;
