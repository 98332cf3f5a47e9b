//! The user pool's rules, which the stack gives the Cognito pool and the local stage's user pool
//! enforces: one definition, so an account that works locally is one Cognito would accept.

/// A Cognito `PasswordPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Shortest password, in characters.
    pub minimum_length: u32,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    /// Days an administrator-set temporary password stays valid.
    pub temporary_password_validity_days: u32,
}

/// How long access and id tokens live, in minutes: the stack's user-pool client and the local
/// stage both issue them so. The API (API Gateway's JWT authorizer, and the local stage alike)
/// checks only their signature and expiry, so a token taken before a sign-out or a password
/// reset keeps working at most this long; the SPA renews its tokens silently when one is refused.
pub const TOKEN_MINUTES: u32 = 15;

/// The app's pool: 12 characters with upper and lower case, a digit and a symbol.
pub const PASSWORD_POLICY: PasswordPolicy = PasswordPolicy {
    minimum_length: 12,
    require_lowercase: true,
    require_uppercase: true,
    require_numbers: true,
    require_symbols: true,
    temporary_password_validity_days: 3,
};

/// Usernames are e-mail addresses (`UsernameAttributes: [email]`), compared without regard to
/// case (`UsernameConfiguration.CaseSensitive: false`).
pub const USERNAME_IS_EMAIL: bool = true;
pub const USERNAME_CASE_SENSITIVE: bool = false;

/// Cognito's password length limit.
pub const MAXIMUM_PASSWORD_LENGTH: usize = 256;

/// The characters Cognito counts as symbols.
pub const SYMBOLS: &str = "^$*.[]{}()?-\"!@#%&/\\,><':;|_~`+= ";

impl PasswordPolicy {
    /// The first rule `password` breaks, worded as Cognito's `InvalidPasswordException` says it
    /// (after "Password did not conform with policy: "); `None` when it conforms.
    pub fn violation(&self, password: &str) -> Option<&'static str> {
        let length = password.chars().count();
        if length < self.minimum_length as usize {
            return Some("Password not long enough");
        }
        if length > MAXIMUM_PASSWORD_LENGTH {
            return Some("Password is too long");
        }
        let has = |test: fn(char) -> bool| password.chars().any(test);
        if self.require_numbers && !has(|c| c.is_ascii_digit()) {
            return Some("Password must have numeric characters");
        }
        if self.require_symbols && !has(|c| SYMBOLS.contains(c)) {
            return Some("Password must have symbol characters");
        }
        if self.require_uppercase && !has(char::is_uppercase) {
            return Some("Password must have uppercase characters");
        }
        if self.require_lowercase && !has(char::is_lowercase) {
            return Some("Password must have lowercase characters");
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_first_rule_broken() {
        let check = |password: &str, expected: Option<&str>| {
            assert_eq!(
                PASSWORD_POLICY.violation(password),
                expected,
                "{password:?}"
            );
        };
        check("Correct-Horse-9", None);
        check("Short-9a", Some("Password not long enough"));
        check(
            "Correct-Horse-",
            Some("Password must have numeric characters"),
        );
        check(
            "CorrectHorse99",
            Some("Password must have symbol characters"),
        );
        check(
            "correct-horse-9",
            Some("Password must have uppercase characters"),
        );
        check(
            "CORRECT-HORSE-9",
            Some("Password must have lowercase characters"),
        );
        check(&"Aa1-".repeat(65), Some("Password is too long"));
    }
}
