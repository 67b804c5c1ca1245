//! [`DEFAULTS`]: ccy's built-in configuration, which is also the
//! configuration reference.

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
