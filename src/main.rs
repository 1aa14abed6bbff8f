//! The sockdiag binary: parse arguments, run, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match sockdiag::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let args: Vec<_> = std::env::args_os().collect();
            return ExitCode::from(sockdiag::report_clap_error(&err, &args));
        }
    };
    let global = cli.global.clone();
    match sockdiag::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(err) => {
            sockdiag::report_error(&err, &global);
            ExitCode::from(err.exit_code())
        }
    }
}
