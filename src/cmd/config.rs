//! `ccy config`: ccy's configuration.

pub mod show;

use clap::{Args, Subcommand};

use crate::ctx::Ctx;
use crate::error::Result;

/// Show ccy's configuration
///
/// ccy reads its configuration in layers, later ones winning key by key:
/// built-in defaults, `~/.config/ccy/config.toml`, the worktree's
/// `.claude/ccy/config.toml`, `CCY_<SECTION>_<KEY>` environment variables,
/// then command-line flags.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// What to do with the configuration.
    #[command(subcommand)]
    pub command: ConfigCommand,
}

/// The `ccy config` verbs. Each variant's help is its `…Args` struct's doc
/// comment.
#[derive(Debug, Subcommand)]
#[expect(missing_docs, reason = "the help is each Args struct's doc comment")]
pub enum ConfigCommand {
    Show(show::ShowArgs),
}

/// Runs a `ccy config` verb.
///
/// # Errors
/// Whatever the verb returns.
pub fn run(ctx: &Ctx, args: &ConfigArgs) -> Result<()> {
    match &args.command {
        ConfigCommand::Show(a) => show::run(ctx, a),
    }
}
