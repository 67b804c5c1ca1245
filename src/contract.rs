//! The contract between ccy's Rust code and its image scripts
//! (`src/session/image/`: `Containerfile`, `tmux.conf`, `start`, `agent`,
//! `status`, `save-panes`, `agent-hook`, `managed-settings.json`) and unit templates (`units/`), written once.
//!
//! Every name here is also spelled in those files, which cannot import
//! Rust constants; each constant says where. A change here is a change of
//! the contract: change the scripts and templates with it, and the image's
//! assets hash ([`crate::session::image::ImageSpec::assets_hash`]) makes existing sessions rebuild.

/// The tmux session that runs the agent. Created by `tmux.conf`
/// (`new-session -d -s main`), waited for by `start`, read by `status` and
/// `save-panes`; every attach names it.
pub const TMUX_SESSION: &str = "main";

/// Where the session's worktree is mounted in the container (the working
/// directory of the agent: `WORKDIR` in the `Containerfile`, `-c` in
/// `tmux.conf`).
pub const WORKSPACE: &str = "/workspace";

/// Where the session's host state directory is mounted in the container
/// (`TMUX_TMPDIR` in the `Containerfile`; `start`, `status`, `save-panes`
/// and `tmux.conf` write into it).
pub const RUN_DIR: &str = "/run/ccy";

/// The file the session's tmux creates in [`RUN_DIR`] once session
/// [`TMUX_SESSION`] exists (last line of `tmux.conf`).
pub const READY_FILE: &str = "ready";

/// The file in [`RUN_DIR`] where `status` writes the tmux status
/// (`key=value` lines: `activity`, `output`, `clients`, `pane` (`busy`
/// during a printing spell, else `quiet`), `client_activity`, `updated`).
/// tmux's hooks in `tmux.conf` run `status` on its events (clients coming
/// and going, the panes starting and stopping to print), never on a timer.
pub const STATUS_FILE: &str = "status";

/// The file in [`RUN_DIR`] where the agent's hook (`agent-hook`, run by
/// Claude Code through `managed-settings.json`) records the agent's state:
/// one JSON object, replaced by rename,
/// `{"state":STATE,"since":UNIX_S,"updated":UNIX_S,"event":HOOK_EVENT,
/// "message":STRING_OR_NULL,"source":"hook"}`, where `since` is when the
/// state began (a heartbeat of the same state keeps it) and `updated` the
/// last event. `start` removes it when the container starts. Shared with
/// the notifier (`ccy-notify`), which watches it.
pub const AGENT_FILE: &str = "agent.json";

/// The states [`AGENT_FILE`] holds, in the hook's words (`agent-hook`,
/// `managed-settings.json`): `idle` (`SessionStart`), `busy`
/// (`UserPromptSubmit`, `PreToolUse`, `PostToolUse`), `waiting`
/// (`Notification` of a permission prompt or an elicitation dialog,
/// `PermissionRequest`), `done` (`Stop`), `exited` (`SessionEnd`).
pub const AGENT_STATES: [&str; 5] = ["idle", "busy", "waiting", "done", "exited"];

/// The `source` of an agent state that came from the agent's hooks.
pub const AGENT_SOURCE_HOOK: &str = "hook";

/// The `source` of an agent state guessed from the pane's activity (an
/// agent without ccy's hooks).
pub const AGENT_SOURCE_PANE: &str = "pane";

/// The directory in [`RUN_DIR`] where `save-panes` writes the panes'
/// text when the session stops (`YYYYmmddTHHMMSSZ.txt`).
pub const PANES_DIR: &str = "panes";

/// The file in [`PANES_DIR`] that `save-panes` leaves when it could not
/// save the panes (a full disk) and removes after a save that worked;
/// `ccy status` and the next start report it.
pub const PANES_FAILED: &str = "failed";

/// The tmux server's socket relative to the state directory:
/// `$TMUX_TMPDIR/tmux-UID/default` (tmux(1)), with UID 0 in the container
/// and `TMUX_TMPDIR` = [`RUN_DIR`].
pub const TMUX_SOCKET: &str = "tmux-0/default";

/// Where the session's agent-state volume is mounted: Claude Code's
/// `CLAUDE_CONFIG_DIR` (set in the `Containerfile`; `agent` writes
/// `.claude.json` there).
pub const STATE_MOUNT: &str = "/root/.claude";

/// Where the project's conversation-history volume is mounted: Claude
/// Code keeps one directory per project there, and `claude --resume` lists
/// them.
pub const HISTORY_MOUNT: &str = "/root/.claude/projects";

/// Where the host's `~/.gitconfig` is mounted read-only, when it exists.
pub const GITCONFIG_MOUNT: &str = "/root/.gitconfig";

/// Where SSH keys are mounted in the container, one file per key (`agent`
/// adds every file there to the session's ssh-agent).
pub const SSH_KEY_DIR: &str = "/root/.ssh/ccy-keys";

/// The socket of the session's ssh-agent (`SSH_AUTH_SOCK` in the
/// container when keys are given; `agent` starts the agent there).
pub const SSH_AGENT_SOCK: &str = "/tmp/ccy-ssh-agent.sock";

/// Where the host's `~/.ssh/known_hosts` is mounted read-only when SSH
/// keys are given, so git over SSH knows the hosts the user knows.
pub const KNOWN_HOSTS: &str = "/root/.ssh/known_hosts";

/// The variable Claude Code reads its OAuth token from; set only from a
/// Podman secret, never from `session.env`.
pub const TOKEN_VAR: &str = "CLAUDE_CODE_OAUTH_TOKEN";

/// The variable holding the agent's command line, quoted for `sh` (set by
/// the unit, read by `agent`).
pub const AGENT_VAR: &str = "CCY_AGENT";

/// Container paths ccy mounts itself; a user mount may not take them.
pub const RESERVED_DESTINATIONS: [&str; 7] = [
    WORKSPACE,
    STATE_MOUNT,
    HISTORY_MOUNT,
    GITCONFIG_MOUNT,
    RUN_DIR,
    SSH_KEY_DIR,
    KNOWN_HOSTS,
];

/// Label on every ccy session container: the project. Also the filter ccy
/// lists its containers by.
pub const LABEL_PROJECT: &str = "ccy.project";
/// Label: the absolute, canonical worktree path.
pub const LABEL_WORKTREE: &str = "ccy.worktree";
/// Label: the branch checked out when the session was created.
pub const LABEL_BRANCH: &str = "ccy.branch";
/// Label: creation time, RFC 3339 UTC.
pub const LABEL_CREATED: &str = "ccy.created";
/// Label on a session's state volume: the session name.
pub const LABEL_SESSION: &str = "ccy.session";
/// Label on a project's history volume: the project.
pub const LABEL_HISTORY: &str = "ccy.history";
/// Label on a kept session (`ccy keep`, `ccy new --keep`): `ccy prune`
/// never removes it. Its value is `true`.
pub const LABEL_KEEP: &str = "ccy.keep";
/// Label on a token secret (`ccy-token-NAME`): the token's name.
pub const LABEL_TOKEN: &str = "ccy.token";
/// Label on ccy's agent image: the hash of the assets it was built from.
pub const LABEL_ASSETS: &str = "ccy.image.assets";
/// Label on a project image: the hash of its Dockerfile and base image.
pub const LABEL_PROJECT_HASH: &str = "ccy.image.project-hash";
/// Label Quadlet sets on every container it runs: the systemd unit name
/// (podman-systemd.unit(5)).
pub const LABEL_SYSTEMD_UNIT: &str = "PODMAN_SYSTEMD_UNIT";

/// ccy's files in a worktree, relative to its root.
pub mod worktree {
    /// The directory of ccy's per-worktree files.
    pub const DIR: &str = ".claude/ccy";
    /// The fast-path file naming the worktree's last session.
    pub const SESSION_ID: &str = ".claude/ccy/.session-id";
    /// The `.gitignore` older ccy versions kept beside [`SESSION_ID`]
    /// (ccy no longer writes it; an untracked one is still ccy's own file).
    pub const GITIGNORE: &str = ".claude/ccy/.gitignore";
    /// The pattern ccy adds to the repository's `info/exclude` (in the
    /// common git directory, shared by all worktrees) so that
    /// [`SESSION_ID`] is never an untracked change.
    pub const EXCLUDE_PATTERN: &str = "/.claude/ccy/.session-id";
    /// The project's Dockerfile: when present, sessions run an image built
    /// from it on top of ccy's agent image.
    pub const DOCKERFILE: &str = ".claude/ccy/Dockerfile";
    /// The project's ccy configuration.
    pub const CONFIG: &str = ".claude/ccy/config.toml";
}

/// The image repository of the sessions' kept layers: session `NAME` runs
/// the image `localhost/ccy-kept:NAME` (see
/// [`crate::names::SessionName::kept_image`]). A session name is a valid
/// tag (`[A-Za-z0-9][A-Za-z0-9_-]{0,62}`), and a repository name must be
/// lowercase, so the name is the tag. Spelled in `units/session.container`
/// through the rendered `Image=` (sessions tagged at creation) or the
/// session's image file ([`KEPT_IMAGE_VAR`]).
pub const KEPT_IMAGE_REPO: &str = "localhost/ccy-kept";

/// The registry part every local image name starts with, `localhost/`
/// (Podman names an image built without a registry `localhost/NAME`).
/// A session whose clean image starts with it runs
/// `Image=localhost/${CCY_IMAGE}` ([`KEPT_IMAGE_VAR`]).
pub const LOCAL_IMAGE_PREFIX: &str = "localhost/";

/// The variable the session unit's `Image=localhost/${CCY_IMAGE}` names
/// (`units/session.container`): the unit's `[Service]` sets it to the
/// clean image (less [`LOCAL_IMAGE_PREFIX`]) with `Environment=`, and the
/// session's image file (`EnvironmentFile=-`,
/// [`crate::paths::Paths::kept_image_file`]), written by `ccy keep-layer`
/// at the first stop that keeps a change, overrides it with
/// `ccy-kept:NAME`. systemd reads the file at every start, so no reload
/// is needed. The file's one line is `CCY_IMAGE=ccy-kept:NAME`
/// (`crate::session::keep::image_file_line`); ccy refuses to start a
/// session whose file says anything else.
pub const KEPT_IMAGE_VAR: &str = "CCY_IMAGE";

/// Label on a kept-layer image (committed by `ccy keep-layer`): the
/// session's name.
pub const LABEL_KEPT_SESSION: &str = "ccy.kept.session";

/// Label on a kept-layer image: the id of the clean image its layers sit
/// on (the session's image when it was created or last made fresh), which
/// the layer count and the kept size are measured against.
pub const LABEL_KEPT_BASE: &str = "ccy.kept.base";

/// The file `/etc/ccy/start` creates in [`RUN_DIR`] once it has saved the
/// panes and ended tmux on SIGUSR1 (asked by `ccy keep-layer` on every
/// stop), so the container's layer is quiet (shells have written their
/// history) when it is committed.
pub const QUIET_FILE: &str = "quiet";

/// The file in the session's state directory where `ccy keep-layer`
/// records the size of the kept layer after each commit (decimal bytes
/// and a newline), so `ccy list` and `ccy status` show it without asking
/// Podman.
pub const KEPT_SIZE_FILE: &str = "kept-layer";

/// The signal `ccy keep-layer` sends the container's init (forwarded to
/// `/etc/ccy/start`) to end tmux without ending the container.
pub const QUIET_SIGNAL: &str = "USR1";

/// The hidden verb the session unit's `ExecStop=` runs:
/// `ccy keep-layer NAME STATE_DIR [IMAGE_FILE]` (`units/session.container`;
/// `IMAGE_FILE` for sessions whose image file chooses their image).
pub const KEEP_LAYER_VERB: &str = "keep-layer";

/// How many kept layers a session's image may have above its clean image
/// before `ccy keep-layer` rebases them into one: overlay refuses images of
/// more than about 128 layers, and each layer keeps old copies of the
/// files changed again above it.
pub const MAX_KEPT_LAYERS: usize = 10;

/// Paths of a container whose changes alone are no reason to commit a
/// kept layer: runtime places (recreated on every start) and the mount
/// points ccy makes (with their parents, see `ccy keep-layer`).
pub const RUNTIME_PATHS: &[&str] = &[
    "/tmp",
    "/run",
    "/var/run",
    "/dev",
    "/proc",
    "/sys",
    "/etc/hosts",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/.containerenv",
];
