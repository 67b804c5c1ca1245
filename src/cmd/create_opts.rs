//! Options for creating a session, shared by `ccy` (which creates one when
//! the worktree has none) and `ccy new`.
//!
//! Each option is the last configuration layer for its key (see
//! [`crate::config`]): it overrides `~/.config/ccy/config.toml`, the
//! project's `.claude/ccy/config.toml` and `CCY_*` variables, and
//! `ccy config show` names it as the source. Repeatable options (`--mount`,
//! `--env`, `--ssh-key`) add to the configured list.

use clap::Args;

use crate::config::{Loaded, Loader};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::host::git::Worktree;
use crate::names::SessionName;
use crate::session::create::NewSession;
use crate::session::trust;

/// How a new session is made.
#[derive(Debug, Clone, Default, Args)]
pub struct CreateArgs {
    /// Claude token to use: the newest `~/.claude-tokens/ccy/tokens/NAME.*.token`
    /// (default: `agent.token`, else the newest token file; see `ccy tokens`).
    #[arg(long, value_name = "NAME", help_heading = "New session")]
    pub token: Option<String>,

    /// SSH private key to mount read-only and add to the session's
    /// ssh-agent (repeatable; adds to `session.ssh_keys`).
    #[arg(long = "ssh-key", value_name = "PATH", help_heading = "New session")]
    pub ssh_keys: Vec<String>,

    /// Podman network to join (`session.network`).
    #[arg(
        long,
        value_name = "NET",
        conflicts_with = "no_network",
        help_heading = "New session"
    )]
    pub network: Option<String>,

    /// No network at all: only the loopback interface (`session.network =
    /// "none"`).
    #[arg(long, help_heading = "New session")]
    pub no_network: bool,

    /// Memory limit, e.g. `8g` (`session.memory`).
    #[arg(long, value_name = "SIZE", help_heading = "New session")]
    pub memory: Option<String>,

    /// CPU limit in CPUs, e.g. `2` or `1.5` (`session.cpus`).
    #[arg(long, value_name = "N", help_heading = "New session")]
    pub cpus: Option<f64>,

    /// Process limit (`session.pids`).
    #[arg(long, value_name = "N", help_heading = "New session")]
    pub pids: Option<u32>,

    /// Extra bind mount `HOST:CONTAINER[:ro|rw]` (repeatable; adds to
    /// `session.mounts`).
    #[arg(long = "mount", value_name = "SPEC", help_heading = "New session")]
    pub mounts: Vec<String>,

    /// Environment for the agent, `NAME` (pass ccy's value) or `NAME=VALUE`
    /// (repeatable; adds to `session.env`). Not for secrets: the value is
    /// written into the unit file.
    #[arg(long = "env", value_name = "VAR", help_heading = "New session")]
    pub env: Vec<String>,

    /// Do not start the session at login / boot (`session.autostart = false`).
    #[arg(long, help_heading = "New session")]
    pub no_autostart: bool,

    /// Arguments for the agent of a new session, after `--` (appended to
    /// the configured agent command, e.g. `ccy -- --model opus`).
    #[arg(last = true, value_name = "AGENT_ARGS")]
    pub agent_args: Vec<String>,
}

impl CreateArgs {
    /// The effective configuration for a new session in `worktree`:
    /// defaults, user file, project file, `CCY_*` environment, then these
    /// flags; checked against the trust model
    /// ([`trust::check_project`]: a project file's keys that reach beyond
    /// the worktree need the user's approval).
    ///
    /// # Errors
    /// As [`crate::config::load`]; a flag value of the wrong type; an
    /// unapproved project file ([`crate::error::ExitKind::Usage`]).
    pub fn config(&self, ctx: &Ctx, worktree: &Worktree) -> Result<Loaded> {
        let layers = ctx.config(Some(&worktree.root))?;
        let loaded = self.apply(layers)?.finish()?;
        trust::check_project(&ctx.paths, &loaded, worktree)?;
        Ok(loaded)
    }

    /// Overlays these flags on `loader`, as the last layer.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] when a value does not fit its key.
    pub fn apply(&self, loader: Loader) -> Result<Loader> {
        use toml::Value;
        let mut l = loader;
        if let Some(t) = &self.token {
            l = l.flag("agent.token", Value::String(t.clone()), "--token")?;
        }
        if let Some(n) = &self.network {
            l = l.flag("session.network", Value::String(n.clone()), "--network")?;
        }
        if self.no_network {
            l = l.flag(
                "session.network",
                Value::String("none".into()),
                "--no-network",
            )?;
        }
        if let Some(m) = &self.memory {
            l = l.flag("session.memory", Value::String(m.clone()), "--memory")?;
        }
        if let Some(c) = self.cpus {
            l = l.flag("session.cpus", Value::Float(c), "--cpus")?;
        }
        if let Some(p) = self.pids {
            l = l.flag("session.pids", Value::Integer(i64::from(p)), "--pids")?;
        }
        if self.no_autostart {
            l = l.flag("session.autostart", Value::Boolean(false), "--no-autostart")?;
        }
        l = l.flag_append("session.mounts", &self.mounts, "--mount")?;
        l = l.flag_append("session.env", &self.env, "--env")?;
        l.flag_append("session.ssh_keys", &self.ssh_keys, "--ssh-key")
    }

    /// The plain description of the session to create.
    #[must_use]
    pub fn new_session(&self, name: Option<SessionName>) -> NewSession {
        NewSession {
            name,
            agent_args: self.agent_args.clone(),
            ..NewSession::default()
        }
    }

    /// Whether any option was given that only matters for a new session.
    #[must_use]
    pub fn any(&self) -> bool {
        !self.agent_args.is_empty()
            || self.token.is_some()
            || !self.ssh_keys.is_empty()
            || self.network.is_some()
            || self.no_network
            || self.memory.is_some()
            || self.cpus.is_some()
            || self.pids.is_some()
            || !self.mounts.is_empty()
            || !self.env.is_empty()
            || self.no_autostart
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::Source;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        create: CreateArgs,
    }

    fn parse(args: &[&str]) -> CreateArgs {
        Cli::try_parse_from(std::iter::once("ccy").chain(args.iter().copied()))
            .unwrap()
            .create
    }

    #[test]
    fn flags_are_the_last_layer_and_lists_add() {
        let args = parse(&[
            "--token",
            "work",
            "--memory",
            "4g",
            "--cpus",
            "1.5",
            "--pids",
            "300",
            "--mount",
            "/a:/b",
            "--env",
            "X=1",
            "--ssh-key",
            "/k",
            "--no-network",
            "--no-autostart",
            "--",
            "--model",
            "opus",
        ]);
        assert!(args.any());
        let base = Loader::new()
            .env([
                ("CCY_SESSION_MEMORY".to_owned(), "8g".to_owned()),
                ("CCY_SESSION_MOUNTS".to_owned(), "/c:/d:ro".to_owned()),
            ])
            .unwrap();
        let loaded = args.apply(base).unwrap().finish().unwrap();
        let s = &loaded.config.session;
        assert_eq!(s.memory, "4g");
        assert_eq!(
            loaded.sources["session.memory"],
            Source::Flag("--memory".into())
        );
        assert!((s.cpus - 1.5).abs() < f64::EPSILON);
        assert_eq!(s.pids, 300);
        assert_eq!(s.mounts, ["/c:/d:ro", "/a:/b"]);
        assert_eq!(s.env, ["X=1"]);
        assert_eq!(s.ssh_keys, ["/k"]);
        assert_eq!(s.network, "none");
        assert!(!s.autostart);
        assert_eq!(loaded.config.agent.token, "work");
        assert_eq!(args.agent_args, ["--model", "opus"]);
    }

    #[test]
    fn network_flags_conflict() {
        assert!(Cli::try_parse_from(["ccy", "--network", "x", "--no-network"]).is_err());
        assert!(!parse(&[]).any());
    }
}
