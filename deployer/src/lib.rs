//! The `deployer` library: everything the CLI does, callable from tests.
//!
//! `main.rs` only parses arguments, calls [`run`] and maps the error to an exit code.

pub mod aws;
pub mod build;
pub mod cli;
pub mod config;
pub mod elf;
pub mod exit;
pub mod local;
pub mod package;
pub mod synth;

pub use cli::{Cli, Command};
use exit::ExitCode;

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Synth(args) => synth::run(&cli.config, &args, &mut std::io::stdout().lock()),
        Command::Up(args) => local::run(&args),
        Command::Logs(args) => aws::logs::run(&cli.config, &args, &args.aws.sdk_target()),
        Command::Smoke(args) => aws::smoke::run_command(&cli.config, &args, &args.aws.sdk_target()),
    }
}

/// The exit code for an error: the most specific cause in its chain decides.
pub fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if cause.is::<config::ConfigError>() {
            return ExitCode::Config;
        }
    }
    ExitCode::Failure
}
