//! The `deployer` command: parses arguments, runs the command, maps the error to an exit code.

use clap::Parser;
use deployer::{Cli, exit_code_for};

fn main() {
    let cli = Cli::parse();
    if let Err(err) = deployer::run(cli) {
        eprintln!("error: {err:#}");
        std::process::exit(exit_code_for(&err).code());
    }
}
