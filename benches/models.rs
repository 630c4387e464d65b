//! `cargo bench -p zkinfer-benches`: the model suite (see the crate docs).

use std::process::ExitCode;

fn main() -> ExitCode {
    match zkinfer_benches::main_with_args(std::env::args().collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", zkinfer_cli::describe(&e));
            ExitCode::FAILURE
        }
    }
}
