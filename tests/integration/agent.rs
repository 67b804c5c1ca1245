//! The real Claude Code in a session: the image the sandbox builds with
//! ccy's own image build (`tests/sandbox/sandbox agent-image`: Debian's
//! node and npm, Claude Code pinned from npm), a token file as `claude
//! setup-token` leaves it, and the fake Anthropic API
//! (`tests/fake-anthropic/server.py`) in place of the real one.
//!
//! What a new user sees first: Claude Code's main prompt in bypass
//! permissions mode, no dialog (the launcher answers onboarding, trust and
//! the Bypass Permissions warning), and the agent answers a prompt typed
//! into the pane.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::fake_anthropic::FakeAnthropic;
use crate::support::{Repo, Term, ccy, exclusive, home, marker, q, sh, sh_ok};
use crate::support::{assert_secret_nowhere, secret_places};

/// The image ccy builds for these tests, FROM the real-agent image.
const AGENT_TEST_IMAGE: &str = "localhost/ccy-test-agent:latest";

/// Claude Code's status line on its main prompt in bypass mode.
const MAIN_PROMPT: &str = "bypass permissions on";

/// Text of the dialogs Claude Code can open on before its main prompt.
const DIALOGS: [&str; 8] = [
    "Bypass Permissions mode",
    "Yes, I accept",
    "No, exit",
    "Do you trust the files",
    "Select login method",
    "Choose the text style",
    "Security notes",
    "Press Enter to continue",
];

/// The real-agent image the harness loaded (tests/run sets the variable).
fn agent_base_image() -> String {
    std::env::var("CCY_TEST_AGENT_IMAGE").expect(
        "CCY_TEST_AGENT_IMAGE is not set: run these tests with tests/run, \
         which builds the real-agent image (tests/sandbox/sandbox agent-image)",
    )
}

/// A repository whose sessions run the real Claude Code, with the default
/// agent command (`claude --dangerously-skip-permissions`).
fn agent_repo(name: &str) -> Repo {
    let repo = Repo::new(name);
    std::fs::write(
        repo.dir.join(".claude/ccy/config.toml"),
        format!(
            "[image]\nname = \"{AGENT_TEST_IMAGE}\"\nbase = \"{}\"\nagent_install = \"\"\n",
            agent_base_image()
        ),
    )
    .unwrap();
    repo
}

/// A Claude token file `NAME.2099-01-01.token` (private, as ccy requires)
/// holding a fake token; removes it and its secret on drop.
struct TokenFile {
    name: String,
    token: String,
    path: PathBuf,
}

impl TokenFile {
    fn new(name: &str) -> Self {
        let token = format!("sk-ant-oat01-{}", marker("fake").replace('-', "Q"));
        let tdir = home().join(".claude-tokens/ccy/tokens");
        std::fs::create_dir_all(&tdir).unwrap();
        for d in [
            home().join(".claude-tokens"),
            home().join(".claude-tokens/ccy"),
            tdir.clone(),
        ] {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let path = tdir.join(format!("{name}.2099-01-01.token"));
        std::fs::write(&path, format!("{token}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        Self {
            name: name.to_owned(),
            token,
            path,
        }
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        std::fs::remove_file(&self.path).ok();
        sh(&format!(
            "podman secret rm {}",
            q(&format!("ccy-token-{}", self.name))
        ));
    }
}

/// Starts `ccy` with the token and the fake API in a terminal and waits
/// for Claude Code's main prompt; returns the terminal and the screen.
fn start_agent(repo: &Repo, api: &FakeAnthropic, token: &TokenFile) -> (Term, String) {
    let mut cmd = format!("ccy --token {}", q(&token.name));
    for f in api.ccy_flags() {
        cmd.push(' ');
        cmd.push_str(&q(&f));
    }
    let term = Term::spawn(&repo.dir, &cmd);
    // The first session builds its image FROM the real-agent image.
    let screen = term.wait_for(MAIN_PROMPT, 600);
    (term, screen)
}

#[test]
fn real_agent_opens_on_its_main_prompt_and_the_token_stays_secret() {
    // Token files are the user's own: no other test runs meanwhile.
    let _g = exclusive();
    let since = sh_ok("date +%s");
    let api = FakeAnthropic::start();
    let token = TokenFile::new("agentprompt");
    let repo = agent_repo("agent-prompt");
    let (term, _) = start_agent(&repo, &api, &token);
    // A dialog could still come up over the prompt: look again a little
    // later, with the whole screen settled.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let screen = term.screen();
    assert!(screen.contains(MAIN_PROMPT), "main prompt gone:\n{screen}");
    assert!(
        screen.contains("Claude Code"),
        "not Claude Code's screen:\n{screen}"
    );
    for d in DIALOGS {
        assert!(!screen.contains(d), "a dialog ({d:?}) is open:\n{screen}");
    }

    let name = repo.session_names().pop().expect("a session");
    // The token did reach the agent (else the checks below prove nothing).
    let seen = sh_ok(&format!(
        "podman exec {} printenv CLAUDE_CODE_OAUTH_TOKEN",
        q(&name)
    ));
    assert_eq!(seen, token.token);

    let mut places = secret_places(&name, &since);
    places.push(("the pane".to_owned(), screen));
    assert_secret_nowhere(&places, &token.token);

    term.detach();
    term.wait_for("[exited 0]", 30);
}

#[test]
fn real_agent_answers_a_prompt_and_runs_a_tool_through_the_fake_api() {
    let _g = exclusive();
    let api = FakeAnthropic::start();
    let token = TokenFile::new("agentreply");
    let repo = agent_repo("agent-reply");
    let (term, _) = start_agent(&repo, &api, &token);

    // A prompt typed into the pane; the reply names the prompt's last
    // word, which the typed prompt does not show as "pong …".
    let word = marker("ping");
    term.line(&format!("ping {word}"));
    let screen = term.wait_for(&format!("pong {word}"), 120);
    assert!(screen.contains("quick reply"), "{screen}");

    // A reply that asks for a tool: Claude Code runs it (bypass mode, no
    // question) and sends its output back, which the reply quotes.
    let word = marker("tool");
    term.line(&format!("use a tool {word}"));
    term.wait_for(&format!("tool result seen: fake-tool-output-{word}"), 120);

    let prompts: Vec<String> = api
        .requests()
        .iter()
        .filter_map(|r| r.get("reply").and_then(|v| v.as_str()).map(str::to_owned))
        .collect();
    assert!(
        prompts.iter().any(|r| r == "tool-result"),
        "the fake API saw no tool result: {prompts:?}"
    );

    term.detach();
    term.wait_for("[exited 0]", 30);
}

/// The session `name`'s `agent_state`, `agent_source` and whole object in
/// `ccy list --json`.
fn agent_of(repo: &Repo, name: &str) -> (String, String, serde_json::Value) {
    let out = ccy(&repo.dir, &["list", "--json"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let all: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let e = all
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {}", out.stdout))
        .clone();
    let s = |k: &str| e[k].as_str().unwrap_or("").to_owned();
    (s("agent_state"), s("agent_source"), e)
}

/// Waits up to `secs` until the agent of `name` is in `state` by its
/// hooks; returns its `ccy list --json` object.
fn wait_agent(repo: &Repo, name: &str, state: &str, secs: u64, term: &Term) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (s, src, e) = agent_of(repo, name);
        if s == state && src == "hook" {
            return e;
        }
        assert!(
            Instant::now() < deadline,
            "the agent is not {state} after {secs}s: {e}\nscreen:\n{}",
            term.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The real Claude Code reports its own state through ccy's hooks (the
/// image's managed settings): idle when it starts (`SessionStart`), busy as
/// soon as a prompt is submitted and all through a 10-second reply, done
/// when the turn ends (`Stop`), and the status line says so.
#[test]
fn real_agent_state_goes_idle_busy_done_through_its_hooks() {
    let _g = exclusive();
    let api = FakeAnthropic::start();
    let token = TokenFile::new("agentstate");
    let repo = agent_repo("agent-state");
    let (term, _) = start_agent(&repo, &api, &token);
    let name = repo.session_names().pop().expect("a session");
    let e = wait_agent(&repo, &name, "idle", 30, &term);
    assert!(e["agent_message"].is_null(), "{e}");

    let word = marker("slow");
    let typed = Instant::now();
    term.line(&format!("slow ping {word}"));
    let busy = wait_agent(&repo, &name, "busy", 10, &term);
    let busy_after = typed.elapsed();
    // Busy all through the slow reply: still busy 5 s later.
    std::thread::sleep(Duration::from_secs(5));
    let (s, _, e) = agent_of(&repo, &name);
    assert_eq!(s, "busy", "{e}");
    assert_eq!(e["agent_since"], busy["agent_since"], "{e}");
    let status_line = sh_ok(&format!(
        "podman exec {} tmux display -p -t main '#{{T:status-left}}'",
        q(&name)
    ));
    assert!(status_line.contains("busy "), "{status_line}");

    let done = wait_agent(&repo, &name, "done", 60, &term);
    assert!(
        typed.elapsed() >= Duration::from_secs(9),
        "done before the 10 s reply could end: {done}"
    );
    term.wait_for(&format!("pong {word}"), 10);
    let out = ccy(&repo.dir, &["status", "--json", &name]);
    let s: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(s["agent_event"], "Stop", "{s}");
    eprintln!("busy seen {busy_after:?} after the prompt was typed");

    term.detach();
    term.wait_for("[exited 0]", 30);
}

/// Without bypass mode (`claude --permission-mode default`), a reply that
/// asks for a tool that writes (`mkdir`; Claude Code runs a bare `echo`
/// without asking) raises Claude Code's real permission prompt: the agent
/// is waiting; answered, it runs the tool and ends its turn: done.
#[test]
fn real_agent_permission_prompt_makes_it_waiting() {
    let _g = exclusive();
    let api = FakeAnthropic::start();
    let token = TokenFile::new("agentask");
    let repo = agent_repo("agent-ask");
    let cfg = repo.dir.join(".claude/ccy/config.toml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("\n[agent]\ncommand = [\"claude\", \"--permission-mode\", \"default\"]\n");
    std::fs::write(&cfg, text).unwrap();
    let mut cmd = format!("ccy --token {}", q(&token.name));
    for f in api.ccy_flags() {
        cmd.push(' ');
        cmd.push_str(&q(&f));
    }
    let term = Term::spawn(&repo.dir, &cmd);
    let deadline = Instant::now() + Duration::from_secs(600);
    let name = loop {
        if let Some(n) = repo.session_names().pop() {
            break n;
        }
        assert!(Instant::now() < deadline, "no session:\n{}", term.screen());
        std::thread::sleep(Duration::from_millis(200));
    };
    wait_agent(&repo, &name, "idle", 600, &term);
    // The prompt box is drawn a moment after SessionStart.
    std::thread::sleep(Duration::from_secs(3));

    let word = marker("write");
    term.line(&format!("write with a tool {word}"));
    let waiting = wait_agent(&repo, &name, "waiting", 60, &term);
    let screen = term.screen();
    assert!(
        !screen.contains(&format!("tool result seen: fake-tool-output-{word}")),
        "the tool ran without asking:\n{screen}"
    );
    eprintln!("waiting: {waiting}");
    // Still waiting a while later: nobody answered.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(agent_of(&repo, &name).0, "waiting");

    // The first choice is "Yes".
    term.keys(&["Enter"]);
    term.wait_for(&format!("tool result seen: fake-tool-output-{word}"), 60);
    wait_agent(&repo, &name, "done", 30, &term);
    assert!(repo.dir.join(format!("fake-dir-{word}")).is_dir());

    term.detach();
    term.wait_for("[exited 0]", 30);
}
