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

    /// Options of the default action (attach to or create this worktree's
    /// session).
    #[command(flatten)]
    pub here: here::HereArgs,
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
        Some(Command::Timer(args)) => timer::run(&ctx, &args),
        Some(Command::Image(args)) => image::run(&ctx, &args),
        Some(Command::KeepLayer(args)) => keep_layer::run(&ctx, &args),
        Some(Command::Notify(args)) => notify::run(&ctx, &args),
        Some(Command::NotifyDaemon(args)) => notify::run_daemon(&ctx, &args),
    }
}
