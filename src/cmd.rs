//! One module per verb. Each has an `…Args` struct (clap; its doc comment is
//! the verb's `--help`) and a `run(&Ctx, &Args)` that does the work.

pub mod create_opts;
pub mod here;

use crate::cli::Cli;
use crate::ctx::Ctx;
use crate::error::Result;

/// Runs the command line `cli`.
///
/// # Errors
/// Whatever the verb returns.
pub fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx::from_env()?;
    match cli.command {
        None => here::run(&ctx, &cli.here),
        Some(cmd) => match cmd {},
    }
}
