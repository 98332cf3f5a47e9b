//! The claims of a verified token, and the payload shape Cognito signs.

use serde::Deserialize;

/// Which of Cognito's two JWTs a token is, from its `token_use` claim.
///
/// The photo API accepts **access** tokens: they name the app client in `client_id`, carry no
/// profile attributes, and are what API Gateway's JWT authorizer is meant to see. Id tokens
/// (`aud` = app client, profile claims such as `email`) are for the SPA's own display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenUse {
    /// `token_use: access`; the app client is in `client_id`.
    Access,
    /// `token_use: id`; the app client is in `aud`.
    Id,
}

impl TokenUse {
    /// The claim value, `access` or `id`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenUse::Access => "access",
            TokenUse::Id => "id",
        }
    }
}

impl std::fmt::Display for TokenUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a verified token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The user's immutable id in the pool (`sub`): the photo app's user id.
    pub sub: String,
    /// The user name: `username` in access tokens, `cognito:username` in id tokens.
    pub username: Option<String>,
    /// The e-mail address (id tokens only, when the pool has one for the user).
    pub email: Option<String>,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// Which token this was.
    pub token_use: TokenUse,
}

/// `aud` is a string or an array of strings (RFC 7519 §4.1.3); Cognito sends a string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub(crate) fn contains(&self, client_id: &str) -> bool {
        match self {
            Audience::One(aud) => aud == client_id,
            Audience::Many(auds) => auds.iter().any(|aud| aud == client_id),
        }
    }
}

/// The payload claims the verifier reads; others are ignored.
#[derive(Debug, Deserialize)]
pub(crate) struct Payload {
    pub(crate) sub: Option<String>,
    pub(crate) iss: Option<String>,
    pub(crate) aud: Option<Audience>,
    pub(crate) client_id: Option<String>,
    pub(crate) token_use: Option<String>,
    pub(crate) exp: Option<u64>,
    pub(crate) nbf: Option<u64>,
    pub(crate) iat: Option<u64>,
    pub(crate) username: Option<String>,
    #[serde(rename = "cognito:username")]
    pub(crate) cognito_username: Option<String>,
    pub(crate) email: Option<String>,
}
