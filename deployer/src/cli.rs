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
    /// Print a function's log events from CloudWatch Logs, oldest first; `--follow` keeps
    /// printing new ones until Ctrl-C.
    Logs(LogsArgs),
    /// Check a deployed stage end to end: a temporary user signs in, uploads a photo, waits for
    /// its thumbnail, lists, shares, opens the share without signing in, and deletes it. The
    /// user is removed whatever happens. Exits non-zero naming the step that failed.
    Smoke(SmokeArgs),
}

/// Where and as whom to call AWS, for `logs` and `smoke`.
#[derive(Debug, Clone, Args)]
pub struct OpsAwsArgs {
    /// The named profile (shared config and credentials files) to take credentials from; else
    /// the standard chain: environment, profile, web identity, container or instance role.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,

    /// The region, overriding the stage's.
    #[arg(long)]
    pub region: Option<String>,

    /// Send every AWS call to this URL instead (an emulator); `AWS_ENDPOINT_URL` also works.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl OpsAwsArgs {
    /// The SDK target these flags describe.
    pub fn sdk_target(&self) -> crate::aws::ops_sdk::SdkTarget {
        crate::aws::ops_sdk::SdkTarget {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
        }
    }
}

/// Arguments of `deployer logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The function whose logs to read.
    #[arg(value_enum)]
    pub function: crate::aws::logs::Function,

    /// The stage, as named in the configuration file.
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,

    /// How far back to start: a number and `s`, `m`, `h` or `d` (at most 30 days).
    #[arg(long, default_value = "10m", value_name = "AGE")]
    pub since: crate::aws::logs::Since,

    /// Keep polling for new events (every 2 s) until Ctrl-C.
    #[arg(long, short)]
    pub follow: bool,

    #[command(flatten)]
    pub aws: OpsAwsArgs,
}

/// Arguments of `deployer smoke`.
#[derive(Debug, Args)]
pub struct SmokeArgs {
    /// The deployed stage to check, as named in the configuration file.
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,

    /// How long to wait for the photo's thumbnail, in seconds.
    #[arg(long, default_value_t = 90, value_name = "SECS")]
    pub ready_timeout: u64,

    #[command(flatten)]
    pub aws: OpsAwsArgs,
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
