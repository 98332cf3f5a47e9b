//! The API's error type and its JSON form: `{"error": {"code": "...", "message": "..."}}`.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use photo_domain::{AuthFailure, Error as DomainError};

/// Everything the API can answer with instead of success, plus configuration failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("environment variable `{var}` {reason}")]
    Config { var: &'static str, reason: String },
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A request the API refuses before it reaches the domain.
    #[error("{message}")]
    Request {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

impl Error {
    pub(crate) fn request(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Error::Request {
            status,
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
    pub code: String,
    pub message: String,
    /// For `duplicate`: the photo the user already has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_photo_id: Option<String>,
}

fn domain_status(e: &DomainError) -> (StatusCode, &'static str) {
    match e {
        DomainError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_input"),
        DomainError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        // The token may be fine; we could not fetch the keys to tell. Retrying can help.
        DomainError::Unauthenticated(AuthFailure::KeysUnavailable) => {
            (StatusCode::SERVICE_UNAVAILABLE, "auth_unavailable")
        }
        DomainError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
        DomainError::QuotaExceeded { .. } => (StatusCode::CONFLICT, "quota_exceeded"),
        DomainError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        DomainError::UnsupportedType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type"),
        DomainError::Duplicate { .. } => (StatusCode::CONFLICT, "duplicate"),
        DomainError::InvalidCursor => (StatusCode::BAD_REQUEST, "invalid_cursor"),
        DomainError::PasswordRequired => (StatusCode::UNAUTHORIZED, "password_required"),
        DomainError::WrongPassword => (StatusCode::UNAUTHORIZED, "wrong_password"),
        DomainError::ShareGone(_) => (StatusCode::GONE, "share_gone"),
        DomainError::TooManyAttempts { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
        DomainError::AlreadyExists | DomainError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        DomainError::Backend(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code, message, existing) = match &self {
            Error::Config { .. } => {
                tracing::error!(error = %self, "configuration error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error".to_owned(),
                    None,
                )
            }
            Error::Request {
                status,
                code,
                message,
            } => (*status, *code, message.clone(), None),
            Error::Domain(e) => {
                let (status, code) = domain_status(e);
                let existing = match e {
                    DomainError::Duplicate { existing } => Some(existing.to_string()),
                    _ => None,
                };
                let message = if status == StatusCode::SERVICE_UNAVAILABLE {
                    tracing::warn!(error = %e, "token keys unavailable");
                    "cannot verify tokens right now, try again shortly".to_owned()
                } else if status.is_server_error() {
                    // Backend details are for the logs; the caller gets the request id instead.
                    tracing::error!(error = %e, "backend failure");
                    "internal error".to_owned()
                } else {
                    if let DomainError::Unauthenticated(why) = e {
                        tracing::info!(reason = %why, "token refused");
                    }
                    e.to_string()
                };
                (status, code, message, existing)
            }
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
                existing_photo_id: existing,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Error::Domain(DomainError::TooManyAttempts { retry_after_secs }) = &self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(*retry_after_secs),
            );
        }
        if status == StatusCode::UNAUTHORIZED && code == "unauthorized" {
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
        assert_eq!(domain_status(&e), (status, code), "{e}");
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
