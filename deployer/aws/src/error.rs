//! The AWS failures an operator must tell apart, each with its own exit code.

/// A failure talking to AWS or deploying a stack, worded as one line an operator can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AwsError {
    /// The credential chain found nothing, or AWS refused what it found.
    #[error(
        "no usable AWS credentials ({detail}): pass `--profile NAME` (or set `AWS_PROFILE`), or export `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`"
    )]
    Credentials {
        /// What the chain or AWS said.
        detail: String,
    },
    /// A profile signing in through IAM Identity Center has no valid session, and its token
    /// could not be refreshed.
    #[error(
        "profile `{profile}` signs in through IAM Identity Center (SSO) and its session has expired or was never started ({detail}): run `aws sso login --profile {login_profile}`"
    )]
    SsoLogin {
        /// The profile selected.
        profile: String,
        /// The profile holding the SSO settings (itself, or the base of its role chain).
        login_profile: String,
        /// What the SDK or the portal said.
        detail: String,
    },
    /// A profile's `credential_process` failed, printed something unusable, or gave expired
    /// credentials.
    #[error("the `credential_process` of profile `{profile}` gave no usable credentials: {detail}")]
    CredentialProcess {
        /// The profile holding the `credential_process`.
        profile: String,
        /// The exit status and standard error, the parse error, or the expiry.
        detail: String,
    },
    /// A role that needs an MFA code could not be assumed: no terminal to ask on, no code, or
    /// STS refused it.
    #[error("profile `{profile}` assumes role `{role_arn}` with an MFA code: {detail}")]
    MfaRole {
        /// The profile defining the role.
        profile: String,
        /// Its `role_arn`.
        role_arn: String,
        /// Why no session could be had, and what to do.
        detail: String,
    },
    /// The artifact bucket's name is taken by a bucket this account does not own (or may not
    /// use): it is never trusted with the stage's code or template.
    #[error(
        "the artifact bucket `{bucket}` exists, but it does not belong to this account or these credentials may not use it: the deployer uploads code and templates only to a bucket of this account. If another account holds the name, only its owner can free it; if these credentials lack S3 permissions on it, grant them"
    )]
    ForeignBucket {
        /// The bucket's name.
        bucket: String,
    },
    /// The account cannot give a new stage the Lambda concurrency its functions reserve.
    #[error(
        "stage `{stage}` reserves {reserved} concurrent Lambda executions, but the account has {unreserved} unreserved in `{region}` and Lambda keeps 100 of them free: request a quota of at least {quota} (Service Quotas, AWS Lambda, \"Concurrent executions\", code L-B99A9384), or lower `api.reserved_concurrency` and `thumbnail.reserved_concurrency`; nothing was created"
    )]
    ConcurrencyQuota {
        /// The stage.
        stage: String,
        /// The region.
        region: String,
        /// What the stage reserves.
        reserved: u32,
        /// What the account has unreserved now.
        unreserved: i64,
        /// The smallest quota that fits the stage.
        quota: i64,
    },
    /// Nothing answered at the endpoint.
    #[error("cannot reach AWS at `{endpoint}`: {detail}")]
    Unreachable {
        /// The endpoint tried (the `--endpoint-url`, or the regional STS endpoint).
        endpoint: String,
        /// The connection error.
        detail: String,
    },
    /// The credentials are for another account than the stage's.
    #[error(
        "stage `{stage}` deploys to account `{expected}` but the credentials are for account `{actual}`: use credentials for `{expected}` (`--profile`)"
    )]
    WrongAccount {
        /// The stage.
        stage: String,
        /// The stage's `account_id`.
        expected: String,
        /// The account STS reports.
        actual: String,
    },
    /// A deploy (or a deletion) failed; a deploy was rolled back.
    #[error("stack `{stack}` failed and is now `{status}`: {root_cause}")]
    DeployFailed {
        /// The stack.
        stack: String,
        /// Its final status.
        status: String,
        /// The first failed resource and its reason.
        root_cause: String,
    },
    /// The stack is in a state no deploy can start from.
    #[error("stack `{stack}` is `{status}`: {next_step}")]
    Blocked {
        /// The stack.
        stack: String,
        /// Its status.
        status: String,
        /// Exactly what to do.
        next_step: String,
    },
    /// A protected stage was not confirmed.
    #[error("stage `{stage}` is protected: {why}")]
    NotConfirmed {
        /// The stage.
        stage: String,
        /// Refused, or no terminal to ask on.
        why: String,
    },
    /// CloudFormation did not finish in time.
    #[error(
        "stopped waiting after {seconds} s: stack `{stack}` is `{status}` and CloudFormation carries on; `deployer status --stage {stage}` shows where it is"
    )]
    Timeout {
        /// The stack.
        stack: String,
        /// The stage.
        stage: String,
        /// Its status when we stopped.
        status: String,
        /// The `--timeout`.
        seconds: u64,
    },
    /// A drift detection did not finish within its bound.
    #[error(
        "drift detection of stack `{stack}` did not finish within {seconds} s; CloudFormation carries on: `deployer status --stage {stage} --drift` later starts another, or `aws cloudformation describe-stack-drift-detection-status --stack-drift-detection-id {detection_id}` reads this one"
    )]
    DriftTimeout {
        /// The stack.
        stack: String,
        /// The stage.
        stage: String,
        /// The detection's id.
        detection_id: String,
        /// The bound waited.
        seconds: u64,
    },
    /// Ctrl-C while waiting.
    #[error(
        "interrupted: stack `{stack}` is `{status}` and CloudFormation carries on without us; `deployer status --stage {stage}` shows where it is; once it has settled, `deployer up --stage {stage}` carries on from there"
    )]
    Interrupted {
        /// The stack.
        stack: String,
        /// The stage.
        stage: String,
        /// Its status when interrupted.
        status: String,
    },
}
