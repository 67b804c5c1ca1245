//! Sessions: what ccy knows about one, and where it finds them.
//!
//! A session is a Quadlet `NAME.container` (+ `NAME.volume`) in the user's
//! Quadlet directory, the systemd unit generated from it, and — while it
//! runs — a container of the same name. Quadlet runs containers with
//! `--rm`, so a stopped session has no container: its unit file is the
//! record. Each file ccy writes starts with a metadata comment
//! ([`META_PREFIX`] + JSON) so ccy can list stopped sessions without
//! parsing unit syntax; the same facts are on the container as labels.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Context, Result};
use crate::fsutil;
use crate::git::Worktree;
use crate::names::SessionName;
use crate::runopts::RunOptions;

/// The comment that starts the metadata line of a ccy `.container` file.
pub const META_PREFIX: &str = "# ccy-session-v1 ";

/// Where the session's host state directory is mounted in the container.
pub const RUN_DIR: &str = "/run/ccy";

/// The file the session's tmux creates in [`RUN_DIR`] once session `main`
/// exists (last line of `tmux.conf`).
pub const READY_FILE: &str = "ready";

/// The fast-path file in a worktree naming its last session.
pub const SESSION_ID_FILE: &str = ".claude/ccy/.session-id";

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
/// checks as `ccy new` ([`crate::runopts::resolve`]). Paths are absolute,
/// `session.env` entries are `NAME=VALUE` (the values ccy passed).
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
    /// for a linked worktree ([`crate::runopts::add_linked_worktree_git`]:
    /// the repository's git directory, mounted read-write at a path ending
    /// in `.git`, and `GIT_CONFIG_*`), which belongs to the worktree, not to
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
    /// so that [`crate::lifecycle::create`] checks them as it checks a new
    /// session's configuration.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] when `cpus` is not a number.
    pub fn apply(&self, config: &mut crate::config::Config) -> Result<()> {
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
        if !self.agent.is_empty() {
            config.agent.command.clone_from(&self.agent);
        }
        let s = &mut config.session;
        s.autostart = self.autostart;
        s.network.clone_from(&self.network);
        s.memory.clone_from(&self.memory);
        s.cpus = cpus;
        s.pids = self.pids;
        s.mounts.clone_from(&self.mounts);
        s.env.clone_from(&self.env);
        s.ssh_keys.clone_from(&self.ssh_keys);
        Ok(())
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
    /// [`RUN_DIR`] in the container (readiness, tmux status, saved panes).
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

/// Reads the session `name` from `quadlet_dir`, or `None` when there is no
/// ccy file of that name.
///
/// # Errors
/// When the file exists but cannot be read.
pub fn read_session(quadlet_dir: &Path, name: &SessionName) -> Result<Option<SessionFile>> {
    let path = quadlet_dir.join(name.container_file());
    match fs::read_to_string(&path) {
        Ok(text) => Ok(parse_meta(&text)
            .filter(|m| m.name == name.as_str())
            .map(|meta| SessionFile { meta, path })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// All ccy sessions in `quadlet_dir` (files with a metadata line), sorted
/// by name. Other Quadlet files are ignored.
///
/// # Errors
/// When the directory exists but cannot be read.
pub fn read_sessions(quadlet_dir: &Path) -> Result<Vec<SessionFile>> {
    let entries = match fs::read_dir(quadlet_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", quadlet_dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "container") {
            continue;
        }
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        if let Some(meta) = parse_meta(&text) {
            out.push(SessionFile { meta, path });
        }
    }
    out.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    Ok(out)
}

/// Reads the fast-path session name from `WORKTREE/.claude/ccy/.session-id`.
/// Returns `None` when absent or not a valid name; the caller must still
/// verify the session before using it.
#[must_use]
pub fn read_session_id(worktree: &Worktree) -> Option<SessionName> {
    fs::read_to_string(worktree.root.join(SESSION_ID_FILE))
        .ok()
        .and_then(|s| SessionName::parse(s.trim()).ok())
}

/// Records `name` as the worktree's session in `.claude/ccy/.session-id`
/// and makes sure `.claude/ccy/.gitignore` ignores it.
///
/// # Errors
/// When the files cannot be written.
pub fn write_session_id(worktree: &Worktree, name: &SessionName) -> Result<()> {
    let dir = worktree.root.join(".claude/ccy");
    fsutil::write_atomic(
        &worktree.root.join(SESSION_ID_FILE),
        format!("{name}\n").as_bytes(),
        0o644,
    )?;
    let ignore = dir.join(".gitignore");
    let current = fs::read_to_string(&ignore).unwrap_or_default();
    if !current.lines().any(|l| l.trim() == ".session-id") {
        let mut text = current;
        if text.is_empty() {
            text.push_str("# Written by ccy: per-machine session state.\n");
        } else if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(".session-id\n");
        fsutil::write_atomic(&ignore, text.as_bytes(), 0o644)?;
    }
    Ok(())
}

/// The current time as RFC 3339 UTC with seconds (`2026-11-21T05:00:00Z`).
#[must_use]
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn meta(name: &str) -> SessionMeta {
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
        }
    }

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
    fn meta_round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let m = meta("ccy-app-00000001");
        let text = format!(
            "# header\n{META_PREFIX}{}\n[Container]\n",
            serde_json::to_string(&m).unwrap()
        );
        fs::write(dir.path().join("ccy-app-00000001.container"), &text).unwrap();
        fs::write(dir.path().join("other.container"), "[Container]\nImage=x\n").unwrap();
        fs::write(dir.path().join("ccy-app-00000001.volume"), &text).unwrap();
        let all = read_sessions(dir.path()).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].meta, m);
        let name = SessionName::parse("ccy-app-00000001").unwrap();
        assert_eq!(read_session(dir.path(), &name).unwrap().unwrap().meta, m);
        let other = SessionName::parse("other").unwrap();
        assert!(read_session(dir.path(), &other).unwrap().is_none());
        assert!(
            read_sessions(&dir.path().join("missing"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn meta_with_a_foreign_name_is_not_that_session() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{META_PREFIX}{}\n",
            serde_json::to_string(&meta("b")).unwrap()
        );
        fs::write(dir.path().join("a.container"), text).unwrap();
        let a = SessionName::parse("a").unwrap();
        assert!(read_session(dir.path(), &a).unwrap().is_none());
    }

    #[test]
    fn session_id_file_and_gitignore() {
        let dir = tempfile::tempdir().unwrap();
        let wt = Worktree {
            root: dir.path().to_path_buf(),
            git_dir: dir.path().join(".git"),
            common_dir: dir.path().join(".git"),
        };
        assert!(read_session_id(&wt).is_none());
        let n = SessionName::parse("s-1").unwrap();
        write_session_id(&wt, &n).unwrap();
        write_session_id(&wt, &n).unwrap();
        assert_eq!(read_session_id(&wt), Some(n));
        let ignore = fs::read_to_string(dir.path().join(".claude/ccy/.gitignore")).unwrap();
        assert_eq!(ignore.matches(".session-id").count(), 1, "{ignore}");
        fs::write(dir.path().join(SESSION_ID_FILE), "bad name\n").unwrap();
        assert!(read_session_id(&wt).is_none());
    }

    #[test]
    fn options_round_trip_through_the_configuration_form() {
        let home = Path::new("/home/dev");
        for (label, spec) in crate::render::examples() {
            let opts = SessionOptions::from_spec(&spec);
            let json = serde_json::to_string(&opts).unwrap();
            let back: SessionOptions = serde_json::from_str(&json).unwrap();
            assert_eq!(back, opts, "{label}");
            let mut cfg = crate::config::Loader::new().finish().unwrap().config;
            opts.apply(&mut cfg).unwrap();
            assert_eq!(cfg.agent.command, spec.agent, "{label}");
            assert_eq!(cfg.session.autostart, spec.autostart, "{label}");
            let s = &cfg.session;
            assert_eq!(crate::runopts::network(&s.network), spec.run.network);
            assert_eq!(
                crate::runopts::parse_memory(&s.memory).unwrap(),
                spec.run.limits.memory
            );
            assert_eq!(
                crate::runopts::parse_cpus(s.cpus).unwrap(),
                spec.run.limits.millicpus
            );
            assert_eq!((s.pids > 0).then_some(s.pids), spec.run.limits.pids);
            let mounts: Vec<_> = s
                .mounts
                .iter()
                .map(|m| crate::runopts::parse_mount(m, home).unwrap())
                .collect();
            assert_eq!(mounts, spec.run.mounts, "{label}");
            let env: Vec<(String, String)> = s
                .env
                .iter()
                .map(|e| match crate::runopts::parse_env(e).unwrap() {
                    crate::runopts::EnvEntry::Set(k, v) => (k, v),
                    crate::runopts::EnvEntry::Pass(k) => (k, String::new()),
                })
                .collect();
            assert_eq!(env, spec.run.env, "{label}");
        }
    }

    #[test]
    fn the_linked_worktree_git_mount_is_not_an_option() {
        let mut spec = crate::render::examples().remove(2).1;
        let before = SessionOptions::from_spec(&spec);
        spec.run.mounts.push(crate::runopts::BindMount {
            source: "/home/dev/src/app/.git".into(),
            dest: "/home/dev/src/app/.git".into(),
            read_only: false,
        });
        spec.run.env.push(("GIT_CONFIG_COUNT".into(), "1".into()));
        assert_eq!(SessionOptions::from_spec(&spec), before);
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

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z') && t.len() == 20, "{t}");
    }
}
