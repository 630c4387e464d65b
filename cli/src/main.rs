//! The `zkinfer` command.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = zkinfer_cli::Cli::parse();
    match zkinfer_cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", zkinfer_cli::describe(&e));
            ExitCode::FAILURE
        }
    }
}
