//! The command line: every flag's doc comment is its `--help` text, written for an operator.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use deployer_aws::args::{
    AwsArgs, DeployArgs, DiffArgs, DownArgs, OutputsArgs, PackageArgs, RotateArgs, SmokeArgs,
    StatusArgs, SynthArgs,
};
use deployer_aws::config::DEFAULT_CONFIG_FILE;
use deployer_aws::logs::LogsArgs;
use local_stage::LocalArgs;

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
    /// Keep a stage up to date with the sources until Ctrl-C. `--stage local`: run the local
    /// stage as `up` does, and rebuild and restart it whenever a source file changes, keeping its
    /// data (pages it served reload by themselves; a build that fails leaves it up). An AWS
    /// stage (not a protected one): after each change, update only the changed functions' code
    /// when nothing else changed (seconds, recorded until the next `up`), else deploy a change
    /// set as `up` does.
    Watch(WatchArgs),
    /// Show what `up` would change (the change set), without changing anything.
    Diff(DiffArgs),
    /// Print the stack's outputs (site URL, API URL, user pool ids, bucket names).
    Outputs(OutputsArgs),
    /// Show the stack's state, its latest events and, when it is blocked, what to do; with
    /// `--drift`, also what changed in its resources outside CloudFormation.
    Status(StatusArgs),
    /// Rotate the key media links are signed with, without breaking a link: adds a new key
    /// beside the old one, switches signing to it, and on a run after the old key's links have
    /// expired (13 hours), removes the old key. `status` shows where a rotation stands.
    RotateMediaKey(RotateArgs),
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
    /// Print the completion script for a shell, to load in the shell's startup file; for
    /// example `source <(deployer completions bash)` in `~/.bashrc`.
    Completions(CompletionsArgs),
}

/// Arguments of `deployer completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `deployer watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The stage to keep up to date: `local`, or an unprotected stage of the configuration file.
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,

    /// Skip building and serving the SPA, as with `up`.
    #[arg(long, env = "DEPLOYER_NO_SITE")]
    pub no_site: bool,

    /// The local stage's settings.
    #[command(flatten)]
    pub local: LocalArgs,

    #[command(flatten)]
    pub watch: local_stage::watch::WatchBuild,

    /// Where an AWS stage's function zips and template come from, as with `up`.
    #[command(flatten)]
    pub artifacts: deployer_aws::args::ArtifactArgs,
}

/// Arguments of `deployer up`: a stage of the configuration file, or `local`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// The stage and what to deploy.
    #[command(flatten)]
    pub deploy: DeployArgs,

    /// Skip building and publishing the SPA (which needs the repository's sources and the
    /// wasm32 target). Locally only the API, the user pool and the bucket are served.
    #[arg(long, env = "DEPLOYER_NO_SITE")]
    pub no_site: bool,

    /// The local stage's settings (with `--stage local`).
    #[command(flatten)]
    pub local: LocalArgs,
}
