//! A checked connection to one AWS account and region: credentials found, endpoint reached,
//! account id confirmed against the stage's, before anything is changed.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use stack::config::StageConfig;

use super::error::AwsError;
use crate::args::AwsArgs;

/// The loaded SDK configuration of a stage, with the account its credentials belong to.
///
/// Every AWS client the deployer uses is made from here, so `--profile`, `--region` and
/// `--endpoint-url` apply to all of them alike.
#[derive(Debug, Clone)]
pub struct Session {
    /// The SDK configuration: credentials chain, region, endpoint, timeouts.
    pub sdk: SdkConfig,
    /// The account the credentials belong to, as STS reports it.
    pub account_id: String,
    /// The region everything is deployed to.
    pub region: String,
    /// The endpoint override, when talking to an emulator.
    pub endpoint_url: Option<String>,
}

impl Session {
    /// Loads the credentials for `stage` (its region unless `--region` says otherwise) from
    /// whatever source the profile names ([`crate::credentials`]), asks STS who they belong to,
    /// and refuses another account than the stage's.
    pub async fn connect(stage: &StageConfig, args: &AwsArgs) -> Result<Session, AwsError> {
        let region = args
            .region
            .clone()
            .unwrap_or_else(|| stage.region.to_string());
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            // An unreachable endpoint must fail in seconds, not hang; uploads get a whole
            // minute per attempt.
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(120))
                    .build(),
            );
        if let Some(url) = &args.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = crate::credentials::load(loader, args.profile.as_deref()).await?;
        let session = Session {
            account_id: String::new(),
            sdk,
            region,
            endpoint_url: args.endpoint_url.clone(),
        };
        session.check_account(stage).await
    }

    /// A session over an already loaded configuration, trusting `account_id` (tests).
    pub fn from_parts(sdk: SdkConfig, account_id: &str) -> Session {
        let region = sdk
            .region()
            .map(ToString::to_string)
            .unwrap_or_else(|| "us-east-1".to_owned());
        Session {
            sdk,
            account_id: account_id.to_owned(),
            region,
            endpoint_url: None,
        }
    }

    /// Asks STS whose the (already resolved) credentials are.
    async fn check_account(mut self, stage: &StageConfig) -> Result<Session, AwsError> {
        let sts = crate::client!(aws_sdk_sts, &self.sdk);
        let identity = sts.get_caller_identity().send().await.map_err(|e| {
            let endpoint = self
                .endpoint_url
                .clone()
                .unwrap_or_else(|| format!("https://sts.{}.amazonaws.com", self.region));
            classify(e, &endpoint)
        })?;
        let actual = identity.account().unwrap_or_default().to_owned();
        if let Some(expected) = &stage.account_id
            && expected.as_str() != actual
        {
            return Err(AwsError::WrongAccount {
                stage: stage.name.to_string(),
                expected: expected.to_string(),
                actual,
            });
        }
        self.account_id = actual;
        Ok(self)
    }

    /// Whether requests go to an emulator over plain HTTP, where a TLS-only bucket policy would
    /// refuse every request.
    pub fn is_plain_http(&self) -> bool {
        self.endpoint_url
            .as_deref()
            .is_some_and(|u| u.starts_with("http://"))
    }

    /// A CloudFormation client.
    pub fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        crate::client!(aws_sdk_cloudformation, &self.sdk)
    }

    /// An S3 client; path-style addressing against an emulator, whose host name has no
    /// per-bucket subdomains. Every request but CreateBucket expects the bucket to belong to this
    /// session's account ([`crate::owner`]).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk)
            .force_path_style(self.endpoint_url.is_some())
            .interceptor(crate::owner::ExpectedOwner::new(&self.account_id))
            .interceptor(crate::calls::Declared)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// A Lambda client (the account's concurrency settings).
    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        crate::client!(aws_sdk_lambda, &self.sdk)
    }

    /// The URL an object in `bucket` is reachable at, as CloudFormation's `TemplateURL` wants:
    /// the virtual-hosted form, which emulators resolve against their own S3 too.
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        format!("https://{bucket}.s3.{}.amazonaws.com/{key}", self.region)
    }
}

/// Sorts an SDK failure into the operator's categories: refused credentials, nothing
/// answering, or anything else (kept as its message).
pub fn classify<E, R>(err: SdkError<E, R>, endpoint: &str) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match &err {
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => AwsError::Unreachable {
            endpoint: endpoint.to_owned(),
            detail: error_chain(&err),
        },
        SdkError::TimeoutError(_) => AwsError::Unreachable {
            endpoint: endpoint.to_owned(),
            detail: "timed out".into(),
        },
        SdkError::ServiceError(s) => AwsError::Credentials {
            detail: format!(
                "{}: {}",
                s.err().code().unwrap_or("refused"),
                s.err().message().unwrap_or("no message")
            ),
        },
        _ => AwsError::Unreachable {
            endpoint: endpoint.to_owned(),
            detail: error_chain(&err),
        },
    }
}

/// An error and its sources on one line.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ").replace('\n', " ")
}
