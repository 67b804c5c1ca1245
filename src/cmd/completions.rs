//! `ccy completions SHELL`: print a shell completion script (`clap_complete`).

use std::io::Write;

use clap::{Args, ValueEnum};

use crate::error::{Context, Result};

/// Print a shell completion script for ccy on standard output.
///
/// The script completes verbs, options and option values (not session
/// names). Install it where your shell looks for completions:
///
/// bash: `ccy completions bash >
/// ~/.local/share/bash-completion/completions/ccy` (loaded by the
/// bash-completion package); system-wide
/// `/usr/local/share/bash-completion/completions/ccy`. Without that package,
/// add `source <(ccy completions bash)` to `~/.bashrc`.
///
/// zsh: `ccy completions zsh > ~/.zfunc/_ccy`, with `fpath=(~/.zfunc
/// $fpath)` before `compinit` in `~/.zshrc`; system-wide
/// `/usr/local/share/zsh/site-functions/_ccy`.
///
/// fish: `ccy completions fish > ~/.config/fish/completions/ccy.fish`;
/// system-wide `/usr/local/share/fish/vendor_completions.d/ccy.fish`.
///
/// A new shell picks the script up. Regenerate it after upgrading ccy.
///
/// Exit status: 0 printed; 1 standard output cannot be written; 2 unknown
/// SHELL.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells ccy writes completion scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// GNU bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}

impl Shell {
    fn generator(self) -> clap_complete::Shell {
        match self {
            Self::Bash => clap_complete::Shell::Bash,
            Self::Zsh => clap_complete::Shell::Zsh,
            Self::Fish => clap_complete::Shell::Fish,
        }
    }
}

/// The completion script for `shell` of the command line `cli` (ccy's:
/// `Cli::command()`), for the command name `ccy`.
#[must_use]
pub fn script(shell: Shell, mut cli: clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell.generator(), &mut cli, "ccy", &mut out);
    out
}

/// Writes the completion script to standard output. Needs no session
/// context (no home directory, no user manager).
///
/// # Errors
/// [`crate::error::ExitKind::Failure`] when standard output cannot be
/// written (a closed pipe included).
pub fn run(args: &CompletionsArgs, cli: clap::Command) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(&script(args.shell, cli))
        .and_then(|()| out.flush())
        .context("cannot write the completion script to standard output")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_verbs() {
        for shell in Shell::value_variants() {
            let text = String::from_utf8(script(
                *shell,
                <crate::cmd::Cli as clap::CommandFactory>::command(),
            ))
            .unwrap();
            for verb in ["attach", "new", "completions"] {
                assert!(text.contains(verb), "{shell:?} script lacks {verb}");
            }
        }
    }
}
