//! Pure rendering of Quadlet and systemd unit files.
//!
//! Templates live in `units/` (tera syntax) and are compiled into the
//! binary. Values never reach a template raw: this module turns each into
//! the text its key needs with [`escape`], which refuses what a key cannot
//! carry. Templates only lay keys out. Rendering does no I/O.

use serde::Serialize;

use crate::contract::{
    AGENT_VAR, GITCONFIG_MOUNT, HISTORY_MOUNT, KEPT_IMAGE_VAR, KNOWN_HOSTS, LABEL_BRANCH,
    LABEL_CREATED, LABEL_PROJECT, LABEL_SESSION, LABEL_WORKTREE, LOCAL_IMAGE_PREFIX, RUN_DIR,
    SSH_AGENT_SOCK, STATE_MOUNT, TOKEN_VAR, WORKSPACE,
};
use crate::error::{Error, ExitKind};
use crate::names::SessionName;
use crate::quadlet::escape;
use crate::quadlet::meta::META_PREFIX;
use crate::quadlet::runopts::{BindMount, Limits, Memory, RunOptions};
use crate::quadlet::spec::{SessionSpec, local_image};

/// The session container template, `units/session.container`.
pub const SESSION_CONTAINER: &str = include_str!("../../units/session.container");
/// The session volume template, `units/session.volume`.
pub const SESSION_VOLUME: &str = include_str!("../../units/session.volume");

/// The template of the service of ccy's timers, `units/ccy-task.service`.
pub const TASK_SERVICE: &str = include_str!("../../units/ccy-task.service");
/// The template of ccy's timers, `units/ccy-task.timer`.
pub const TASK_TIMER: &str = include_str!("../../units/ccy-task.timer");
/// The notifier's service template (`ccy-notify.service`).
pub const NOTIFY_SERVICE: &str = include_str!("../../units/ccy-notify.service");

/// Why a session could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A value cannot be written into its key; the error names the field.
    #[error("{source}")]
    Value {
        /// What the value is (`worktree path`, `branch`, …).
        field: &'static str,
        /// Why.
        source: escape::EscapeError,
    },
    /// A template failed (a bug in `units/`).
    #[error("template {name}: {message}")]
    Template {
        /// The template file name.
        name: &'static str,
        /// Tera's message.
        message: String,
    },
}

impl From<escape::EscapeError> for RenderError {
    fn from(source: escape::EscapeError) -> Self {
        Self::Value {
            field: "value",
            source,
        }
    }
}

impl From<RenderError> for Error {
    fn from(e: RenderError) -> Self {
        let hint = match &e {
            RenderError::Value { .. } => {
                "rename or move it (or change the setting), then run ccy again"
            }
            RenderError::Template { .. } => "this is a bug in ccy; please report it",
        };
        Error::new(ExitKind::Usage, e.to_string()).hint(hint)
    }
}

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

/// Refuses a ccy path that systemd cannot take as the executable of an
/// `Exec*=` line: systemd substitutes variables in arguments but not in the
/// executable, so `$$` would stay doubled there; and it ignores a command
/// whose executable has a quote, a backslash or a control character
/// ("Executable name contains special characters", `string_is_safe()` in
/// systemd's `config_parse_exec`), which for ccy's `ExecStop=` would mean a
/// stop that silently keeps nothing.
fn check_executable(ccy: &str) -> Result<(), RenderError> {
    let reason = if ccy.contains('$') {
        "systemd does not unescape '$$' in the executable path"
    } else if ccy.contains(|c: char| c.is_control() || matches!(c, '"' | '\'' | '\\')) {
        "systemd refuses an executable path with a quote, a backslash or a control character"
    } else {
        return Ok(());
    };
    Err(RenderError::Value {
        field: "ccy binary path",
        source: escape::EscapeError::Value {
            field: "ccy binary path".to_owned(),
            value: ccy.chars().take(64).collect(),
            position: "the executable of ExecStart= or ExecStop=",
            reason,
        },
    })
}

/// The jobs ccy's timers run: each is a `ccy VERB` run by its own
/// `ccy-VERB.service`, started by `ccy-VERB.timer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Task {
    /// `ccy idle` (config `[idle] schedule`, hourly by default): stops
    /// sessions idle longer than `[idle] stop`.
    Idle,
    /// `ccy prune` (config `[prune] schedule`, daily by default): removes
    /// sessions stopped longer than `[prune] age`.
    Prune,
}

impl Task {
    /// Both tasks, in the order they are installed and shown.
    pub const ALL: [Self; 2] = [Self::Idle, Self::Prune];

    /// The ccy verb the service runs: `idle`, `prune`.
    #[must_use]
    pub const fn verb(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Prune => "prune",
        }
    }

    /// The timer unit: `ccy-idle.timer`, `ccy-prune.timer`.
    #[must_use]
    pub const fn timer_unit(self) -> &'static str {
        match self {
            Self::Idle => "ccy-idle.timer",
            Self::Prune => "ccy-prune.timer",
        }
    }

    /// The service unit the timer starts: `ccy-idle.service`,
    /// `ccy-prune.service`.
    #[must_use]
    pub const fn service_unit(self) -> &'static str {
        match self {
            Self::Idle => "ccy-idle.service",
            Self::Prune => "ccy-prune.service",
        }
    }

    /// What the task does, for the units' `Description=`.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::Idle => "stop idle sessions",
            Self::Prune => "prune stale sessions",
        }
    }
}

/// What one of ccy's timers is made from (`ccy timer enable`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerSpec {
    /// Which task the timer runs.
    pub task: Task,
    /// The absolute path of the ccy binary the service runs.
    pub ccy: std::path::PathBuf,
    /// The `OnCalendar=` expression (config `[idle] schedule` or `[prune]
    /// schedule`), already checked by systemd's parser.
    pub schedule: String,
    /// `RandomizedDelaySec=`, in seconds.
    pub randomized_delay_secs: u64,
    /// `AccuracySec=`, in seconds (at least 1).
    pub accuracy_secs: u64,
    /// Environment the service needs from the shell that enabled it
    /// (`XDG_CONFIG_HOME`, `XDG_STATE_HOME` when set): `(name, value)`.
    pub environment: Vec<(String, String)>,
}

/// The text of a task's `.service` and `.timer` files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerUnits {
    /// `ccy-VERB.service`.
    pub service: String,
    /// `ccy-VERB.timer`.
    pub timer: String,
}

#[derive(Serialize)]
struct TaskServiceCtx {
    verb: &'static str,
    description: &'static str,
    version: &'static str,
    environment: Vec<String>,
    exec: String,
}

#[derive(Serialize)]
struct TaskTimerCtx {
    verb: &'static str,
    description: &'static str,
    version: &'static str,
    schedule: String,
    randomized_delay: String,
    accuracy: String,
}

/// Renders the units of one of ccy's timers from `spec`: the service runs
/// `CCY VERB` (`Type=oneshot`), the timer starts it on `spec.schedule`
/// (`Persistent=true`).
///
/// # Errors
/// [`RenderError::Value`] when the binary path, the schedule or an
/// environment value cannot be written unchanged; [`RenderError::Template`]
/// for a template bug.
pub fn task_timer(spec: &TimerSpec) -> Result<TimerUnits, RenderError> {
    let ccy = utf8("ccy binary path", &spec.ccy)?;
    check_executable(ccy)?;
    let environment = spec
        .environment
        .iter()
        .map(|(k, v)| escape::service_env("service environment", k, v))
        .collect::<Result<Vec<_>, _>>()?;
    let task = spec.task;
    let service = TaskServiceCtx {
        verb: task.verb(),
        description: task.description(),
        version: env!("CARGO_PKG_VERSION"),
        environment,
        exec: escape::exec_args("ccy binary path", &[ccy, task.verb()])?,
    };
    let timer = TaskTimerCtx {
        verb: task.verb(),
        description: task.description(),
        version: env!("CARGO_PKG_VERSION"),
        schedule: escape::unit_text("schedule", &spec.schedule)?,
        randomized_delay: format!("{}s", spec.randomized_delay_secs),
        accuracy: format!("{}s", spec.accuracy_secs.max(1)),
    };
    Ok(TimerUnits {
        service: render_template(task.service_unit(), TASK_SERVICE, &service)?,
        timer: render_template(task.timer_unit(), TASK_TIMER, &timer)?,
    })
}

#[derive(Serialize)]
struct NotifyServiceCtx {
    version: &'static str,
    environment: Vec<String>,
    exec: String,
}

/// Renders `ccy-notify.service`, which runs `CCY notify-daemon` (the
/// binary `ccy`, absolute) with `environment` (`(name, value)`:
/// `XDG_CONFIG_HOME`, `XDG_STATE_HOME` when set).
///
/// # Errors
/// [`RenderError::Value`] when the binary path or an environment value
/// cannot be written unchanged; [`RenderError::Template`] for a template
/// bug.
pub fn notify_service(
    ccy: &std::path::Path,
    environment: &[(String, String)],
) -> Result<String, RenderError> {
    let ccy = utf8("ccy binary path", ccy)?;
    check_executable(ccy)?;
    let environment = environment
        .iter()
        .map(|(k, v)| escape::service_env("service environment", k, v))
        .collect::<Result<Vec<_>, _>>()?;
    let ctx = NotifyServiceCtx {
        version: env!("CARGO_PKG_VERSION"),
        environment,
        exec: escape::exec_args("ccy binary path", &[ccy, "notify-daemon"])?,
    };
    render_template("ccy-notify.service", NOTIFY_SERVICE, &ctx)
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
    let mut mounts = Vec::new();
    if let Some(gc) = &spec.gitconfig {
        let gc = utf8("gitconfig path", gc)?;
        mounts.push(escape::bind_mount(
            "gitconfig path",
            gc,
            GITCONFIG_MOUNT,
            &["ro"],
        )?);
    }
    let state_dir = utf8("state directory", &spec.state_dir)?;
    mounts.push(escape::bind_mount(
        "state directory",
        state_dir,
        RUN_DIR,
        &["rw"],
    )?);
    for key in &spec.run.ssh_keys {
        let source = utf8("SSH key", &key.source)?;
        mounts.push(escape::bind_mount("SSH key", source, &key.dest, &["ro"])?);
    }
    if let Some(kh) = &spec.run.known_hosts {
        let source = utf8("known_hosts", kh)?;
        mounts.push(escape::bind_mount(
            "known_hosts",
            source,
            KNOWN_HOSTS,
            &["ro"],
        )?);
    }
    for m in &spec.run.mounts {
        let source = utf8("mount", &m.source)?;
        let mode = if m.read_only { "ro" } else { "rw" };
        mounts.push(escape::bind_mount("mount", source, &m.dest, &[mode])?);
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

fn utf8<'a>(field: &'static str, path: &'a std::path::Path) -> Result<&'a str, RenderError> {
    path.to_str().ok_or_else(|| RenderError::Value {
        field,
        source: escape::EscapeError::Value {
            field: field.to_owned(),
            value: path.to_string_lossy().chars().take(64).collect(),
            position: "a unit file",
            reason: "it is not valid UTF-8",
        },
    })
}

/// Example sessions covering the template's branches: the snapshot tests
/// render them, and the integration suite feeds the same renders to the
/// real Quadlet generator (`quadlet -dryrun`). Returns `(label, spec)`.
///
/// # Panics
/// Never: the names are valid (checked by the unit tests).
#[must_use]
pub fn examples() -> Vec<(&'static str, SessionSpec)> {
    #[expect(clippy::expect_used, reason = "constant names, covered by tests")]
    let name = |n: &str| crate::names::SessionName::parse(n).expect("valid example name");
    let base = SessionSpec {
        name: name("ccy-app-0123abcd"),
        project: "app".into(),
        worktree: "/home/dev/src/app".into(),
        branch: "main".into(),
        created: "2026-11-21T05:00:00Z".into(),
        image: "localhost/ccy:latest".into(),
        agent: vec!["claude".into(), "--dangerously-skip-permissions".into()],
        autostart: true,
        gitconfig: Some("/home/dev/.gitconfig".into()),
        state_dir: "/home/dev/.local/state/ccy/sessions/ccy-app-0123abcd".into(),
        created_worktree: None,
        run: RunOptions::default(),
        token_secret: Some("ccy-token-work".into()),
        history_volume: Some("ccy-history-app".into()),
        keep: false,
        keep_layer: Some(crate::quadlet::spec::KeepLayer {
            image: "localhost/ccy-kept:ccy-app-0123abcd".into(),
            ccy: "/home/dev/.local/bin/ccy".into(),
            image_file: Some("/home/dev/.local/state/ccy/kept/ccy-app-0123abcd.env".into()),
        }),
    };
    let odd = SessionSpec {
        name: name("odd_one"),
        project: "my-app".into(),
        worktree: "/home/dev/My Projects/50% \"done\", $HOME: 'x'\\y/é".into(),
        branch: "feat/über-$x;%n".into(),
        agent: vec![
            "claude".into(),
            "--append-system-prompt".into(),
            "Use 100% of \"$PATH\";\nthen stop".into(),
        ],
        autostart: false,
        gitconfig: None,
        state_dir: "/home/dev/.local/state/ccy/sessions/odd_one".into(),
        run: RunOptions {
            network: Some("my net%$x".into()),
            mounts: vec![BindMount {
                source: "/home/dev/a:b, \"c\" 100%/$x".into(),
                dest: "/mnt/with space,comma".into(),
                read_only: false,
            }],
            env: vec![
                ("GREETING".into(), "hello \"world\" $HOME 100%\n;".into()),
                ("EMPTY".into(), String::new()),
            ],
            ssh_keys: vec![BindMount {
                source: "/home/dev/.ssh/id ed25519".into(),
                dest: "/root/.ssh/ccy-keys/id ed25519".into(),
                read_only: true,
            }],
            ..RunOptions::default()
        },
        token_secret: None,
        history_volume: None,
        keep_layer: Some(crate::quadlet::spec::KeepLayer {
            image: "localhost/ccy-kept:odd_one".into(),
            ccy: "/home/dev/my tools/ccy".into(),
            image_file: Some("/home/dev/state 100%/ccy/kept/odd_one.env".into()),
        }),
        ..base.clone()
    };
    let limited = SessionSpec {
        name: name("ccy-app-89abcdef"),
        state_dir: "/home/dev/.local/state/ccy/sessions/ccy-app-89abcdef".into(),
        run: RunOptions {
            network: Some("none".into()),
            limits: Limits {
                memory: Some(Memory {
                    text: "512m".into(),
                    bytes: 512 << 20,
                }),
                millicpus: Some(1500),
                pids: Some(300),
            },
            mounts: vec![BindMount {
                source: "/home/dev/data".into(),
                dest: "/data".into(),
                read_only: true,
            }],
            env: vec![("EDITOR".into(), "vi".into())],
            ssh_keys: vec![BindMount {
                source: "/home/dev/.ssh/github_work".into(),
                dest: "/root/.ssh/ccy-keys/github_work".into(),
                read_only: true,
            }],
            known_hosts: Some("/home/dev/.ssh/known_hosts".into()),
        },
        keep: true,
        keep_layer: None,
        ..base.clone()
    };
    vec![
        ("default", base.clone()),
        ("odd values, no autostart", odd),
        ("limits, no network, mounts, env, SSH key", limited),
        ("kept image named literally", tagged_example(&base)),
    ]
}

/// The example whose clean image is a registry's, so its unit names its
/// kept image literally (tagged when the session is made), like every
/// session made before image files.
fn tagged_example(base: &SessionSpec) -> SessionSpec {
    #[expect(clippy::expect_used, reason = "a constant name, covered by tests")]
    let name = SessionName::parse("ccy-app-fedcba98").expect("valid example name");
    SessionSpec {
        image: "quay.io/example/agent:1".into(),
        state_dir: format!("/home/dev/.local/state/ccy/sessions/{name}").into(),
        keep_layer: Some(crate::quadlet::spec::KeepLayer {
            image: name.kept_image(),
            ccy: "/home/dev/.local/bin/ccy".into(),
            image_file: None,
        }),
        name,
        ..base.clone()
    }
}

fn render_template<T: Serialize>(
    name: &'static str,
    template: &str,
    ctx: &T,
) -> Result<String, RenderError> {
    let err = |e: tera::Error| RenderError::Template {
        name,
        message: e.to_string(),
    };
    let context = tera::Context::from_serialize(ctx).map_err(err)?;
    let mut out = tera::Tera::one_off(template, &context, false).map_err(err)?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
