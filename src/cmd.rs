//! One module per verb. Each has an `…Args` struct (clap; its doc comment is
//! the verb's `--help`) and a `run(&Ctx, &Args)` that does the work.

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
pub mod list;
pub mod logs;
pub mod new;
pub mod prune;
pub mod rm;
pub mod shell;
pub mod status;
pub mod stop;
pub mod timer;
pub mod tokens;

use crate::cli::{Cli, Command};
use crate::ctx::Ctx;
use crate::error::Result;

/// Runs the command line `cli`.
///
/// # Errors
/// Whatever the verb returns.
pub fn run(cli: Cli) -> Result<()> {
    // Completions need no session context (home, working directory).
    if let Some(Command::Completions(args)) = &cli.command {
        return completions::run(args);
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
        Some(Command::Stop(args)) => stop::run(&ctx, &args),
        Some(Command::Rm(args)) => rm::run(&ctx, &args),
        Some(Command::Shell(args)) => shell::run(&ctx, &args),
        Some(Command::Logs(args)) => logs::run(&ctx, &args),
        Some(Command::List(args)) => list::run(&ctx, &args),
        Some(Command::Status(args)) => status::run(&ctx, &args),
        Some(Command::Doctor(args)) => doctor::run(&ctx, &args),
        Some(Command::Config(args)) => config::run(&ctx, &args),
        Some(Command::Completions(args)) => completions::run(&args),
        Some(Command::Tokens(args)) => tokens::run(&ctx, &args),
        Some(Command::Prune(args)) => prune::run(&ctx, &args),
        Some(Command::Keep(args)) => keep::run(&ctx, &args),
        Some(Command::Idle(args)) => idle::run(&ctx, &args),
        Some(Command::Timer(args)) => timer::run(&ctx, &args),
        Some(Command::Image(args)) => image::run(&ctx, &args),
    }
}
