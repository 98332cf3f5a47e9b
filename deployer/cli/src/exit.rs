//! The deployer's exit codes: stable, documented in `--help` and `docs/operations.md`.

/// Every way the deployer can end, with its process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Done.
    Success = 0,
    /// A failure with no more specific code.
    Failure = 1,
    /// The command line is wrong (clap's own code).
    Usage = 2,
    /// `deployer.toml` is unreadable or invalid.
    Config = 3,
    /// `deployer.toml` has no stage of that name.
    UnknownStage = 4,
    /// No usable AWS credentials: none were found, AWS refused them, or the profile's source
    /// failed (an SSO session to renew with `aws sso login`, a failing `credential_process`, an
    /// MFA code that could not be asked for or was refused).
    Credentials = 5,
    /// AWS (or the `--endpoint-url`) could not be reached.
    Unreachable = 6,
    /// The credentials belong to another account than the stage's `account_id`.
    WrongAccount = 7,
    /// The deploy failed and CloudFormation rolled it back; the root cause was printed.
    DeployFailed = 8,
    /// The stack is in a state no deploy can start from (another operation running, a failed
    /// rollback); the next step was printed.
    StackBlocked = 9,
    /// A protected stage needed a confirmation that was refused, or could not be asked for
    /// because there is no terminal (pass `--yes`).
    NotConfirmed = 10,
    /// CloudFormation did not finish within `--timeout` (a drift detection: within 5 minutes at
    /// most); the stack carries on.
    Timeout = 11,
    /// The artifact bucket's name is taken by a bucket this account does not own (or may not
    /// use); nothing was uploaded.
    ForeignBucket = 12,
    /// The account's Lambda concurrency cannot hold a new stage's reservations; nothing was
    /// created.
    ConcurrencyQuota = 13,
    /// Interrupted with Ctrl-C; the stack carries on and the next command picks it up.
    Interrupted = 130,
}

impl ExitCode {
    /// The process exit code.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// The exit-code table shown at the end of `deployer --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success (also: nothing to change)
  1    failure not covered below
  2    invalid command line
  3    invalid deployer.toml
  4    unknown stage
  5    no AWS credentials, or AWS refused them, or the profile's source failed
       (SSO login needed, credential_process failed, no MFA code or a wrong one)
  6    AWS or --endpoint-url unreachable
  7    credentials for another account than the stage's account_id
  8    deploy failed and was rolled back (the root cause is printed)
  9    stack blocked: another operation is running, or a rollback failed (the next step is printed)
  10   protected stage not confirmed (no terminal: pass --yes)
  11   CloudFormation did not finish within --timeout (drift detection: 5 minutes at most)
  12   the artifact bucket belongs to another account, or may not be used; nothing was uploaded
  13   the account's Lambda concurrency quota cannot hold a new stage (the quota to request is
       printed); nothing was created
  130  interrupted (Ctrl-C); the stack carries on, the next command picks it up";

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code is listed in the help text, so the table cannot drift from the enum.
    #[test]
    fn help_lists_every_code() {
        let all = [
            ExitCode::Success,
            ExitCode::Failure,
            ExitCode::Usage,
            ExitCode::Config,
            ExitCode::UnknownStage,
            ExitCode::Credentials,
            ExitCode::Unreachable,
            ExitCode::WrongAccount,
            ExitCode::DeployFailed,
            ExitCode::StackBlocked,
            ExitCode::NotConfirmed,
            ExitCode::Timeout,
            ExitCode::ForeignBucket,
            ExitCode::ConcurrencyQuota,
            ExitCode::Interrupted,
        ];
        for code in all {
            let line = format!("\n  {:<4} ", code.code());
            assert!(EXIT_CODES_HELP.contains(&line), "{code:?} missing");
        }
    }
}
