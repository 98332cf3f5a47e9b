//! Sign-in: the Cognito user pool and the SPA's app client, whose tokens the HTTP API's JWT
//! authorizer checks.

use super::Names;
use super::data::keep_data;
use crate::StackError;
use crate::cfn::cognito::{
    AccountRecoverySetting, AdminCreateUserConfig, EmailConfiguration, PasswordPolicy, Policies,
    RecoveryOption, TokenValidityUnits, UserAttributeUpdateSettings, UserPool, UserPoolClient,
    UsernameConfiguration,
};
use crate::cfn::{Cond, Expr, Options, Res, Template};
use crate::config::StageConfig;
use photo_contract::users;

pub(super) fn user_pool(
    t: &mut Template,
    config: &StageConfig,
    names: &Names,
    protection: Option<&Cond>,
) -> Result<Res<UserPool>, StackError> {
    t.add_with(
        "UserPool",
        UserPool {
            user_pool_name: Some(Expr::from(format!("{}-users", names.prefix))),
            // The local stage's user pool enforces the same rules (photo-contract's `users`).
            username_attributes: if users::USERNAME_IS_EMAIL {
                vec!["email"]
            } else {
                vec![]
            },
            auto_verified_attributes: vec!["email"],
            username_configuration: UsernameConfiguration {
                case_sensitive: users::USERNAME_CASE_SENSITIVE,
            },
            policies: Policies {
                password_policy: PasswordPolicy {
                    minimum_length: users::PASSWORD_POLICY.minimum_length,
                    require_lowercase: users::PASSWORD_POLICY.require_lowercase,
                    require_numbers: users::PASSWORD_POLICY.require_numbers,
                    require_symbols: users::PASSWORD_POLICY.require_symbols,
                    require_uppercase: users::PASSWORD_POLICY.require_uppercase,
                    temporary_password_validity_days: users::PASSWORD_POLICY
                        .temporary_password_validity_days,
                },
            },
            account_recovery_setting: AccountRecoverySetting {
                recovery_mechanisms: vec![RecoveryOption {
                    name: "verified_email",
                    priority: 1,
                }],
            },
            admin_create_user_config: AdminCreateUserConfig {
                allow_admin_create_user_only: false,
            },
            // A changed e-mail address (the username) is used only once verified.
            user_attribute_update_settings: Some(UserAttributeUpdateSettings {
                attributes_require_verification_before_update: vec!["email"],
            }),
            mfa_configuration: Some("OFF"),
            deletion_protection: Some(match protection {
                Some(on) => Expr::if_(on, "ACTIVE".into(), "INACTIVE".into()),
                None => "INACTIVE".into(),
            }),
            // Cognito's own sender allows about 50 mails a day to the whole pool, which anonymous
            // sign-ups and resends can use up; a production stage sends through SES.
            user_pool_tier: "LITE",
            email_configuration: config.mail.as_ref().map(|mail| EmailConfiguration {
                email_sending_account: "DEVELOPER",
                source_arn: mail.identity_arn.as_str().to_owned(),
                from: mail.from.as_str().to_owned(),
            }),
        },
        keep_data(config, Options::new()),
    )
}

/// The SPA's app client.
pub(super) fn user_pool_client(
    t: &mut Template,
    names: &Names,
    pool: &Res<UserPool>,
) -> Result<Res<UserPoolClient>, StackError> {
    t.add(
        "UserPoolClient",
        UserPoolClient {
            user_pool_id: pool.reference(),
            client_name: Expr::from(format!("{}-spa", names.prefix)),
            // A browser cannot keep a secret.
            generate_secret: false,
            // The SPA signs in with InitiateAuth USER_PASSWORD_AUTH (over TLS, to Cognito only)
            // and renews with REFRESH_TOKEN_AUTH; nothing else is allowed.
            explicit_auth_flows: vec!["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors: "ENABLED",
            supported_identity_providers: vec!["COGNITO"],
            // Short-lived: a token taken before a sign-out keeps working until it expires.
            access_token_validity: users::TOKEN_MINUTES,
            id_token_validity: users::TOKEN_MINUTES,
            refresh_token_validity: 30,
            token_validity_units: TokenValidityUnits {
                access_token: "minutes",
                id_token: "minutes",
                refresh_token: "days",
            },
            enable_token_revocation: true,
            auth_session_validity: 3,
        },
    )
}
