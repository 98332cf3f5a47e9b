//! `AWS::Cognito::*`: the user pool and its app client. `Ref` gives the pool id or client id.

use serde::Serialize;

use super::{Expr, Res, Resource};

/// `AWS::Cognito::UserPool`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPool {
    /// The pool's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_pool_name: Option<Expr>,
    /// Attributes that may sign in in place of a username (`email`).
    pub username_attributes: Vec<&'static str>,
    /// Attributes Cognito verifies by sending a code.
    pub auto_verified_attributes: Vec<&'static str>,
    /// Username case sensitivity.
    pub username_configuration: UsernameConfiguration,
    /// Password rules.
    pub policies: Policies,
    /// How a user who forgot the password recovers.
    pub account_recovery_setting: AccountRecoverySetting,
    /// Whether users may sign themselves up.
    pub admin_create_user_config: AdminCreateUserConfig,
    /// Attributes whose new value takes effect only once verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_attribute_update_settings: Option<UserAttributeUpdateSettings>,
    /// `OFF`, `ON` or `OPTIONAL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_configuration: Option<&'static str>,
    /// `ACTIVE` refuses deleting the pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<Expr>,
    /// The feature plan: `LITE` has everything this pool uses (passwords, e-mail codes, token
    /// revocation) at the lowest price; `ESSENTIALS` is Cognito's default.
    pub user_pool_tier: &'static str,
    /// Who sends the pool's mail; Cognito's own sender when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_configuration: Option<EmailConfiguration>,
}

impl Resource for UserPool {
    const TYPE: &'static str = "AWS::Cognito::UserPool";
}

impl Res<UserPool> {
    /// `Arn`.
    pub fn arn(&self) -> Expr {
        self.get_att("Arn")
    }

    /// `ProviderURL`: `https://cognito-idp.{region}.amazonaws.com/{pool id}`, the JWT issuer.
    pub fn provider_url(&self) -> Expr {
        self.get_att("ProviderURL")
    }
}

/// `UserAttributeUpdateSettings`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserAttributeUpdateSettings {
    /// Such as `email`: the old address stays in use until the new one is verified.
    pub attributes_require_verification_before_update: Vec<&'static str>,
}

/// `UsernameConfiguration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsernameConfiguration {
    /// `false`: `Ann@Example.com` and `ann@example.com` are one user.
    pub case_sensitive: bool,
}

/// `EmailConfiguration`: the pool's mail sent through an SES identity of the account's.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EmailConfiguration {
    /// `DEVELOPER`: through SES, with SES's quotas instead of Cognito's few mails a day.
    pub email_sending_account: &'static str,
    /// The verified SES identity's ARN.
    pub source_arn: String,
    /// The sender's address, covered by that identity.
    pub from: String,
}

/// `Policies`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policies {
    /// The password policy.
    pub password_policy: PasswordPolicy,
}

/// `PasswordPolicy`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicy {
    /// Shortest password.
    pub minimum_length: u32,
    /// Needs a lowercase letter.
    pub require_lowercase: bool,
    /// Needs a digit.
    pub require_numbers: bool,
    /// Needs a symbol.
    pub require_symbols: bool,
    /// Needs an uppercase letter.
    pub require_uppercase: bool,
    /// Days an administrator-set temporary password stays valid.
    pub temporary_password_validity_days: u32,
}

/// `AccountRecoverySetting`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountRecoverySetting {
    /// In priority order.
    pub recovery_mechanisms: Vec<RecoveryOption>,
}

/// `RecoveryOption`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecoveryOption {
    /// `verified_email`, `verified_phone_number` or `admin_only`.
    pub name: &'static str,
    /// 1 is tried first.
    pub priority: u32,
}

/// `AdminCreateUserConfig`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminCreateUserConfig {
    /// `false` lets users sign up.
    pub allow_admin_create_user_only: bool,
}

/// `AWS::Cognito::UserPoolClient`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolClient {
    /// The pool's id.
    pub user_pool_id: Expr,
    /// The client's name.
    pub client_name: Expr,
    /// Public clients (a browser) cannot keep a secret.
    pub generate_secret: bool,
    /// The `ALLOW_*` flows the client may use.
    pub explicit_auth_flows: Vec<&'static str>,
    /// `ENABLED` answers the same for unknown users as for wrong passwords.
    pub prevent_user_existence_errors: &'static str,
    /// Identity providers (`COGNITO`).
    pub supported_identity_providers: Vec<&'static str>,
    /// Access-token lifetime, in `token_validity_units.access_token`.
    pub access_token_validity: u32,
    /// Id-token lifetime, in `token_validity_units.id_token`.
    pub id_token_validity: u32,
    /// Refresh-token lifetime, in `token_validity_units.refresh_token`.
    pub refresh_token_validity: u32,
    /// Units of the three lifetimes.
    pub token_validity_units: TokenValidityUnits,
    /// Lets sign-out revoke refresh tokens.
    pub enable_token_revocation: bool,
    /// Minutes a sign-in session (between challenge steps) stays valid.
    pub auth_session_validity: u32,
}

impl Resource for UserPoolClient {
    const TYPE: &'static str = "AWS::Cognito::UserPoolClient";
}

/// `TokenValidityUnits`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenValidityUnits {
    /// `seconds`, `minutes`, `hours` or `days`.
    pub access_token: &'static str,
    /// Same units as above.
    pub id_token: &'static str,
    /// Same units as above.
    pub refresh_token: &'static str,
}
