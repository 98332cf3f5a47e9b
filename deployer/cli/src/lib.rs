//! The `deployer` command line: parses arguments and hands each command to the AWS engine
//! ([`deployer_aws`]) or the local stage ([`local_stage`]); [`exit_code_for`] maps an error to
//! the documented exit code.
//!
//! `main.rs` only parses arguments, calls [`run`] and maps the error to an exit code.

pub mod cli;
pub mod exit;

pub use cli::{Cli, Command};
use deployer_aws::{self as aws, config, synth};
use deployer_build::LOCAL_STAGE;
use exit::ExitCode;

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Synth(args) => synth::run(&cli.config, &args, &mut std::io::stdout().lock()),
        Command::Up(args) if args.deploy.stage == LOCAL_STAGE => {
            local_stage::run(&args.local, !args.no_site)
        }
        Command::Up(args) => aws::up(&cli.config, &args.deploy, !args.no_site, &cli.aws),
        Command::Watch(args) if args.stage == LOCAL_STAGE => {
            local_stage::watch::run(&args.local, !args.no_site, &args.watch)
        }
        Command::Watch(args) => {
            aws::hot::check_watchable(&cli.config, &args.stage, &cli.aws)?;
            let workspace = local_stage::watch::workspace()?;
            println!(
                "watch: deploying stage `{}`, then watching the sources under {} (Ctrl-C stops)",
                args.stage,
                workspace.display()
            );
            let skip = local_stage::watch::skipped(&workspace, &[]);
            let mut target = AwsStage {
                config: &cli.config,
                args: &args,
                aws: &cli.aws,
            };
            local_stage::watch::watch_sources(&workspace, &skip, &mut target)
        }
        Command::Diff(args) => aws::diff(&cli.config, &args, &cli.aws),
        Command::Outputs(args) => aws::outputs(&cli.config, &args, &cli.aws),
        Command::Status(args) => aws::status(&cli.config, &args, &cli.aws),
        Command::RotateMediaKey(args) => aws::rotate_media_key(&cli.config, &args, &cli.aws),
        Command::Down(args) => aws::down(&cli.config, &args, &cli.aws),
        Command::Package(args) => aws::package(&cli.config, &args, &cli.aws),
        Command::Logs(args) => aws::logs::run(&cli.config, &args, &cli.aws),
        Command::Smoke(args) => aws::smoke::run_command(&cli.config, &args, &cli.aws),
        Command::Completions(args) => {
            completions(args.shell, &mut std::io::stdout().lock());
            Ok(())
        }
    }
}

/// An AWS stage under `deployer watch`: each update is one [`aws::hot_up`].
struct AwsStage<'a> {
    config: &'a std::path::Path,
    args: &'a cli::WatchArgs,
    aws: &'a deployer_aws::args::AwsArgs,
}

impl local_stage::watch::Target for AwsStage<'_> {
    fn update(&mut self) -> anyhow::Result<()> {
        aws::hot::hot_up(
            self.config,
            &self.args.stage,
            &self.args.artifacts,
            self.aws,
        )
    }
}

/// Writes the completion script of `shell` for the whole command line.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    use clap::CommandFactory;
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "deployer", out);
}

/// The exit code for an error: the most specific cause in its chain decides.
pub fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if let Some(config) = cause.downcast_ref::<config::ConfigError>() {
            return match config {
                config::ConfigError::UnknownStage { .. } => ExitCode::UnknownStage,
                _ => ExitCode::Config,
            };
        }
        if let Some(aws) = cause.downcast_ref::<aws::AwsError>() {
            return match aws {
                aws::AwsError::Credentials { .. }
                | aws::AwsError::SsoLogin { .. }
                | aws::AwsError::CredentialProcess { .. }
                | aws::AwsError::MfaRole { .. } => ExitCode::Credentials,
                aws::AwsError::Unreachable { .. } => ExitCode::Unreachable,
                aws::AwsError::WrongAccount { .. } => ExitCode::WrongAccount,
                aws::AwsError::DeployFailed { .. } => ExitCode::DeployFailed,
                aws::AwsError::Blocked { .. } => ExitCode::StackBlocked,
                aws::AwsError::NotConfirmed { .. } => ExitCode::NotConfirmed,
                aws::AwsError::Timeout { .. } | aws::AwsError::DriftTimeout { .. } => {
                    ExitCode::Timeout
                }
                aws::AwsError::Interrupted { .. } => ExitCode::Interrupted,
                aws::AwsError::ForeignBucket { .. } => ExitCode::ForeignBucket,
                aws::AwsError::ConcurrencyQuota { .. } => ExitCode::ConcurrencyQuota,
            };
        }
    }
    ExitCode::Failure
}
