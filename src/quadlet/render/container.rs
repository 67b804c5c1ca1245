//! The session's two Quadlet files: `NAME.container`, with the values of
//! its keys (image, labels, mounts, environment, limits, the keep-layer
//! stop), and `NAME.volume`, its state volume.

use serde::Serialize;

use super::{RenderError, check_executable, render_template, utf8};
use crate::contract::{
    AGENT_VAR, GITCONFIG_MOUNT, HISTORY_MOUNT, KEPT_IMAGE_VAR, KNOWN_HOSTS, LABEL_BRANCH,
    LABEL_CREATED, LABEL_PROJECT, LABEL_SESSION, LABEL_WORKTREE, LOCAL_IMAGE_PREFIX, RUN_DIR,
    SSH_AGENT_SOCK, STATE_MOUNT, TOKEN_VAR, WORKSPACE,
};
use crate::names::SessionName;
use crate::quadlet::escape;
use crate::quadlet::meta::META_PREFIX;
use crate::quadlet::runopts::Limits;
use crate::quadlet::spec::{SessionSpec, local_image};

/// The session container template, `units/session.container`.
pub const SESSION_CONTAINER: &str = include_str!("../../../units/session.container");
/// The session volume template, `units/session.volume`.
pub const SESSION_VOLUME: &str = include_str!("../../../units/session.volume");

/// The text of a session's two Quadlet files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUnits {
    /// `NAME.container`.
    pub container: String,
    /// `NAME.volume`.
    pub volume: String,
}

#[derive(Serialize)]
struct ContainerCtx {
    name: String,
    version: &'static str,
    meta_line: String,
    image: String,
    labels: Vec<String>,
    workspace_mount: String,
    state_volume: String,
    history_volume: Option<String>,
    mounts: Vec<String>,
    environment: Vec<String>,
    secret: Option<String>,
    network: Option<String>,
    pids_limit: Option<u32>,
    podman_args: Option<String>,
    autostart: bool,
    keep_layer: Option<String>,
    image_env: Option<String>,
    image_file: Option<String>,
}

#[derive(Serialize)]
struct VolumeCtx {
    name: String,
    version: &'static str,
    volume_name: String,
    labels: Vec<String>,
}

/// Renders `spec` into its `.container` and `.volume` files.
///
/// # Errors
/// [`RenderError::Value`] naming the field when a value cannot be carried
/// unchanged to Podman; [`RenderError::Template`] for a template bug.
pub fn session(spec: &SessionSpec) -> Result<SessionUnits, RenderError> {
    let name = spec.name.as_str();
    let worktree = utf8("worktree path", &spec.worktree)?;
    let meta_json = serde_json::to_string(&spec.meta()).map_err(|e| RenderError::Template {
        name: "session.container",
        message: e.to_string(),
    })?;
    // JSON escapes control characters, so the line has no newline, and it
    // ends with `}`, never with a continuation backslash.
    let meta_line = format!("{META_PREFIX}{meta_json}");
    let mut labels = vec![
        escape::label("project", LABEL_PROJECT, &spec.project)?,
        escape::label("worktree path", LABEL_WORKTREE, worktree)?,
        escape::label("branch", LABEL_BRANCH, &spec.branch)?,
        escape::label("creation time", LABEL_CREATED, &spec.created)?,
    ];
    if spec.keep {
        labels.push(escape::label(
            "keep label",
            crate::contract::LABEL_KEEP,
            "true",
        )?);
    }
    let mounts = extra_mounts(spec)?;
    let environment = environment(spec)?;
    let secret = spec
        .token_secret
        .as_deref()
        .map(|s| {
            escape::resource_name("token secret", s)?;
            escape::exec_arg("token secret", &format!("{s},type=env,target={TOKEN_VAR}"))
        })
        .transpose()?;
    let network = spec
        .run
        .network
        .as_deref()
        .map(|n| escape::verbatim_arg("network", n))
        .transpose()?;
    let limits = &spec.run.limits;
    let history_volume = spec
        .history_volume
        .as_deref()
        .map(|v| escape::named_volume("history volume", v, HISTORY_MOUNT, &[]))
        .transpose()?;
    let (image, image_env, image_file) = image_keys(spec)?;
    let ctx = ContainerCtx {
        name: escape::resource_name("session name", name)?,
        version: env!("CARGO_PKG_VERSION"),
        meta_line,
        image,
        labels,
        workspace_mount: escape::bind_mount("worktree path", worktree, WORKSPACE, &["rw"])?,
        state_volume: escape::named_volume(
            "state volume",
            &spec.name.volume_file(),
            STATE_MOUNT,
            &[],
        )?,
        history_volume,
        mounts,
        environment,
        secret,
        network,
        pids_limit: limits.pids,
        podman_args: limit_args(limits)?,
        autostart: spec.autostart,
        keep_layer: spec
            .keep_layer
            .as_ref()
            .map(|k| keep_layer_stop(k, name, &spec.state_dir))
            .transpose()?,
        image_env,
        image_file,
    };
    Ok(SessionUnits {
        container: render_template("session.container", SESSION_CONTAINER, &ctx)?,
        volume: state_volume(&spec.name, &spec.name.state_volume(), &spec.project)?,
    })
}

/// The `ExecStop=` command line (after its `-`) that keeps the layer:
/// `CCY keep-layer NAME STATE_DIR [IMAGE_FILE]`.
fn keep_layer_stop(
    keep: &crate::quadlet::spec::KeepLayer,
    name: &str,
    state_dir: &std::path::Path,
) -> Result<String, RenderError> {
    let ccy = utf8("ccy binary path", &keep.ccy)?;
    check_executable(ccy)?;
    let state_dir = utf8("state directory", state_dir)?;
    let mut argv = vec![ccy, crate::contract::KEEP_LAYER_VERB, name, state_dir];
    if let Some(file) = &keep.image_file {
        argv.push(utf8("image file", file)?);
    }
    Ok(escape::exec_args("keep-layer command", &argv)?)
}

/// The unit's image keys: `Image=`, and for a session with an image file
/// ([`crate::quadlet::spec::KeepLayer::image_file`]) the `[Service]`
/// `Environment=` item that sets [`KEPT_IMAGE_VAR`] to the clean image
/// less `localhost/` and the `EnvironmentFile=` that overrides it; then
/// `Image=` is `localhost/${CCY_IMAGE}`, which systemd expands at each
/// start to one argument (systemd.service(5), "Command lines") and
/// Quadlet passes through unchanged.
///
/// # Errors
/// An image reference [`escape::image`] refuses; an image file with a
/// clean image outside `localhost/` ([`local_image`]) or a path
/// [`escape::env_file`] refuses.
fn image_keys(spec: &SessionSpec) -> Result<(String, Option<String>, Option<String>), RenderError> {
    let Some(keep) = &spec.keep_layer else {
        return Ok((escape::image("image", &spec.image)?, None, None));
    };
    let Some(file) = &keep.image_file else {
        return Ok((escape::image("image", &keep.image)?, None, None));
    };
    escape::image("image", &spec.image)?;
    let Some(rest) = local_image(&spec.image) else {
        return Err(RenderError::Value {
            field: "image",
            source: escape::EscapeError::Value {
                field: "image".to_owned(),
                value: spec.image.chars().take(64).collect(),
                position: "Image=localhost/${CCY_IMAGE}",
                reason: "a session with an image file needs a clean image under localhost/",
            },
        });
    };
    Ok((
        format!("{LOCAL_IMAGE_PREFIX}${{{KEPT_IMAGE_VAR}}}"),
        Some(escape::service_env("image", KEPT_IMAGE_VAR, rest)?),
        Some(escape::env_file("image file", utf8("image file", file)?)?),
    ))
}

/// Renders the `NAME.volume` file of session `name` for the Podman volume
/// `volume_name` (normally `NAME-state`; `ccy attach --reset` renders it
/// again with a new one), labelled with the session and `project`.
///
/// # Errors
/// [`RenderError::Value`] when a value cannot be carried unchanged.
pub fn state_volume(
    name: &SessionName,
    volume_name: &str,
    project: &str,
) -> Result<String, RenderError> {
    let volume = VolumeCtx {
        name: name.to_string(),
        version: env!("CARGO_PKG_VERSION"),
        volume_name: escape::resource_name("state volume", volume_name)?,
        labels: vec![
            escape::label("session name", LABEL_SESSION, name.as_str())?,
            escape::label("project", LABEL_PROJECT, project)?,
        ],
    };
    render_template("session.volume", SESSION_VOLUME, &volume)
}

/// The `Mount=` values after the worktree: gitconfig, state directory,
/// SSH keys, `known_hosts`, the user's mounts.
fn extra_mounts(spec: &SessionSpec) -> Result<Vec<String>, RenderError> {
    // One `Mount=` value: the host path as UTF-8, escaped with its mode.
    let bind = |field: &'static str, source: &std::path::Path, dest: &str, mode: &str| {
        Ok::<_, RenderError>(escape::bind_mount(
            field,
            utf8(field, source)?,
            dest,
            &[mode],
        )?)
    };
    let mut mounts = Vec::new();
    if let Some(gc) = &spec.gitconfig {
        mounts.push(bind("gitconfig path", gc, GITCONFIG_MOUNT, "ro")?);
    }
    mounts.push(bind("state directory", &spec.state_dir, RUN_DIR, "rw")?);
    for key in &spec.run.ssh_keys {
        mounts.push(bind("SSH key", &key.source, &key.dest, "ro")?);
    }
    if let Some(kh) = &spec.run.known_hosts {
        mounts.push(bind("known_hosts", kh, KNOWN_HOSTS, "ro")?);
    }
    for m in &spec.run.mounts {
        let mode = if m.read_only { "ro" } else { "rw" };
        mounts.push(bind("mount", &m.source, &m.dest, mode)?);
    }
    Ok(mounts)
}

/// The `Environment=` items: ccy's own, `SSH_AUTH_SOCK` when there are
/// keys, then the user's.
fn environment(spec: &SessionSpec) -> Result<Vec<String>, RenderError> {
    let agent_line = shell_words::join(&spec.agent);
    let mut environment = vec![
        escape::container_env("session name", "CCY_SESSION", spec.name.as_str())?,
        escape::container_env("agent command", AGENT_VAR, &agent_line)?,
    ];
    if !spec.run.ssh_keys.is_empty() {
        environment.push(escape::container_env(
            "ssh-agent socket",
            "SSH_AUTH_SOCK",
            SSH_AGENT_SOCK,
        )?);
    }
    for (k, v) in &spec.run.env {
        environment.push(escape::container_env("environment", k, v)?);
    }
    Ok(environment)
}

/// `PodmanArgs=` for the memory and CPU limits (Quadlet in Podman 5.4 has
/// no keys for them; `PidsLimit=` has one), or `None`.
fn limit_args(limits: &Limits) -> Result<Option<String>, RenderError> {
    let mut args = Vec::new();
    if let Some(m) = &limits.memory {
        args.push(format!("--memory={}", m.text));
    }
    if let Some(c) = limits.cpus_text() {
        args.push(format!("--cpus={c}"));
    }
    if args.is_empty() {
        return Ok(None);
    }
    Ok(Some(escape::exec_args("resource limits", &args)?))
}
