#![allow(clippy::unwrap_used)]
use std::collections::BTreeMap;

use super::read::merge;
use super::*;
use crate::error::ExitKind;
use crate::host::git::Worktree;
use crate::host::podman::ContainerInfo;
use crate::host::systemd::UnitState;
use crate::names::SessionName;
use crate::paths::Paths;
use crate::quadlet::spec::{SessionFile, SessionMeta};

fn info(name: &str) -> SessionInfo {
    SessionInfo::from_file(SessionName::parse(name).unwrap(), None)
}

#[test]
fn states_from_units() {
    let u = |a: &str| UnitState::example("x.service", "loaded", a);
    assert_eq!(State::from_unit(Some(&u("active"))), State::Running);
    assert_eq!(State::from_unit(Some(&u("failed"))), State::Failed);
    assert_eq!(State::from_unit(Some(&u("inactive"))), State::Stopped);
    assert_eq!(State::from_unit(Some(&u("activating"))), State::Starting);
    assert_eq!(State::from_unit(None), State::Stopped);
}

#[test]
fn agent_records_parse_and_rank_above_the_pane() {
    let text = r#"{"state":"busy","since":100,"updated":160,"event":"PreToolUse","message":null,"source":"hook"}"#;
    let r = AgentRecord::parse(text).unwrap();
    assert_eq!((r.state.as_str(), r.since, r.updated), ("busy", 100, 160));
    assert_eq!(r.message, None);
    assert_eq!(
        AgentRecord::parse(r#"{"state":"sleepy","since":1,"updated":1}"#),
        None
    );
    assert_eq!(AgentRecord::parse("{"), None);
    assert_eq!(AgentRecord::parse(""), None);

    let u = |a: &str| UnitState::example("x.service", "loaded", a);
    let mut i = info("ccy-app-0123abcd");
    i.unit = Some(u("active"));
    // Nothing known yet.
    assert_eq!(i.agent(1000).state, AgentState::Unknown);
    // The pane: busy while it printed within PANE_BUSY_SECS, then idle
    // since its last output.
    i.tmux = Some(TmuxStatus {
        output: 1000,
        ..TmuxStatus::default()
    });
    let v = i.agent(1000 + PANE_BUSY_SECS - 1);
    assert_eq!(
        (v.state, v.since, v.source),
        (AgentState::Busy, None, Some("pane"))
    );
    let v = i.agent(1000 + PANE_BUSY_SECS);
    assert_eq!(
        (v.state, v.since, v.source),
        (AgentState::Idle, Some(1000), Some("pane"))
    );
    // tmux's hooks say when a printing spell began and ended.
    for (busy, now, state) in [
        (true, 9000, AgentState::Busy),
        (false, 1001, AgentState::Idle),
    ] {
        i.tmux = Some(TmuxStatus {
            output: 1000,
            pane_busy: Some(busy),
            ..TmuxStatus::default()
        });
        let v = i.agent(now);
        assert_eq!((v.state, v.since), (state, Some(1000)), "pane busy: {busy}");
    }
    // The hook's record wins over the pane.
    i.agent = Some(r);
    let v = i.agent(5000);
    assert_eq!(
        (v.state, v.since, v.source),
        (AgentState::Busy, Some(100), Some("hook"))
    );
    assert_eq!(v.event.as_deref(), Some("PreToolUse"));
    assert!(v.state.is_active());
    // A session that does not run is stopped, whatever the last record.
    i.unit = Some(u("inactive"));
    assert_eq!(i.agent(5000).state, AgentState::Stopped);
    i.unit = Some(u("failed"));
    assert_eq!(i.agent(5000).state, AgentState::Stopped);
    assert_eq!(i.agent(5000).source, None);
}

#[test]
fn resolve_by_name_prefix_and_id() {
    let all = vec![
        info("ccy-app-0123abcd"),
        info("ccy-app-89abcdef"),
        info("ccy-web-0123ffff"),
        info("mine"),
    ];
    let name = |q: &str| resolve(&all, q).map(|s| s.name.to_string());
    assert_eq!(name("mine").unwrap(), "mine");
    assert_eq!(name("ccy-web-0123ffff").unwrap(), "ccy-web-0123ffff");
    assert_eq!(name("web").unwrap(), "ccy-web-0123ffff");
    assert_eq!(name("app-89").unwrap(), "ccy-app-89abcdef");
    assert_eq!(name("89abcdef").unwrap(), "ccy-app-89abcdef");
    assert_eq!(name("mi").unwrap(), "mine");
    assert_eq!(name("89ab").unwrap(), "ccy-app-89abcdef");
    assert_eq!(
        name("89a").unwrap_err().kind(),
        ExitKind::NotFound,
        "too short"
    );
    let two = name("0123").unwrap_err();
    assert_eq!(two.kind(), ExitKind::Usage, "two ids start with 0123");
    assert!(two.message().contains("ccy-app-0123abcd, ccy-web-0123ffff"));
    let amb = name("app").unwrap_err();
    assert_eq!(amb.kind(), ExitKind::Usage);
    assert!(amb.message().contains("ccy-app-0123abcd, ccy-app-89abcdef"));
    assert_eq!(name("nope").unwrap_err().kind(), ExitKind::NotFound);
}

fn file(name: &str) -> SessionFile {
    SessionFile {
        meta: SessionMeta {
            project: "p".into(),
            worktree: "/w".into(),
            created: "2026-01-01T00:00:00Z".into(),
            image: "i".into(),
            ..crate::quadlet::spec::example_meta(name)
        },
        path: format!("/q/{name}.container").into(),
    }
}

fn container(name: &str) -> ContainerInfo {
    ContainerInfo {
        id: format!("id-{name}"),
        name: name.into(),
        state: "running".into(),
        labels: BTreeMap::new(),
        image: "i".into(),
        started_at: Some(1),
    }
}

#[test]
fn merge_joins_files_and_containers_by_name() {
    let found = merge(
        [file("b"), file("a")],
        [container("b"), container("orphan"), container("bad name")],
    );
    let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "orphan"]);
    assert!(found[0].file.is_some() && found[0].container.is_none());
    assert!(found[1].file.is_some() && found[1].container.is_some());
    assert!(found[2].file.is_none() && found[2].container.is_some());
}

#[test]
fn lock_path_depends_on_the_worktree() {
    let paths = Paths::new(1, "/h".into(), None, None, None);
    let wt = |p: &str| Worktree {
        root: p.into(),
        git_dir: format!("{p}/.git").into(),
        common_dir: format!("{p}/.git").into(),
    };
    let a = worktree_lock_path(&paths, &wt("/a"));
    assert_eq!(a, worktree_lock_path(&paths, &wt("/a")));
    assert_ne!(a, worktree_lock_path(&paths, &wt("/b")));
    assert!(a.starts_with("/run/user/1/ccy"));
}
