//! The deployed pool's rules for what a user may choose: the password policy and usernames that
//! are e-mail addresses, compared without regard to case (photo-contract's definitions, which the
//! stack gives Cognito), worded as Cognito words a refusal.

use photo_contract::users;
use photo_domain::password::Password;

use super::UserError;

/// The deployed pool's password policy (photo-contract's, which the stack gives Cognito), worded
/// as Cognito words a refusal. Only a password being set is checked: an account made before the
/// policy keeps signing in with the password it has.
pub(super) fn check_password(password: &str) -> Result<Password, UserError> {
    if let Some(rule) = users::PASSWORD_POLICY.violation(password) {
        return Err(UserError::InvalidPassword(format!(
            "Password did not conform with policy: {rule}"
        )));
    }
    Password::parse(password).map_err(|e| UserError::InvalidPassword(e.to_string()))
}

/// The key an account is found by: usernames are compared without regard to (ASCII) case, as the
/// deployed pool's `CaseSensitive: false` compares them; `A@X.COM` and `a@x.com` are one account.
/// ASCII only, so that it is the same fold as SQLite's `lower()`, which migrated older rows.
pub fn canonical_username(username: &str) -> String {
    if users::USERNAME_CASE_SENSITIVE {
        username.to_owned()
    } else {
        username.to_ascii_lowercase()
    }
}

/// A plausible e-mail address: `local@domain.tld`, no spaces, at most 128 characters.
pub(super) fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && text.chars().count() <= 128
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
        && domain
            .split_once('.')
            .is_some_and(|(host, tld)| !host.is_empty() && !tld.is_empty())
        && !domain.ends_with('.')
}

/// A new account's username: an e-mail address, as the deployed pool's `UsernameAttributes:
/// [email]` requires.
pub(super) fn check_username(username: &str) -> Result<(), UserError> {
    if !users::USERNAME_IS_EMAIL || is_email(username) {
        Ok(())
    } else {
        Err(UserError::InvalidParameter(
            "Username should be an email.".into(),
        ))
    }
}
