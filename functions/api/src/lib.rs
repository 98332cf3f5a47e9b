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
mod page_json;
pub mod routes;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter, on};
use tracing::Instrument as _;

use photo_contract::api::{Endpoint, Method};
use photo_domain::types::UlidGenerator;
use photo_domain::{IdentityVerifier, PhotoService};

pub use config::ApiConfig;
pub use error::{Error, ErrorCode};

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

/// The whole API: one route per endpoint of the contract ([`Endpoint::ALL`]), the same list the
/// stack makes API Gateway's routes from, so API Gateway cannot forward a route this router does
/// not know, nor this router answer a route API Gateway never forwards.
///
/// Endpoints sharing a path (`GET` and `PATCH /photos/{id}`) are added by separate `.route`
/// calls: axum merges method routers registered on one path (it panics only if two handle the
/// same method, which the contract's own test of unique route keys rules out). The merged router
/// answers exactly as the hand-written one did, `Allow` headers included.
///
/// The OpenAPI document still comes from the handlers' annotations; `stack/tests/routes.rs`
/// checks it, this router and the template's routes against each other.
pub fn router(state: AppState) -> Router {
    Endpoint::ALL
        .iter()
        .fold(Router::new(), |router, &endpoint| {
            router.route(endpoint.route().path, handler(endpoint))
        })
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), trace_request))
        .with_state(state)
}

/// The contract's method as axum's method filter.
fn method_filter(method: Method) -> MethodFilter {
    match method {
        Method::Get => MethodFilter::GET,
        Method::Post => MethodFilter::POST,
        Method::Put => MethodFilter::PUT,
        Method::Patch => MethodFilter::PATCH,
        Method::Delete => MethodFilter::DELETE,
    }
}

/// The handler of an endpoint, on its method.
///
/// One exhaustive `match`, deliberately without a wildcard arm: an endpoint added to the contract
/// (and so to the template) without a handler here does not compile. (`GET` also answers `HEAD`,
/// as axum's `get` did.)
fn handler(endpoint: Endpoint) -> MethodRouter<AppState> {
    let filter = method_filter(endpoint.route().method);
    match endpoint {
        Endpoint::StartUpload => on(filter, routes::start_upload),
        Endpoint::ListPhotos => on(filter, routes::list_photos),
        Endpoint::Timeline => on(filter, routes::timeline),
        Endpoint::TimelineMonths => on(filter, routes::timeline_months),
        Endpoint::GetPhoto => on(filter, routes::get_photo),
        Endpoint::PatchPhoto => on(filter, routes::patch_photo),
        Endpoint::DeletePhoto => on(filter, routes::delete_photo),
        Endpoint::BatchPhotos => on(filter, routes::batch_photos),
        Endpoint::CreateAlbum => on(filter, routes::create_album),
        Endpoint::ListAlbums => on(filter, routes::list_albums),
        Endpoint::GetAlbum => on(filter, routes::get_album),
        Endpoint::RenameAlbum => on(filter, routes::rename_album),
        Endpoint::DeleteAlbum => on(filter, routes::delete_album),
        Endpoint::ListAlbumPhotos => on(filter, routes::list_album_photos),
        Endpoint::AddAlbumPhoto => on(filter, routes::add_album_photo),
        Endpoint::RemoveAlbumPhoto => on(filter, routes::remove_album_photo),
        Endpoint::CreateShare => on(filter, routes::create_share),
        Endpoint::ListShares => on(filter, routes::list_shares),
        Endpoint::RevokeShare => on(filter, routes::revoke_share),
        Endpoint::Me => on(filter, routes::me),
        Endpoint::UpdateMe => on(filter, routes::update_me),
        Endpoint::OpenShare => on(filter, routes::open_share),
        Endpoint::OpenShareWithPassword => on(filter, routes::open_share_with_password),
        Endpoint::DownloadShared => on(filter, routes::download_shared),
        Endpoint::OpenApi => on(filter, routes::openapi),
    }
}

/// The API's answer to a path it has no route for: a JSON 404 (`not_found`). Public for a host
/// that serves the API under a prefix and must answer the prefix's own paths the same way.
pub async fn not_found() -> Error {
    Error::request(ErrorCode::NotFound, "no such route")
}

async fn method_not_allowed() -> Error {
    Error::request(
        ErrorCode::MethodNotAllowed,
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
