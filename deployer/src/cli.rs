//! The command line: every flag's doc comment is its `--help` text, written for an operator.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::DEFAULT_CONFIG_FILE;
use crate::exit::EXIT_CODES_HELP;

/// Builds, deploys and runs the photo-sharing app.
#[derive(Debug, Parser)]
#[command(name = "deployer", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// The stage configuration file.
    #[arg(long, global = true, env = "DEPLOYER_CONFIG", default_value = DEFAULT_CONFIG_FILE, value_name = "FILE")]
    pub config: PathBuf,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The deployer's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the CloudFormation template of a stage (nothing is deployed, no AWS call is made).
    Synth(SynthArgs),
}

/// Arguments of `deployer synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// The stage, as named in the configuration file (for example `dev` or `prod`).
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,

    /// The template's format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,

    /// Write the template into this directory as `photo-app-STAGE.json` (or `.yaml`) instead of
    /// printing it. The directory is created when missing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// A template serialization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// JSON, as CloudFormation receives it.
    Json,
    /// YAML, for reading.
    Yaml,
}

impl Format {
    /// The file extension for this format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}
