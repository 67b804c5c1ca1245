//! The `ccy` binary: parse the command line, run, print errors in one place.

use std::process::ExitCode;

fn main() -> ExitCode {
    ccy::trace::init();
    let cli = ccy::cmd::Cli::parse_args(std::env::args_os());
    let result = ccy::cmd::run(cli);
    ccy::trace::mark("returned");
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            ccy::errln!("ccy: error: {err}");
            err.exit_code()
        }
    }
}
