//! The photo-sharing HTTP API: an axum [`Router`] over [`photo_domain::PhotoService`].
//!
//! The same router runs under `lambda_http` in Lambda and under a TCP listener locally. Identity
//! comes only from a verified bearer token ([`photo_domain::IdentityVerifier`]); every failure is
//! a JSON body `{"error": {"code", "message"}}`.

pub mod config;
pub mod dto;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod routes;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post, put};
use tracing::Instrument as _;

use photo_domain::types::UlidGenerator;
use photo_domain::{IdentityVerifier, PhotoService};

pub use config::ApiConfig;
pub use error::Error;

/// Request bodies are small JSON documents; photo bytes go straight to the bucket.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub service: PhotoService,
    pub identity: Arc<dyn IdentityVerifier>,
    request_ids: Arc<UlidGenerator>,
}

impl AppState {
    pub fn new(service: PhotoService, identity: Arc<dyn IdentityVerifier>) -> Self {
        AppState {
            service,
            identity,
            request_ids: Arc::default(),
        }
    }
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/photos/uploads", post(routes::start_upload))
        .route("/photos", get(routes::list_photos))
        .route(
            "/photos/{id}",
            get(routes::get_photo)
                .patch(routes::patch_photo)
                .delete(routes::delete_photo),
        )
        .route(
            "/albums",
            post(routes::create_album).get(routes::list_albums),
        )
        .route(
            "/albums/{id}",
            get(routes::get_album)
                .patch(routes::rename_album)
                .delete(routes::delete_album),
        )
        .route("/albums/{id}/photos", get(routes::list_album_photos))
        .route(
            "/albums/{id}/photos/{photo_id}",
            put(routes::add_album_photo).delete(routes::remove_album_photo),
        )
        .route(
            "/shares",
            post(routes::create_share).get(routes::list_shares),
        )
        .route(
            "/shares/{token}",
            axum::routing::delete(routes::revoke_share),
        )
        .route(
            "/public/shares/{token}",
            get(routes::open_share).post(routes::open_share_with_password),
        )
        .route("/me", get(routes::me))
        .route("/openapi.json", get(routes::openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), trace_request))
        .with_state(state)
}

async fn not_found() -> Error {
    Error::request(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> Error {
    Error::request(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    )
}

/// The request id the platform gave us, if it looks like one; otherwise we make one.
fn incoming_request_id(req: &Request) -> Option<String> {
    ["x-amzn-requestid", "x-request-id"]
        .iter()
        .find_map(|name| {
            let v = req.headers().get(*name)?.to_str().ok()?;
            let ok = !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='));
            ok.then(|| v.to_owned())
        })
}

/// The X-Ray trace root (`1-5759e988-bd862e3fe1be46a994272793`) from an `x-amzn-trace-id`
/// header, so log lines can be matched to the trace Lambda's active tracing records.
fn incoming_trace_root(req: &Request) -> Option<String> {
    let header = req.headers().get("x-amzn-trace-id")?.to_str().ok()?;
    let root = header
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Root="))?;
    let ok = root.len() <= 64 && root.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    ok.then(|| root.to_owned())
}

/// Wraps each request in a span with its request id, its X-Ray trace root when the platform
/// gave one, and, once verified, the user id.
///
/// Only the route template is recorded, never the concrete path or query: share tokens travel in
/// paths, and headers carry bearer tokens, so neither is logged.
async fn trace_request(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let request_id = incoming_request_id(&req)
        .unwrap_or_else(|| state.request_ids.next(state.service.now()).to_string());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        route = %route,
        trace_id = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    if let Some(root) = incoming_trace_root(&req) {
        span.record("trace_id", root.as_str());
    }
    let mut response = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| tracing::info!(status = response.status().as_u16(), "request finished"));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}
