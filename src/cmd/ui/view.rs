//! Drawing `ccy ui`: the state ([`App`]) to a ratatui frame. Pure: the
//! clock (`now`) and the home directory are given; nothing is read.
//!
//! At 80×24: a title line, the table (half of what is left), the
//! selected session's pane below it, and a footer with the keys or the
//! last action's outcome. Questions and the help are boxes over it.

use ansi_to_tui::IntoText;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row as TRow, Table, TableState};

use super::app::{App, Mode};
use crate::session::fleet::{Preview, Row};

/// The footer's list of keys.
pub const KEYS: &str = "Enter attach  n new  s stop  d rm  k keep  / filter  ? help  q quit";

/// The help box's lines.
const HELP: [&str; 13] = [
    "Enter     attach (starts a stopped session);",
    "          detach (Ctrl-b d) returns here",
    "n         new session: asks for its worktree",
    "s         stop (asks when clients are attached)",
    "d         remove, after showing what rm would",
    "          refuse for (work that would be lost)",
    "k         keep / unkeep (ccy prune leaves it)",
    "/         filter: name, host, project, branch,",
    "          state, agent; Esc clears it",
    "r         ask every host again",
    "Up Down PgUp PgDn Home End   move",
    "q Esc     quit",
    "Ctrl-C    quit",
];

/// How many table rows (without the header) fit in a terminal `height`
/// lines tall with `visible` rows to show and `errors` unreachable hosts.
#[must_use]
pub fn table_rows(height: u16, visible: usize, errors: usize) -> usize {
    let errors = u16::try_from(errors.min(2)).unwrap_or(2);
    let body = height.saturating_sub(2 + errors);
    let half = usize::from(body / 2).saturating_sub(1).max(1);
    visible.clamp(1, half)
}

/// Draws `app` at time `now` (seconds since the Unix epoch) into `frame`.
pub fn draw(frame: &mut Frame, app: &App, now: u64) {
    let area = frame.area();
    let visible = app.visible();
    let errors: Vec<_> = app.hosts.iter().filter(|h| h.error.is_some()).collect();
    let shown_errors = errors.len().min(2);
    let rows = table_rows(area.height, visible.len(), errors.len());
    let [title, table, preview, notes, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::try_from(rows + 1).unwrap_or(u16::MAX)),
        Constraint::Fill(1),
        Constraint::Length(u16::try_from(shown_errors).unwrap_or(2)),
        Constraint::Length(1),
    ])
    .areas(area);

    frame.render_widget(Paragraph::new(title_line(app, visible.len())), title);
    draw_table(frame, app, &visible, now, table);
    draw_preview(frame, app, preview);
    let notes_text: Vec<Line> = errors
        .iter()
        .take(2)
        .map(|h| {
            Line::styled(
                format!(
                    "{}: unreachable: {}",
                    h.host,
                    h.error.as_deref().unwrap_or("")
                ),
                Style::new().fg(Color::Red),
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(notes_text), notes);
    frame.render_widget(Paragraph::new(footer_line(app)), footer);

    match &app.mode {
        Mode::Confirm { lines, .. } => {
            let mut text: Vec<Line> = lines.iter().map(|l| Line::raw(l.clone())).collect();
            text.push(Line::raw(""));
            text.push(Line::styled("y yes   n no", Style::new().bold()));
            popup(frame, area, " confirm ", text);
        }
        Mode::Help => {
            let mut text: Vec<Line> = HELP.iter().map(|l| Line::raw(*l)).collect();
            text.push(Line::raw(""));
            text.push(Line::styled("any key closes this", Style::new().bold()));
            popup(frame, area, " ccy ui keys ", text);
        }
        _ => {}
    }
}

fn title_line(app: &App, shown: usize) -> Line<'static> {
    let answered = app.hosts.iter().filter(|h| h.error.is_none()).count();
    let mut spans = vec![
        Span::styled("ccy ui", Style::new().bold()),
        Span::raw(format!(
            "  {} session{}",
            app.rows.len(),
            if app.rows.len() == 1 { "" } else { "s" }
        )),
    ];
    if app.hosts.len() > 1 {
        spans.push(Span::raw(format!(
            " on {answered} of {} hosts",
            app.hosts.len()
        )));
    }
    if !app.filter.is_empty() || app.mode == Mode::Filter {
        spans.push(Span::raw(format!(
            "  filter /{}: {shown} shown",
            app.filter
        )));
    }
    Line::from(spans)
}

fn footer_line(app: &App) -> Line<'static> {
    match &app.mode {
        Mode::Filter => Line::from(vec![
            Span::styled(format!("/{}_", app.filter), Style::new().bold()),
            Span::raw("   Enter keep  Esc clear"),
        ]),
        Mode::NewPrompt { input } => Line::from(vec![
            Span::raw("new session in worktree: "),
            Span::styled(format!("{input}_"), Style::new().bold()),
            Span::raw("   Enter create  Esc cancel"),
        ]),
        Mode::Confirm { .. } => Line::raw("y yes  n no"),
        _ => match &app.message {
            Some(m) => Line::styled(m.clone(), Style::new().bold()),
            None => Line::styled(KEYS, Style::new().dim()),
        },
    }
}

fn state_style(r: &Row) -> Style {
    match r.state.as_str() {
        "running" => Style::new().fg(Color::Green),
        "failed" => Style::new().fg(Color::Red).bold(),
        _ => Style::new().fg(Color::Yellow),
    }
}

fn agent_style(r: &Row) -> Style {
    match r.agent.as_deref() {
        Some("busy") => Style::new().fg(Color::Green),
        Some("waiting") => Style::new().fg(Color::Red).bold(),
        Some("done") => Style::new().fg(Color::Yellow),
        _ => Style::new(),
    }
}

fn draw_table(frame: &mut Frame, app: &App, visible: &[&Row], now: u64, area: Rect) {
    let header = TRow::new([
        "NAME", "HOST", "STATE", "AGENT", "PROJECT", "BRANCH", "CLIENTS",
    ])
    .style(Style::new().bold());
    let rows: Vec<TRow> = visible
        .iter()
        .map(|r| {
            TRow::new([
                Cell::from(r.name.clone()),
                Cell::from(r.host.clone().unwrap_or_default()),
                Cell::from(Span::styled(r.state.clone(), state_style(r))),
                Cell::from(Span::styled(r.agent_text(now), agent_style(r))),
                Cell::from(r.project.clone()),
                Cell::from(r.branch.clone()),
                Cell::from(r.clients.to_string()),
            ])
        })
        .collect();
    // The widest name, host and project shown (within limits), so that
    // names are whole at 80 columns; the branch takes what is left.
    let widest = |f: fn(&Row) -> usize, min: usize, max: usize| {
        let w = visible
            .iter()
            .map(|r| f(r))
            .max()
            .unwrap_or(0)
            .clamp(min, max);
        Constraint::Length(u16::try_from(w).unwrap_or(u16::MAX))
    };
    let table = Table::new(
        rows,
        [
            widest(|r| r.name.chars().count(), 4, 32),
            widest(
                |r| r.host.as_deref().map_or(0, |h| h.chars().count()),
                5,
                12,
            ),
            Constraint::Length(8),
            Constraint::Length(11),
            widest(|r| r.project.chars().count(), 7, 12),
            Constraint::Fill(1),
            Constraint::Length(7),
        ],
    )
    .header(header)
    .column_spacing(1)
    .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let selected = app.selected_index();
    let height = usize::from(area.height.saturating_sub(1)).max(1);
    let offset = selected.map_or(0, |s| s.saturating_sub(height - 1));
    let mut state = TableState::new()
        .with_offset(offset)
        .with_selected(selected);
    frame.render_stateful_widget(table, area, &mut state);
    if visible.is_empty() {
        let [_, rest] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
        let why = if app.rows.is_empty() {
            "no sessions (n creates one)"
        } else {
            "no session matches the filter"
        };
        frame.render_widget(Paragraph::new(Line::styled(why, Style::new().dim())), rest);
    }
}

fn draw_preview(frame: &mut Frame, app: &App, area: Rect) {
    let title = app.selected_row().map_or_else(String::new, |r| {
        let mut t = format!(" {} ", r.name);
        if let Some(m) = &r.agent_message {
            t = format!("{t}· {m} ");
        }
        t
    });
    let block = Block::new().borders(Borders::TOP).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let dim = |s: &str| Text::from(Line::styled(s.to_owned(), Style::new().dim()));
    let text = match &app.preview {
        Preview::Empty => Text::default(),
        Preview::NotRunning => dim("not running: Enter starts it and attaches"),
        Preview::Remote => {
            dim("no preview for a session on another host (Enter attaches over ssh)")
        }
        Preview::Unavailable => dim("no preview: the session's tmux cannot be asked"),
        Preview::Pane(p) => pane_text(p, inner.height),
    };
    frame.render_widget(Paragraph::new(text), inner);
}

/// The last `height` lines of the pane's text (after its trailing blank
/// lines), colours kept.
fn pane_text(pane: &str, height: u16) -> Text<'static> {
    let lines: Vec<&str> = pane.lines().collect();
    let end = lines
        .iter()
        .rposition(|l| !strip(l).trim().is_empty())
        .map_or(0, |i| i + 1);
    let start = end.saturating_sub(usize::from(height));
    let tail = lines[start..end].join("\n");
    tail.into_text().unwrap_or_else(|_| Text::raw(strip(&tail)))
}

fn strip(s: &str) -> String {
    anstream::adapter::strip_str(s).to_string()
}

/// A bordered box with `text`, centred over `area`.
fn popup(frame: &mut Frame, area: Rect, title: &str, text: Vec<Line<'static>>) {
    let width = text
        .iter()
        .map(Line::width)
        .max()
        .unwrap_or(0)
        .saturating_add(4)
        .min(usize::from(area.width));
    let height = (text.len() + 2).min(usize::from(area.height));
    let w = u16::try_from(width).unwrap_or(area.width);
    let h = u16::try_from(height).unwrap_or(area.height);
    let rect = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(title.to_owned());
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let padded = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(1),
        ..inner
    };
    frame.render_widget(Paragraph::new(text), padded);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::super::app::tests::app;
    use super::super::app::{App, Key};
    use super::*;
    use crate::session::fleet::Preview;

    const NOW: u64 = 1_795_237_200;

    /// The screen of `app` at 80×24, as text, trailing blanks trimmed.
    fn screen(app: &App) -> String {
        screen_sized(app, 80, 24)
    }

    fn screen_sized(app: &App, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| draw(f, app, NOW)).unwrap();
        let buf = t.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            let mut line = String::new();
            for x in 0..buf.area.width {
                line.push_str(buf[(x, y)].symbol());
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    fn with_pane(mut a: App) -> App {
        a.preview = Preview::Pane(
            "$ claude\n\u{1b}[32m✻ Welcome to Claude Code\u{1b}[0m\n\n> fix the tests\n\n\n".into(),
        );
        a
    }

    #[test]
    fn list_with_preview_at_80x24() {
        insta::assert_snapshot!(screen(&with_pane(app())), @"
        ccy ui  4 sessions on 2 of 3 hosts
        NAME             HOST  STATE    AGENT       PROJECT BRANCH               CLIENTS
        ccy-app-0123abcd local running  waiting 3m  app     main                 1
        ccy-app-89abcdef local running  busy 3m     app     main                 0
        ccy-web-00c0ffee local stopped  stopped 3m  web     main                 0
        ccy-api-11112222 lab1  running  done 3m     api     main                 0
         ccy-app-0123abcd ──────────────────────────────────────────────────────────────
        $ claude
        ✻ Welcome to Claude Code

        > fix the tests











        down: unreachable: no answer within 3 s
        Enter attach  n new  s stop  d rm  k keep  / filter  ? help  q quit
        ");
    }

    #[test]
    fn the_selected_row_is_highlighted() {
        let mut a = app();
        a.key(Key::Down);
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| draw(f, &a, NOW)).unwrap();
        let buf = t.backend().buffer();
        assert!(buf[(0, 3)].modifier.contains(Modifier::REVERSED));
        assert!(!buf[(0, 2)].modifier.contains(Modifier::REVERSED));
        // Colours: running green, waiting red.
        assert_eq!(buf[(27, 2)].fg, Color::Green);
        assert_eq!(buf[(36, 2)].fg, Color::Red);
    }

    #[test]
    fn many_rows_scroll_to_the_selection() {
        let mut a = App::new();
        let rows = (0..40)
            .map(|i| {
                super::super::app::tests::row("local", &format!("s{i:02}"), "stopped", "stopped", 0)
            })
            .collect();
        a.set_host("local", Ok(rows));
        a.preview = Preview::NotRunning;
        for _ in 0..15 {
            a.key(Key::Down);
        }
        insta::assert_snapshot!(screen(&a), @"
        ccy ui  40 sessions
        NAME HOST  STATE    AGENT       PROJECT BRANCH                           CLIENTS
        s06  local stopped  stopped 3m  p       main                             0
        s07  local stopped  stopped 3m  p       main                             0
        s08  local stopped  stopped 3m  p       main                             0
        s09  local stopped  stopped 3m  p       main                             0
        s10  local stopped  stopped 3m  p       main                             0
        s11  local stopped  stopped 3m  p       main                             0
        s12  local stopped  stopped 3m  p       main                             0
        s13  local stopped  stopped 3m  p       main                             0
        s14  local stopped  stopped 3m  p       main                             0
        s15  local stopped  stopped 3m  p       main                             0
         s15 ───────────────────────────────────────────────────────────────────────────
        not running: Enter starts it and attaches









        Enter attach  n new  s stop  d rm  k keep  / filter  ? help  q quit
        ");
    }

    #[test]
    fn filter_remote_preview_and_prompt() {
        let mut a = app();
        a.key(Key::Char('/'));
        a.key(Key::Char('l'));
        a.key(Key::Char('a'));
        a.preview = Preview::Remote;
        insta::assert_snapshot!(screen(&a), @"
        ccy ui  4 sessions on 2 of 3 hosts  filter /la: 1 shown
        NAME             HOST  STATE    AGENT       PROJECT BRANCH               CLIENTS
        ccy-api-11112222 lab1  running  done 3m     api     main                 0
         ccy-api-11112222 ──────────────────────────────────────────────────────────────
        no preview for a session on another host (Enter attaches over ssh)

















        down: unreachable: no answer within 3 s
        /la_   Enter keep  Esc clear
        ");
        a.key(Key::Enter);
        a.key(Key::Char('n'));
        a.key(Key::Char('~'));
        let s = screen(&a);
        assert!(
            s.ends_with("new session in worktree: ~_   Enter create  Esc cancel\n"),
            "{s}"
        );
    }

    #[test]
    fn remove_confirmation_shows_what_rm_would_refuse_for() {
        let mut a = app();
        a.key(Key::End);
        a.preview = Preview::Remote;
        let id = a.selected.clone().unwrap();
        a.confirm_remove(
            id,
            vec![
                "ccy-api-11112222: 1 uncommitted change in ~/src/api".into(),
                "    M src/lib.rs".into(),
            ],
        );
        insta::assert_snapshot!(screen(&a), @"
        ccy ui  4 sessions on 2 of 3 hosts
        NAME             HOST  STATE    AGENT       PROJECT BRANCH               CLIENTS
        ccy-app-0123abcd local running  waiting 3m  app     main                 1
        ccy-app-89abcdef local running  busy 3m     app     main                 0
        ccy-web-00c0ffee local stopped  stopped 3m  web     main                 0
        ccy-api-11112222 lab1  running  done 3m     api     main                 0
         ccy-api-11112222 ──────────────────────────────────────────────────────────────
        no preview f┌ confirm ────────────────────────────────────────────┐
                    │ remove lab1:ccy-api-11112222?                       │
                    │ rm would refuse: work would be lost                 │
                    │ ccy-api-11112222: 1 uncommitted change in ~/src/api │
                    │     M src/lib.rs                                    │
                    │ y removes it anyway (as rm --force)                 │
                    │                                                     │
                    │ y yes   n no                                        │
                    └─────────────────────────────────────────────────────┘






        down: unreachable: no answer within 3 s
        y yes  n no
        ");
    }

    #[test]
    fn help_box() {
        let mut a = app();
        a.key(Key::Char('?'));
        let s = screen(&a);
        assert!(
            s.contains("│ d         remove, after showing what rm would"),
            "{s}"
        );
        assert!(s.contains("any key closes this"), "{s}");
    }

    #[test]
    fn tiny_terminals_do_not_panic() {
        let a = with_pane(app());
        for (w, h) in [(1, 1), (10, 3), (20, 5), (80, 4)] {
            screen_sized(&a, w, h);
        }
        let mut b = app();
        b.key(Key::Char('?'));
        screen_sized(&b, 12, 6);
    }
}
