//! `ccy idle`: the idle policy, applied once — warn in sessions nobody has
//! used for a while, then stop them.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::config;
use crate::contract::TMUX_SESSION;
use crate::ctx::Ctx;
use crate::error::{self, Error, Result};
use crate::host::podman::cli as podman_cli;
use crate::host::systemd::UserManager;
use crate::session::Host;
use crate::session::find::{self, SessionInfo, State, TmuxStatus};
use crate::session::{agent_status, start};
use crate::ui;

/// Stop sessions nobody has used for `[idle] stop`, warning first
///
/// A running session is idle while it has no attached client and its
/// panes see no input and no output; ccy reads that from the status the
/// session's tmux writes on its events (clients coming and going, the
/// panes starting and stopping to print), asking tmux itself when that
/// status is over a minute old. With `[idle] stop` set (a duration such as `24h`;
/// the default `off` makes this a no-op), a session idle for `[idle] warn`
/// (default `1h`) less than that gets a warning in its tmux status line
/// (seen by whoever attaches next) saying when it stops and that `ccy keep
/// NAME` keeps it; once that time has come and it is still idle, ccy stops
/// it (its unit, through your user manager; the panes are saved first, and
/// `ccy` tells where when it starts the session again). The session stops
/// no sooner than `[idle] warn` after the warning, and each idle period is
/// warned about once. Any use — attaching, typing, output — starts a new
/// idle period and clears the warning. Kept sessions (`ccy keep`) are never
/// stopped, and neither is a session whose agent is busy or waiting for
/// an answer (what its hooks last recorded; see `ccy list`): a long tool
/// call or an unanswered permission prompt is not idleness. The settings are read per session: your configuration, the
/// session worktree's `.claude/ccy/config.toml`, `CCY_IDLE_*` variables.
///
/// `ccy timer enable` runs this on the `[prune] schedule` (use an hourly
/// schedule for timely stops). Prints one line per session acted on.
///
/// Exit status: 0 done (also when nothing was idle); 2 invalid
/// configuration; 3 no user manager or Podman; 4 a session failed to stop.
#[derive(Debug, Args)]
pub struct IdleArgs {
    /// Say what would be warned and stopped, change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
}

/// The idle settings of one session, in seconds (`None`: off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `[idle] stop`.
    pub stop: Option<u64>,
    /// `[idle] warn`.
    pub warn: Option<u64>,
}

impl Policy {
    /// From the configuration's strings.
    ///
    /// # Errors
    /// [`crate::error::ExitKind::Usage`] naming the key when a value is neither `off`
    /// nor a duration.
    pub fn from_config(idle: &config::IdleConfig) -> Result<Self> {
        Ok(Self {
            stop: parse_setting("idle.stop", &idle.stop)?,
            warn: parse_setting("idle.warn", &idle.warn)?,
        })
    }
}

/// A duration setting: `off` (or empty, or 0) is `None`, else a duration in
/// humantime's syntax (`24h`, `90m`, `1h 30m`, `2d`), in seconds.
///
/// # Errors
/// [`crate::error::ExitKind::Usage`] naming `key` when it does not parse.
pub fn parse_setting(key: &str, value: &str) -> Result<Option<u64>> {
    let v = value.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("off") || v == "0" {
        return Ok(None);
    }
    match humantime::parse_duration(v) {
        Ok(d) if d.as_secs() > 0 => Ok(Some(d.as_secs())),
        Ok(_) => Ok(None),
        Err(e) => Err(Error::usage(format!(
            "invalid {key} {value:?}: {e}"
        ))
        .hint(format!(
            "use a duration such as \"24h\", \"90m\" or \"2d\", or \"off\" (set {key} in ~/.config/ccy/config.toml)"
        ))),
    }
}

/// The warning given for one idle period, kept in the session's state
/// directory (file `idle-warning`) so it is given once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warning {
    /// The start of the idle period warned about (seconds since the epoch).
    pub since: u64,
    /// When the session stops unless used (seconds since the epoch).
    pub deadline: u64,
}

impl Warning {
    /// Parses the file's `since=…` and `deadline=…` lines.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let mut since = None;
        let mut deadline = None;
        for line in text.lines() {
            match line.split_once('=') {
                Some(("since", v)) => since = v.trim().parse().ok(),
                Some(("deadline", v)) => deadline = v.trim().parse().ok(),
                _ => {}
            }
        }
        Some(Self {
            since: since?,
            deadline: deadline?,
        })
    }

    /// The file's text.
    #[must_use]
    pub fn to_text(self) -> String {
        format!("since={}\ndeadline={}\n", self.since, self.deadline)
    }
}

/// What the policy says to do with one idle session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing yet; it would be warned (or stopped, without warnings) at
    /// this time.
    Wait {
        /// Seconds since the epoch.
        until: u64,
    },
    /// Warn now that it stops at `deadline`.
    Warn {
        /// Seconds since the epoch.
        deadline: u64,
    },
    /// Warned already; it stops at `deadline`.
    Warned {
        /// Seconds since the epoch.
        deadline: u64,
    },
    /// Stop it now.
    Stop,
}

/// The policy for a session idle since `since` (no client, no input or
/// output since then), at `now`, with `warned` the warning given for this
/// idle period if any (one for an earlier period must not be passed).
/// `None` when `policy.stop` is off.
#[must_use]
pub fn decide(now: u64, since: u64, policy: Policy, warned: Option<Warning>) -> Option<Action> {
    let stop = policy.stop?;
    let stop_at = since.saturating_add(stop);
    if let Some(w) = warned {
        return Some(if now >= w.deadline {
            Action::Stop
        } else {
            Action::Warned {
                deadline: w.deadline,
            }
        });
    }
    Some(match policy.warn {
        None if now >= stop_at => Action::Stop,
        None => Action::Wait { until: stop_at },
        Some(warn) => {
            let warn_at = stop_at.saturating_sub(warn);
            if now >= warn_at {
                Action::Warn {
                    deadline: stop_at.max(now.saturating_add(warn)),
                }
            } else {
                Action::Wait { until: warn_at }
            }
        }
    })
}

/// The status line text of a warning (tmux format: `#` doubled).
#[must_use]
pub fn warning_text(name: &str, deadline: u64) -> String {
    format!(
        "ccy: idle; stops {} unless used ('ccy keep {}' keeps it) ",
        short_time(deadline),
        name
    )
    .replace('#', "##")
}

/// `2026-11-21 05:00 UTC`.
fn short_time(epoch: u64) -> String {
    let t = ui::rfc3339(epoch);
    format!("{} UTC", t.get(..16).unwrap_or(&t).replacen('T', " ", 1))
}

/// How long the status file may be old before ccy asks tmux itself: it is
/// rewritten on tmux's events only (attach, detach, the panes starting and
/// stopping to print), never on a timer.
const STALE_STATUS_SECS: u64 = 60;

/// Applies the idle policy once to every running session.
///
/// # Errors
/// See the exit status in [`IdleArgs`].
pub fn run(ctx: &Ctx, args: &IdleArgs) -> Result<()> {
    ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        let mgr = &host.mgr;
        let all = host.sessions().await?;
        let now = find::now_epoch();
        let mut failed = Vec::new();
        let mut any_policy = false;
        for info in all
            .iter()
            .filter(|s| s.file.is_some() && s.state() == State::Running)
        {
            let worktree = info.worktree();
            let policy = ctx
                .config(Some(Path::new(&worktree)))
                .and_then(config::Loader::finish)
                .and_then(|l| Policy::from_config(&l.config.idle));
            let policy = match policy {
                Ok(p) => p,
                Err(e) => {
                    crate::errln!("ccy: {}: skipped: {e}", info.name);
                    failed.push(info.name.to_string());
                    continue;
                }
            };
            if policy.stop.is_none() {
                continue;
            }
            any_policy = true;
            if let Err(e) = one(ctx, mgr, info, policy, now, args.dry_run).await {
                crate::errln!("ccy: {}: {e}", info.name);
                failed.push(info.name.to_string());
            }
        }
        if !any_policy {
            crate::outln!("no running session has idle.stop set: nothing to do");
        }
        error::session_failures(&failed, |names| {
            format!("the idle policy failed for {names}")
        })
    })
}

fn state_file(ctx: &Ctx, info: &SessionInfo, file: &str) -> PathBuf {
    ctx.paths.session_state_dir(info.name.as_str()).join(file)
}

/// The session's tmux status, refreshed through `podman exec NAME
/// /etc/ccy/status` when the file is missing or older than
/// [`STALE_STATUS_SECS`].
fn fresh_status(ctx: &Ctx, info: &SessionInfo, now: u64) -> Option<TmuxStatus> {
    if let Some(t) = info.tmux
        && t.updated + STALE_STATUS_SECS >= now
    {
        return Some(t);
    }
    if !podman_cli::exec_quiet(info.name.as_str(), &["/etc/ccy/status"]) {
        return None;
    }
    agent_status::read_tmux(&ctx.paths.session_state_dir(info.name.as_str()))
        .filter(|t| t.updated + STALE_STATUS_SECS >= now)
}

/// Runs `tmux ARGS` in the session (`podman exec`); whether it succeeded.
fn tmux(name: &str, args: &[&str]) -> bool {
    let command: Vec<&str> = std::iter::once("tmux")
        .chain(args.iter().copied())
        .collect();
    podman_cli::exec_quiet(name, &command)
}

/// Removes a warning: the status line message and the file.
fn clear_warning(name: &str, file: &Path) {
    tmux(
        name,
        &["set-option", "-u", "-t", TMUX_SESSION, "status-right"],
    );
    tmux(
        name,
        &[
            "set-option",
            "-u",
            "-t",
            TMUX_SESSION,
            "status-right-length",
        ],
    );
    std::fs::remove_file(file).ok();
}

/// Whether the session's agent is busy or waiting by its hooks, which
/// keeps the session running; then a warning is withdrawn when `clear`.
/// The pane's own activity is judged by the idle period; the hooks say
/// more: a long tool call prints nothing, and a permission prompt waits
/// silently.
fn agent_holds(info: &SessionInfo, now: u64, clear: bool, warning_file: &Path) -> bool {
    let agent = info.agent(now);
    if agent.source != Some(crate::contract::AGENT_SOURCE_HOOK) || !agent.state.is_active() {
        return false;
    }
    if clear {
        clear_warning(info.name.as_str(), warning_file);
        crate::outln!(
            "{}: its agent is {}; idle warning withdrawn",
            info.name,
            agent.state.as_str()
        );
    }
    true
}

async fn one(
    ctx: &Ctx,
    mgr: &UserManager,
    info: &SessionInfo,
    policy: Policy,
    now: u64,
    dry_run: bool,
) -> Result<()> {
    let name = info.name.as_str();
    let would = if dry_run { "would " } else { "" };
    let warning_file = state_file(ctx, info, "idle-warning");
    let warned = std::fs::read_to_string(&warning_file)
        .ok()
        .and_then(|t| Warning::parse(&t));
    if info.kept() {
        return Ok(());
    }
    if agent_holds(info, now, warned.is_some() && !dry_run, &warning_file) {
        return Ok(());
    }
    let Some(status) = fresh_status(ctx, info, now) else {
        crate::outln!("{name}: no current tmux status; skipped");
        return Ok(());
    };
    if status.clients > 0 {
        if warned.is_some() && !dry_run {
            clear_warning(name, &warning_file);
        }
        return Ok(());
    }
    let started = info
        .container
        .as_ref()
        .and_then(|c| c.started_at)
        .unwrap_or(0);
    let since = status.last_active().max(started);
    // A warning for an earlier idle period (the session was used since)
    // is void.
    let warned = match warned {
        Some(w) if w.since != since => {
            if !dry_run {
                clear_warning(name, &warning_file);
                crate::outln!("{name}: used again; idle warning withdrawn");
            }
            None
        }
        w => w,
    };
    let idle = ui::duration(now.saturating_sub(since));
    match decide(now, since, policy, warned) {
        None | Some(Action::Wait { .. } | Action::Warned { .. }) => Ok(()),
        Some(Action::Warn { deadline }) => {
            crate::outln!(
                "{name}: {would}warn: idle for {idle}, stops {} unless used",
                short_time(deadline)
            );
            if dry_run {
                return Ok(());
            }
            let text = warning_text(name, deadline);
            tmux(
                name,
                &[
                    "set-option",
                    "-t",
                    TMUX_SESSION,
                    "status-right-length",
                    "120",
                ],
            );
            if !tmux(
                name,
                &["set-option", "-t", TMUX_SESSION, "status-right", &text],
            ) {
                return Err(Error::failure("cannot show the idle warning in tmux"));
            }
            tmux(
                name,
                &["display-message", "-t", TMUX_SESSION, "-d", "0", &text],
            );
            crate::host::fs::write_atomic(
                &warning_file,
                Warning { since, deadline }.to_text().as_bytes(),
                0o600,
            )
        }
        Some(Action::Stop) => {
            crate::outln!("{name}: {would}stop: idle for {idle}");
            if dry_run {
                return Ok(());
            }
            mgr.stop(&info.name.service_unit())
                .await?
                .done_or_error(&format!("stopping {name}"))?;
            std::fs::remove_file(&warning_file).ok();
            crate::outln!(
                "stopped {name}; its panes are saved in {}",
                start::panes_dir(&ctx.paths, &info.name).display()
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::error::ExitKind;

    const H: u64 = 3600;

    fn policy(stop: Option<u64>, warn: Option<u64>) -> Policy {
        Policy { stop, warn }
    }

    #[test]
    fn settings_parse() {
        assert_eq!(parse_setting("idle.stop", "off").unwrap(), None);
        assert_eq!(parse_setting("idle.stop", "OFF").unwrap(), None);
        assert_eq!(parse_setting("idle.stop", "").unwrap(), None);
        assert_eq!(parse_setting("idle.stop", "24h").unwrap(), Some(24 * H));
        assert_eq!(parse_setting("idle.stop", "90m").unwrap(), Some(5400));
        assert_eq!(parse_setting("idle.stop", "2d").unwrap(), Some(48 * H));
        let err = parse_setting("idle.warn", "soon").unwrap_err();
        assert_eq!(err.kind(), ExitKind::Usage);
        assert!(err.to_string().contains("idle.warn"), "{err}");
        let defaults = config::Loader::new().finish().unwrap().config;
        assert_eq!(
            Policy::from_config(&defaults.idle).unwrap(),
            policy(Some(24 * H), Some(H))
        );
    }

    #[test]
    fn off_does_nothing() {
        assert_eq!(decide(100 * H, 0, policy(None, Some(H)), None), None);
    }

    #[test]
    fn warn_then_stop_no_sooner_than_warn_after_the_warning() {
        let p = policy(Some(24 * H), Some(H));
        assert_eq!(
            decide(22 * H, 0, p, None),
            Some(Action::Wait { until: 23 * H })
        );
        assert_eq!(
            decide(23 * H, 0, p, None),
            Some(Action::Warn { deadline: 24 * H })
        );
        // The timer ran late (daily schedule): still a full hour's notice.
        assert_eq!(
            decide(30 * H, 0, p, None),
            Some(Action::Warn { deadline: 31 * H })
        );
        let w = Warning {
            since: 0,
            deadline: 31 * H,
        };
        assert_eq!(
            decide(30 * H + 1, 0, p, Some(w)),
            Some(Action::Warned { deadline: 31 * H })
        );
        assert_eq!(decide(31 * H, 0, p, Some(w)), Some(Action::Stop));
    }

    #[test]
    fn without_warnings_stops_at_the_limit() {
        let p = policy(Some(2 * H), None);
        assert_eq!(decide(H, 0, p, None), Some(Action::Wait { until: 2 * H }));
        assert_eq!(decide(2 * H, 0, p, None), Some(Action::Stop));
    }

    #[test]
    fn warning_file_round_trips_and_text_names_the_keep_command() {
        let w = Warning {
            since: 5,
            deadline: 1_795_237_200,
        };
        assert_eq!(Warning::parse(&w.to_text()), Some(w));
        assert_eq!(Warning::parse("since=1\n"), None);
        insta::assert_snapshot!(warning_text("ccy-app-0123abcd", w.deadline), @"ccy: idle; stops 2026-11-21 05:00 UTC unless used ('ccy keep ccy-app-0123abcd' keeps it)");
    }
}
