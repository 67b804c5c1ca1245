//! The command line (clap). Types here stop at the command boundary: each
//! verb's `run` turns its arguments into plain values before doing work.

use clap::{Parser, Subcommand};

use crate::cmd;

/// Persistent, resumable Podman Quadlet sessions for AI coding agents.
///
/// Run `ccy` in a git worktree: it attaches to the worktree's session, or
/// creates one (a Quadlet container unit under your systemd user manager,
/// running the agent in tmux) and attaches to it. Detach with the tmux
/// prefix and `d` (normally Ctrl-b d); the session keeps running, across
/// logout and reboot. Run `ccy` again to come back.
///
/// When the worktree has several sessions (see `ccy new`), ccy asks which
/// one to attach to. Creating a session builds the agent image when it is
/// missing and turns on linger for your user (logind), so that sessions
/// keep running after you log out. Without a terminal on standard input,
/// ccy only makes sure the session runs, as `ccy new --detach` does.
///
/// Exit status: that of the attached client (0 after a detach); 2 invalid
/// configuration, or the worktree has several sessions and there is no
/// terminal to choose on; 3 not in a git worktree, no user manager, Podman
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
    pub here: cmd::here::HereArgs,
}

/// ccy's verbs. Each variant's help is its `…Args` struct's doc comment.
#[derive(Debug, Subcommand)]
#[expect(missing_docs, reason = "the help is each Args struct's doc comment")]
pub enum Command {
    New(Box<cmd::new::NewArgs>),
    Attach(cmd::attach::AttachArgs),
    Clone(cmd::clone::CloneArgs),
    Export(cmd::export::ExportArgs),
    Import(cmd::import::ImportArgs),
    Stop(cmd::stop::StopArgs),
    Rm(cmd::rm::RmArgs),
    Shell(cmd::shell::ShellArgs),
    Logs(cmd::logs::LogsArgs),
    #[command(visible_alias = "ls")]
    List(cmd::list::ListArgs),
    Status(cmd::status::StatusArgs),
    Doctor(cmd::doctor::DoctorArgs),
    Config(cmd::config::ConfigArgs),
    Completions(cmd::completions::CompletionsArgs),
    Tokens(cmd::tokens::TokensArgs),
    Prune(cmd::prune::PruneArgs),
    Keep(cmd::keep::KeepArgs),
    Idle(cmd::idle::IdleArgs),
    Timer(cmd::timer::TimerArgs),
    Image(cmd::image::ImageArgs),
}
