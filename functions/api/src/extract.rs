//! Request extractors whose rejections are JSON errors, and the bearer-token identity extractor.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use photo_domain::{AuthFailure, Error as DomainError, UserId};

use crate::AppState;
use crate::error::Error;

/// A JSON body; malformed JSON, wrong types and unknown fields become 4xx JSON errors.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> Error {
    let text = r.body_text();
    match r {
        JsonRejection::JsonDataError(_) => {
            Error::request(StatusCode::BAD_REQUEST, "invalid_body", text)
        }
        JsonRejection::JsonSyntaxError(_) => {
            Error::request(StatusCode::BAD_REQUEST, "invalid_json", text)
        }
        JsonRejection::MissingJsonContentType(_) => Error::request(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected `Content-Type: application/json`",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Error::request(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is too large",
        ),
        other => Error::request(StatusCode::BAD_REQUEST, "invalid_body", other.body_text()),
    }
}

/// Query parameters; bad values become a 400 JSON error.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|r: QueryRejection| {
                Error::request(StatusCode::BAD_REQUEST, "invalid_query", r.body_text())
            })
    }
}

/// Path parameters; bad values become a 400 JSON error.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|r: PathRejection| {
                Error::request(StatusCode::BAD_REQUEST, "invalid_path", r.body_text())
            })
    }
}

/// The caller, from a verified `Authorization: Bearer` token; nothing else is trusted.
#[derive(Debug, Clone)]
pub struct Caller(pub UserId);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION);
        let token = header
            .and_then(|h| h.to_str().ok())
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            let why = if header.is_some() {
                AuthFailure::Malformed
            } else {
                AuthFailure::Missing
            };
            return Err(DomainError::Unauthenticated(why).into());
        };
        let claims = state.identity.verify(token).await?;
        tracing::Span::current().record("user_id", claims.user_id.as_str());
        Ok(Caller(claims.user_id))
    }
}
