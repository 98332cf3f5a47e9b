//! A role assumed with an MFA code (`role_arn`, `mfa_serial`, and `source_profile` or
//! `credential_source`), which the SDK's chain cannot do: it never asks for a code.
//!
//! As the AWS CLI does: the session is looked up in the AWS CLI's cache first
//! ([`super::role_cache`]); otherwise the code is asked for on the terminal
//! (`Enter MFA code for ARN: `, without echo), `AssumeRole` is called with the source
//! credentials, the device and the code, and the session is cached until it expires. Without a
//! terminal the provider refuses with the next step instead of waiting for input.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_sdk_sts::error::ProvideErrorMetadata;
use aws_sdk_sts::error::SdkError;

use super::profiles::{MfaRole, Source};
use super::role_cache::{RoleCache, RoleSession};
use crate::error::AwsError;

/// A session held in memory is renewed this long before it expires.
const MEMORY_MARGIN: Duration = Duration::from_secs(60);

/// The provider of an MFA role's session: cached, or assumed with a code from the terminal.
#[derive(Debug)]
pub struct MfaRoleProvider {
    role: MfaRole,
    source: SharedCredentialsProvider,
    source_kind: Source,
    sts: SdkConfig,
    cache: RoleCache,
    held: tokio::sync::Mutex<Option<Credentials>>,
}

impl MfaRoleProvider {
    /// The provider of `role`, calling `AssumeRole` with the credentials of `source` (whose kind
    /// explains its failures) through the region, endpoint and HTTP client of `sdk`.
    pub fn new(
        role: MfaRole,
        (source, source_kind): (SharedCredentialsProvider, Source),
        sdk: &SdkConfig,
    ) -> MfaRoleProvider {
        MfaRoleProvider {
            role,
            source,
            source_kind,
            sts: sdk.clone(),
            cache: RoleCache::in_home(),
            held: tokio::sync::Mutex::new(None),
        }
    }

    /// The session: held, cached, or assumed now (one at a time, so a code is asked for once).
    async fn session(&self) -> Result<Credentials, AwsError> {
        let mut held = self.held.lock().await;
        let now = SystemTime::now();
        if let Some(credentials) = held
            .as_ref()
            .filter(|c| c.expiry().is_none_or(|e| e > now + MEMORY_MARGIN))
        {
            return Ok(credentials.clone());
        }
        if let Some(credentials) = self.cache.read(&self.role, now) {
            *held = Some(credentials.clone());
            return Ok(credentials);
        }
        let source = self
            .source
            .provide_credentials()
            .await
            .map_err(|e| self.source_failed(&e))?;
        let code = ask(&self.role.mfa_serial)
            .await
            .map_err(|why| self.refused(why))?;
        let session = self.assume(source, &code).await?;
        if let Err(e) = self.cache.write(&self.role, &session) {
            eprintln!(
                "warning: the role session of profile `{}` could not be cached ({e}): the next run asks for a code again",
                self.role.profile
            );
        }
        *held = Some(session.credentials.clone());
        Ok(session.credentials)
    }

    /// Calls `AssumeRole` with the source credentials, the MFA device and `code`.
    async fn assume(&self, source: Credentials, code: &str) -> Result<RoleSession, AwsError> {
        let config = aws_sdk_sts::config::Builder::from(&self.sts)
            .credentials_provider(source)
            .interceptor(crate::calls::Declared)
            .build();
        let sts = aws_sdk_sts::Client::from_conf(config);
        // The AWS CLI's session name when the profile sets none.
        let session_name = self.role.session_name.clone().unwrap_or_else(|| {
            let secs = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            format!("botocore-session-{secs}")
        });
        let response = sts
            .assume_role()
            .role_arn(&self.role.role_arn)
            .role_session_name(session_name)
            .serial_number(&self.role.mfa_serial)
            .token_code(code)
            .set_external_id(self.role.external_id.clone())
            .set_duration_seconds(self.role.duration_seconds)
            .send()
            .await
            .map_err(|e| match e {
                SdkError::ServiceError(s) => self.refused(format!(
                    "STS refused `AssumeRole`: {}: {}",
                    s.err().code().unwrap_or("refused"),
                    s.err().message().unwrap_or("no message")
                )),
                other => {
                    let endpoint = self.sts.endpoint_url().map_or_else(
                        || {
                            let region = self.sts.region().map_or("us-east-1", |r| r.as_ref());
                            format!("https://sts.{region}.amazonaws.com")
                        },
                        str::to_owned,
                    );
                    crate::session::classify(other, &endpoint)
                }
            })?;
        let (Some(c), Some(user)) = (response.credentials(), response.assumed_role_user()) else {
            return Err(self.refused("STS answered `AssumeRole` without credentials".into()));
        };
        let expiry = SystemTime::try_from(c.expiration)
            .map_err(|_| self.refused("STS answered with an unreadable expiry".into()))?;
        let mut credentials = Credentials::builder()
            .access_key_id(c.access_key_id())
            .secret_access_key(c.secret_access_key())
            .session_token(c.session_token())
            .expiry(expiry)
            .provider_name("MfaRole");
        // The account, as the AWS CLI records it: from the assumed role's ARN.
        if let Some(account) = user.arn().split(':').nth(4).filter(|a| !a.is_empty()) {
            credentials = credentials.account_id(account);
        }
        Ok(RoleSession {
            credentials: credentials.build(),
            arn: user.arn().to_owned(),
            role_id: user.assumed_role_id().to_owned(),
        })
    }

    fn refused(&self, detail: String) -> AwsError {
        AwsError::MfaRole {
            profile: self.role.profile.clone(),
            role_arn: self.role.role_arn.clone(),
            detail,
        }
    }

    /// A failure of the source credentials: an SSO login or a process is explained as such.
    fn source_failed(&self, err: &CredentialsError) -> AwsError {
        match super::explain(&self.source_kind, err) {
            AwsError::Credentials { detail } => {
                self.refused(format!("its source credentials failed: {detail}"))
            }
            specific => specific,
        }
    }
}

impl ProvideCredentials for MfaRoleProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.session()
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

/// Asks for the code of `serial` on the terminal, as the AWS CLI does; says why not without one.
async fn ask(serial: &str) -> Result<String, String> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(format!(
            "there is no terminal to ask for the code of `{serial}` on: run the command at a terminal (the session is then cached in `~/.aws/cli/cache`, shared with the AWS CLI, until it expires)"
        ));
    }
    let echo = EchoOff::new();
    eprint!("Enter MFA code for {serial}: ");
    let _ = std::io::stderr().flush();
    let read = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    });
    let line = tokio::select! {
        line = read => line,
        _ = tokio::signal::ctrl_c() => {
            drop(echo);
            eprintln!();
            return Err("interrupted while asking for the MFA code".into());
        }
    };
    drop(echo);
    eprintln!();
    let line = line
        .map_err(|_| "the MFA code could not be read".to_owned())?
        .map_err(|e| format!("the MFA code could not be read: {e}"))?;
    check_code(line.trim())
}

/// A code STS can accept: six digits.
fn check_code(code: &str) -> Result<String, String> {
    if code.is_empty() {
        return Err("no MFA code was entered".into());
    }
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err("an MFA code is six digits".into());
    }
    Ok(code.to_owned())
}

/// The terminal's echo, off while the code is typed and restored when dropped.
struct EchoOff {
    saved: Option<rustix::termios::Termios>,
}

impl EchoOff {
    fn new() -> EchoOff {
        let stdin = std::io::stdin();
        let saved = rustix::termios::tcgetattr(&stdin).ok();
        if let Some(saved) = &saved {
            let mut quiet = saved.clone();
            quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
            // As `getpass`: typed-ahead input is discarded, so no keystroke becomes the code.
            let _ =
                rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Flush, &quiet);
        }
        EchoOff { saved }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                saved,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_six_digits() {
        assert_eq!(check_code("123456"), Ok("123456".to_owned()));
        assert_eq!(check_code(""), Err("no MFA code was entered".to_owned()));
        for bad in ["12345", "1234567", "12345a", "12 456"] {
            assert_eq!(
                check_code(bad),
                Err("an MFA code is six digits".to_owned()),
                "{bad}"
            );
        }
    }
}
