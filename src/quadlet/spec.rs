//! The session model: what a session is made from ([`SessionSpec`], the
//! input of [`crate::quadlet::render`]) and what its unit file records
//! ([`SessionMeta`], [`SessionOptions`]). Plain data; no I/O.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::names::SessionName;
use crate::quadlet::runopts::RunOptions;

/// Facts about a session, stored in its unit file's metadata line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionMeta {
    /// The session (= container) name.
    pub name: String,
    /// The project (label `ccy.project`).
    pub project: String,
    /// The worktree, absolute and canonical (label `ccy.worktree`).
    pub worktree: PathBuf,
    /// The branch at creation (label `ccy.branch`).
    pub branch: String,
    /// Creation time, RFC 3339 UTC (label `ccy.created`).
    pub created: String,
    /// The image the session runs.
    pub image: String,
    /// Set when ccy created the session's git worktree (`ccy new
    /// --worktree`), so that removing the session can offer to remove it.
    /// Absent in files written before the field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_worktree: Option<CreatedWorktree>,
    /// How the session was made (agent command, `[session]` values), so
    /// `ccy clone` and `ccy export` can make it again. Absent in files
    /// written before the field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<SessionOptions>,
    /// The session's agent-state volume when it is not `NAME-state`: set
    /// by `ccy attach --reset`, which gives the session a new volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_volume: Option<String>,
    /// The image a session that keeps its container layer commits that
    /// layer into (`localhost/ccy-kept:NAME`; [`SessionMeta::image`] is
    /// then its clean image). Without [`SessionMeta::image_file`] the unit
    /// always runs it (`Image=localhost/ccy-kept:NAME`, tagged from the
    /// clean image when the session was made); with it, only once a stop
    /// kept a change. Absent for sessions made before ccy kept layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_image: Option<String>,
    /// The session's image file (`STATE_DIR/kept/NAME.env`,
    /// [`crate::paths::Paths::kept_image_file`]), when the unit chooses its
    /// image at each start from it (`Image=localhost/${CCY_IMAGE}`,
    /// [`crate::contract::KEPT_IMAGE_VAR`]): [`SessionMeta::kept_image`]
    /// while the file names it, else the clean [`SessionMeta::image`].
    /// Absent for sessions whose unit names `kept_image` literally (made
    /// before image files, or whose clean image is not under `localhost/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_file: Option<PathBuf>,
}

impl SessionMeta {
    /// The session's current agent-state volume: [`SessionMeta::state_volume`]
    /// or `NAME-state`.
    #[must_use]
    pub fn current_state_volume(&self) -> String {
        self.state_volume
            .clone()
            .unwrap_or_else(|| format!("{}-state", self.name))
    }
}

/// The values a session was made with, in the form of the configuration
/// keys they came from (`agent.command`, `[session]`), so that making the
/// session again (`ccy clone`, `ccy import`) passes them through the same
/// checks as `ccy new` ([`crate::session::options::resolve`]). Paths are
/// absolute, `session.env` entries are `NAME=VALUE` (the values ccy
/// passed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionOptions {
    /// The agent's argv (`agent.command` + pass-through arguments).
    pub agent: Vec<String>,
    /// `session.autostart`.
    pub autostart: bool,
    /// `session.network` (empty: Podman's default).
    #[serde(default)]
    pub network: String,
    /// `session.memory` (empty: no limit).
    #[serde(default)]
    pub memory: String,
    /// `session.cpus` as text (empty: no limit).
    #[serde(default)]
    pub cpus: String,
    /// `session.pids` (0: no limit).
    #[serde(default)]
    pub pids: u32,
    /// `session.mounts`, `HOST:CONTAINER:ro|rw`.
    #[serde(default)]
    pub mounts: Vec<String>,
    /// `session.env`, `NAME=VALUE`.
    #[serde(default)]
    pub env: Vec<String>,
    /// `session.ssh_keys`, absolute paths.
    #[serde(default)]
    pub ssh_keys: Vec<String>,
}

impl SessionOptions {
    /// The options of `spec`, in configuration form, without what ccy adds
    /// for a linked worktree
    /// ([`crate::session::options::add_linked_worktree_git`]: the
    /// repository's git directory, mounted read-write at a path ending in
    /// `.git`, and `GIT_CONFIG_*`), which belongs to the worktree, not to
    /// the session: making the session again elsewhere adds what that
    /// worktree needs.
    #[must_use]
    pub fn from_spec(spec: &SessionSpec) -> Self {
        let mut run = spec.run.clone();
        let git_dir =
            |d: &str| d.ends_with("/.git") || Path::new(d).extension().is_some_and(|e| e == "git");
        run.mounts.retain(|m| m.read_only || !git_dir(&m.dest));
        run.env.retain(|(k, _)| !k.starts_with("GIT_CONFIG_"));
        let run = &run;
        Self {
            agent: spec.agent.clone(),
            autostart: spec.autostart,
            network: run.network.clone().unwrap_or_default(),
            memory: run
                .limits
                .memory
                .as_ref()
                .map(|m| m.text.clone())
                .unwrap_or_default(),
            cpus: run.limits.cpus_text().unwrap_or_default(),
            pids: run.limits.pids.unwrap_or(0),
            mounts: run
                .mounts
                .iter()
                .map(|m| {
                    format!(
                        "{}:{}:{}",
                        m.source.to_string_lossy(),
                        m.dest,
                        if m.read_only { "ro" } else { "rw" }
                    )
                })
                .collect(),
            env: run.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            ssh_keys: run
                .ssh_keys
                .iter()
                .map(|k| k.source.to_string_lossy().into_owned())
                .collect(),
        }
    }

    /// Puts these options into `config` (`agent.command` and the
    /// `[session]` keys they name; `session.max_running` and the rest stay),
    /// so that [`crate::session::create::create`] checks them as it checks a new
    /// session's configuration.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] when `cpus` is not a number or a
    /// value does not fit its key.
    pub fn apply(&self, config: &mut crate::config::Config) -> Result<()> {
        let base = crate::config::Loader::from_config(config)?;
        *config = self.layer(base, "the session's options")?.finish()?.config;
        Ok(())
    }

    /// Overlays these options on `loader` as a layer named `from` (`session
    /// ccy-app-0123abcd`): `agent.command` (when recorded) and the
    /// `[session]` keys they name, each replacing the value below, so that
    /// flags given after it (`ccy clone --memory 4g`) still win.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] when `cpus` is not a number or a
    /// value does not fit its key.
    pub fn layer(
        &self,
        loader: crate::config::Loader,
        from: &str,
    ) -> Result<crate::config::Loader> {
        use toml::Value;
        let cpus = if self.cpus.is_empty() {
            0.0
        } else {
            self.cpus.parse::<f64>().map_err(|_| {
                crate::error::Error::usage(format!(
                    "invalid CPU limit {:?} in the session's options",
                    self.cpus
                ))
            })?
        };
        let list = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
        let mut l = loader;
        if !self.agent.is_empty() {
            l = l.flag("agent.command", list(&self.agent), from)?;
        }
        l.flag("session.autostart", Value::Boolean(self.autostart), from)?
            .flag("session.network", Value::String(self.network.clone()), from)?
            .flag("session.memory", Value::String(self.memory.clone()), from)?
            .flag("session.cpus", Value::Float(cpus), from)?
            .flag("session.pids", Value::Integer(i64::from(self.pids)), from)?
            .flag("session.mounts", list(&self.mounts), from)?
            .flag("session.env", list(&self.env), from)?
            .flag("session.ssh_keys", list(&self.ssh_keys), from)
    }
}

/// A git worktree ccy created for a session (`git worktree add`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWorktree {
    /// The branch checked out in it.
    pub branch: String,
    /// Whether ccy also created the branch (`git worktree add -b`), rather
    /// than checking out an existing one.
    pub new_branch: bool,
}

/// Everything needed to render a new session's units: plain values, no
/// clap types, no I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSpec {
    /// Session, container and unit base name.
    pub name: SessionName,
    /// Project (label `ccy.project`).
    pub project: String,
    /// Worktree, absolute and canonical; bind-mounted at `/workspace`.
    pub worktree: PathBuf,
    /// Branch at creation.
    pub branch: String,
    /// Creation time, RFC 3339 UTC.
    pub created: String,
    /// Image to run.
    pub image: String,
    /// The agent's argv (configured command + pass-through arguments).
    pub agent: Vec<String>,
    /// Start at login/boot (`[Install] WantedBy=default.target`).
    pub autostart: bool,
    /// The host's `~/.gitconfig`, mounted read-only when it exists.
    pub gitconfig: Option<PathBuf>,
    /// The session's state directory on the host, mounted at
    /// [`crate::contract::RUN_DIR`] in the container (readiness, tmux status, saved panes).
    pub state_dir: PathBuf,
    /// The git worktree ccy created for this session, if it did.
    pub created_worktree: Option<CreatedWorktree>,
    /// Network, resource limits, extra mounts, environment and SSH keys
    /// (`[session]` and the creation flags).
    pub run: RunOptions,
    /// The Podman secret holding Claude's token (`ccy-token-NAME`), given
    /// to the container as `CLAUDE_CODE_OAUTH_TOKEN`; `None`: no token.
    pub token_secret: Option<String>,
    /// The project's conversation-history volume (`ccy-history-PROJECT`),
    /// shared by the project's sessions; `None`: history stays in the
    /// session's state volume.
    pub history_volume: Option<String>,
    /// Label the session `ccy.keep=true` (`ccy new --keep`): `ccy prune`
    /// never removes it.
    pub keep: bool,
    /// Keep the container's layer on every stop: the unit runs the
    /// session's own image and commits into it from `ExecStop=`
    /// (`crate::session::keep`). `None`: the unit runs [`SessionSpec::image`]
    /// and loses its layer on a stop (sessions made by older ccy versions).
    pub keep_layer: Option<KeepLayer>,
}

/// How a session keeps its container layer (see [`SessionSpec::keep_layer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepLayer {
    /// The image the layer is committed into, `localhost/ccy-kept:NAME`.
    pub image: String,
    /// The absolute path of the ccy binary that `ExecStop=` runs
    /// (`ccy keep-layer NAME STATE_DIR [IMAGE_FILE]`).
    pub ccy: PathBuf,
    /// The session's image file (an absolute host path outside every
    /// directory mounted into a container): the unit runs
    /// `Image=localhost/${CCY_IMAGE}` with `CCY_IMAGE` set to the clean
    /// image less `localhost/` and overridden by this file
    /// (`EnvironmentFile=-`), so no tag exists until a stop keeps a
    /// change. Needs a clean image under `localhost/` ([`local_image`]).
    /// `None`: the unit runs [`KeepLayer::image`] literally, which must
    /// exist (tagged from the clean image when the session is made).
    pub image_file: Option<PathBuf>,
}

/// The part of `image` after `localhost/`
/// ([`crate::contract::LOCAL_IMAGE_PREFIX`]) when it is a local image
/// (`localhost/ccy:latest` → `ccy:latest`); `None` for an image of a
/// registry or an unqualified name. Quadlet takes `Image=localhost/...`
/// as fully qualified (its `isUnambiguousName` reads the part before
/// the first `/`), so `Image=localhost/${CCY_IMAGE}` draws no warning,
/// and whatever the variable holds, the argument Podman gets starts with
/// `localhost/`: it can never be read as an option.
#[must_use]
pub fn local_image(image: &str) -> Option<&str> {
    image
        .strip_prefix(crate::contract::LOCAL_IMAGE_PREFIX)
        .filter(|rest| !rest.is_empty())
}

impl SessionSpec {
    /// The metadata line's content for this session.
    #[must_use]
    pub fn meta(&self) -> SessionMeta {
        SessionMeta {
            name: self.name.to_string(),
            project: self.project.clone(),
            worktree: self.worktree.clone(),
            branch: self.branch.clone(),
            created: self.created.clone(),
            image: self.image.clone(),
            created_worktree: self.created_worktree.clone(),
            options: Some(SessionOptions::from_spec(self)),
            state_volume: None,
            kept_image: self.keep_layer.as_ref().map(|k| k.image.clone()),
            image_file: self.keep_layer.as_ref().and_then(|k| k.image_file.clone()),
        }
    }
}

/// A session found on disk: its metadata and its `.container` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFile {
    /// The metadata line's content.
    pub meta: SessionMeta,
    /// The `.container` file.
    pub path: PathBuf,
}

impl SessionFile {
    /// The session name, validated.
    ///
    /// # Errors
    /// When the file holds a name ccy would not accept (edited by hand).
    pub fn name(&self) -> Result<SessionName> {
        SessionName::parse(&self.meta.name)
    }
}

/// A session's metadata for tests: project `app`, a worktree with a space
/// in its path, branch `main`, no options.
#[cfg(test)]
pub(crate) fn example_meta(name: &str) -> SessionMeta {
    SessionMeta {
        name: name.into(),
        project: "app".into(),
        worktree: "/home/dev/My App".into(),
        branch: "main".into(),
        created: "2026-11-21T05:00:00Z".into(),
        image: "localhost/ccy:latest".into(),
        created_worktree: None,
        options: None,
        state_volume: None,
        kept_image: None,
        image_file: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn options_round_trip_through_the_configuration_form() {
        let home = Path::new("/home/dev");
        for (label, spec) in crate::quadlet::render::examples() {
            let opts = SessionOptions::from_spec(&spec);
            let json = serde_json::to_string(&opts).unwrap();
            let back: SessionOptions = serde_json::from_str(&json).unwrap();
            assert_eq!(back, opts, "{label}");
            let mut cfg = crate::config::Loader::new().finish().unwrap().config;
            opts.apply(&mut cfg).unwrap();
            assert_eq!(cfg.agent.command, spec.agent, "{label}");
            assert_eq!(cfg.session.autostart, spec.autostart, "{label}");
            let s = &cfg.session;
            assert_eq!(
                crate::quadlet::runopts::network(&s.network),
                spec.run.network
            );
            assert_eq!(
                crate::quadlet::runopts::parse_memory(&s.memory).unwrap(),
                spec.run.limits.memory
            );
            assert_eq!(
                crate::quadlet::runopts::parse_cpus(s.cpus).unwrap(),
                spec.run.limits.millicpus
            );
            assert_eq!((s.pids > 0).then_some(s.pids), spec.run.limits.pids);
            let mounts: Vec<_> = s
                .mounts
                .iter()
                .map(|m| crate::quadlet::runopts::parse_mount(m, home).unwrap())
                .collect();
            assert_eq!(mounts, spec.run.mounts, "{label}");
            let env: Vec<(String, String)> = s
                .env
                .iter()
                .map(|e| match crate::quadlet::runopts::parse_env(e).unwrap() {
                    crate::quadlet::runopts::EnvEntry::Set(k, v) => (k, v),
                    crate::quadlet::runopts::EnvEntry::Pass(k) => (k, String::new()),
                })
                .collect();
            assert_eq!(env, spec.run.env, "{label}");
        }
    }

    #[test]
    fn the_linked_worktree_git_mount_is_not_an_option() {
        let mut spec = crate::quadlet::render::examples().remove(2).1;
        let before = SessionOptions::from_spec(&spec);
        spec.run.mounts.push(crate::quadlet::runopts::BindMount {
            source: "/home/dev/src/app/.git".into(),
            dest: "/home/dev/src/app/.git".into(),
            read_only: false,
        });
        spec.run.env.push(("GIT_CONFIG_COUNT".into(), "1".into()));
        assert_eq!(SessionOptions::from_spec(&spec), before);
    }
}
