//! `ccy ui`'s state and its keys. Pure: no terminal, no clock, no I/O.
//! A key changes the state and returns the [`Action`] the loop must carry
//! out (through the session layer); the loop feeds back what it learns
//! ([`App::set_host`], [`App::confirm_remove`], [`App::say`]).

use crate::session::fleet::{Preview, Row};
use crate::session::remote::LOCAL;

/// A session on a host: what a row stands for across refreshes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Id {
    /// The host (`local` for this machine).
    pub host: String,
    /// The session name.
    pub name: String,
}

impl Id {
    /// Whether the session is this machine's.
    #[must_use]
    pub fn is_local(&self) -> bool {
        self.host == LOCAL
    }
}

/// A key, as the loop reads it from the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Enter.
    Enter,
    /// Escape.
    Esc,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Home.
    Home,
    /// End.
    End,
    /// Backspace.
    Backspace,
    /// Ctrl-C.
    Interrupt,
}

/// What a confirmation is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// Stop a session that has clients attached.
    Stop,
    /// Remove a session; `force` when `rm` would refuse (work would be
    /// lost).
    Remove {
        /// Whether the removal needs `--force`.
        force: bool,
    },
}

/// What the UI is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Browsing the list.
    List,
    /// Typing the filter (`/`).
    Filter,
    /// The help screen (`?`).
    Help,
    /// Typing the worktree of a new session (`n`).
    NewPrompt {
        /// What is typed so far.
        input: String,
    },
    /// Asking yes or no.
    Confirm {
        /// The session.
        id: Id,
        /// What for.
        ask: Ask,
        /// What to show: the question's facts, one line each.
        lines: Vec<String>,
    },
}

/// What the loop must do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing but a redraw.
    None,
    /// Leave the UI.
    Quit,
    /// Attach to the session (start it when stopped); back to the list
    /// on detach.
    Attach(Id),
    /// Create a session for the worktree at this path (as typed) and
    /// attach to it.
    New(String),
    /// Stop the session; `force`: its attached clients were confirmed.
    Stop {
        /// The session.
        id: Id,
        /// Stop even with clients attached.
        force: bool,
    },
    /// Find out what removing the session would lose, then ask
    /// ([`App::confirm_remove`]).
    CheckRemove(Id),
    /// Remove the session (confirmed); `force` as `rm --force`.
    Remove {
        /// The session.
        id: Id,
        /// Remove even though work would be lost.
        force: bool,
    },
    /// Toggle the session's keep label.
    Keep(Id),
    /// Ask every host again.
    Refresh,
    /// The selection moved: take a new preview.
    Select,
}

/// A host's answer as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostNote {
    /// The host's name.
    pub host: String,
    /// Why it gave no answer, when it did not.
    pub error: Option<String>,
}

/// The state of `ccy ui`.
#[derive(Debug, Clone)]
pub struct App {
    /// Every session of every host that answered: this machine's first,
    /// then by host and name. `host` is always set.
    pub rows: Vec<Row>,
    /// The hosts asked, in order, with their errors.
    pub hosts: Vec<HostNote>,
    /// The filter (`/`): rows whose name, host, project, branch, state or
    /// agent contain it, ignoring case.
    pub filter: String,
    /// The selected session.
    pub selected: Option<Id>,
    /// What the UI does.
    pub mode: Mode,
    /// One line for the footer (the last action's outcome).
    pub message: Option<String>,
    /// The selected session's pane.
    pub preview: Preview,
    /// How many rows a page key moves (the table's height, set by the
    /// view).
    pub page: usize,
}

impl Default for App {
    fn default() -> Self {
        Self::new()
    }
}

impl App {
    /// An empty UI.
    #[must_use]
    pub fn new() -> Self {
        Self {
            rows: Vec::new(),
            hosts: Vec::new(),
            filter: String::new(),
            selected: None,
            mode: Mode::List,
            message: None,
            preview: Preview::Empty,
            page: 10,
        }
    }

    /// Replaces the sessions of `host` with `rows` (`Err`: why the host
    /// gave no answer; its rows are dropped). Keeps the selection when
    /// the session is still there, else selects the row at the same
    /// place. Returns whether the selected session changed.
    pub fn set_host(&mut self, host: &str, rows: Result<Vec<Row>, String>) -> bool {
        let before = self.selected_index();
        self.rows.retain(|r| r.host.as_deref() != Some(host));
        let error = match rows {
            Ok(rows) => {
                self.rows.extend(rows.into_iter().map(|mut r| {
                    r.host = Some(host.to_owned());
                    r
                }));
                None
            }
            Err(e) => Some(e),
        };
        match self.hosts.iter_mut().find(|h| h.host == host) {
            Some(h) => h.error = error,
            None => self.hosts.push(HostNote {
                host: host.to_owned(),
                error,
            }),
        }
        self.rows.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        self.hosts
            .sort_by(|a, b| (a.host != LOCAL, &a.host).cmp(&(b.host != LOCAL, &b.host)));
        self.reselect(before)
    }

    /// The rows the filter lets through, in order.
    #[must_use]
    pub fn visible(&self) -> Vec<&Row> {
        let f = self.filter.to_lowercase();
        self.rows
            .iter()
            .filter(|r| {
                f.is_empty()
                    || [
                        r.name.as_str(),
                        r.host.as_deref().unwrap_or(""),
                        r.project.as_str(),
                        r.branch.as_str(),
                        r.state.as_str(),
                        r.agent.as_deref().unwrap_or(""),
                    ]
                    .iter()
                    .any(|t| t.to_lowercase().contains(&f))
            })
            .collect()
    }

    /// The index of the selected session among [`App::visible`].
    #[must_use]
    pub fn selected_index(&self) -> Option<usize> {
        let id = self.selected.as_ref()?;
        self.visible().iter().position(|r| is(r, id))
    }

    /// The selected session's row.
    #[must_use]
    pub fn selected_row(&self) -> Option<&Row> {
        let id = self.selected.as_ref()?;
        self.rows.iter().find(|r| is(r, id))
    }

    /// Keeps the selection on a visible session: the same one, else the
    /// one at index `near` (or the last), else none. Returns whether the
    /// selected session changed.
    fn reselect(&mut self, near: Option<usize>) -> bool {
        let old = self.selected.clone();
        if self.selected_index().is_none() {
            let visible = self.visible();
            self.selected = visible
                .get(near.unwrap_or(0).min(visible.len().saturating_sub(1)))
                .map(|r| id_of(r));
        }
        self.selected != old
    }

    /// Moves the selection by `delta` rows, within the list.
    fn step(&mut self, delta: isize) -> Action {
        let visible = self.visible();
        if visible.is_empty() {
            return Action::None;
        }
        let at = self.selected_index().unwrap_or(0);
        let to = at
            .saturating_add_signed(delta)
            .min(visible.len().saturating_sub(1));
        let id = id_of(visible[to]);
        if self.selected.as_ref() == Some(&id) {
            return Action::None;
        }
        self.selected = Some(id);
        Action::Select
    }

    /// Shows `text` in the footer until the next key.
    pub fn say(&mut self, text: impl Into<String>) {
        self.message = Some(text.into());
    }

    /// Asks whether to remove `id`, showing `losses` (what `rm` would
    /// refuse for: empty when nothing would be lost).
    pub fn confirm_remove(&mut self, id: Id, losses: Vec<String>) {
        let force = !losses.is_empty();
        let mut lines = if force {
            let mut l = vec!["rm would refuse: work would be lost".to_owned()];
            l.extend(losses);
            l.push("y removes it anyway (as rm --force)".to_owned());
            l
        } else {
            vec!["nothing would be lost (its volume is kept)".to_owned()]
        };
        lines.insert(0, format!("remove {}?", label(&id)));
        self.mode = Mode::Confirm {
            id,
            ask: Ask::Remove { force },
            lines,
        };
    }

    /// Asks whether to remove `id`, a session of another host: its ccy
    /// checks what would be lost, and refuses then
    /// ([`App::confirm_remove`] follows with its reasons).
    pub fn confirm_remove_remote(&mut self, id: Id) {
        let lines = vec![
            format!("remove {}?", label(&id)),
            format!(
                "ccy on {} refuses if work would be lost, and says why",
                id.host
            ),
        ];
        self.mode = Mode::Confirm {
            id,
            ask: Ask::Remove { force: false },
            lines,
        };
    }

    /// Handles `key`: changes the state, returns what the loop must do.
    pub fn key(&mut self, key: Key) -> Action {
        if key == Key::Interrupt {
            return Action::Quit;
        }
        self.message = None;
        match std::mem::replace(&mut self.mode, Mode::List) {
            Mode::List => self.list_key(key),
            Mode::Help => Action::None,
            Mode::Filter => self.filter_key(key),
            Mode::NewPrompt { input } => self.prompt_key(key, input),
            Mode::Confirm { id, ask, lines } => match key {
                Key::Char('y' | 'Y') => match ask {
                    Ask::Stop => Action::Stop { id, force: true },
                    Ask::Remove { force } => Action::Remove { id, force },
                },
                Key::Char('n' | 'N' | 'q') | Key::Esc => {
                    self.say("cancelled");
                    Action::None
                }
                _ => {
                    self.mode = Mode::Confirm { id, ask, lines };
                    Action::None
                }
            },
        }
    }

    fn list_key(&mut self, key: Key) -> Action {
        let page = isize::try_from(self.page.max(1)).unwrap_or(10);
        match key {
            Key::Char('q') | Key::Esc => Action::Quit,
            Key::Up => self.step(-1),
            Key::Down => self.step(1),
            Key::PageUp => self.step(-page),
            Key::PageDown => self.step(page),
            Key::Home => self.step(isize::MIN / 2),
            Key::End => self.step(isize::MAX / 2),
            Key::Char('?') => {
                self.mode = Mode::Help;
                Action::None
            }
            Key::Char('/') => {
                self.mode = Mode::Filter;
                Action::None
            }
            Key::Char('n') => {
                self.mode = Mode::NewPrompt {
                    input: String::new(),
                };
                Action::None
            }
            Key::Char('r') => Action::Refresh,
            Key::Enter | Key::Char('s' | 'd' | 'k') => self.session_key(key),
            _ => Action::None,
        }
    }

    /// The keys that act on the selected session.
    fn session_key(&mut self, key: Key) -> Action {
        let Some(row) = self.selected_row().cloned() else {
            self.say("no session selected");
            return Action::None;
        };
        let id = id_of(&row);
        match key {
            Key::Enter => Action::Attach(id),
            Key::Char('s') if !row.is_up() => {
                self.say(format!("{} is not running", label(&id)));
                Action::None
            }
            Key::Char('s') if row.clients > 0 => {
                self.mode = Mode::Confirm {
                    lines: vec![
                        format!("stop {}?", label(&id)),
                        format!(
                            "{} client{} attached: someone may be looking at it",
                            row.clients,
                            if row.clients == 1 { " is" } else { "s are" }
                        ),
                    ],
                    id,
                    ask: Ask::Stop,
                };
                Action::None
            }
            Key::Char('s') => Action::Stop { id, force: false },
            Key::Char('d') => Action::CheckRemove(id),
            Key::Char('k') => Action::Keep(id),
            _ => Action::None,
        }
    }

    fn filter_key(&mut self, key: Key) -> Action {
        let before = self.selected.clone();
        match key {
            Key::Enter => return Action::None,
            Key::Esc => self.filter.clear(),
            Key::Backspace => {
                self.filter.pop();
                self.mode = Mode::Filter;
            }
            Key::Char(c) => {
                self.filter.push(c);
                self.mode = Mode::Filter;
            }
            Key::Up | Key::Down => {
                self.mode = Mode::Filter;
                return self.step(if key == Key::Up { -1 } else { 1 });
            }
            _ => self.mode = Mode::Filter,
        }
        self.reselect(Some(0));
        if self.selected == before {
            Action::None
        } else {
            Action::Select
        }
    }

    fn prompt_key(&mut self, key: Key, mut input: String) -> Action {
        match key {
            Key::Esc => {
                self.say("cancelled");
                return Action::None;
            }
            Key::Enter => {
                let path = input.trim().to_owned();
                if path.is_empty() {
                    self.say("no worktree given");
                    return Action::None;
                }
                return Action::New(path);
            }
            Key::Backspace => {
                input.pop();
            }
            Key::Char(c) => input.push(c),
            _ => {}
        }
        self.mode = Mode::NewPrompt { input };
        Action::None
    }
}

/// `NAME`, or `HOST:NAME` for another host's session.
#[must_use]
pub fn label(id: &Id) -> String {
    if id.is_local() {
        id.name.clone()
    } else {
        format!("{}:{}", id.host, id.name)
    }
}

fn sort_key(r: &Row) -> (bool, &str, &str) {
    let host = r.host.as_deref().unwrap_or(LOCAL);
    (host != LOCAL, host, r.name.as_str())
}

fn is(r: &Row, id: &Id) -> bool {
    r.name == id.name && r.host.as_deref().unwrap_or(LOCAL) == id.host
}

/// The id of row `r`.
#[must_use]
pub fn id_of(r: &Row) -> Id {
    Id {
        host: r.host.clone().unwrap_or_else(|| LOCAL.to_owned()),
        name: r.name.clone(),
    }
}

#[cfg(test)]
pub(crate) mod tests;
