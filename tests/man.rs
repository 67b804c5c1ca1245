//! Man pages: `man/ccy.1` and `man/ccy-VERB.1` (`ccy-config-show.1` for a
//! nested verb) are rendered from the clap definitions with `clap_mangen`,
//! plus sections made here from ccy's own code (exit codes, configuration
//! keys, file locations) so that they cannot drift from it.
//!
//! Regenerate them after changing the command line or its help:
//!
//! ```sh
//! CCY_UPDATE_MAN=1 cargo test --test man
//! ```
//!
//! Without `CCY_UPDATE_MAN`, the tests fail when a committed page differs
//! from what the CLI renders, when a page renders with a groff warning (on
//! a UTF-8 or an ASCII terminal), when a verb's help has no "Exit status:"
//! paragraph, and when the exit status table of `docs/commands.md` differs
//! from [`ExitKind::meaning`].
//!
//! How a verb's help becomes its page: the doc comment's first line is the
//! NAME line; its other paragraphs are DESCRIPTION, except a paragraph
//! starting `Exit status:`, which becomes EXIT STATUS; text in backticks is
//! set in bold; `…` becomes `...`, which every terminal can show. ccy(1)
//! also gets CONFIGURATION, every key with its default and comment
//! ([`ccy::config::DEFAULTS`], verbatim).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use ccy::cmd::Cli;
use ccy::error::ExitKind;
use ccy::paths::Paths;
use clap::CommandFactory;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

/// The command that rewrites `man/` (printed by failing tests).
const REGENERATE: &str = "CCY_UPDATE_MAN=1 cargo test --test man";

/// Manual pages of other programs that a verb's page points to, besides
/// ccy's own pages.
fn external_see_also(page: &str) -> &'static [&'static str] {
    match page {
        "ccy" => &[
            "podman-systemd.unit(5)",
            "systemd.unit(5)",
            "loginctl(1)",
            "journalctl(1)",
            "tmux(1)",
        ],
        "ccy-attach" => &["tmux(1)", "podman-exec(1)"],
        "ccy-shell" => &["podman-exec(1)"],
        "ccy-logs" => &["journalctl(1)", "systemd.exec(5)"],
        "ccy-new" | "ccy-stop" | "ccy-rm" => &["podman-systemd.unit(5)", "systemctl(1)"],
        "ccy-tokens" => &["podman-secret(1)"],
        "ccy-list" => &["podman-ps(1)", "systemctl(1)"],
        "ccy-status" => &["podman-stats(1)", "podman-inspect(1)", "systemctl(1)"],
        "ccy-doctor" => &[
            "podman-systemd.unit(5)",
            "loginctl(1)",
            "subuid(5)",
            "systemd.resource-control(5)",
        ],
        _ => &[],
    }
}

/// The directory holding the pages.
fn man_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("man")
}

/// ccy's command, built as `clap_mangen::generate_to` builds it: no `help`
/// subcommand, bin and display names set on every subcommand.
fn root() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Every page: file name → roff text.
fn render_all() -> BTreeMap<String, String> {
    let mut pages = BTreeMap::new();
    add_pages(&root(), None, &mut pages);
    pages
}

fn add_pages(cmd: &clap::Command, parent: Option<&str>, pages: &mut BTreeMap<String, String>) {
    let name = page_name(cmd);
    pages.insert(format!("{name}.1"), render(cmd, parent));
    for sub in visible_subcommands(cmd) {
        add_pages(sub, Some(&name), pages);
    }
}

fn visible_subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

/// `ccy`, `ccy-attach`, `ccy-config-show`.
fn page_name(cmd: &clap::Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_owned()
}

/// A command's long help split into description paragraphs (without the
/// first, the summary that the NAME line shows) and its `Exit status:`
/// paragraph (without that prefix).
fn split_help(cmd: &clap::Command) -> (Vec<String>, Option<String>) {
    let text = cmd
        .get_long_about()
        .or_else(|| cmd.get_about())
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut paragraphs = Vec::new();
    let mut exit = None;
    // Only line ends are trimmed: a paragraph of a verbatim doc comment may
    // start with indented lines (a table), which roff keeps as lines.
    for p in text
        .split("\n\n")
        .map(|p| p.trim_start_matches('\n').trim_end())
        .filter(|p| !p.is_empty())
    {
        match p.strip_prefix("Exit status:") {
            // One line, also from a verbatim doc comment.
            Some(rest) => exit = Some(rest.split_whitespace().collect::<Vec<_>>().join(" ")),
            None => paragraphs.push(p.to_owned()),
        }
    }
    if paragraphs.len() > 1 {
        paragraphs.remove(0);
    }
    (paragraphs, exit)
}

/// An `Exit status:` text (`that of journalctl; 2 NAME matches several
/// sessions; 3 …`) as a lead sentence (the part before the first numbered
/// item, if any) and `(code, meaning)` items.
fn exit_items(text: &str) -> (Option<String>, Vec<(String, String)>) {
    let text = text.trim().trim_end_matches('.');
    let numbered = |piece: &str| {
        piece
            .split_once(' ')
            .is_some_and(|(code, _)| code.split('-').all(|n| n.parse::<u8>().is_ok()))
    };
    let mut lead: Option<String> = None;
    let mut items: Vec<(String, String)> = Vec::new();
    for piece in text.split("; ") {
        if numbered(piece) {
            let (code, meaning) = piece.split_once(' ').unwrap();
            items.push((code.to_owned(), meaning.to_owned()));
        } else if let Some((_, meaning)) = items.last_mut() {
            // A "; " inside an item.
            meaning.push_str("; ");
            meaning.push_str(piece);
        } else if let Some(lead) = &mut lead {
            lead.push_str("; ");
            lead.push_str(piece);
        } else {
            lead = Some(piece.to_owned());
        }
    }
    (lead, items)
}

/// One page: `clap_mangen`'s NAME, SYNOPSIS, DESCRIPTION, OPTIONS and
/// SUBCOMMANDS, then EXIT STATUS, CONFIGURATION, ENVIRONMENT and FILES
/// (ccy(1) only) and SEE ALSO.
fn render(cmd: &clap::Command, parent: Option<&str>) -> String {
    let name = page_name(cmd);
    let (paragraphs, exit) = split_help(cmd);
    // clap_mangen renders DESCRIPTION from the long about: give it the one
    // without the exit status paragraph. The version goes into the title
    // line only (no VERSION section).
    let version = root().get_version().unwrap_or_default().to_owned();
    // SYNOPSIS: clap's own usage lines (they show `--` before trailing
    // arguments and option values, which clap_mangen's synopsis omits).
    let usage = cmd.clone().render_usage().to_string();
    let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage).to_owned();
    let cmd = cmd
        .clone()
        .override_usage(usage)
        .long_about(paragraphs.join("\n\n"))
        .version(None::<&str>)
        .long_version(None::<&str>);
    let mut out = Vec::new();
    Man::new(cmd.clone()).render(&mut out).unwrap();
    let mut text = String::from_utf8(out).unwrap();
    // clap_mangen writes empty .TH fields as nothing, which shifts the
    // later ones: write the title line here.
    let th = text
        .lines()
        .find(|l| l.starts_with(".TH "))
        .unwrap()
        .to_owned();
    text = text.replacen(
        &th,
        &format!(
            // No hyphenation, ragged right: the text is full of commands
            // and paths.
            ".TH \"{}\" \"1\" \"\" \"ccy {version}\" \"ccy manual\"\n.nh\n.ad l",
            name.to_uppercase()
        ),
        1,
    );

    let mut extra = Roff::new();
    exit_status_section(&mut extra, parent.is_none(), exit.as_deref());
    text.push_str(&without_preamble(&extra));
    if parent.is_none() {
        text.push_str(&configuration_section());
        let mut extra = Roff::new();
        environment_section(&mut extra);
        files_section(&mut extra);
        text.push_str(&without_preamble(&extra));
    }
    let mut extra = Roff::new();
    see_also_section(&mut extra, &name, parent, &cmd);
    text.push_str(&without_preamble(&extra));
    // groff has no ASCII form of U+2026: `man ccy` in a C locale would
    // warn "can't find special character 'u2026'".
    code_in_bold(&text).replace('…', "\\&...")
}

/// `roff` rendered without the preamble every rendering starts with (the
/// page has it once, from `clap_mangen`).
fn without_preamble(roff: &Roff) -> String {
    let text = roff.render();
    let preamble = Roff::new().render();
    text.strip_prefix(&preamble).unwrap_or(&text).to_owned()
}

/// CONFIGURATION (ccy(1)): [`ccy::config::DEFAULTS`] as it is, in no-fill
/// mode. Written as roff here rather than through [`Roff::text`], so that
/// its backticks stay backticks (`\(ga`) instead of turning bold.
fn configuration_section() -> String {
    let mut head = Roff::new();
    head.control("SH", ["CONFIGURATION"]);
    head.text([roman(
        "Every key of the configuration files, with its default and what it does. \
         This is ccy's built-in configuration; the files and variables below \
         override it key by key.",
    )]);
    let mut out = without_preamble(&head);
    out.push_str(".PP\n.nf\n");
    for line in ccy::config::DEFAULTS.trim().lines() {
        let line = line
            .replace('\\', "\\\\")
            .replace('-', "\\-")
            .replace('\'', "\\*(Aq")
            .replace('`', "\\(ga");
        if line.starts_with('.') {
            out.push_str("\\&");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(".fi\n");
    out
}

/// Text between backticks → bold. A span may go on over the next text
/// lines (a verbatim doc comment keeps its line breaks), never past a
/// control line; a block of text lines with an odd number of backticks is
/// left alone.
fn code_in_bold(roff: &str) -> String {
    let mut out = String::new();
    let mut block: Vec<&str> = Vec::new();
    for line in roff.lines() {
        if line.starts_with('.') {
            bold_block(&block, &mut out);
            block.clear();
            out.push_str(line);
            out.push('\n');
        } else {
            block.push(line);
        }
    }
    bold_block(&block, &mut out);
    out
}

fn bold_block(lines: &[&str], out: &mut String) {
    let ticks: usize = lines.iter().map(|l| l.matches('`').count()).sum();
    let convert = ticks > 0 && ticks.is_multiple_of(2);
    let mut open = false;
    for line in lines {
        if !convert {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if open {
            out.push_str("\\fB");
        }
        for (i, span) in line.split('`').enumerate() {
            if i > 0 {
                open = !open;
                out.push_str(if open { "\\fB" } else { "\\fR" });
            }
            out.push_str(span);
        }
        if open {
            out.push_str("\\fR");
        }
        out.push('\n');
    }
}

fn paragraph(roff: &mut Roff, text: &str) {
    roff.control("PP", []);
    roff.text([roman(text)]);
}

fn tagged(roff: &mut Roff, tag: &str, text: &str) {
    roff.control("TP", []);
    roff.text([bold(tag)]);
    roff.text([roman(text)]);
}

fn exit_status_section(roff: &mut Roff, is_root: bool, exit: Option<&str>) {
    roff.control("SH", ["EXIT STATUS"]);
    if let Some(exit) = exit {
        let (lead, items) = exit_items(exit);
        match (is_root, lead) {
            (true, lead) => {
                let lead = lead.map(|l| format!(" {l}.")).unwrap_or_default();
                roff.text([bold("ccy"), roman(format!(" without a verb:{lead}"))]);
            }
            (false, Some(lead)) => {
                let mut chars = lead.chars();
                let lead: String = chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default();
                roff.text([roman(format!("{lead}."))]);
            }
            (false, None) => {}
        }
        for (code, meaning) in items {
            tagged(roff, &code, &meaning);
        }
    }
    if is_root {
        paragraph(roff, "For every verb, the codes mean:");
        tagged(roff, "0", "success");
        for kind in ExitKind::ALL {
            tagged(roff, &kind.code().to_string(), kind.meaning());
        }
    } else {
        paragraph(roff, "Codes 1 to 6 mean the same for every verb: see");
        roff.text([bold("ccy"), roman("(1).")]);
    }
}

fn environment_section(roff: &mut Roff) {
    roff.control("SH", ["ENVIRONMENT"]);
    roff.text([roman(
        "Each configuration key SECTION.KEY can be set with the variable CCY_SECTION_KEY. \
         Its value is read as a TOML value when it parses as one (`2`, `true`, `[\"a\", \"b\"]`), \
         otherwise as a string; for a list key, a single value is a one-element list. \
         Variables override both configuration files; \
         command-line options override variables. \
         `ccy config show` prints each key's effective value and where it came from.",
    )]);
    let defaults: toml::Table = toml::from_str(ccy::config::DEFAULTS).unwrap();
    let loaded = ccy::config::Loader::new().finish().unwrap();
    for key in loaded.sources.keys() {
        let value =
            lookup(&defaults, key).map_or_else(String::new, |v| format!(" (default `{v}`)"));
        tagged(
            roff,
            &ccy::config::env_name(key),
            &format!("Sets `{key}`{value}."),
        );
    }
    let paths = example_paths();
    let home = |p: &Path| p.display().to_string();
    tagged(
        roff,
        "XDG_CONFIG_HOME",
        &format!(
            "Where the user configuration and the Quadlet directory are; `{}` and `{}` when unset.",
            home(&paths.config_dir),
            home(&paths.quadlet_dir)
        ),
    );
    tagged(
        roff,
        "XDG_STATE_HOME",
        &format!(
            "Where session state directories are; `{}` when unset.",
            home(&paths.state_dir)
        ),
    );
    tagged(
        roff,
        "XDG_RUNTIME_DIR",
        "Where the user manager's D-Bus socket (`bus`) and Podman's API socket \
         (`podman/podman.sock`) are; `/run/user/UID` when unset (as in an SSH login \
         without a systemd session).",
    );
    tagged(
        roff,
        "CCY_HOST",
        "When set and not empty, and no `--host` is given, the host every command runs on \
         over SSH (as `--host`).",
    );
    tagged(
        roff,
        "HOME",
        "Your home directory (from the password database when unset).",
    );
    tagged(
        roff,
        "NO_COLOR",
        "When set, ccy's tables and messages have no colour (colour is only used on a \
         terminal anyway). `CLICOLOR_FORCE` forces colour.",
    );
    tagged(
        roff,
        "TERM, COLORTERM",
        "Passed to the processes ccy runs in a session's container (`ccy attach`, \
         `ccy shell`), so that tmux and the shell know your terminal.",
    );
}

/// The value at dotted `key` in `table`.
fn lookup<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let (path, leaf) = key.rsplit_once('.').unwrap_or(("", key));
    let mut t = table;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        t = t.get(part)?.as_table()?;
    }
    t.get(leaf)
}

/// The paths ccy uses for a user whose XDG variables are unset, with the
/// home directory shown as `~`.
fn example_paths() -> Paths {
    Paths::new(1000, PathBuf::from("~"), None, None, None)
}

fn files_section(roff: &mut Roff) {
    let paths = example_paths();
    let show = |p: PathBuf| p.display().to_string();
    roff.control("SH", ["FILES"]);
    tagged(
        roff,
        &show(paths.user_config_file()),
        "Your configuration (TOML): the keys in CONFIGURATION, in sections `[image]`, `[agent]`, …",
    );
    tagged(
        roff,
        &show(ccy::config::project_file(Path::new("WORKTREE"))),
        "A project's configuration, overriding yours for sessions of that worktree. Its \
         keys that reach beyond the worktree (mounts, SSH keys, passed variables, network) \
         apply only once `ccy trust` approved its content.",
    );
    tagged(
        roff,
        &show(paths.quadlet_dir.join("NAME.container")),
        "A session's Quadlet container unit; your user manager generates `NAME.service` \
         from it. Beside it `NAME.volume`, the unit of the agent-state volume `NAME-state`.",
    );
    tagged(
        roff,
        &format!("{}/", show(paths.session_state_dir("NAME"))),
        "A session's state directory, mounted at `/run/ccy` in its container: `ready` \
         (tmux is up) and `status` (tmux activity and client count).",
    );
    tagged(
        roff,
        &show(ccy::session::trust::store_path(&paths)),
        "The approvals of `ccy trust` (mode 0600): each approved project file or archive \
         with the SHA-256 of its content.",
    );
    tagged(
        roff,
        &show(Path::new("WORKTREE").join(ccy::contract::worktree::SESSION_ID)),
        "The name of the worktree's last session: lets `ccy` attach without asking Podman. \
         ccy adds it to `.claude/ccy/.gitignore`.",
    );
}

fn see_also_section(roff: &mut Roff, name: &str, parent: Option<&str>, cmd: &clap::Command) {
    let mut refs: Vec<String> = Vec::new();
    if let Some(parent) = parent {
        refs.push(format!("{parent}(1)"));
        if parent != "ccy" {
            refs.insert(0, "ccy(1)".to_owned());
        }
    }
    refs.extend(visible_subcommands(cmd).map(|s| format!("{}(1)", page_name(s))));
    refs.extend(external_see_also(name).iter().map(|s| (*s).to_owned()));
    if refs.is_empty() {
        return;
    }
    roff.control("SH", ["SEE ALSO"]);
    let mut line = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let (page, section) = r.split_once('(').unwrap();
        line.push(bold(page));
        let sep = if i + 1 < refs.len() { ", " } else { "" };
        line.push(roman(format!("({section}{sep}")));
    }
    roff.text(line);
}

/// The pages in `man/`: file name → text.
fn committed() -> BTreeMap<String, String> {
    let mut pages = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir(man_dir()) else {
        return pages;
    };
    for entry in dir {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "1") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            pages.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    pages
}

/// The committed pages are what the CLI renders; with `CCY_UPDATE_MAN=1`,
/// rewrites them (and removes pages of verbs that are gone).
#[test]
fn man_pages_are_up_to_date() {
    let want = render_all();
    let have = committed();
    if std::env::var_os("CCY_UPDATE_MAN").is_some() {
        std::fs::create_dir_all(man_dir()).unwrap();
        for (name, text) in &want {
            if have.get(name) != Some(text) {
                std::fs::write(man_dir().join(name), text).unwrap();
                eprintln!("wrote man/{name}");
            }
        }
        for name in have.keys().filter(|n| !want.contains_key(*n)) {
            std::fs::remove_file(man_dir().join(name)).unwrap();
            eprintln!("removed man/{name}");
        }
        return;
    }
    let mut problems = Vec::new();
    for (name, text) in &want {
        match have.get(name) {
            None => problems.push(format!("man/{name} is missing")),
            Some(old) if old != text => {
                let o: Vec<&str> = old.lines().collect();
                let w: Vec<&str> = text.lines().collect();
                let n = (0..o.len().max(w.len()))
                    .find(|&i| o.get(i) != w.get(i))
                    .unwrap_or(0);
                let (o, w) = (o.get(n).unwrap_or(&""), w.get(n).unwrap_or(&""));
                problems.push(format!(
                    "man/{name} is out of date; line {}:\n    committed: {o}\n    rendered:  {w}",
                    n + 1
                ));
            }
            Some(_) => {}
        }
    }
    for name in have.keys().filter(|n| !want.contains_key(*n)) {
        problems.push(format!("man/{name} belongs to no command"));
    }
    assert!(
        problems.is_empty(),
        "the man pages differ from the command line:\n{}\nregenerate them with:\n    {REGENERATE}\n",
        problems.join("\n")
    );
}

/// `groff -ww -z -man` (all warnings, no output) on every page as rendered
/// (the same text as the committed pages, which the test above checks),
/// for a UTF-8 terminal and for an ASCII one (`man` in the C locale):
/// `man -l man/ccy.1` must render without a warning in either.
#[test]
fn man_pages_render_without_groff_warnings() {
    for (name, text) in render_all() {
        for (device, locale) in [("-Tutf8", "C.UTF-8"), ("-Tascii", "C")] {
            let mut groff = Process::new("groff")
                // The pages are UTF-8 whatever the locale (man-db tells
                // preconv so too).
                .args(["-k", "-Kutf-8", "-ww", "-z", "-man", device])
                .env("LC_ALL", locale)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot run groff ({e}): install it (Debian: apt-get install groff-base; \
                         tests/run does) to check the man pages"
                    )
                });
            groff
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            let run = groff.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert!(
                run.status.success() && stderr.trim().is_empty(),
                "groff {device} warns about man/{name} ({}):\n{stderr}",
                run.status
            );
        }
    }
}

/// Every command without subcommands says what its exit statuses mean, in
/// a paragraph starting `Exit status:` (it becomes the page's EXIT STATUS).
#[test]
fn every_verb_documents_its_exit_status() {
    fn check(cmd: &clap::Command, missing: &mut Vec<String>) {
        let leaf = visible_subcommands(cmd).next().is_none();
        if (leaf || cmd.get_name() == "ccy") && split_help(cmd).1.is_none() {
            missing.push(cmd.get_bin_name().unwrap_or(cmd.get_name()).to_owned());
        }
        for sub in visible_subcommands(cmd) {
            check(sub, missing);
        }
    }
    let mut missing = Vec::new();
    check(&root(), &mut missing);
    assert!(
        missing.is_empty(),
        "these commands' help has no 'Exit status: …' paragraph (end the doc comment of \
         their Args struct with one): {missing:?}"
    );
}

/// The "Exit status" table of `docs/commands.md` says what
/// [`ExitKind::meaning`] says.
#[test]
fn docs_exit_status_table_matches_the_code() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/commands.md"))
            .unwrap();
    let section = doc
        .split("\n## Exit status\n")
        .nth(1)
        .expect("docs/commands.md has a '## Exit status' section");
    let rows: Vec<(String, String)> = section
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            match cells.as_slice() {
                [code, meaning] if code.parse::<u8>().is_ok() => {
                    Some(((*code).to_owned(), (*meaning).to_owned()))
                }
                _ => None,
            }
        })
        .collect();
    let mut want = vec![("0".to_owned(), "success".to_owned())];
    want.extend(
        ExitKind::ALL
            .iter()
            .map(|k| (k.code().to_string(), k.meaning().to_owned())),
    );
    assert_eq!(
        rows, want,
        "docs/commands.md 'Exit status' table vs ExitKind::meaning"
    );
}

#[test]
fn exit_status_text_becomes_a_lead_and_items() {
    let (lead, items) = exit_items(
        "that of journalctl; 2 NAME matches several; sessions, or not; 125-127 Podman's.",
    );
    assert_eq!(lead.as_deref(), Some("that of journalctl"));
    assert_eq!(
        items,
        [
            (
                "2".to_owned(),
                "NAME matches several; sessions, or not".to_owned()
            ),
            ("125-127".to_owned(), "Podman's".to_owned())
        ]
    );
}

#[test]
fn backticks_become_bold_within_a_block_of_text_lines() {
    assert_eq!(
        code_in_bold(".PP\nrun `ccy\nnew` now\n.PP\nodd ` tick\n"),
        ".PP\nrun \\fBccy\\fR\n\\fBnew\\fR now\n.PP\nodd ` tick\n"
    );
}
