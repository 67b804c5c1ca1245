//! The command line: [`Cli`] and its [`Command`] enum (clap), beside the
//! one `match` that dispatches them. One module per verb, each with an
//! `…Args` struct (its doc comment is the verb's `--help`) and a
//! `run(&Ctx, &Args)` that turns the arguments into plain values, calls the
//! session layer and prints. Clap types stop here; no verb imports another.

pub mod attach;
pub mod clone;
pub mod completions;
pub mod config;
pub mod create_opts;
pub mod doctor;
pub mod export;
pub mod here;
pub mod idle;
pub mod image;
pub mod import;
pub mod keep;
pub mod keep_layer;
pub mod list;
pub mod logs;
pub mod new;
pub mod notify;
pub mod prune;
pub mod rm;
pub mod shell;
pub mod status;
pub mod stop;
pub mod timer;
pub mod tokens;
pub mod trust;
pub mod ui;

use clap::{CommandFactory, Parser, Subcommand};

use crate::ctx::Ctx;
use crate::error::Result;

/// Persistent, resumable Podman Quadlet sessions for AI coding agents.
///
/// Run `ccy` in a git worktree: it attaches to the worktree's session, or
/// creates one (a Quadlet container unit under your systemd user manager,
/// running the agent in tmux) and attaches to it. Detach with the tmux
/// prefix and `d` (normally Ctrl-b d; Ctrl-a d when ccy runs inside
/// another tmux); the session keeps running, across logout and reboot.
/// Run `ccy` again to come back.
///
/// When the worktree has several sessions (see `ccy new`), ccy attaches to
/// the one it last used (`.claude/ccy/.session-id`) and says in one line
/// that `ccy attach` picks another; when that one is gone, it asks which
/// one to attach to. Creating a session builds the agent image when it is
/// missing and turns on linger for your user (logind), so that sessions
/// keep running after you log out. Without a terminal on standard input,
/// ccy only makes sure the session runs, as `ccy new --detach` does.
///
/// Exit status: that of the attached client (0 after a detach); 2 invalid
/// configuration, or the worktree has several sessions, none last used,
/// and there is no terminal to choose on; 3 not in a git worktree, no user manager, Podman
/// missing or too old; 4 the image build or the unit failed (with its
/// journal); 6 nothing chosen when asked which session.
#[derive(Debug, Parser)]
#[command(name = "ccy", version, about, long_about, max_term_width = 100)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    /// The verb; without one, attach to (or create) this worktree's session.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Run the command on workstation HOST over SSH (given before the
    /// verb; also `CCY_HOST`): a name of `[hosts]` in your configuration, or
    /// an ssh destination. ccy runs there; its exit status and output pass
    /// through. `HOST:NAME` as a session name does the same for one
    /// command (`ccy attach lab1:reviewer`).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,

    /// Options of the default action (attach to or create this worktree's
    /// session).
    #[command(flatten)]
    pub here: here::HereArgs,
}

impl Cli {
    /// Parses ccy's command line `args` (with the program name first).
    /// `--host HOST` (or `--host=HOST`) before the verb is taken out
    /// first, since clap lets no option of ccy's own stand beside a verb;
    /// without it, `CCY_HOST` (when not empty) gives the host.
    #[must_use]
    pub fn parse_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> Self {
        let mut args: Vec<std::ffi::OsString> = args.into_iter().collect();
        let mut host = None;
        if let Some(first) = args.get(1).and_then(|a| a.to_str()) {
            if first == "--host" && args.len() > 2 {
                host = args.get(2).map(|h| h.to_string_lossy().into_owned());
                args.drain(1..3);
            } else if let Some(h) = first.strip_prefix("--host=") {
                host = Some(h.to_owned());
                args.remove(1);
            }
        }
        let mut cli = Self::parse_from(args);
        cli.host = host
            .or(cli.host)
            .or_else(|| std::env::var("CCY_HOST").ok().filter(|h| !h.is_empty()));
        cli
    }
}

/// ccy's verbs. Each variant's help is its `…Args` struct's doc comment.
#[derive(Debug, Subcommand)]
#[expect(missing_docs, reason = "the help is each Args struct's doc comment")]
pub enum Command {
    New(Box<new::NewArgs>),
    Attach(attach::AttachArgs),
    Clone(clone::CloneArgs),
    Export(export::ExportArgs),
    Import(import::ImportArgs),
    Trust(trust::TrustArgs),
    Stop(stop::StopArgs),
    Rm(rm::RmArgs),
    Shell(shell::ShellArgs),
    Logs(logs::LogsArgs),
    #[command(visible_alias = "ls")]
    List(list::ListArgs),
    Status(status::StatusArgs),
    Doctor(doctor::DoctorArgs),
    Config(config::ConfigArgs),
    Completions(completions::CompletionsArgs),
    Tokens(tokens::TokensArgs),
    Prune(prune::PruneArgs),
    Keep(keep::KeepArgs),
    Idle(idle::IdleArgs),
    Timer(timer::TimerArgs),
    Notify(notify::NotifyArgs),
    Ui(ui::UiArgs),
    Image(image::ImageArgs),
    #[command(name = "keep-layer", hide = true)]
    KeepLayer(keep_layer::KeepLayerArgs),
    #[command(name = "notify-daemon", hide = true)]
    NotifyDaemon(notify::NotifyDaemonArgs),
}

/// Runs the command line `cli`.
///
/// # Errors
/// Whatever the verb returns.
pub fn run(cli: Cli) -> Result<()> {
    // Completions need no session context (home, working directory).
    if let Some(Command::Completions(args)) = &cli.command {
        return completions::run(args, Cli::command());
    }
    if let Some(host) = remote_host(&cli)? {
        let ctx = Ctx::from_env()?;
        let raw = std::env::args_os()
            .skip(1)
            .map(std::ffi::OsString::into_string)
            .collect::<std::result::Result<Vec<String>, _>>()
            .map_err(|a| {
                crate::error::Error::usage(format!(
                    "argument {} is not UTF-8 and cannot be sent to host {host}",
                    a.display()
                ))
            })?;
        return forward(&ctx, &host, &forward_args(&raw, &host));
    }
    let ctx = Ctx::from_env()?;
    crate::trace::mark("context ready");
    match cli.command {
        None => here::run(&ctx, &cli.here),
        Some(Command::New(args)) => new::run(&ctx, &args),
        Some(Command::Attach(args)) => attach::run(&ctx, &args),
        Some(Command::Clone(args)) => clone::run(&ctx, &args),
        Some(Command::Export(args)) => export::run(&ctx, &args),
        Some(Command::Import(args)) => import::run(&ctx, &args),
        Some(Command::Trust(args)) => trust::run(&ctx, &args),
        Some(Command::Stop(args)) => stop::run(&ctx, &args),
        Some(Command::Rm(args)) => rm::run(&ctx, &args),
        Some(Command::Shell(args)) => shell::run(&ctx, &args),
        Some(Command::Logs(args)) => logs::run(&ctx, &args),
        Some(Command::List(args)) => list::run(&ctx, &args),
        Some(Command::Status(args)) => status::run(&ctx, &args),
        Some(Command::Doctor(args)) => doctor::run(&ctx, &args),
        Some(Command::Config(args)) => config::run(&ctx, &args),
        Some(Command::Completions(args)) => completions::run(&args, Cli::command()),
        Some(Command::Tokens(args)) => tokens::run(&ctx, &args),
        Some(Command::Prune(args)) => prune::run(&ctx, &args),
        Some(Command::Keep(args)) => keep::run(&ctx, &args),
        Some(Command::Idle(args)) => idle::run(&ctx, &args),
        Some(Command::Ui(args)) => ui::run(&ctx, &args),
        Some(Command::Timer(args)) => timer::run(&ctx, &args),
        Some(Command::Image(args)) => image::run(&ctx, &args),
        Some(Command::KeepLayer(args)) => keep_layer::run(&ctx, &args),
        Some(Command::Notify(args)) => notify::run(&ctx, &args),
        Some(Command::NotifyDaemon(args)) => notify::run_daemon(&ctx, &args),
    }
}

/// The session names `command` takes, as given (each may be `HOST:NAME`).
fn session_names(command: Option<&Command>) -> Vec<&str> {
    match command {
        Some(Command::Attach(a)) => vec![a.name.as_str()],
        Some(Command::Shell(a)) => vec![a.name.as_str()],
        Some(Command::Logs(a)) => vec![a.name.as_str()],
        Some(Command::Export(a)) => vec![a.name.as_str()],
        Some(Command::Status(a)) => a.name.iter().map(String::as_str).collect(),
        Some(Command::Stop(a)) => a.names.iter().map(String::as_str).collect(),
        Some(Command::Rm(a)) => a.names.iter().map(String::as_str).collect(),
        Some(Command::Keep(a)) => a.names.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The host the command runs on when it is not this machine: `--host`
/// (or `CCY_HOST`), or the `HOST` of `HOST:NAME` session names.
///
/// # Errors
/// [`crate::error::ExitKind::Usage`] when the names address several hosts,
/// or mix this machine and another, or a host other than `--host`'s.
fn remote_host(cli: &Cli) -> Result<Option<String>> {
    let names = session_names(cli.command.as_ref());
    let addressed: Vec<&str> = names
        .iter()
        .filter_map(|n| crate::session::remote::split_address(n).map(|(h, _)| h))
        .collect();
    let mut host = cli.host.clone().filter(|h| !h.is_empty());
    for h in &addressed {
        match &host {
            Some(prev) if prev != h => {
                return Err(crate::error::Error::usage(format!(
                    "the session names address two hosts, {prev} and {h}"
                ))
                .hint("run one command per host"));
            }
            Some(_) => {}
            None => host = Some((*h).to_owned()),
        }
    }
    if !addressed.is_empty() && addressed.len() != names.len() && cli.host.is_none() {
        return Err(
            crate::error::Error::usage("some session names have a HOST: and some do not")
                .hint("run one command per host"),
        );
    }
    Ok(host)
}

/// The arguments for ccy on `host`, from this ccy's `raw` arguments
/// (without the program name): `--host HOST` / `--host=HOST` left out,
/// `HOST:NAME` made `NAME`. Everything after `--` is left as it is.
#[must_use]
pub fn forward_args(raw: &[String], host: &str) -> Vec<String> {
    let prefix = format!("{host}:");
    let mut out = Vec::with_capacity(raw.len());
    let mut it = raw.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            out.push(a.clone());
            out.extend(it.by_ref().cloned());
            break;
        }
        if a == "--host" {
            it.next();
        } else if a.starts_with("--host=") {
        } else if let Some(name) = a.strip_prefix(&prefix) {
            out.push(name.to_owned());
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// Runs ccy with `args` on `host` over SSH, after checking that it
/// answers and runs a ccy recent enough; replaces this process with
/// `ssh` (a terminal, `ssh -t`, when ccy has one), so the remote exit
/// status is ccy's.
fn forward(ctx: &Ctx, host: &str, args: &[String]) -> Result<()> {
    use crate::session::remote;
    let hosts = ctx.config(None)?.finish()?.config.hosts;
    let host = remote::resolve(&hosts, host, &ctx.paths.lock_dir())?;
    ctx.block_on(remote::check(&host, remote::timeout(&hosts)))?;
    Err(crate::host::ssh::exec(
        &host.target,
        &remote::command_line(&host, args),
        ctx.interactive,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn forwarded_arguments() {
        assert_eq!(
            forward_args(&words("--host lab1 list --json"), "lab1"),
            words("list --json")
        );
        assert_eq!(
            forward_args(&words("attach lab1:rev"), "lab1"),
            words("attach rev")
        );
        assert_eq!(
            forward_args(&words("--host=lab1 stop lab1:a b -- --host lab1:c"), "lab1"),
            words("stop a b -- --host lab1:c")
        );
    }

    #[test]
    fn host_from_names() {
        let host = |s: &str| {
            remote_host(&Cli::parse_args(words(s).into_iter().map(Into::into)))
                .map_err(|e| e.kind())
        };
        assert_eq!(host("ccy list"), Ok(None));
        assert_eq!(host("ccy --host lab1 list"), Ok(Some("lab1".into())));
        assert_eq!(host("ccy --host=lab1 stop a"), Ok(Some("lab1".into())));
        assert_eq!(host("ccy --host lab1"), Ok(Some("lab1".into())));
        assert_eq!(host("ccy attach lab1:rev"), Ok(Some("lab1".into())));
        assert_eq!(host("ccy stop lab1:a lab1:b"), Ok(Some("lab1".into())));
        let usage = Err(crate::error::ExitKind::Usage);
        assert_eq!(host("ccy stop lab1:a lab2:b"), usage);
        assert_eq!(host("ccy stop lab1:a b"), usage);
        assert_eq!(host("ccy --host lab2 stop lab1:a"), usage);
    }
}
