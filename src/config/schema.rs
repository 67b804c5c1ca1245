//! The configuration's schema: [`Config`] and its sections, one struct a
//! `[section]` of the TOML file, and [`Source`], where a value came from.
//! The keys and their defaults are written down once, in
//! [`DEFAULTS`](super::DEFAULTS).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::DEFAULTS;

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
pub(super) const HOST_ENTRY_KEYS: [&str; 3] = ["ssh", "options", "ccy"];

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
