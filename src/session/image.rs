//! The agent image: ccy's Containerfile and the files it copies in, built
//! with `podman build` when missing or built from other assets.
//!
//! The build context is embedded in the binary, so an installed `ccy` needs
//! nothing from the source tree. The image carries the label
//! [`LABEL_ASSETS`]: a hash of the Containerfile, `tmux.conf`, `agent`,
//! `start`, `status`, `save-panes`, `agent-hook`, `managed-settings.json`, the base image and the agent install command. When that label differs from
//! what this ccy would build, the image is rebuilt; an image without the
//! label is the user's own and is used as it is.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Context, Result};
use crate::host::podman::api::PodmanApi;
use crate::host::podman::cli as podman_cli;

/// ccy's Containerfile.
pub const CONTAINERFILE: &str = include_str!("image/Containerfile");
/// The session's tmux configuration, installed as `/etc/ccy/tmux.conf`.
pub const TMUX_CONF: &str = include_str!("image/tmux.conf");
/// The agent launcher, installed as `/etc/ccy/agent`.
pub const AGENT_LAUNCHER: &str = include_str!("image/agent");
/// The container's command, installed as `/etc/ccy/start`: execs the tmux
/// server and makes it load its configuration at once.
pub const START_SCRIPT: &str = include_str!("image/start");
/// Writes tmux's activity and client count to `/run/ccy/status`, installed
/// as `/etc/ccy/status`.
pub const STATUS_SCRIPT: &str = include_str!("image/status");
/// Saves every pane of the session into `/run/ccy/panes/` (the session's
/// state directory on the host) before it stops, installed as
/// `/etc/ccy/save-panes` and run by `/etc/ccy/start` on SIGTERM.
pub const SAVE_PANES_SCRIPT: &str = include_str!("image/save-panes");
/// Claude Code's hook that records the agent's state in
/// `/run/ccy/agent.json` ([`crate::contract::AGENT_FILE`]), installed as
/// `/etc/ccy/agent-hook`.
pub const AGENT_HOOK_SCRIPT: &str = include_str!("image/agent-hook");
/// Claude Code's managed settings, installed as
/// `/etc/claude-code/managed-settings.json`: every hook event ccy reads
/// runs [`AGENT_HOOK_SCRIPT`] with the state it means.
pub const MANAGED_SETTINGS: &str = include_str!("image/managed-settings.json");

/// Image label holding the hash of the assets the image was built from.
pub const LABEL_ASSETS: &str = "ccy.image.assets";

/// What to build and from what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    /// The image name sessions run (`localhost/ccy:latest`).
    pub name: String,
    /// The `FROM` image.
    pub base: String,
    /// Shell command installing the agent, or empty.
    pub agent_install: String,
}

impl ImageSpec {
    /// The value of [`LABEL_ASSETS`] this ccy gives the image: 16 hex
    /// digits of FNV-1a over every input of the build.
    #[must_use]
    pub fn assets_hash(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for part in [
            CONTAINERFILE,
            TMUX_CONF,
            AGENT_LAUNCHER,
            START_SCRIPT,
            STATUS_SCRIPT,
            SAVE_PANES_SCRIPT,
            AGENT_HOOK_SCRIPT,
            MANAGED_SETTINGS,
            &self.base,
            &self.agent_install,
        ] {
            for b in part.bytes().chain([0u8]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        format!("{h:016x}")
    }
}

/// What [`ensure`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageState {
    /// The image exists and is current (or is the user's own).
    Ready,
    /// ccy built it now.
    Built,
}

/// Makes sure `spec.name` exists and is current, building it when needed.
/// Progress goes to `out` (a line saying why it builds) and to the terminal
/// (Podman's own output).
///
/// # Errors
/// When the API fails, the context cannot be written, or the build fails
/// ([`crate::error::ExitKind::Session`], Podman's output shows why).
pub async fn ensure(api: &PodmanApi, spec: &ImageSpec, out: &mut dyn Write) -> Result<ImageState> {
    let hash = spec.assets_hash();
    let why = match api.image_labels(&spec.name).await? {
        None => format!("ccy: building the image {} (first use)…", spec.name),
        Some(labels) => match labels.get(LABEL_ASSETS) {
            None => return Ok(ImageState::Ready),
            Some(h) if *h == hash => return Ok(ImageState::Ready),
            Some(_) => format!(
                "ccy: rebuilding the image {} (built by another ccy version or [image] settings)…",
                spec.name
            ),
        },
    };
    writeln!(out, "{why}").ok();
    build_with_hash(spec, &hash)?;
    Ok(ImageState::Built)
}

/// Image label on a project image: [`project_hash`] of what it was built
/// from.
pub const LABEL_PROJECT_HASH: &str = "ccy.image.project-hash";

/// The project's own Containerfile, relative to the worktree.
pub const PROJECT_DOCKERFILE: &str = ".claude/ccy/Dockerfile";

/// The image built from a project's `.claude/ccy/Dockerfile`:
/// `localhost/ccy-project-PROJECT:latest`.
#[must_use]
pub fn project_image_name(project: &str) -> String {
    format!("localhost/ccy-project-{project}:latest")
}

/// The value of [`LABEL_PROJECT_HASH`]: 16 hex digits of FNV-1a over the
/// Dockerfile, the base image's name and its id (so a rebuilt base image
/// rebuilds the project image).
#[must_use]
pub fn project_hash(dockerfile: &[u8], base_name: &str, base_id: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [dockerfile, base_name.as_bytes(), base_id.as_bytes()] {
        for b in part.iter().copied().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Whether `worktree` has a project Dockerfile ([`PROJECT_DOCKERFILE`]),
/// so that a session there runs a project image ([`ensure_project`]).
/// A file that cannot be looked at (not "no such file") counts as there:
/// [`ensure_project`] then says why it cannot be read.
#[must_use]
pub fn has_project_dockerfile(worktree: &Path) -> bool {
    !matches!(
        std::fs::metadata(worktree.join(PROJECT_DOCKERFILE)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound
    )
}

/// A project image: what [`project_image`] found for a worktree with a
/// `.claude/ccy/Dockerfile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectImage {
    /// The image name ([`project_image_name`]).
    pub tag: String,
    /// The base image it is built `FROM` (build argument `CCY_IMAGE`).
    pub base: String,
    /// The build context, `WORKTREE/.claude/ccy`.
    pub context: PathBuf,
    /// The [`LABEL_PROJECT_HASH`] value this build gives it.
    pub hash: String,
    /// Why it needs building (`"first use"`, `"the Dockerfile or the base
    /// image changed"`), or `None` when the image is current.
    pub stale: Option<&'static str>,
}

impl ProjectImage {
    /// Builds it with `podman build` (Podman's output goes to the
    /// terminal).
    ///
    /// # Errors
    /// When Podman cannot run or the build fails
    /// ([`crate::error::ExitKind::Session`]).
    pub fn build(&self) -> Result<()> {
        podman_cli::build_image(
            &self.context,
            &self.tag,
            &[("CCY_IMAGE".to_owned(), self.base.clone())],
            &[(LABEL_PROJECT_HASH.to_owned(), self.hash.clone())],
        )
    }
}

/// The project image of `worktree` built `FROM` `base` (which must exist),
/// or `None` when the worktree has no `.claude/ccy/Dockerfile`. Builds
/// nothing: [`ProjectImage::stale`] says whether it needs building.
///
/// # Errors
/// When the API fails or the Dockerfile cannot be read.
pub async fn project_image(
    api: &PodmanApi,
    worktree: &Path,
    project: &str,
    base: &str,
) -> Result<Option<ProjectImage>> {
    let dockerfile = worktree.join(PROJECT_DOCKERFILE);
    let text = match std::fs::read(&dockerfile) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", dockerfile.display()));
        }
    };
    let base_id = api.image_id(base).await?.unwrap_or_default();
    let hash = project_hash(&text, base, &base_id);
    let tag = project_image_name(project);
    let stale = match api.image_labels(&tag).await? {
        None => Some("first use"),
        Some(labels) if labels.get(LABEL_PROJECT_HASH) == Some(&hash) => None,
        Some(_) => Some("the Dockerfile or the base image changed"),
    };
    Ok(Some(ProjectImage {
        tag,
        base: base.to_owned(),
        context: worktree.join(".claude/ccy"),
        hash,
        stale,
    }))
}

/// The image a new session of `worktree` runs. Without
/// `WORKTREE/.claude/ccy/Dockerfile` that is `base` (which must exist:
/// call [`ensure`] first). With one, it is [`project_image_name`], built
/// with `podman build` from the context `.claude/ccy/` with the build
/// argument `CCY_IMAGE=<base>` (so the Dockerfile can start
/// `ARG CCY_IMAGE` / `FROM ${CCY_IMAGE}`), and rebuilt when the Dockerfile
/// or the base image changed ([`LABEL_PROJECT_HASH`]). When the build
/// fails, as today's ccy does, the session falls back to `base` with a
/// warning on `out`.
///
/// # Errors
/// When the API fails or the Dockerfile cannot be read; a failed build is
/// not an error.
pub async fn ensure_project(
    api: &PodmanApi,
    worktree: &Path,
    project: &str,
    base: &str,
    out: &mut dyn Write,
) -> Result<String> {
    let Some(image) = project_image(api, worktree, project, base).await? else {
        return Ok(base.to_owned());
    };
    let Some(why) = image.stale else {
        return Ok(image.tag);
    };
    writeln!(
        out,
        "ccy: building the project image {} from {PROJECT_DOCKERFILE} ({why})…",
        image.tag
    )
    .ok();
    match image.build() {
        Ok(()) => Ok(image.tag),
        Err(e) => {
            writeln!(
                out,
                "ccy: warning: {}; this session runs the base image {base} instead (fix {PROJECT_DOCKERFILE}; the next new session builds it again)",
                e.message()
            )
            .ok();
            Ok(base.to_owned())
        }
    }
}

/// Builds `spec` with `podman build` now, whether or not it exists or is
/// current, from ccy's embedded Containerfile and scripts, labelled with
/// [`ImageSpec::assets_hash`]. Podman's output goes to the terminal.
/// [`ensure`] calls this when the image is missing or stale.
///
/// # Errors
/// When the context cannot be written, Podman cannot run, or the build
/// fails ([`crate::error::ExitKind::Session`]).
pub fn build(spec: &ImageSpec) -> Result<()> {
    build_with_hash(spec, &spec.assets_hash())
}

fn build_with_hash(spec: &ImageSpec, hash: &str) -> Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("ccy-image-")
        .tempdir()
        .context("cannot create a build context directory")?;
    for (name, text) in [
        ("Containerfile", CONTAINERFILE),
        ("tmux.conf", TMUX_CONF),
        ("agent", AGENT_LAUNCHER),
        ("start", START_SCRIPT),
        ("status", STATUS_SCRIPT),
        ("save-panes", SAVE_PANES_SCRIPT),
        ("agent-hook", AGENT_HOOK_SCRIPT),
        ("managed-settings.json", MANAGED_SETTINGS),
    ] {
        std::fs::write(dir.path().join(name), text)
            .with_context(|| format!("cannot write {name} into the build context"))?;
    }
    podman_cli::build_image(
        dir.path(),
        &spec.name,
        &[
            ("BASE_IMAGE".to_owned(), spec.base.clone()),
            ("AGENT_INSTALL".to_owned(), spec.agent_install.clone()),
        ],
        &[(LABEL_ASSETS.to_owned(), hash.to_owned())],
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn spec() -> ImageSpec {
        ImageSpec {
            name: "localhost/ccy:latest".into(),
            base: "localhost/base".into(),
            agent_install: String::new(),
        }
    }

    #[test]
    fn hash_changes_with_every_input() {
        let a = spec();
        let mut b = spec();
        b.base.push('x');
        let mut c = spec();
        c.agent_install.push('x');
        assert_eq!(a.assets_hash(), spec().assets_hash());
        assert_ne!(a.assets_hash(), b.assets_hash());
        assert_ne!(a.assets_hash(), c.assets_hash());
        assert_eq!(a.assets_hash().len(), 16);
    }

    #[test]
    fn hash_does_not_depend_on_the_image_name() {
        let mut b = spec();
        b.name = "localhost/other".into();
        assert_eq!(spec().assets_hash(), b.assets_hash());
    }

    #[test]
    fn project_hash_follows_the_dockerfile_and_the_base_image() {
        let h = project_hash(b"FROM ${CCY_IMAGE}\n", "localhost/ccy:latest", "sha256:a");
        assert_eq!(h.len(), 16);
        assert_eq!(
            h,
            project_hash(b"FROM ${CCY_IMAGE}\n", "localhost/ccy:latest", "sha256:a")
        );
        assert_ne!(
            h,
            project_hash(
                b"FROM ${CCY_IMAGE}\nRUN x\n",
                "localhost/ccy:latest",
                "sha256:a"
            )
        );
        assert_ne!(
            h,
            project_hash(b"FROM ${CCY_IMAGE}\n", "localhost/ccy:latest", "sha256:b")
        );
        assert_ne!(
            h,
            project_hash(b"FROM ${CCY_IMAGE}\n", "localhost/other:latest", "sha256:a")
        );
        assert_eq!(
            project_image_name("my-app"),
            "localhost/ccy-project-my-app:latest"
        );
    }

    #[test]
    fn assets_are_wired() {
        assert!(
            CONTAINERFILE
                .contains("COPY tmux.conf agent start status save-panes agent-hook /etc/ccy/")
        );
        assert!(
            CONTAINERFILE
                .contains("COPY managed-settings.json /etc/claude-code/managed-settings.json")
        );
        // Every state the hook writes is one the contract names, and every
        // hook command names a state and its event.
        let settings: serde_json::Value = serde_json::from_str(MANAGED_SETTINGS).unwrap();
        let hooks = settings["hooks"].as_object().unwrap();
        for (event, groups) in hooks {
            for g in groups.as_array().unwrap() {
                for h in g["hooks"].as_array().unwrap() {
                    let cmd = h["command"].as_str().unwrap();
                    let words: Vec<&str> = cmd.split(' ').collect();
                    assert_eq!(words[0], "/etc/ccy/agent-hook", "{cmd}");
                    assert!(crate::contract::AGENT_STATES.contains(&words[1]), "{cmd}");
                    assert_eq!(words[2], event, "{cmd}");
                }
            }
        }
        for event in [
            "SessionStart",
            "UserPromptSubmit",
            "PreToolUse",
            "Stop",
            "Notification",
            "SessionEnd",
        ] {
            assert!(hooks.contains_key(event), "{event}");
        }
        assert!(AGENT_HOOK_SCRIPT.contains(&format!("f=$d/{}\n", crate::contract::AGENT_FILE)));
        assert!(CONTAINERFILE.contains("/etc/ccy/save-panes"));
        assert!(CONTAINERFILE.contains(r#"CMD ["/etc/ccy/start"]"#));
        assert!(START_SCRIPT.contains("tmux -D -f /etc/ccy/tmux.conf &"));
        assert!(START_SCRIPT.contains("trap stop TERM"));
        assert!(SAVE_PANES_SCRIPT.contains("capture-pane -p -S -"));
        assert!(TMUX_CONF.contains("new-session -d -s main"));
        assert!(AGENT_LAUNCHER.contains("eval \"exec $CCY_AGENT\""));
        // The launcher's key directory is where the unit mounts the keys.
        assert!(AGENT_LAUNCHER.contains(&format!("keys={}\n", crate::contract::SSH_KEY_DIR)));
        assert!(AGENT_LAUNCHER.contains("ssh-agent -a \"$SSH_AUTH_SOCK\""));
        assert!(CONTAINERFILE.contains("for c in tmux git ssh-agent;"));
    }
}
