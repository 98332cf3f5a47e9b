//! Cognito user-pool token verification (RS256 against the pool's JWKS) and a look-alike issuer.
//!
//! The photo API trusts one thing about a caller: the `sub` of a token its user pool signed. This
//! crate checks that token the way Cognito's own guidance says to: the signature with the pool's
//! published RSA key (algorithm pinned to RS256, whatever the token's header claims), the issuer,
//! the app client, the `token_use`, and the validity window with a small leeway.
//!
//! - [`VerifierConfig`] says what to accept; [`VerifierConfig::cognito_issuer`] builds the AWS
//!   issuer URL and [`VerifierConfig::cognito_jwks_url`] where its keys live.
//! - [`Verifier`] verifies tokens against a key set that is either fetched over HTTP (cached,
//!   refreshed on an unknown `kid`, rate limited) or given in memory ([`Verifier::from_jwks`]).
//! - [`CognitoIdentity`] is the photo domain's identity port over a [`Verifier`], remembering
//!   the tokens it verified until they expire; the API function and the local stage both use it.
//! - [`issuer::Issuer`] signs tokens shaped like Cognito's for the local stage and publishes the
//!   matching JWKS, so the local stage runs this very verifier.
//!
//! Errors never carry the token: a token is a bearer credential and error messages end up in logs.

mod claims;
pub mod identity;
pub mod issuer;
mod jwks;
mod remote;
pub mod tls;
mod verify;

pub use claims::{Claims, TokenUse};
pub use identity::CognitoIdentity;
pub use jwks::{Jwk, Jwks};
pub use remote::Verifier;
pub use verify::VerifierConfig;

/// Why a token was refused, or why it could not be checked.
///
/// Every variant except [`AuthError::JwksUnavailable`] and [`AuthError::Key`] is the caller's
/// fault (an HTTP 401); those two are ours (a 503 or a 500). See [`AuthError::is_client_error`].
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No token at all, such as an absent or empty `Authorization` header.
    #[error("missing bearer token")]
    Missing,
    /// Not a compact JWS with a JSON header and payload we can read.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm other than RS256 (such as `none` or `HS256`).
    #[error("token algorithm is not `RS256`")]
    Algorithm,
    /// The RS256 signature does not verify with the key the header names.
    #[error("token signature does not verify")]
    BadSignature,
    /// `exp` is in the past, beyond the leeway.
    #[error("token expired at `{exp}`")]
    Expired {
        /// The token's `exp`, in seconds since the Unix epoch.
        exp: u64,
    },
    /// `nbf` (or `iat`) is in the future, beyond the leeway.
    #[error("token not valid before `{nbf}`")]
    NotYetValid {
        /// The token's `nbf` (or `iat`), in seconds since the Unix epoch.
        nbf: u64,
    },
    /// `iss` is not the configured user pool.
    #[error("token issuer `{0}` is not the configured user pool")]
    WrongIssuer(String),
    /// `aud` (id tokens) or `client_id` (access tokens) is not the configured app client.
    #[error("token was issued to another app client")]
    WrongClient,
    /// `token_use` is not the one configured (such as an id token where access tokens are due).
    #[error("token_use `{found}` where `{expected}` is accepted")]
    WrongTokenUse {
        /// What the verifier accepts.
        expected: TokenUse,
        /// What the token says, cut short if long.
        found: String,
    },
    /// The header's `kid` is not in the key set, even after a refresh.
    #[error("token signed with unknown key `{0}`")]
    UnknownKey(String),
    /// The JWKS could not be fetched or read.
    #[error("user pool keys unavailable: {0}")]
    JwksUnavailable(String),
    /// A key (in a JWKS or given to the issuer) is not a usable RSA key.
    #[error("unusable key: {0}")]
    Key(String),
}

impl AuthError {
    /// Whether the caller presented a bad token (401) rather than us failing to check it.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, AuthError::JwksUnavailable(_) | AuthError::Key(_))
    }
}

/// The token in an `Authorization: Bearer <token>` header value.
///
/// The scheme is matched case-insensitively, as RFC 7235 asks.
pub fn bearer_token(header_value: &str) -> Result<&str, AuthError> {
    let value = header_value.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Malformed(
        "authorization header is not `Bearer <token>`",
    ))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Malformed("authorization scheme is not `Bearer`"));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token)
}

/// Cuts attacker-controlled text short before it goes into an error message.
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 128;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(header: &str, expected: Result<&str, &str>) {
        let got = bearer_token(header).map_err(|e| e.to_string());
        assert_eq!(got, expected.map_err(str::to_owned), "header {header:?}");
    }

    #[test]
    fn bearer_header_parsing() {
        check("Bearer abc.def.ghi", Ok("abc.def.ghi"));
        check("bearer  abc.def.ghi ", Ok("abc.def.ghi"));
        check("", Err("missing bearer token"));
        check("Bearer ", Err("missing bearer token"));
        check(
            "Basic dXNlcjpwYXNz",
            Err("malformed token: authorization scheme is not `Bearer`"),
        );
        check(
            "abc.def.ghi",
            Err("malformed token: authorization header is not `Bearer <token>`"),
        );
    }

    #[test]
    fn clip_keeps_short_text_and_cuts_long_text() {
        assert_eq!(clip("access"), "access");
        let long = "x".repeat(200);
        assert_eq!(clip(&long).chars().count(), 129);
    }
}
