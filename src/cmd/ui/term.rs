//! `ccy ui`'s terminal and loop: the alternate screen in raw mode, one
//! blocking poll(2) on the terminal, this machine's inotify descriptor
//! and the other hosts' poller, and the actions carried out through the
//! session layer ([`crate::session::fleet`]).

use std::io::{IsTerminal, Stdout};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::Duration;

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use super::app::{Action, App, Id, Key, label};
use super::view;
use crate::cmd::create_opts::CreateArgs;
use crate::ctx::Ctx;
use crate::error::{Error, ExitKind, Result};
use crate::host::git::Worktree;
use crate::session::fleet::{self, Local, Preview, Row};
use crate::session::remote::{self, HostSessions, LOCAL, RemoteHost};
use crate::session::{create, find, store};

/// What `ccy ui` asks of other hosts.
pub struct Options {
    /// The hosts of `[hosts]`.
    pub remotes: Vec<RemoteHost>,
    /// How long a host may take to answer.
    pub timeout: Duration,
    /// How often they are asked.
    pub poll: Duration,
}

/// How long an action on another host may take (a stop saves the panes
/// and keeps the layer).
const REMOTE_ACTION: Duration = Duration::from_secs(120);

/// How soon this machine is listed again while a session starts or
/// stops (the end of that shows in no file).
const SETTLE: Duration = Duration::from_millis(300);

/// Runs the UI until the user quits.
///
/// # Errors
/// No terminal; no user manager or Podman API; the terminal fails.
pub fn run(ctx: &Ctx, opts: &Options) -> Result<()> {
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        return Err(
            Error::usage("ccy ui needs a terminal: standard input or output is not one")
                .hint("for a listing without one, use 'ccy list --all-hosts'"),
        );
    }
    let mut local = ctx.block_on(Local::open(ctx))?;
    let mut app = App::new();
    app.set_host(LOCAL, Ok(local.rows(find::now_epoch())));
    let poller = if opts.remotes.is_empty() {
        None
    } else {
        Some(Poller::start(opts)?)
    };
    let mut ui = Ui {
        ctx,
        local: &mut local,
        app,
        screen: Screen::enter()?,
        remotes: &opts.remotes,
        poller,
    };
    ui.preview();
    ui.run_loop()
}

struct Ui<'a, 'c> {
    ctx: &'c Ctx,
    local: &'a mut Local<'c>,
    app: App,
    screen: Screen,
    remotes: &'a [RemoteHost],
    poller: Option<Poller>,
}

/// What poll(2) found.
#[derive(Default)]
#[expect(clippy::struct_excessive_bools, reason = "one per descriptor")]
struct Ready {
    keys: bool,
    hangup: bool,
    inotify: bool,
    hosts: bool,
}

impl Ui<'_, '_> {
    fn run_loop(&mut self) -> Result<()> {
        // Starts crossterm's reader (and its SIGWINCH handler, which
        // interrupts poll(2) below).
        let _ = event::poll(Duration::ZERO);
        loop {
            self.screen.draw(&mut self.app)?;
            let timeout = if self.local.settling() {
                Some(SETTLE)
            } else {
                None
            };
            let ready = self.wait(timeout)?;
            if ready.hangup {
                return Ok(());
            }
            if ready.inotify {
                let changed = self.local.events()?;
                if changed.all {
                    self.refresh_local();
                } else if !changed.sessions.is_empty() {
                    self.app
                        .set_host(LOCAL, Ok(self.local.rows(find::now_epoch())));
                    if self
                        .app
                        .selected
                        .as_ref()
                        .is_some_and(|id| id.is_local() && changed.sessions.contains(&id.name))
                    {
                        self.preview();
                    }
                }
            }
            if ready.hosts {
                self.take_answers();
            }
            if !(ready.keys || ready.inotify || ready.hosts) && self.local.settling() {
                self.refresh_local();
            }
            // Keys last (and after a signal: a resize is an event).
            while event::poll(Duration::ZERO).unwrap_or(false) {
                let Some(key) = read_key()? else { continue };
                let action = self.app.key(key);
                if self.act(action)? {
                    return Ok(());
                }
            }
        }
    }

    /// Blocks until the terminal, inotify or the poller has something, or
    /// `timeout` passes, or a signal (a resize) comes.
    fn wait(&self, timeout: Option<Duration>) -> Result<Ready> {
        let stdin = std::io::stdin();
        let mut fds = vec![
            PollFd::new(stdin.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.local.fd(), PollFlags::POLLIN),
        ];
        if let Some(p) = &self.poller {
            fds.push(PollFd::new(p.fd(), PollFlags::POLLIN));
        }
        let t = timeout.map_or(PollTimeout::NONE, |d| {
            PollTimeout::try_from(d).unwrap_or(PollTimeout::MAX)
        });
        match poll(&mut fds, t) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => return Ok(Ready::default()),
            Err(e) => return Err(Error::failure(format!("poll failed: {e}"))),
        }
        let has = |i: usize, f: PollFlags| {
            fds.get(i)
                .and_then(PollFd::revents)
                .is_some_and(|r| r.intersects(f))
        };
        Ok(Ready {
            keys: has(0, PollFlags::POLLIN),
            hangup: has(0, PollFlags::POLLHUP | PollFlags::POLLERR) && !has(0, PollFlags::POLLIN),
            inotify: has(1, PollFlags::POLLIN),
            hosts: has(2, PollFlags::POLLIN),
        })
    }

    fn refresh_local(&mut self) {
        match self.ctx.block_on(self.local.refresh()) {
            Ok(()) => {
                if self
                    .app
                    .set_host(LOCAL, Ok(self.local.rows(find::now_epoch())))
                    || self.app.selected.as_ref().is_some_and(Id::is_local)
                {
                    self.preview();
                }
            }
            Err(e) => self.app.say(first_line(&e)),
        }
    }

    fn take_answers(&mut self) {
        let Some(p) = &self.poller else { return };
        let mut changed = false;
        for answers in p.take() {
            for h in answers {
                let rows = h.answer.map(|(_, sessions)| {
                    sessions
                        .iter()
                        .map(|m| Row::from_json(&h.host, m))
                        .collect()
                });
                changed |= self.app.set_host(&h.host, rows);
            }
        }
        if changed {
            self.preview();
        }
    }

    /// Takes the selected session's pane.
    fn preview(&mut self) {
        self.app.preview = match &self.app.selected {
            None => Preview::Empty,
            Some(id) if id.is_local() => self.local.preview(&id.name),
            Some(_) => Preview::Remote,
        };
    }

    /// Shows `text` at once (before a blocking action).
    fn busy(&mut self, text: String) -> Result<()> {
        self.app.say(text);
        self.screen.draw(&mut self.app)
    }

    fn remote(&self, id: &Id) -> Result<&RemoteHost> {
        self.remotes
            .iter()
            .find(|h| h.name == id.host)
            .ok_or_else(|| Error::usage(format!("no host {} in [hosts]", id.host)))
    }

    /// Carries out `action`; returns whether to quit.
    fn act(&mut self, action: Action) -> Result<bool> {
        match action {
            Action::None => {}
            Action::Quit => return Ok(true),
            Action::Select => self.preview(),
            Action::Refresh => {
                self.refresh_local();
                if let Some(p) = &self.poller {
                    p.now();
                }
            }
            Action::Attach(id) => self.attach(&id)?,
            Action::New(path) => self.new_session(&path)?,
            Action::Stop { id, force } => {
                self.busy(format!("stopping {}…", label(&id)))?;
                if id.is_local() {
                    let (r, out) =
                        crate::ui::capture(|| self.ctx.block_on(self.local.stop(&id.name, force)));
                    self.outcome(r, &out, format!("stopped {}", id.name));
                    self.refresh_local();
                } else {
                    self.remote_action(&id, &["stop", "--force", &id.name])?;
                }
            }
            Action::Keep(id) => {
                if id.is_local() {
                    match self.ctx.block_on(self.local.toggle_keep(&id.name)) {
                        Ok(true) => self
                            .app
                            .say(format!("{} kept: ccy prune will not remove it", id.name)),
                        Ok(false) => self.app.say(format!(
                            "{} no longer kept: ccy prune may remove it",
                            id.name
                        )),
                        Err(e) => self.app.say(first_line(&e)),
                    }
                } else {
                    let host = self.remote(&id)?.clone();
                    let out = self.ctx.block_on(fleet::run_remote(
                        &host,
                        &["keep", &id.name],
                        REMOTE_ACTION,
                    ));
                    if out.ok && out.text.contains("already kept") {
                        self.remote_action(&id, &["keep", "--off", &id.name])?;
                    } else {
                        self.app.say(last_line(&out.text));
                    }
                }
            }
            Action::CheckRemove(id) => {
                if id.is_local() {
                    self.busy(format!("checking what removing {} would lose…", id.name))?;
                    match self.ctx.block_on(self.local.losses(&id.name)) {
                        Ok(lines) => self.app.confirm_remove(id, lines),
                        Err(e) => self.app.say(first_line(&e)),
                    }
                } else {
                    self.app.confirm_remove_remote(id);
                }
            }
            Action::Remove { id, force } => {
                self.busy(format!("removing {}…", label(&id)))?;
                if id.is_local() {
                    let (r, out) = crate::ui::capture(|| {
                        self.ctx.block_on(self.local.remove(&id.name, force))
                    });
                    self.outcome(r, &out, format!("removed {}", id.name));
                    self.refresh_local();
                } else {
                    let host = self.remote(&id)?.clone();
                    let mut args = vec!["rm"];
                    if force {
                        args.push("--force");
                    }
                    args.push(&id.name);
                    let out = self
                        .ctx
                        .block_on(fleet::run_remote(&host, &args, REMOTE_ACTION));
                    if !force && out.status == Some(ExitKind::Refused.code().into()) {
                        // It refused: ask again, with its reasons.
                        let lines = out
                            .text
                            .lines()
                            .filter(|l| !l.trim().is_empty() && !l.contains("hint:"))
                            .map(str::to_owned)
                            .collect();
                        self.app.confirm_remove(id, lines);
                    } else {
                        self.app.say(last_line(&out.text));
                    }
                    if let Some(p) = &self.poller {
                        p.now();
                    }
                }
            }
        }
        Ok(false)
    }

    /// Runs `ccy ARGS` on the session's host and shows its last line.
    fn remote_action(&mut self, id: &Id, args: &[&str]) -> Result<()> {
        let host = self.remote(id)?.clone();
        let out = self
            .ctx
            .block_on(fleet::run_remote(&host, args, REMOTE_ACTION));
        self.app.say(last_line(&out.text));
        if let Some(p) = &self.poller {
            p.now();
        }
        Ok(())
    }

    /// The footer after a local action: its first printed line (`stopped
    /// NAME`, `removed NAME: …`), or the error's first.
    fn outcome(&mut self, r: Result<()>, printed: &str, done: String) {
        match r {
            Ok(()) => {
                let said = printed
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                self.app.say(if said.is_empty() { done } else { said });
            }
            Err(e) => self.app.say(first_line(&e)),
        }
    }

    /// Hands the terminal to `argv` (a tmux client, `ssh -t`) and takes
    /// it back when it ends.
    fn hand_over(&mut self, argv: &[std::ffi::OsString]) -> Result<()> {
        self.screen.leave()?;
        let r = crate::host::exec::run_foreground(argv);
        self.screen.resume()?;
        match r {
            Ok(Some(0)) => self.app.message = None,
            Ok(Some(code)) => self
                .app
                .say(format!("the client exited with status {code}")),
            Ok(None) => self.app.say("the client was killed by a signal"),
            Err(e) => self.app.say(first_line(&e)),
        }
        Ok(())
    }

    fn attach(&mut self, id: &Id) -> Result<()> {
        if id.is_local() {
            self.busy(format!("attaching to {}…", id.name))?;
            let (argv, _) =
                crate::ui::capture(|| self.ctx.block_on(self.local.attach_argv(&id.name)));
            match argv {
                Ok(argv) => self.hand_over(&argv)?,
                Err(e) => self.app.say(first_line(&e)),
            }
            self.refresh_local();
        } else {
            let argv = fleet::remote_attach_argv(self.remote(id)?, &id.name);
            self.hand_over(&argv)?;
            if let Some(p) = &self.poller {
                p.now();
            }
        }
        Ok(())
    }

    /// `n`: creates a session for the worktree at `typed` (as `ccy new`
    /// in it, with the defaults) and attaches. The screen is left first,
    /// so what creating prints (an image build) shows.
    fn new_session(&mut self, typed: &str) -> Result<()> {
        let path = if let Some(rest) = typed.strip_prefix("~/") {
            self.ctx.paths.home.join(rest)
        } else if typed == "~" {
            self.ctx.paths.home.clone()
        } else {
            self.ctx.cwd.join(typed)
        };
        let worktree = match Worktree::discover(&path) {
            Ok(w) => w,
            Err(e) => {
                self.app.say(first_line(&e));
                return Ok(());
            }
        };
        self.screen.leave()?;
        crate::outln!("ccy ui: creating a session for {}", worktree.root.display());
        let created = self.ctx.block_on(async {
            let host = self.local.host();
            let args = CreateArgs::default();
            let cfg = args.config(self.ctx, &worktree)?.config;
            let _lock = find::lock_worktree(&self.ctx.paths, &worktree)?;
            let name = create::create(host, &cfg, &worktree, args.new_session(None)).await?;
            store::write_session_id(&worktree, &name)?;
            Ok::<_, Error>(name)
        });
        let r = match created {
            Ok(name) => {
                let argv = crate::session::attach::attach_argv(
                    &self.ctx.paths,
                    &name,
                    crate::host::podman::AttachMode::default(),
                );
                self.app.say(format!("created {name}"));
                crate::host::exec::run_foreground(&argv).map(|_| ())
            }
            Err(e) => Err(e),
        };
        self.screen.resume()?;
        if let Err(e) = r {
            self.app.say(first_line(&e));
        }
        self.refresh_local();
        Ok(())
    }
}

/// The first line of `e`'s message.
fn first_line(e: &Error) -> String {
    e.to_string().lines().next().unwrap_or("").to_owned()
}

/// The last line of `text` that is not blank.
fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// The next key of the terminal, if the next event is one.
fn read_key() -> Result<Option<Key>> {
    let ev = event::read().map_err(|e| Error::failure(format!("cannot read the terminal: {e}")))?;
    let Event::Key(k) = ev else { return Ok(None) };
    if k.kind == KeyEventKind::Release {
        return Ok(None);
    }
    Ok(Some(match k.code {
        KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Key::Interrupt,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Backspace => Key::Backspace,
        _ => return Ok(None),
    }))
}

/// The terminal in the alternate screen and raw mode; put back when
/// dropped.
struct Screen {
    term: Terminal<CrosstermBackend<Stdout>>,
    active: bool,
}

fn term_err(e: impl std::fmt::Display) -> Error {
    Error::failure(format!("terminal: {e}"))
}

impl Screen {
    fn enter() -> Result<Self> {
        let term = Terminal::new(CrosstermBackend::new(std::io::stdout())).map_err(term_err)?;
        let mut s = Self {
            term,
            active: false,
        };
        s.resume()?;
        Ok(s)
    }

    /// Back to the alternate screen after [`Screen::leave`], redrawn
    /// whole at the next draw.
    fn resume(&mut self) -> Result<()> {
        crossterm::terminal::enable_raw_mode().map_err(term_err)?;
        execute!(std::io::stdout(), EnterAlternateScreen, cursor::Hide).map_err(term_err)?;
        self.active = true;
        self.term.clear().map_err(term_err)
    }

    /// The normal screen and mode, for a client to use.
    fn leave(&mut self) -> Result<()> {
        if self.active {
            self.active = false;
            execute!(std::io::stdout(), LeaveAlternateScreen, cursor::Show).map_err(term_err)?;
            crossterm::terminal::disable_raw_mode().map_err(term_err)?;
        }
        Ok(())
    }

    fn draw(&mut self, app: &mut App) -> Result<()> {
        let size = self.term.size().map_err(term_err)?;
        let errors = app.hosts.iter().filter(|h| h.error.is_some()).count();
        app.page = view::table_rows(size.height, usize::MAX, errors);
        let now = find::now_epoch();
        self.term
            .draw(|f| view::draw(f, app, now))
            .map(|_| ())
            .map_err(term_err)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.leave();
    }
}

/// Asks the other hosts in a thread of its own, every `poll` (or at
/// once when told), and wakes the loop through a socket pair.
struct Poller {
    answers: mpsc::Receiver<Vec<HostSessions>>,
    now: mpsc::Sender<()>,
    wake: UnixStream,
}

impl Poller {
    fn start(opts: &Options) -> Result<Self> {
        let (tx, answers) = mpsc::channel();
        let (now, now_rx) = mpsc::channel::<()>();
        let (wake, waker) = UnixStream::pair()
            .map_err(|e| Error::failure(format!("cannot make a socket pair: {e}")))?;
        let _ = wake.set_nonblocking(true);
        let remotes = opts.remotes.clone();
        let (timeout, every) = (opts.timeout, opts.poll);
        std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            let mut waker = waker;
            loop {
                let got = rt.block_on(remote::all_sessions(&remotes, timeout));
                if tx.send(got).is_err() {
                    return;
                }
                let _ = std::io::Write::write_all(&mut waker, b"x");
                match now_rx.recv_timeout(every) {
                    Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) => {
                        while now_rx.try_recv().is_ok() {}
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        });
        Ok(Self { answers, now, wake })
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// Asks the hosts again now.
    fn now(&self) {
        let _ = self.now.send(());
    }

    /// The answers that came (and the wake-up bytes read).
    fn take(&self) -> Vec<Vec<HostSessions>> {
        let mut buf = [0u8; 64];
        while std::io::Read::read(&mut &self.wake, &mut buf).is_ok_and(|n| n > 0) {}
        self.answers.try_iter().collect()
    }
}
