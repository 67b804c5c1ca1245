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
    New(cmd::new::NewArgs),
    Attach(cmd::attach::AttachArgs),
    Stop(cmd::stop::StopArgs),
    Rm(cmd::rm::RmArgs),
    Shell(cmd::shell::ShellArgs),
    Logs(cmd::logs::LogsArgs),
    Completions(cmd::completions::CompletionsArgs),
}
