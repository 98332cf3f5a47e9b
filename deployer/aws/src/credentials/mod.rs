//! Where the deployer's AWS credentials come from: every source the AWS CLI accepts.
//!
//! The SDK's default chain covers the environment, static keys in the shared files, role
//! chains (`role_arn` with `source_profile` or `credential_source`), web identity, container and
//! instance roles, IAM Identity Center (`sso_session` profiles and legacy `sso_start_url` ones,
//! from the token cache `aws sso login` writes, refreshed through SSO OIDC when the cache holds
//! a refresh token) and `credential_process`. What it lacks is added here:
//!
//! - a role assumed with MFA (`mfa_serial`): [`mfa`] asks for the code on the terminal and keeps
//!   the session in the AWS CLI's own cache ([`role_cache`]), so that neither tool asks again
//!   while the other's session is valid;
//! - credentials that have already expired (a `credential_process` printing a stale
//!   `Expiration`) are refused instead of being sent to AWS;
//! - each failure names the profile, its source and the next step ([`profiles`]).
//!
//! [`load`] resolves the credentials once, before any AWS call, so a missing SSO login, a
//! failing process or a missing MFA code stops the command at once with exit code 5.

pub mod mfa;
pub mod profiles;
pub mod role_cache;

use std::time::{Duration, SystemTime};

use aws_config::identity::IdentityCache;
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::{ConfigLoader, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};

use crate::error::AwsError;
use crate::session::error_chain;
use mfa::MfaRoleProvider;
use profiles::Source;

/// How long resolving credentials may take: long enough to type an MFA code, or for a slow
/// `credential_process` (the SDK's default of 5 seconds would cut the prompt short).
const LOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// Loads the SDK configuration from `loader` for the operator's `profile` (the `default`
/// profile, or `AWS_PROFILE`, when `None`) and resolves its credentials once, asking for an MFA
/// code on the terminal if the profile needs one.
pub async fn load(loader: ConfigLoader, profile: Option<&str>) -> Result<SdkConfig, AwsError> {
    let mut loader = loader
        .identity_cache(IdentityCache::lazy().load_timeout(LOAD_TIMEOUT).build())
        .http_client(photo_aws::tls::https_client());
    if let Some(name) = profile {
        loader = loader.profile_name(name);
    }
    let sdk = loader.load().await;
    let profiles = profiles::Profiles::load(profile).await;
    let source = profiles.source();
    let inner = match &source {
        Source::MfaRole(role) => {
            let role_source = profiles.role_source(role, sdk.region().cloned());
            // Environment keys win over any profile, as in the SDK's own chain.
            SharedCredentialsProvider::new(
                CredentialsProviderChain::first_try(
                    "Environment",
                    aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
                )
                .or_else(
                    "MfaRole",
                    MfaRoleProvider::new(role.clone(), role_source, &sdk),
                ),
            )
        }
        _ => sdk
            .credentials_provider()
            .ok_or_else(|| AwsError::Credentials {
                detail: "no credential provider is configured".into(),
            })?,
    };
    let provider = SharedCredentialsProvider::new(Checked {
        inner,
        held: tokio::sync::Mutex::new(None),
    });
    provider
        .provide_credentials()
        .await
        .map_err(|e| match (&source, profiles.problem()) {
            (Source::Other, Some(problem)) => AwsError::Credentials {
                detail: problem.to_owned(),
            },
            _ => explain(&source, &e),
        })?;
    Ok(sdk.to_builder().credentials_provider(provider).build())
}

/// The error an operator reads for a failure of `source`: the profile, what failed and what to
/// do next. An [`AwsError`] raised inside one of our providers is passed on as it is.
pub fn explain(source: &Source, err: &CredentialsError) -> AwsError {
    if let Some(own) = find::<AwsError>(err) {
        return own.clone();
    }
    let detail = error_chain(err);
    match source {
        Source::Sso(sso) => {
            if find::<aws_sdk_sts::error::ConnectorError>(err).is_some() {
                // The portal, or the endpoint that replaces it.
                let endpoint = std::env::var("AWS_ENDPOINT_URL_SSO")
                    .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
                    .unwrap_or_else(|_| sso.portal());
                return AwsError::Unreachable { endpoint, detail };
            }
            AwsError::SsoLogin {
                profile: sso.profile.clone(),
                login_profile: sso.login_profile.clone(),
                detail,
            }
        }
        Source::Process { profile } => AwsError::CredentialProcess {
            profile: profile.clone(),
            detail,
        },
        Source::MfaRole(role) => AwsError::MfaRole {
            profile: role.profile.clone(),
            role_arn: role.role_arn.clone(),
            detail,
        },
        Source::Other => AwsError::Credentials { detail },
    }
}

/// The first error of type `T` in `err`'s chain.
fn find<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut next = Some(err);
    // Bounded: an error chain is a handful of links.
    for _ in 0..32 {
        let e = next?;
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// The provider the SDK configuration gets: `inner`, remembered until a minute before expiry
/// (the first resolution is made before any client exists, so the clients' own cache would
/// otherwise fetch everything a second time: another SSO portal call, another process run),
/// and refusing credentials that expired before they were handed out (a `credential_process`
/// with a stale `Expiration`, an old `AWS_CREDENTIAL_EXPIRATION`): AWS would only refuse them
/// later, with a less helpful message.
#[derive(Debug)]
struct Checked {
    inner: SharedCredentialsProvider,
    held: tokio::sync::Mutex<Option<Credentials>>,
}

/// Held credentials are renewed this long before they expire (the SDK's clients renew theirs
/// 10 seconds before).
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// Credentials whose expiry has passed.
#[derive(Debug, thiserror::Error)]
#[error("the credentials it gave expired at `{0}`")]
pub struct Expired(String);

impl ProvideCredentials for Checked {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let mut held = self.held.lock().await;
            let now = SystemTime::now();
            let fresh = |c: &Credentials| c.expiry().is_none_or(|e| e > now + RENEW_BEFORE);
            if let Some(credentials) = held.as_ref().filter(|c| fresh(c)) {
                return Ok(credentials.clone());
            }
            let credentials: Credentials = self.inner.provide_credentials().await?;
            if let Some(expiry) = credentials.expiry()
                && expiry <= now
            {
                return Err(CredentialsError::provider_error(Expired(
                    role_cache::rfc3339(expiry),
                )));
            }
            *held = Some(credentials.clone());
            Ok(credentials)
        })
    }
}
