//! The AWS commands' arguments: every flag's doc comment is its `--help` text, written for an
//! operator. The `deployer` binary composes them into its command line.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Arguments of `deployer up` for an AWS stage.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The stage, as named in the configuration file, or `local`.
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,

    /// Do not ask before changing a protected stage: the answer is yes. Without a terminal a
    /// protected stage needs this flag.
    #[arg(long, short)]
    pub yes: bool,

    /// Print progress as one JSON object per line on standard output (build, upload, change
    /// set, each resource event, publish) and a final `summary` object, for CI; the usual lines
    /// still go to standard error.
    #[arg(long)]
    pub json: bool,

    /// After the run, print where the time went, step by step (configuration, connecting,
    /// building, zipping, the artifact bucket, comparing with the stack, deploying, publishing).
    #[arg(long, short)]
    pub verbose: bool,

    /// Where the function zips come from.
    #[command(flatten)]
    pub artifacts: ArtifactArgs,
}

/// How the deployer reaches AWS: the standard credential chain, narrowed by these flags.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// The named profile from `~/.aws/config` to take credentials from, with any source the
    /// AWS CLI accepts: keys (`aws_access_key_id`); IAM Identity Center (`sso_session`, or a
    /// legacy `sso_start_url`), after `aws sso login --profile NAME`; `credential_process`; a
    /// role (`role_arn` with `source_profile` or `credential_source`), with MFA when it has
    /// `mfa_serial` (the code is asked for on the terminal, and the session is cached in
    /// `~/.aws/cli/cache` as the AWS CLI does); web identity. Environment keys
    /// (`AWS_ACCESS_KEY_ID`) take precedence over any profile.
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
    pub fn sdk_target(&self) -> crate::ops_sdk::SdkTarget {
        crate::ops_sdk::SdkTarget {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
        }
    }
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

/// Arguments of `deployer status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The stage, as named in the configuration file (for example `dev` or `prod`).
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,

    /// Also run CloudFormation's drift detection and show every resource changed outside
    /// CloudFormation: each property that differs, expected against actual, and the resources
    /// deleted or not checked. Takes tens of seconds (at most 5 minutes, or `--timeout`).
    #[arg(long)]
    pub drift: bool,

    /// Print the status (and the drift, with `--drift`) as one JSON object.
    #[arg(long)]
    pub json: bool,
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

    /// After the run, print where the time went, step by step (configuration, connecting,
    /// building, zipping, the artifact bucket, comparing with the stack, deploying, publishing).
    #[arg(long, short)]
    pub verbose: bool,

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

/// Arguments of `deployer rotate-media-key`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The stage, as named in the configuration file.
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,
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
