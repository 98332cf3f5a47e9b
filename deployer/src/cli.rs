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

    /// How to reach AWS (for every command that talks to it).
    #[command(flatten)]
    pub aws: AwsArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The deployer's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the CloudFormation template of a stage (nothing is deployed, no AWS call is made).
    Synth(SynthArgs),
    /// Deploy a stage to AWS: build and zip the functions, upload what is missing, and create or
    /// update the stack through a change set (nothing happens when nothing changed).
    /// `--stage local` instead runs the whole app in one process on 127.0.0.1, with no AWS
    /// account, keeping its data in `--data-dir`; Ctrl-C stops it.
    Up(UpArgs),
    /// Show what `up` would change (the change set), without changing anything.
    Diff(DiffArgs),
    /// Print the stack's outputs (site URL, API URL, user pool ids, bucket names).
    Outputs(OutputsArgs),
    /// Show the stack's state, its latest events and, when it is blocked, what to do.
    Status(StageArgs),
    /// Delete a stage's stack. Photos, metadata and users are kept unless `--delete-data` is
    /// given and confirmed; what remains is printed with the commands that remove it.
    Down(DownArgs),
    /// Build the functions for the stage's architecture and zip them (`bootstrap` at the root,
    /// byte-identical for identical input); print each zip's path, size and SHA-256.
    Package(PackageArgs),
    /// Print a function's log events from CloudWatch Logs, oldest first; `--follow` keeps
    /// printing new ones until Ctrl-C.
    Logs(LogsArgs),
    /// Check a deployed stage end to end: a temporary user signs in, uploads a photo, waits for
    /// its thumbnail, lists, shares, opens the share without signing in, and deletes it. The
    /// user is removed whatever happens. Exits non-zero naming the step that failed.
    Smoke(SmokeArgs),
}

/// How the deployer reaches AWS: the standard credential chain, narrowed by these flags.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// The named profile from `~/.aws/config` to take credentials from.
    #[arg(long, global = true, env = "AWS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// Deploy to this region instead of the stage's `region` in the configuration file.
    #[arg(long, global = true, env = "DEPLOYER_REGION", value_name = "REGION")]
    pub region: Option<String>,

    /// Send every AWS request to this URL instead of AWS (an emulator such as moto).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Give up waiting for CloudFormation after this many seconds; the stack carries on and the
    /// next command picks it up.
    #[arg(
        long,
        global = true,
        env = "DEPLOYER_TIMEOUT",
        default_value_t = 3600,
        value_name = "SECONDS"
    )]
    pub timeout: u64,
}

impl AwsArgs {
    /// The SDK target these flags describe (for `logs` and `smoke`).
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
}

/// The stage a command acts on.
#[derive(Debug, Args)]
pub struct StageArgs {
    /// The stage, as named in the configuration file (for example `dev` or `prod`).
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,
}

/// Where the function zips and the template come from.
#[derive(Debug, Clone, Args)]
pub struct ArtifactArgs {
    /// Deploy the zips `deployer package --out DIR` wrote (`api.zip`, `thumbnail.zip`) instead of
    /// building: build once, deploy the same bytes to every stage. They are not rebuilt or
    /// re-checked, so they must be for the stage's architecture.
    #[arg(long, env = "DEPLOYER_ARTIFACTS_DIR", value_name = "DIR")]
    pub artifacts_dir: Option<PathBuf>,

    /// Deploy this template (as `deployer synth --out` wrote it, after review) instead of
    /// synthesizing one from the configuration file. It must be the same stage's template.
    #[arg(long, env = "DEPLOYER_TEMPLATE", value_name = "FILE")]
    pub template: Option<PathBuf>,
}

/// Arguments of `deployer diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The stage, as named in the configuration file.
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,

    /// Print the changes as JSON.
    #[arg(long)]
    pub json: bool,

    /// Where the function zips come from.
    #[command(flatten)]
    pub artifacts: ArtifactArgs,
}

/// Arguments of `deployer outputs`.
#[derive(Debug, Args)]
pub struct OutputsArgs {
    /// The stage, as named in the configuration file.
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,

    /// Print the outputs as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `deployer down`.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// The stage, as named in the configuration file.
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,

    /// Also delete the photos, the table and the user pool. Irreversible; asks for
    /// confirmation, or needs `--yes` without a terminal.
    #[arg(long)]
    pub delete_data: bool,

    /// Do not ask: the answer is yes.
    #[arg(long, short)]
    pub yes: bool,
}

/// Arguments of `deployer package`.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// The stage whose architecture to build for.
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,

    /// Write `api.zip` and `thumbnail.zip` into this directory (created when missing).
    #[arg(long, value_name = "DIR", default_value = "target/lambda")]
    pub out: PathBuf,
}

/// Arguments of `deployer up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// The stage, as named in the configuration file, or `local`.
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,

    /// Do not ask before changing a protected stage: the answer is yes. Without a terminal a
    /// protected stage needs this flag.
    #[arg(long, short)]
    pub yes: bool,

    /// Where the function zips come from.
    #[command(flatten)]
    pub artifacts: ArtifactArgs,

    /// Local stage: the port on 127.0.0.1 to serve the app on.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Local stage: where it keeps its database, photos, keys and outgoing mail. Created when
    /// missing; one `deployer up` at a time may use it.
    #[arg(long, value_name = "DIR", default_value = ".deployer/local")]
    pub data_dir: PathBuf,

    /// Skip building and publishing the SPA (which needs the repository's sources and the
    /// wasm32 target). Locally only the API, the user pool and the bucket are served.
    #[arg(long, env = "DEPLOYER_NO_SITE")]
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
