//! Request extractors whose rejections are JSON errors worded for people (the field and the
//! problem, never a parser's line and column), and the bearer-token identity extractor.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use photo_domain::{AuthFailure, Error as DomainError, UserId};

use crate::AppState;
use crate::error::{Error, ErrorCode};

/// A JSON body; malformed JSON, wrong types and unknown fields become 4xx JSON errors.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        if !is_json(req.headers()) {
            return Err(Error::request(
                ErrorCode::UnsupportedMediaType,
                "expected `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::request(ErrorCode::BodyTooLarge, "the request body is too large")
            } else {
                Error::request(ErrorCode::InvalidBody, "the request body could not be read")
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// `application/json`, or a `+json` type, with any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The body as `T`, or an error naming the field and the problem.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => Error::request(
                ErrorCode::InvalidBody,
                about("field", &path, &inner.to_string()),
            ),
            serde_json::error::Category::Eof => Error::request(
                ErrorCode::InvalidJson,
                "the request body ends before its JSON does",
            ),
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
                Error::request(ErrorCode::InvalidJson, "the request body is not valid JSON")
            }
        }
    })?;
    de.end().map_err(|_| {
        Error::request(
            ErrorCode::InvalidJson,
            "the request body has more after its JSON value",
        )
    })?;
    Ok(value)
}

/// `problem` (a deserializer's message) in words, about the `what` at `path` (`.` for the
/// whole body or query): `field \`size\`: expected a whole number, got a string "x"`.
fn about(what: &str, path: &str, problem: &str) -> String {
    let words = in_words(problem);
    if path == "." || path.is_empty() {
        words
    } else {
        format!("{what} `{path}`: {words}")
    }
}

/// A deserializer's message without its position or Rust's type names.
fn in_words(problem: &str) -> String {
    let problem = match problem.rsplit_once(" at line ") {
        Some((before, after)) if after.contains(" column ") => before,
        _ => problem,
    };
    let mut words = problem.to_owned();
    for (rust, plain) in [
        ("invalid digit found in string", "expected a whole number"),
        (
            "cannot parse integer from empty string",
            "expected a whole number, got nothing",
        ),
        (
            "number too large to fit in target type",
            "the number is too large",
        ),
        (
            "number too small to fit in target type",
            "the number is too small",
        ),
        ("invalid float literal", "expected a number"),
        (
            "provided string was not `true` or `false`",
            "expected `true` or `false`",
        ),
        ("a sequence", "a list"),
    ] {
        words = words.replace(rust, plain);
    }
    for int in [
        "u128", "u64", "u32", "u16", "u8", "usize", "i128", "i64", "i32", "i16", "i8", "isize",
    ] {
        words = words.replace(&format!("expected {int}"), "expected a whole number");
    }
    for float in ["f64", "f32"] {
        words = words.replace(&format!("expected {float}"), "expected a number");
    }
    if let Some((before, after)) = words.split_once("expected struct ") {
        let rest = after.split_once(' ').map_or("", |(_, rest)| rest);
        words = format!("{before}expected an object {rest}")
            .trim_end()
            .to_owned();
    }
    words
}

/// Query parameters; bad values become a 400 JSON error naming the parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                Error::request(
                    ErrorCode::InvalidQuery,
                    about("query parameter", &path, &e.into_inner().to_string()),
                )
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
                use axum::extract::path::ErrorKind;
                let message = match &r {
                    PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
                        ErrorKind::InvalidUtf8InPathParam { key } => {
                            format!("path parameter `{key}`: not valid UTF-8")
                        }
                        ErrorKind::ParseErrorAtKey { key, value, .. } => {
                            format!("path parameter `{key}`: `{value}` is not acceptable")
                        }
                        _ => "the path's parameters are not acceptable".to_owned(),
                    },
                    _ => "the path's parameters are not acceptable".to_owned(),
                };
                Error::request(ErrorCode::InvalidPath, message)
            })
    }
}

/// The caller, from a verified `Authorization: Bearer` token; nothing else is trusted.
#[derive(Debug, Clone)]
pub struct Caller(pub UserId);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let header = parts.headers.get(header::AUTHORIZATION);
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
