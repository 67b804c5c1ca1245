//! `ccy prune`: remove stopped sessions that have been idle for long.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use clap::Args;

use crate::ctx::Ctx;
use crate::error::{Error, ExitKind, Result};
use crate::paths::display_home;
use crate::quadlet::keep;
use crate::session::find::{self, SessionInfo, State};
use crate::session::remove::{self, Doomed, VolumeFate};
use crate::session::safety::{Checker, Loss};
use crate::session::{Host, orphans};
use crate::ui;

/// Remove stopped sessions that have been idle for longer than an age.
///
/// A session is pruned when all of these hold: ccy made it (its unit file
/// carries ccy's metadata line; other Quadlet files and containers are
/// never touched); it is stopped (unit inactive, failed, or not loaded);
/// it is not labelled keep (`ccy keep`, `ccy new --keep`); its last
/// activity is older than the age; and removing it loses no work (as `ccy
/// rm` checks: uncommitted changes or untracked files in a worktree ccy
/// created for it, which would go with it, or a kept layer: what it wrote
/// outside its volumes) unless --force. Your own worktree is never
/// touched, so its state does not hold a session back. The last activity is the latest tmux activity
/// the session recorded (input, output or a client; its state directory's
/// `status` file), or when it never ran, its creation time.
///
/// Removal is `ccy rm`'s: unit files, state directory, `.session-id`, the
/// session's image `localhost/ccy-kept:NAME` (when a stop kept a layer in
/// it) and its image file, one reload of your systemd
/// user manager for the whole run. A session's
/// agent-state volume goes with it when its project keeps another session
/// (one not pruned now), or with --volumes; otherwise the volume of the
/// project's most recently active pruned session is kept and ccy says so.
/// A git worktree made by `ccy new --worktree` goes with its last session;
/// its branch stays. Each session's unit files go last, so a prune cut
/// short leaves the session listed and the next prune finishes it.
///
/// Prune also removes what removed sessions left behind (`ccy doctor`'s
/// check `leftovers`): state directories and Claude token secrets that no
/// session has, and with --volumes the agent-state volumes of sessions
/// that no longer exist (without it, it names them and keeps them).
///
/// The age is --age, else `[prune] age` in ~/.config/ccy/config.toml
/// (`CCY_PRUNE_AGE`), default 7d: a number and a unit, `30m`, `12h`, `7d`,
/// `2w` (combinations such as `1d 12h` too). --dry-run prints what would be
/// removed, kept or refused and why, and changes nothing. On a terminal ccy
/// asks before removing; without one (a timer, a script) it does not ask.
///
/// Exit status: 0 it ran (also when it refused or kept sessions; it says
/// which and why); 2 an invalid age; 3 no user manager; 6 declined at the
/// prompt.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Prune sessions idle for longer than this (`30m`, `12h`, `7d`, `2w`).
    /// Default: `[prune] age` from the configuration (7d).
    #[arg(long, value_name = "DURATION")]
    pub age: Option<String>,

    /// Print what would be removed, kept and refused, and why; change
    /// nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,

    /// Remove sessions even when work would be lost (uncommitted changes in
    /// a worktree ccy created for them, a kept layer).
    #[arg(short, long)]
    pub force: bool,

    /// Remove every pruned session's agent-state volume, also the last of
    /// its project.
    #[arg(long)]
    pub volumes: bool,
}

/// Parses an age such as `7d`, `12h`, `30m`, `90s`, `2w` or `1d 12h`
/// (humantime's syntax: a number and a unit, repeated; `d` is 24 hours).
///
/// # Errors
/// [`ExitKind::Usage`] naming `what` (`--age`, `prune.age`) for anything
/// else, including zero.
pub fn parse_age(text: &str, what: &str) -> Result<Duration> {
    let bad = |why: String| {
        Error::usage(format!("invalid {what} {text:?}: {why}"))
            .hint("write a number and a unit, e.g. \"7d\", \"12h\" or \"30m\"")
    };
    let d = humantime::parse_duration(text.trim()).map_err(|e| bad(e.to_string()))?;
    if d.is_zero() {
        return Err(bad("it must be more than zero".to_owned()));
    }
    Ok(d)
}

/// What prune does with one session, and why.
#[derive(Debug)]
enum Verdict {
    /// Remove it; why (`stopped, last active 9d ago`).
    Remove(String),
    /// Keep it; why.
    Keep(String),
    /// It would be removed, but work would be lost.
    Refuse(Vec<Loss>),
}

/// Prunes; see [`PruneArgs`].
///
/// # Errors
/// See the exit status in [`PruneArgs`].
pub fn run(ctx: &Ctx, args: &PruneArgs) -> Result<()> {
    let (age_text, age) = if let Some(a) = &args.age {
        (a.trim().to_owned(), parse_age(a, "--age")?)
    } else {
        let cfg = ctx.config(None)?.finish()?;
        let text = cfg.config.prune.age;
        let age = parse_age(&text, "prune.age")?;
        (text.trim().to_owned(), age)
    };
    ctx.block_on(async {
        let host = Host::connect(ctx).await?;
        let (mgr, api) = (&host.mgr, host.api().await?);
        let all = host.sessions().await?;
        crate::trace::mark("prune: sessions found");
        let now = find::now_epoch();
        let mut checker = Checker::new();
        let mut verdicts = Vec::with_capacity(all.len());
        for info in &all {
            let v = judge(info, now, age, &age_text);
            let v = match v {
                Verdict::Remove(why) if !args.force => {
                    let losses = checker.losses(api, info, &all).await?;
                    if losses.is_empty() {
                        Verdict::Remove(why)
                    } else {
                        Verdict::Refuse(losses)
                    }
                }
                v => v,
            };
            verdicts.push((info, v));
        }
        crate::trace::mark("prune: losses checked");
        let mut doomed = volume_fates(&all, &verdicts, args.volumes);
        for d in &mut doomed {
            d.force = args.force;
        }
        if args.dry_run {
            print_dry_run(ctx, &all, &doomed, &verdicts, &mut checker)?;
        }
        report_others(ctx, &verdicts);
        crate::trace::mark("prune: volume fates decided");
        // What removed sessions left behind, found before this run removes
        // anything (the volumes it keeps on purpose are not among them).
        let left = orphans::find(&ctx.paths, api).await?;
        crate::trace::mark("prune: leftovers found");
        if args.dry_run {
            print_leftovers(&left, args.volumes, &ctx.paths.home);
            crate::outln!(
                "dry run: would remove {} session{}; nothing changed",
                doomed.len(),
                if doomed.len() == 1 { "" } else { "s" }
            );
            return Ok(());
        }
        if doomed.is_empty() {
            crate::outln!("nothing to prune");
            return clean_leftovers(ctx, api, &left, args.volumes).await;
        }
        if ui::can_prompt() {
            for d in &doomed {
                crate::errln!("  {}  {}", d.info.name, d.info.worktree());
            }
            if !ui::confirm(&format!(
                "remove {} session{}?",
                doomed.len(),
                if doomed.len() == 1 { "" } else { "s" }
            )) {
                return Err(Error::new(ExitKind::Refused, "nothing pruned: declined")
                    .hint("see what would go with 'ccy prune --dry-run'"));
            }
        }
        let failed = remove::remove_sessions(ctx, mgr, api, &all, &doomed, &mut checker).await?;
        crate::trace::mark("prune: sessions removed");
        let removed = doomed.len() - failed.len();
        crate::outln!(
            "pruned {removed} session{}",
            if removed == 1 { "" } else { "s" }
        );
        for f in failed {
            crate::errln!("ccy: could not prune {f}");
        }
        clean_leftovers(ctx, api, &left, args.volumes).await
    })
}

/// What a dry run would do with what removed sessions left (`left`):
/// one line each.
fn print_leftovers(left: &orphans::Orphans, volumes: bool, home: &Path) {
    for line in orphans::describe(left, home) {
        if line.starts_with("volume ") && !volumes {
            crate::outln!("would keep {line}; --volumes removes it");
        } else {
            crate::outln!("would remove {line}");
        }
    }
}

/// Removes what removed sessions left (`left`; volumes only with
/// `volumes`, see [`orphans::remove`]).
///
/// # Errors
/// When any of it could not be removed (each was said), or listing fails.
async fn clean_leftovers(
    ctx: &Ctx,
    api: &crate::host::podman::api::PodmanApi,
    left: &orphans::Orphans,
    volumes: bool,
) -> Result<()> {
    let failed = orphans::remove(&ctx.paths, api, left, volumes).await?;
    if failed == 0 {
        return Ok(());
    }
    Err(Error::failure(format!(
        "could not remove {failed} thing{} left of removed sessions",
        if failed == 1 { "" } else { "s" }
    ))
    .hint("see the lines above; 'ccy doctor' lists what is left"))
}

/// The verdict before the data-loss check: keep (not ccy's, running,
/// labelled keep, active recently) or remove. `age_text` is the age as the
/// user wrote it.
fn judge(info: &SessionInfo, now: u64, age: Duration, age_text: &str) -> Verdict {
    let Some(file) = &info.file else {
        return Verdict::Keep("a container without a ccy unit file".to_owned());
    };
    match info.state() {
        State::Stopped | State::Failed => {}
        other => return Verdict::Keep(other.as_str().to_owned()),
    }
    if std::fs::read_to_string(file).is_ok_and(|t| keep::is_kept(&t)) {
        return Verdict::Keep(format!(
            "labelled keep ('ccy keep --off {}' to allow pruning)",
            info.name
        ));
    }
    let (last, what) = last_activity(info, file);
    let idle = now.saturating_sub(last);
    let state = if info.state() == State::Failed {
        "failed"
    } else {
        "stopped"
    };
    if idle < age.as_secs() {
        return Verdict::Keep(format!(
            "{what} {} (younger than {age_text})",
            ui::ago(now, last),
        ));
    }
    Verdict::Remove(format!("{state}, {what} {}", ui::ago(now, last)))
}

/// The session's last activity (seconds since the Unix epoch) and what it
/// is: tmux's last activity, else the creation time, else the unit file's
/// modification time.
fn last_activity(info: &SessionInfo, file: &Path) -> (u64, &'static str) {
    if let Some(t) = info.last_active() {
        return (t, "last active");
    }
    if let Some(t) = ui::parse_rfc3339(&info.created()) {
        return (t, "never attached, created");
    }
    let mtime = std::fs::metadata(file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    (mtime, "never attached, unit file written")
}

/// Prints what a dry run would remove, per doomed session: why, its
/// volume's fate and its created git worktree's.
fn print_dry_run(
    ctx: &Ctx,
    all: &[SessionInfo],
    doomed: &[Doomed<'_>],
    verdicts: &[(&SessionInfo, Verdict)],
    checker: &mut Checker,
) -> Result<()> {
    let gone: Vec<&str> = doomed.iter().map(|d| d.info.name.as_str()).collect();
    for d in doomed {
        let Some((_, Verdict::Remove(why))) = verdicts.iter().find(|(i, _)| i.name == d.info.name)
        else {
            continue;
        };
        crate::outln!("would remove {}: {why}", d.info.name);
        let volume = remove::state_volume(d.info);
        match &d.volume {
            VolumeFate::Remove(why) => crate::outln!("  would remove volume {volume} ({why})"),
            VolumeFate::Keep(why) => crate::outln!("  would keep volume {volume} ({why})"),
        }
        if let Some(created) = d
            .info
            .meta
            .as_ref()
            .and_then(|m| m.created_worktree.as_ref())
        {
            let shown = display_home(Path::new(&d.info.worktree()), &ctx.paths.home);
            match remove::worktree_fate(all, &gone, d.info, checker, d.force)? {
                Ok(()) => crate::outln!(
                    "  would remove git worktree {shown} (branch {} kept)",
                    created.branch
                ),
                Err(why) => crate::outln!(
                    "  would keep git worktree {shown} (branch {}): {why}",
                    created.branch
                ),
            }
        }
    }
    Ok(())
}

/// The sessions to remove with their volume's fate: removed with
/// `volumes`, or when the project keeps a session that is not pruned now;
/// otherwise kept for the project's most recently active pruned session
/// and removed for the others of the project.
fn volume_fates<'a>(
    all: &'a [SessionInfo],
    verdicts: &[(&'a SessionInfo, Verdict)],
    volumes: bool,
) -> Vec<Doomed<'a>> {
    let removing: Vec<&SessionInfo> = verdicts
        .iter()
        .filter(|(_, v)| matches!(v, Verdict::Remove(_)))
        .map(|(i, _)| *i)
        .collect();
    let removed: BTreeSet<&str> = removing.iter().map(|i| i.name.as_str()).collect();
    // Per project, the first session with a unit file that stays (one
    // pass over `all`, so that a prune of many sessions is not quadratic).
    let mut remaining: BTreeMap<String, &SessionInfo> = BTreeMap::new();
    for s in all {
        if s.file.is_some() && !removed.contains(s.name.as_str()) {
            remaining.entry(s.project()).or_insert(s);
        }
    }
    // Per project, the pruned session whose volume stays when no other
    // session of the project remains: the most recently active one.
    let mut keeper: BTreeMap<String, (&SessionInfo, u64)> = BTreeMap::new();
    for info in &removing {
        let last = info.file.as_deref().map_or(0, |f| last_activity(info, f).0);
        let e = keeper.entry(info.project()).or_insert((info, last));
        if last > e.1 {
            *e = (info, last);
        }
    }
    removing
        .iter()
        .map(|info| {
            let project = info.project();
            let volume = if volumes {
                VolumeFate::Remove("--volumes".to_owned())
            } else if let Some(other) = remaining.get(&project) {
                VolumeFate::Remove(format!("project {project} keeps session {}", other.name))
            } else if keeper
                .get(&project)
                .is_some_and(|(k, _)| k.name == info.name)
            {
                VolumeFate::Keep(format!(
                    "the last session of project {project}; --volumes removes it"
                ))
            } else {
                let k = keeper.get(&project).map_or("", |(k, _)| k.name.as_str());
                VolumeFate::Remove(format!("the volume of {k}, the project's latest, is kept"))
            };
            Doomed {
                info,
                volume,
                force: false,
            }
        })
        .collect()
}

/// Prints the sessions kept and refused, and why.
fn report_others(ctx: &Ctx, verdicts: &[(&SessionInfo, Verdict)]) {
    for (info, v) in verdicts {
        match v {
            Verdict::Remove(_) => {}
            Verdict::Keep(why) => crate::outln!("kept {}: {why}", info.name),
            Verdict::Refuse(losses) => {
                crate::outln!("refused {}: work would be lost", info.name);
                for line in remove::loss_lines(&ctx.paths, info, losses) {
                    crate::outln!("  {line}");
                }
                crate::outln!("  hint: commit it, or 'ccy rm --force {}'", info.name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::host::systemd::UnitState;
    use crate::names::SessionName;
    use crate::quadlet::spec::SessionMeta;

    #[test]
    fn ages_parse() {
        let p = |t: &str| parse_age(t, "--age").map(|d| d.as_secs());
        assert_eq!(p("7d").unwrap(), 7 * 86400);
        assert_eq!(p("12h").unwrap(), 12 * 3600);
        assert_eq!(p("30m").unwrap(), 1800);
        assert_eq!(p("90s").unwrap(), 90);
        assert_eq!(p("2w").unwrap(), 14 * 86400);
        assert_eq!(p(" 1d 12h ").unwrap(), 36 * 3600);
        for bad in ["", "7", "d", "7 days ago", "-1d", "0s", "1x"] {
            let e = p(bad).unwrap_err();
            assert_eq!(e.kind(), ExitKind::Usage, "{bad:?}");
            assert!(e.message().contains("invalid --age"), "{}", e.message());
        }
    }

    fn info(dir: &Path, name: &str, project: &str, active: &str, tmux: Option<u64>) -> SessionInfo {
        let meta = SessionMeta {
            project: project.into(),
            worktree: dir.into(),
            created: "2026-01-01T00:00:00Z".into(),
            image: "i".into(),
            ..crate::quadlet::spec::example_meta(name)
        };
        let file = dir.join(format!("{name}.container"));
        std::fs::write(&file, "[Container]\nImage=i\n").unwrap();
        SessionInfo {
            name: SessionName::parse(name).unwrap(),
            meta: Some(meta),
            file: Some(file),
            container: None,
            unit: Some(UnitState::example(
                &format!("{name}.service"),
                "loaded",
                active,
            )),
            tmux: tmux.map(|t| find::TmuxStatus {
                activity: t,
                ..Default::default()
            }),
            agent: None,
            kept_layer_bytes: None,
        }
    }

    #[test]
    fn verdicts_follow_state_keep_and_age() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let created = ui::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let now = created + 30 * 86400;
        let week = Duration::from_secs(7 * 86400);
        let v = |i: &SessionInfo| format!("{:?}", judge(i, now, week, "7d"));
        assert_eq!(
            v(&info(d, "old", "p", "inactive", Some(now - 8 * 86400))),
            r#"Remove("stopped, last active 8d ago")"#
        );
        assert_eq!(
            v(&info(d, "never", "p", "failed", None)),
            r#"Remove("failed, never attached, created 30d ago")"#
        );
        assert_eq!(
            v(&info(d, "young", "p", "inactive", Some(now - 3600))),
            r#"Keep("last active 1h ago (younger than 7d)")"#
        );
        assert_eq!(v(&info(d, "up", "p", "active", None)), r#"Keep("running")"#);
        let kept = info(d, "kept", "p", "inactive", None);
        std::fs::write(
            kept.file.as_ref().unwrap(),
            keep::set_kept("[Container]\nImage=i\n", true),
        )
        .unwrap();
        assert!(
            v(&kept).starts_with(r#"Keep("labelled keep"#),
            "{}",
            v(&kept)
        );
        let mut foreign = info(d, "foreign", "p", "inactive", None);
        foreign.file = None;
        assert!(v(&foreign).contains("without a ccy unit file"));
    }

    #[test]
    fn volumes_go_when_the_project_keeps_a_session() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let all = vec![
            info(d, "a1", "a", "inactive", Some(100)),
            info(d, "a2", "a", "active", None),
            info(d, "b1", "b", "inactive", Some(100)),
            info(d, "b2", "b", "inactive", Some(200)),
        ];
        let verdicts: Vec<(&SessionInfo, Verdict)> = all
            .iter()
            .filter(|i| i.name.as_str() != "a2")
            .map(|i| (i, Verdict::Remove(String::new())))
            .collect();
        let fates = |volumes| {
            volume_fates(&all, &verdicts, volumes)
                .into_iter()
                .map(|d| format!("{} {:?}", d.info.name, d.volume))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fates(false),
            vec![
                r#"a1 Remove("project a keeps session a2")"#,
                r#"b1 Remove("the volume of b2, the project's latest, is kept")"#,
                r#"b2 Keep("the last session of project b; --volumes removes it")"#,
            ]
        );
        assert!(
            fates(true)
                .iter()
                .all(|f| f.ends_with(r#"Remove("--volumes")"#))
        );
    }
}
