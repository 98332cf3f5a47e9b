//! What the selected profile of the shared config files (`~/.aws/config`,
//! `~/.aws/credentials`, or `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`) takes its
//! credentials from, read with the SDK's own parser so that both agree on every profile.

use std::borrow::Cow;

use aws_config::profile::ProfileSet;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};
use aws_types::region::Region;

/// How many `source_profile` links are followed before giving up (the SDK reports loops).
const MAX_CHAIN: usize = 16;

/// The credential source of a profile, as far as the deployer handles it itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// IAM Identity Center, directly or at the end of a role chain.
    Sso(Sso),
    /// A `credential_process`, directly or at the end of a role chain.
    Process {
        /// The profile holding the `credential_process`.
        profile: String,
    },
    /// A role assumed with an MFA code (`role_arn` and `mfa_serial`).
    MfaRole(MfaRole),
    /// Anything the SDK's chain handles alone (environment, keys, web identity, instance role).
    Other,
}

/// A profile signing in through IAM Identity Center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sso {
    /// The profile the operator selected.
    pub profile: String,
    /// The profile holding the SSO settings, the one `aws sso login --profile` takes.
    pub login_profile: String,
    /// The SSO region (`sso_region`, of the profile or its `sso-session` section).
    pub region: Option<String>,
}

impl Sso {
    /// The IAM Identity Center portal's endpoint.
    pub fn portal(&self) -> String {
        match &self.region {
            Some(region) => format!("https://portal.sso.{region}.amazonaws.com"),
            None => "the IAM Identity Center portal".into(),
        }
    }
}

/// A role the AWS CLI would assume with an MFA code, with the settings it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaRole {
    /// The profile defining the role.
    pub profile: String,
    /// `role_arn`.
    pub role_arn: String,
    /// `mfa_serial`: the MFA device's ARN (or a hardware device's serial number).
    pub mfa_serial: String,
    /// `role_session_name`, when set.
    pub session_name: Option<String>,
    /// `external_id`, when set.
    pub external_id: Option<String>,
    /// `duration_seconds`, when set (and a number, as the AWS CLI requires).
    pub duration_seconds: Option<i32>,
    /// Where the credentials that call `AssumeRole` come from.
    pub from: RoleFrom,
}

/// The credentials `AssumeRole` is called with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleFrom {
    /// Another profile (`source_profile`), resolved by the SDK's profile chain.
    Profile(String),
    /// The role's own profile's keys (`source_profile` naming itself).
    OwnKeys,
    /// `credential_source`: `Environment`, `Ec2InstanceMetadata` or `EcsContainer`.
    Named(String),
    /// Neither `source_profile` nor `credential_source`: a configuration error.
    Missing,
}

/// The parsed shared config files, with the profile selected.
#[derive(Debug)]
pub struct Profiles {
    set: Option<ProfileSet>,
    problem: Option<String>,
}

impl Profiles {
    /// Reads the real files for `profile` (`AWS_PROFILE` or `default` when `None`). Files that
    /// do not parse are no source (environment keys still work); [`Profiles::problem`] says
    /// why.
    pub async fn load(profile: Option<&str>) -> Profiles {
        Profiles::load_from(Fs::real(), Env::real(), profile).await
    }

    /// Reads the files through `fs` and `env` (tests give them in memory).
    pub async fn load_from(fs: Fs, env: Env, profile: Option<&str>) -> Profiles {
        let selected = profile.map(|p| Cow::Owned(p.to_owned()));
        match aws_config::profile::load(&fs, &env, &EnvConfigFiles::default(), selected).await {
            Ok(set) => Profiles {
                set: Some(set),
                problem: None,
            },
            Err(e) => Profiles {
                set: None,
                problem: Some(crate::session::error_chain(&e)),
            },
        }
    }

    /// Why the files could not be read, with the file and line (the SDK's chain only says that
    /// they could not be parsed).
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// The source of the selected profile.
    pub fn source(&self) -> Source {
        match &self.set {
            Some(set) => source_of(set, set.selected_profile()),
            None => Source::Other,
        }
    }

    /// The provider of the credentials that assume `role` (calling STS in `region` when the
    /// source is itself a role chain), and their source, so that a failing SSO login or process
    /// is explained as such.
    pub fn role_source(
        &self,
        role: &MfaRole,
        region: Option<Region>,
    ) -> (SharedCredentialsProvider, Source) {
        let config = ProviderConfig::without_region()
            .with_region(region)
            .with_http_client(photo_aws::tls::https_client());
        match &role.from {
            RoleFrom::Profile(name) => {
                let source = self
                    .set
                    .as_ref()
                    .map_or(Source::Other, |set| source_of(set, name));
                let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .configure(&config)
                    .profile_name(name)
                    .build();
                (SharedCredentialsProvider::new(provider), source)
            }
            RoleFrom::OwnKeys => {
                let keys = self
                    .set
                    .as_ref()
                    .and_then(|set| set.get_profile(&role.profile))
                    .and_then(|p| {
                        Some(Credentials::new(
                            p.get("aws_access_key_id")?,
                            p.get("aws_secret_access_key")?,
                            p.get("aws_session_token").map(str::to_owned),
                            None,
                            "SharedConfig",
                        ))
                    });
                let provider = match keys {
                    Some(keys) => SharedCredentialsProvider::new(keys),
                    None => SharedCredentialsProvider::new(Unavailable(format!(
                        "profile `{}` names itself as `source_profile` but has no `aws_access_key_id` and `aws_secret_access_key`",
                        role.profile
                    ))),
                };
                (provider, Source::Other)
            }
            RoleFrom::Named(name) => (named_source(name, &config), Source::Other),
            RoleFrom::Missing => (
                SharedCredentialsProvider::new(Unavailable(format!(
                    "profile `{}` has `role_arn` but neither `source_profile` nor `credential_source`",
                    role.profile
                ))),
                Source::Other,
            ),
        }
    }
}

/// The provider of a `credential_source`.
fn named_source(name: &str, config: &ProviderConfig) -> SharedCredentialsProvider {
    match name {
        "Environment" => SharedCredentialsProvider::new(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        ),
        "Ec2InstanceMetadata" => SharedCredentialsProvider::new(
            aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                .configure(config)
                .build(),
        ),
        "EcsContainer" => SharedCredentialsProvider::new(
            aws_config::ecs::EcsCredentialsProvider::builder()
                .configure(config)
                .build(),
        ),
        other => SharedCredentialsProvider::new(Unavailable(format!(
            "unknown `credential_source` `{other}`: expected `Environment`, `Ec2InstanceMetadata` or `EcsContainer`"
        ))),
    }
}

/// The source of profile `name`: an MFA role itself, or the base its role chain ends on.
pub fn source_of(set: &ProfileSet, name: &str) -> Source {
    let Some(profile) = set.get_profile(name) else {
        return Source::Other;
    };
    if let (Some(role_arn), Some(mfa_serial)) = (profile.get("role_arn"), profile.get("mfa_serial"))
        && profile.get("web_identity_token_file").is_none()
    {
        let from = match (
            profile.get("source_profile"),
            profile.get("credential_source"),
        ) {
            (Some(source), None) if source == name => RoleFrom::OwnKeys,
            (Some(source), None) => RoleFrom::Profile(source.to_owned()),
            (None, Some(named)) => RoleFrom::Named(named.to_owned()),
            // Both, or neither: the SDK's chain reports the mistake in the AWS CLI's words.
            _ => RoleFrom::Missing,
        };
        return Source::MfaRole(MfaRole {
            profile: name.to_owned(),
            role_arn: role_arn.to_owned(),
            mfa_serial: mfa_serial.to_owned(),
            session_name: profile.get("role_session_name").map(str::to_owned),
            external_id: profile.get("external_id").map(str::to_owned),
            duration_seconds: profile
                .get("duration_seconds")
                .and_then(|d| d.trim().parse().ok()),
            from,
        });
    }
    // Follow the role chain to its base, as the SDK does: after the first link, a profile with
    // keys ends the chain.
    let mut current = profile;
    for depth in 0..MAX_CHAIN {
        let has_keys = current.get("aws_access_key_id").is_some();
        if depth > 0 && has_keys {
            return Source::Other;
        }
        let next = current
            .get("role_arn")
            .filter(|_| current.get("web_identity_token_file").is_none())
            .and_then(|_| current.get("source_profile"))
            .filter(|next| *next != current.name());
        match next.and_then(|n| set.get_profile(n)) {
            Some(next) => current = next,
            None => break,
        }
    }
    if current.get("role_arn").is_some() && current.get("source_profile").is_none() {
        // A `credential_source` (or nothing) ends the chain.
        return Source::Other;
    }
    let session = current.get("sso_session").and_then(|s| set.sso_session(s));
    if session.is_some() || current.get("sso_start_url").is_some() {
        let region = current
            .get("sso_region")
            .or_else(|| session.and_then(|s| s.get("sso_region")))
            .map(str::to_owned);
        return Source::Sso(Sso {
            profile: name.to_owned(),
            login_profile: current.name().to_owned(),
            region,
        });
    }
    if current.get("credential_process").is_some() && current.get("aws_access_key_id").is_none() {
        return Source::Process {
            profile: current.name().to_owned(),
        };
    }
    Source::Other
}

/// A source that cannot give credentials, saying why (a configuration mistake).
#[derive(Debug)]
struct Unavailable(String);

impl aws_credential_types::provider::ProvideCredentials for Unavailable {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::ready(Err(
            aws_credential_types::provider::error::CredentialsError::invalid_configuration(
                self.0.clone(),
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
[default]
region = eu-west-1

[profile sso-new]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Deployer

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-central-1
sso_registration_scopes = sso:account:access

[profile sso-legacy]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = Deployer

[profile process]
credential_process = /usr/local/bin/get-creds --account prod

[profile chained-to-sso]
role_arn = arn:aws:iam::444455556666:role/deploy
source_profile = sso-new

[profile ops]
role_arn = arn:aws:iam::444455556666:role/deploy
source_profile = keys
mfa_serial = arn:aws:iam::111122223333:mfa/alice
duration_seconds = 7200
external_id = ext-1

[profile self-mfa]
role_arn = arn:aws:iam::444455556666:role/deploy
source_profile = self-mfa
mfa_serial = arn:aws:iam::111122223333:mfa/alice
aws_access_key_id = AKIDSELF
aws_secret_access_key = self-secret

[profile instance-mfa]
role_arn = arn:aws:iam::444455556666:role/deploy
credential_source = Ec2InstanceMetadata
mfa_serial = arn:aws:iam::111122223333:mfa/alice

[profile keys]
aws_access_key_id = AKIDKEYS
aws_secret_access_key = keys-secret
"#;

    async fn source(profile: &str) -> Source {
        let fs = Fs::from_slice(&[("/home/op/.aws/config", CONFIG)]);
        let env = Env::from_slice(&[("HOME", "/home/op")]);
        Profiles::load_from(fs, env, Some(profile)).await.source()
    }

    #[tokio::test]
    async fn sso_profiles_name_the_profile_to_log_in_with() {
        let new = source("sso-new").await;
        assert_eq!(
            new,
            Source::Sso(Sso {
                profile: "sso-new".into(),
                login_profile: "sso-new".into(),
                region: Some("eu-central-1".into()),
            })
        );
        let Source::Sso(legacy) = source("sso-legacy").await else {
            panic!("legacy SSO not recognised");
        };
        assert_eq!(
            legacy.portal(),
            "https://portal.sso.us-east-1.amazonaws.com"
        );
        // A role chained onto SSO logs in with the profile holding the SSO settings.
        let Source::Sso(chained) = source("chained-to-sso").await else {
            panic!("role chained onto SSO not recognised");
        };
        assert_eq!(
            (chained.profile.as_str(), chained.login_profile.as_str()),
            ("chained-to-sso", "sso-new")
        );
    }

    #[tokio::test]
    async fn a_file_that_does_not_parse_says_where() {
        let fs = Fs::from_slice(&[("/home/op/.aws/config", "[profile x]\nregion\n")]);
        let env = Env::from_slice(&[("HOME", "/home/op")]);
        let profiles = Profiles::load_from(fs, env, Some("x")).await;
        assert_eq!(profiles.source(), Source::Other);
        let problem = profiles.problem().unwrap();
        assert!(
            problem.contains("/home/op/.aws/config on line 2"),
            "{problem}"
        );
        assert!(!problem.contains('\n'));
    }

    #[tokio::test]
    async fn process_keys_and_unknown_profiles() {
        assert_eq!(
            source("process").await,
            Source::Process {
                profile: "process".into()
            }
        );
        assert_eq!(source("keys").await, Source::Other);
        assert_eq!(source("default").await, Source::Other);
        assert_eq!(source("no-such-profile").await, Source::Other);
    }

    #[tokio::test]
    async fn mfa_roles_keep_every_setting_the_aws_cli_reads() {
        let Source::MfaRole(role) = source("ops").await else {
            panic!("MFA role not recognised");
        };
        assert_eq!(
            role,
            MfaRole {
                profile: "ops".into(),
                role_arn: "arn:aws:iam::444455556666:role/deploy".into(),
                mfa_serial: "arn:aws:iam::111122223333:mfa/alice".into(),
                session_name: None,
                external_id: Some("ext-1".into()),
                duration_seconds: Some(7200),
                from: RoleFrom::Profile("keys".into()),
            }
        );
        let Source::MfaRole(own) = source("self-mfa").await else {
            panic!("self-sourced MFA role not recognised");
        };
        assert_eq!(own.from, RoleFrom::OwnKeys);
        let Source::MfaRole(instance) = source("instance-mfa").await else {
            panic!("MFA role with a credential_source not recognised");
        };
        assert_eq!(instance.from, RoleFrom::Named("Ec2InstanceMetadata".into()));
    }
}
