//! S3 pre-signed POST: browser upload forms signed with a SigV4 POST policy, and their verifier.
//!
//! The photo API hands the browser a form ([`presign_post`]) that lets it upload exactly one
//! object: one key, one content type, one exact size and (when given) one SHA-256, for at most
//! 15 minutes. S3 enforces those
//! conditions; the local stage has no S3, so its upload endpoint runs [`verify_post`], which
//! refuses what S3 refuses, with the error code S3 would answer ([`S3PostError::s3_code`]).
//!
//! Credentials are plain values ([`Credentials`]), so this crate needs no AWS SDK: the API takes
//! them from the SDK's credentials provider (on Lambda they always carry a session token).

mod policy;
mod sigv4;
mod time;
mod verify;

pub use policy::{Credentials, Endpoint, PolicyLifetime, PostUpload, PresignedPost, presign_post};
pub use verify::{PostSubmission, VerifiedPost, verify_post};

/// Why a form could not be built, or why a submitted form is refused.
///
/// The `Display` text follows the house style; [`S3PostError::s3_code`],
/// [`S3PostError::s3_message`] and [`S3PostError::http_status`] give what S3 itself answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3PostError {
    /// The policy lifetime is zero or longer than 15 minutes.
    #[error("policy lifetime of `{seconds}` s is outside 1 to 900 s")]
    InvalidLifetime {
        /// The requested lifetime in whole seconds.
        seconds: u64,
    },
    /// A bad value in the upload request (empty key, zero maximum size, ...).
    #[error("invalid upload request: {0}")]
    InvalidRequest(String),
    /// The form lacks a field S3 requires.
    #[error("form field `{0}` is missing")]
    MissingField(&'static str),
    /// `x-amz-algorithm` is not `AWS4-HMAC-SHA256`.
    #[error("signing algorithm `{0}` is not `AWS4-HMAC-SHA256`")]
    UnsupportedAlgorithm(String),
    /// `x-amz-credential` or `x-amz-date` is malformed or scoped to another day, region or service.
    #[error("credential scope refused: {0}")]
    CredentialScope(String),
    /// No secret is known for the access key id.
    #[error("access key id `{0}` is unknown")]
    InvalidAccessKeyId(String),
    /// The signature is not the one the policy and the secret give.
    #[error("signature does not match the policy")]
    SignatureDoesNotMatch,
    /// The policy is not base64 JSON of the documented shape.
    #[error("invalid policy document: {0}")]
    InvalidPolicyDocument(String),
    /// The policy's `expiration` has passed.
    #[error("policy expired at `{0}`")]
    PolicyExpired(String),
    /// A condition does not hold; the condition as S3 prints it, such as `["eq", "$key", "a"]`.
    #[error("policy condition failed: {0}")]
    ConditionFailed(String),
    /// A form field no condition mentions.
    #[error("form field `{0}` is not allowed by the policy")]
    ExtraField(String),
    /// The file is larger than `content-length-range` allows.
    #[error("upload of `{size}` bytes exceeds the maximum of `{max}`")]
    EntityTooLarge {
        /// The file's length.
        size: u64,
        /// The policy's maximum.
        max: u64,
    },
    /// The file is smaller than `content-length-range` allows.
    #[error("upload of `{size}` bytes is below the minimum of `{min}`")]
    EntityTooSmall {
        /// The file's length.
        size: u64,
        /// The policy's minimum.
        min: u64,
    },
    /// `x-amz-checksum-sha256` is not base64 of 32 bytes, or `x-amz-checksum-algorithm` names
    /// another algorithm.
    #[error("invalid checksum field: {0}")]
    InvalidChecksum(String),
    /// The file's SHA-256 is not the one `x-amz-checksum-sha256` declares.
    #[error("the file's SHA-256 does not match `x-amz-checksum-sha256`")]
    BadDigest,
}

impl S3PostError {
    /// The error code S3 answers with (the `<Code>` of its XML error body).
    pub fn s3_code(&self) -> &'static str {
        match self {
            S3PostError::InvalidLifetime { .. }
            | S3PostError::InvalidRequest(_)
            | S3PostError::MissingField(_)
            | S3PostError::UnsupportedAlgorithm(_) => "InvalidArgument",
            S3PostError::CredentialScope(_) => "AuthorizationQueryParametersError",
            S3PostError::InvalidAccessKeyId(_) => "InvalidAccessKeyId",
            S3PostError::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            S3PostError::InvalidPolicyDocument(_) => "InvalidPolicyDocument",
            S3PostError::PolicyExpired(_)
            | S3PostError::ConditionFailed(_)
            | S3PostError::ExtraField(_) => "AccessDenied",
            S3PostError::EntityTooLarge { .. } => "EntityTooLarge",
            S3PostError::EntityTooSmall { .. } => "EntityTooSmall",
            S3PostError::InvalidChecksum(_) => "InvalidRequest",
            S3PostError::BadDigest => "BadDigest",
        }
    }

    /// The HTTP status S3 answers with.
    pub fn http_status(&self) -> u16 {
        match self.s3_code() {
            "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "AccessDenied" => 403,
            _ => 400,
        }
    }

    /// The `<Message>` S3 puts in its XML error body, worded as S3 words it.
    pub fn s3_message(&self) -> String {
        match self {
            S3PostError::MissingField(field) => {
                format!("Bucket POST must contain a field named '{field}'.")
            }
            S3PostError::SignatureDoesNotMatch => "The request signature we calculated does not \
                match the signature you provided. Check your key and signing method."
                .to_owned(),
            S3PostError::InvalidAccessKeyId(_) => {
                "The AWS Access Key Id you provided does not exist in our records.".to_owned()
            }
            S3PostError::PolicyExpired(_) => {
                "Invalid according to Policy: Policy expired.".to_owned()
            }
            S3PostError::ConditionFailed(condition) => {
                format!("Invalid according to Policy: Policy Condition failed: {condition}")
            }
            S3PostError::ExtraField(field) => {
                format!("Invalid according to Policy: Extra input fields: {field}")
            }
            S3PostError::EntityTooLarge { .. } => {
                "Your proposed upload exceeds the maximum allowed size".to_owned()
            }
            S3PostError::EntityTooSmall { .. } => {
                "Your proposed upload is smaller than the minimum allowed size".to_owned()
            }
            S3PostError::BadDigest => {
                "The SHA256 you specified did not match the calculated checksum.".to_owned()
            }
            other => other.to_string(),
        }
    }
}

/// Cuts client-supplied text short before it goes into an error message.
pub(crate) fn clip(text: &str) -> String {
    const MAX: usize = 128;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
