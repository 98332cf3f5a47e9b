//! The API's error type and its JSON form: `{"error": {"code": "...", "message": "..."}}`.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use photo_domain::{AuthFailure, Error as DomainError};

/// Declares [`ErrorCode`] with each code's text and status, and [`ErrorCode::ALL`], from one list:
/// a code cannot be added without its status, nor left out of `ALL` (which the OpenAPI document's
/// test walks).
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal, $status:ident;)*) => {
        /// Every code an error answer can carry: the OpenAPI document lists them all.
        ///
        /// Each is written as its variant's name in snake case, which is also its `$code` (a
        /// test holds the two equal).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code as it appears in a body.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The HTTP status answered with the code.
            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }
        }
    };
}

error_codes! {
    /// A field's value is not acceptable; the message names the field.
    InvalidInput = "invalid_input", BAD_REQUEST;
    /// The JSON body does not fit the request's shape: a field missing, unknown or of the wrong type.
    InvalidBody = "invalid_body", BAD_REQUEST;
    /// The body is not JSON.
    InvalidJson = "invalid_json", BAD_REQUEST;
    /// A query parameter is not acceptable.
    InvalidQuery = "invalid_query", BAD_REQUEST;
    /// A path parameter is not acceptable.
    InvalidPath = "invalid_path", BAD_REQUEST;
    /// A pagination cursor this server did not hand to this user.
    InvalidCursor = "invalid_cursor", BAD_REQUEST;
    /// No token, or one that is forged, expired or for another pool.
    Unauthorized = "unauthorized", UNAUTHORIZED;
    /// The share link needs a password.
    PasswordRequired = "password_required", UNAUTHORIZED;
    /// The share link's password is not this one.
    WrongPassword = "wrong_password", UNAUTHORIZED;
    /// The share link's owner did not allow downloading its originals.
    DownloadNotAllowed = "download_not_allowed", FORBIDDEN;
    /// Nothing there, or nothing of the caller's (never told apart).
    NotFound = "not_found", NOT_FOUND;
    /// The path exists; the method does not.
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED;
    /// The caller already has this photo (`existing_photo_id` names it).
    Duplicate = "duplicate", CONFLICT;
    /// The upload would take the caller over their quota.
    QuotaExceeded = "quota_exceeded", CONFLICT;
    /// The thing changed meanwhile, or already exists.
    Conflict = "conflict", CONFLICT;
    /// The share link expired or was revoked.
    ShareGone = "share_gone", GONE;
    /// The declared file is larger than the per-file limit.
    TooLarge = "too_large", PAYLOAD_TOO_LARGE;
    /// The request body is larger than the API takes.
    BodyTooLarge = "body_too_large", PAYLOAD_TOO_LARGE;
    /// The declared content type is not a photo format the app takes.
    UnsupportedType = "unsupported_type", UNSUPPORTED_MEDIA_TYPE;
    /// The body is not sent as `application/json`.
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE;
    /// Too many wrong passwords: wait the seconds in `Retry-After`.
    TooManyAttempts = "too_many_attempts", TOO_MANY_REQUESTS;
    /// Something failed on our side; the request id finds it in the logs.
    Internal = "internal", INTERNAL_SERVER_ERROR;
    /// Tokens cannot be checked right now; try again shortly.
    AuthUnavailable = "auth_unavailable", SERVICE_UNAVAILABLE;
}

/// Everything the API can answer with instead of success, plus configuration failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("environment variable `{var}` {reason}")]
    Config { var: &'static str, reason: String },
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A request the API refuses before it reaches the domain.
    #[error("{message}")]
    Request { code: ErrorCode, message: String },
}

impl Error {
    pub(crate) fn request(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Request {
            code,
            message: message.into(),
        }
    }
}

/// The body of every failure.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// A stable machine-readable code and a message for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `quota_exceeded`.
    pub code: ErrorCode,
    pub message: String,
    /// For `duplicate`: the photo the user already has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_photo_id: Option<String>,
}

fn domain_code(e: &DomainError) -> ErrorCode {
    match e {
        DomainError::Invalid { .. } => ErrorCode::InvalidInput,
        DomainError::NotFound => ErrorCode::NotFound,
        // The token may be fine; we could not fetch the keys to tell. Retrying can help.
        DomainError::Unauthenticated(AuthFailure::KeysUnavailable) => ErrorCode::AuthUnavailable,
        DomainError::Unauthenticated(_) => ErrorCode::Unauthorized,
        DomainError::QuotaExceeded { .. } => ErrorCode::QuotaExceeded,
        DomainError::TooLarge { .. } => ErrorCode::TooLarge,
        DomainError::UnsupportedType(_) => ErrorCode::UnsupportedType,
        DomainError::Duplicate { .. } => ErrorCode::Duplicate,
        DomainError::InvalidCursor => ErrorCode::InvalidCursor,
        DomainError::PasswordRequired => ErrorCode::PasswordRequired,
        DomainError::WrongPassword => ErrorCode::WrongPassword,
        DomainError::ShareGone(_) => ErrorCode::ShareGone,
        DomainError::DownloadNotAllowed => ErrorCode::DownloadNotAllowed,
        DomainError::TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
        DomainError::AlreadyExists | DomainError::Conflict(_) => ErrorCode::Conflict,
        DomainError::Backend(_) => ErrorCode::Internal,
    }
}

impl Error {
    /// The code and message the caller is told (what is logged, logged here).
    pub(crate) fn detail(&self) -> ErrorDetail {
        let (code, message, existing) = match self {
            Error::Config { .. } => {
                tracing::error!(error = %self, "configuration error");
                (ErrorCode::Internal, "internal error".to_owned(), None)
            }
            Error::Request { code, message } => (*code, message.clone(), None),
            Error::Domain(e) => {
                let code = domain_code(e);
                let existing = match e {
                    DomainError::Duplicate { existing } => Some(existing.to_string()),
                    _ => None,
                };
                let message = if code == ErrorCode::AuthUnavailable {
                    tracing::warn!(error = %e, "token keys unavailable");
                    "cannot verify tokens right now, try again shortly".to_owned()
                } else if code.status().is_server_error() {
                    // Backend details are for the logs; the caller gets the request id instead.
                    tracing::error!(error = %e, "backend failure");
                    "internal error".to_owned()
                } else {
                    if let DomainError::Unauthenticated(why) = e {
                        tracing::info!(reason = %why, "token refused");
                    }
                    e.to_string()
                };
                (code, message, existing)
            }
        };
        ErrorDetail {
            code,
            message,
            existing_photo_id: existing,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let detail = self.detail();
        let code = detail.code;
        let body = ErrorBody { error: detail };
        let mut response = (code.status(), axum::Json(body)).into_response();
        if let Error::Domain(DomainError::TooManyAttempts { retry_after_secs }) = &self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(*retry_after_secs),
            );
        }
        if code == ErrorCode::Unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(e: DomainError, status: StatusCode, code: &str) {
        let mapped = domain_code(&e);
        assert_eq!((mapped.status(), mapped.as_str()), (status, code), "{e}");
    }

    #[test]
    fn each_code_is_written_as_its_text() {
        for code in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::from(code.as_str())
            );
        }
    }

    #[test]
    fn domain_errors_map_to_stable_codes() {
        check(DomainError::NotFound, StatusCode::NOT_FOUND, "not_found");
        check(
            DomainError::TooManyAttempts {
                retry_after_secs: 60,
            },
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
        );
        check(
            DomainError::Unauthenticated(AuthFailure::Expired),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
        check(
            DomainError::Unauthenticated(AuthFailure::KeysUnavailable),
            StatusCode::SERVICE_UNAVAILABLE,
            "auth_unavailable",
        );
        check(
            DomainError::UnsupportedType("image/heic-sequence".into()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_type",
        );
        check(
            DomainError::ShareGone("expired"),
            StatusCode::GONE,
            "share_gone",
        );
        check(
            DomainError::Backend("x".into()),
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
        );
    }

    #[tokio::test]
    async fn backend_details_stay_out_of_responses() {
        use http_body_util::BodyExt as _;
        let response = Error::Domain(DomainError::Backend(
            "table `secret-table` throttled".into(),
        ))
        .into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert_eq!(
            text,
            r#"{"error":{"code":"internal","message":"internal error"}}"#
        );
    }
}
