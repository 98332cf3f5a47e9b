//! The one error type of the photo domain, shared by the service and the adapter traits.

use crate::types::PhotoId;

/// Why a bearer token was refused; the API answers all of them with 401.
///
/// The kinds mirror what a Cognito-compatible verifier can tell apart, so logs and tests can say
/// which check failed without ever printing the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization: Bearer` header.
    Missing,
    /// Not a well-formed token.
    Malformed,
    /// The token's `exp` is in the past.
    Expired,
    /// The token was issued for another client.
    WrongAudience,
    /// The token was issued by another user pool.
    WrongIssuer,
    /// An ID token where an access token is expected, or the reverse.
    WrongTokenUse,
    /// The signature does not match the header and claims.
    BadSignature,
    /// The signing key id is not in the key set.
    UnknownKey,
    /// The key set could not be fetched.
    KeysUnavailable,
}

impl AuthFailure {
    /// A stable snake_case name, used in logs and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::Malformed => "malformed",
            AuthFailure::Expired => "expired",
            AuthFailure::WrongAudience => "wrong_audience",
            AuthFailure::WrongIssuer => "wrong_issuer",
            AuthFailure::WrongTokenUse => "wrong_token_use",
            AuthFailure::BadSignature => "bad_signature",
            AuthFailure::UnknownKey => "unknown_key",
            AuthFailure::KeysUnavailable => "keys_unavailable",
        }
    }
}

impl std::fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in the photo domain and its adapters.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value failed validation; `field` names the input.
    #[error("invalid `{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The thing does not exist, or belongs to someone else (never told apart, so ids do not leak).
    #[error("not found")]
    NotFound,
    /// The caller's token was refused.
    #[error("unauthenticated: {0}")]
    Unauthenticated(AuthFailure),
    /// The upload would take the user over their quota.
    #[error("upload of {requested} bytes exceeds the quota: {used} of {quota} bytes used")]
    QuotaExceeded {
        used: u64,
        quota: u64,
        requested: u64,
    },
    /// The declared size is above the per-file limit.
    #[error("file of {size} bytes is larger than the limit of {max} bytes")]
    TooLarge { size: u64, max: u64 },
    /// The content type is not one the thumbnail pipeline can decode.
    #[error("unsupported content type `{0}`: use JPEG, PNG, WebP or HEIC")]
    UnsupportedType(String),
    /// The user already has a photo with this SHA-256.
    #[error("duplicate of photo `{existing}`")]
    Duplicate { existing: PhotoId },
    /// A pagination cursor that this server did not hand to this user.
    #[error("invalid pagination cursor")]
    InvalidCursor,
    /// The share link needs a password and none was given.
    #[error("this share link needs a password")]
    PasswordRequired,
    /// The share link's password does not match.
    #[error("wrong password")]
    WrongPassword,
    /// The share link has had too many wrong passwords: it hears none for a while.
    #[error("too many wrong passwords: try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: u64 },
    /// The share link expired or was revoked.
    #[error("this share link has {0}")]
    ShareGone(&'static str),
    /// The share link's owner did not allow downloading its originals.
    #[error("the person who shared this link did not allow downloads")]
    DownloadNotAllowed,
    /// A conditional write failed because the item already exists.
    #[error("already exists")]
    AlreadyExists,
    /// A conditional write failed because the item is not in the expected state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The storage or object-store backend failed; the message is for logs, not for users.
    #[error("backend failure: {0}")]
    Backend(String),
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
