//! Unit tests of `ccy ui`'s state and keys; `row` and `app` are shared
//! with the view's tests.

#![allow(clippy::unwrap_used, clippy::panic)]
use super::*;

/// A row of `host` with a name, state, agent and clients.
pub fn row(host: &str, name: &str, state: &str, agent: &str, clients: u32) -> Row {
    Row {
        host: Some(host.into()),
        name: name.into(),
        state: state.into(),
        agent: Some(agent.into()),
        agent_since: Some(1_795_237_200 - 185),
        agent_message: None,
        project: name.split('-').nth(1).unwrap_or("p").into(),
        branch: "main".into(),
        worktree: format!("/home/dev/src/{name}"),
        created: Some(1_795_237_200 - 86400),
        last_active: None,
        clients,
    }
}

pub fn app() -> App {
    let mut a = App::new();
    a.set_host(
        "local",
        Ok(vec![
            row("local", "ccy-app-0123abcd", "running", "waiting", 1),
            row("local", "ccy-app-89abcdef", "running", "busy", 0),
            row("local", "ccy-web-00c0ffee", "stopped", "stopped", 0),
        ]),
    );
    a.set_host(
        "lab1",
        Ok(vec![row("lab1", "ccy-api-11112222", "running", "done", 0)]),
    );
    a.set_host("down", Err("no answer within 3 s".into()));
    a
}

fn id(host: &str, name: &str) -> Id {
    Id {
        host: host.into(),
        name: name.into(),
    }
}

#[test]
fn rows_sort_local_first_and_selection_starts_at_the_top() {
    let a = app();
    let names: Vec<_> = a.visible().iter().map(|r| r.name.clone()).collect();
    assert_eq!(
        names,
        [
            "ccy-app-0123abcd",
            "ccy-app-89abcdef",
            "ccy-web-00c0ffee",
            "ccy-api-11112222"
        ]
    );
    assert_eq!(a.selected, Some(id("local", "ccy-app-0123abcd")));
    assert_eq!(a.hosts[0].host, "local");
    assert_eq!(a.hosts[1].error, Some("no answer within 3 s".into()));
}

#[test]
fn arrows_move_and_stop_at_the_ends() {
    let mut a = app();
    assert_eq!(a.key(Key::Up), Action::None);
    assert_eq!(a.key(Key::Down), Action::Select);
    assert_eq!(a.selected_index(), Some(1));
    assert_eq!(a.key(Key::End), Action::Select);
    assert_eq!(a.selected, Some(id("lab1", "ccy-api-11112222")));
    assert_eq!(a.key(Key::Down), Action::None);
    assert_eq!(a.key(Key::Home), Action::Select);
    assert_eq!(a.selected_index(), Some(0));
}

#[test]
fn selection_survives_a_refresh_and_falls_back_when_its_row_goes() {
    let mut a = app();
    a.key(Key::Down);
    a.key(Key::Down);
    assert_eq!(a.selected, Some(id("local", "ccy-web-00c0ffee")));
    // A new session sorts before it: still the same one selected.
    let mut rows: Vec<Row> = a
        .rows
        .iter()
        .filter(|r| r.host.as_deref() == Some("local"))
        .cloned()
        .collect();
    rows.insert(0, row("local", "ccy-aaa-00000000", "running", "idle", 0));
    assert!(!a.set_host("local", Ok(rows.clone())));
    assert_eq!(a.selected, Some(id("local", "ccy-web-00c0ffee")));
    // It is removed: the row now at its place is selected.
    rows.retain(|r| r.name != "ccy-web-00c0ffee");
    assert!(a.set_host("local", Ok(rows)));
    assert_eq!(a.selected, Some(id("lab1", "ccy-api-11112222")));
}

#[test]
fn filter_narrows_selects_and_escape_clears() {
    let mut a = app();
    assert_eq!(a.key(Key::Char('/')), Action::None);
    assert_eq!(a.mode, Mode::Filter);
    for c in "LAB".chars() {
        a.key(Key::Char(c));
    }
    assert_eq!(a.filter, "LAB");
    assert_eq!(a.visible().len(), 1);
    assert_eq!(a.selected, Some(id("lab1", "ccy-api-11112222")));
    // Enter keeps the filter and returns to the list, where q quits.
    assert_eq!(a.key(Key::Enter), Action::None);
    assert_eq!(a.mode, Mode::List);
    assert_eq!(a.visible().len(), 1);
    a.key(Key::Char('/'));
    a.key(Key::Backspace);
    assert_eq!(a.filter, "LA");
    a.key(Key::Esc);
    assert_eq!(a.filter, "");
    assert_eq!(a.visible().len(), 4);
    assert_eq!(a.mode, Mode::List);
    // By state and agent too.
    a.filter = "waiting".into();
    assert_eq!(a.visible().len(), 1);
}

#[test]
fn enter_attaches_and_q_or_escape_quits() {
    let mut a = app();
    assert_eq!(
        a.key(Key::Enter),
        Action::Attach(id("local", "ccy-app-0123abcd"))
    );
    assert_eq!(a.key(Key::Char('q')), Action::Quit);
    assert_eq!(a.key(Key::Esc), Action::Quit);
    assert_eq!(a.key(Key::Interrupt), Action::Quit);
}

#[test]
fn stop_asks_when_clients_are_attached() {
    let mut a = app();
    // One client attached: a question first, y stops with force.
    assert_eq!(a.key(Key::Char('s')), Action::None);
    let Mode::Confirm { lines, .. } = &a.mode else {
        panic!("{:?}", a.mode)
    };
    assert!(lines[1].contains("1 client is attached"), "{lines:?}");
    assert_eq!(a.key(Key::Char('x')), Action::None, "other keys wait");
    assert_eq!(
        a.key(Key::Char('y')),
        Action::Stop {
            id: id("local", "ccy-app-0123abcd"),
            force: true
        }
    );
    // No client: at once.
    a.key(Key::Down);
    assert_eq!(
        a.key(Key::Char('s')),
        Action::Stop {
            id: id("local", "ccy-app-89abcdef"),
            force: false
        }
    );
    // Stopped: nothing to do, said so.
    a.key(Key::Down);
    assert_eq!(a.key(Key::Char('s')), Action::None);
    assert_eq!(
        a.message.as_deref(),
        Some("ccy-web-00c0ffee is not running")
    );
    // n cancels.
    a.key(Key::Home);
    a.key(Key::Char('s'));
    assert_eq!(a.key(Key::Char('n')), Action::None);
    assert_eq!(a.mode, Mode::List);
    assert_eq!(a.message.as_deref(), Some("cancelled"));
}

#[test]
fn remove_checks_then_confirms_with_what_would_be_lost() {
    let mut a = app();
    a.key(Key::End);
    let lab = id("lab1", "ccy-api-11112222");
    assert_eq!(a.key(Key::Char('d')), Action::CheckRemove(lab.clone()));
    a.confirm_remove(
        lab.clone(),
        vec!["ccy-api-11112222: 2 uncommitted files".into()],
    );
    let Mode::Confirm { lines, .. } = &a.mode else {
        panic!()
    };
    assert_eq!(lines[0], "remove lab1:ccy-api-11112222?");
    assert!(lines[1].starts_with("rm would refuse"));
    assert_eq!(
        a.key(Key::Char('y')),
        Action::Remove {
            id: lab.clone(),
            force: true
        }
    );
    a.confirm_remove(lab.clone(), vec![]);
    assert_eq!(
        a.key(Key::Char('y')),
        Action::Remove {
            id: lab,
            force: false
        }
    );
}

#[test]
fn new_prompts_for_a_worktree() {
    let mut a = app();
    a.key(Key::Char('n'));
    assert_eq!(a.key(Key::Enter), Action::None);
    assert_eq!(a.message.as_deref(), Some("no worktree given"));
    a.key(Key::Char('n'));
    for c in "~/src/x".chars() {
        a.key(Key::Char(c));
    }
    a.key(Key::Backspace);
    // q is text here, not quit.
    a.key(Key::Char('q'));
    assert_eq!(a.key(Key::Enter), Action::New("~/src/q".into()));
    a.key(Key::Char('n'));
    a.key(Key::Esc);
    assert_eq!(a.mode, Mode::List);
}

#[test]
fn keep_help_and_refresh() {
    let mut a = app();
    assert_eq!(
        a.key(Key::Char('k')),
        Action::Keep(id("local", "ccy-app-0123abcd"))
    );
    a.key(Key::Char('?'));
    assert_eq!(a.mode, Mode::Help);
    assert_eq!(
        a.key(Key::Char('q')),
        Action::None,
        "q leaves the help only"
    );
    assert_eq!(a.mode, Mode::List);
    assert_eq!(a.key(Key::Char('r')), Action::Refresh);
    let mut empty = App::new();
    assert_eq!(empty.key(Key::Enter), Action::None);
    assert_eq!(empty.message.as_deref(), Some("no session selected"));
}
