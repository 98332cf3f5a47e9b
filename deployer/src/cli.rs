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
    /// Run a stage. This build runs only `--stage local`: the whole app in one process on
    /// 127.0.0.1, with no AWS account, keeping its data in `--data-dir`. Ctrl-C stops it.
    Up(UpArgs),
}

/// Arguments of `deployer up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// The stage; only `local` is supported by this build.
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,

    /// The port on 127.0.0.1 to serve the app on.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Where the local stage keeps its database, photos, keys and outgoing mail. Created when
    /// missing; one `deployer up` at a time may use it.
    #[arg(long, value_name = "DIR", default_value = ".deployer/local")]
    pub data_dir: PathBuf,

    /// Serve only the API, the user pool and the bucket: skip building the SPA (which needs the
    /// repository's sources and the wasm32 target).
    #[arg(long)]
    pub no_site: bool,

    /// For tests: cap the lifetime of upload forms, in seconds.
    #[arg(long, hide = true, env = "DEPLOYER_LOCAL_UPLOAD_POLICY_SECS")]
    pub upload_policy_secs: Option<u64>,

    /// For tests: hash passwords with minimal argon2 cost. Never for real accounts.
    #[arg(long, hide = true)]
    pub fast_password_hashing: bool,

    /// For tests: wait this long before processing each upload, so a test can stop the stage
    /// while a job is in hand.
    #[arg(long, hide = true, default_value_t = 0)]
    pub processing_delay_ms: u64,
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
