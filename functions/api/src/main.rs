//! The API Lambda's `bootstrap`: starts JSON tracing, builds the AWS clients once, and serves the
//! photo API's axum router to API Gateway (HTTP API, payload v2) through `lambda_http`.
//!
//! Environment (set by the stack):
//! - `PHOTO_TABLE`, `PHOTO_BUCKET`: the stage's table and photo bucket;
//! - `USER_POOL_ID`, `USER_POOL_CLIENT_ID`: whose access tokens are accepted;
//! - `MAX_UPLOAD_BYTES`, `QUOTA_BYTES`, `MAX_SHARE_DAYS`: the API's limits;
//! - `AWS_REGION` (set by Lambda) and the execution role's credentials (from the environment).
//!
//! For tests and emulators only:
//! - `AWS_ENDPOINT_URL` points every SDK client at an emulator such as moto (S3 is then
//!   addressed path-style, upload forms included);
//! - `COGNITO_ENDPOINT` replaces `https://cognito-idp.{region}.amazonaws.com` as the base the
//!   user pool's JWKS is fetched from. The accepted issuer stays the AWS one, which moto also
//!   signs with.
//!
//! API Gateway's JWT authorizer has already checked the token, but the function checks it
//! again itself: it trusts no claim it did not verify.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use aws_config::BehaviorVersion;
use axum::http::HeaderValue;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt as _};
use tower::ServiceExt as _;

use photo_api::{ApiConfig, AppState, router};
use photo_aws::{CognitoVerifier, DynamoDbRepository, S3ObjectStore};
use photo_domain::{PhotoService, SystemClock};

/// The environment the function reads, gathered before any client is built.
struct Env {
    table: String,
    bucket: String,
    region: String,
    user_pool_id: String,
    client_id: String,
    cognito_endpoint: Option<String>,
    api: ApiConfig,
}

fn var(name: &str) -> Result<String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => anyhow::bail!("environment variable `{name}` is not set"),
    }
}

impl Env {
    fn read() -> Result<Env> {
        Ok(Env {
            table: var("PHOTO_TABLE")?,
            bucket: var("PHOTO_BUCKET")?,
            region: var("AWS_REGION")?,
            user_pool_id: var("USER_POOL_ID")?,
            client_id: var("USER_POOL_CLIENT_ID")?,
            cognito_endpoint: var("COGNITO_ENDPOINT").ok(),
            api: ApiConfig::from_env().context("reading the API limits")?,
        })
    }
}

/// Logs as JSON lines for CloudWatch; Lambda stamps the time itself. The router's span carries
/// the request id and, once verified, the user id; no header or path is ever logged.
fn init_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_writer(std::io::stdout)
        .init();
}

/// Builds the router over the AWS adapters; clients are built once, per cold start.
async fn build(env: Env) -> Result<axum::Router> {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(env.region.clone()))
        .load()
        .await;
    let repo = Arc::new(DynamoDbRepository::new(&sdk, env.table));
    let store = Arc::new(S3ObjectStore::new(&sdk, env.bucket).context("configuring S3")?);
    let identity = Arc::new(
        CognitoVerifier::new(
            &env.region,
            &env.user_pool_id,
            &env.client_id,
            env.cognito_endpoint.as_deref(),
        )
        .context("configuring the token verifier")?,
    );
    let service = PhotoService::new(repo, store, Arc::new(SystemClock), env.api.limits());
    Ok(router(AppState::new(service, identity)))
}

/// Hands API Gateway's request id to the router, whose span and `x-request-id` answer use it,
/// so a log line can be found from the id API Gateway logs and returns; and hands it the X-Ray
/// trace id of this invocation (active tracing), which the span records as `trace_id`.
fn with_request_id(mut req: Request) -> Request {
    let trace = req
        .lambda_context_ref()
        .and_then(|c| c.xray_trace_id.clone());
    let id = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    };
    // Only the platform's id counts; a client cannot choose what our logs call its request.
    req.headers_mut().remove("x-amzn-requestid");
    req.headers_mut().remove("x-request-id");
    req.headers_mut().remove("x-amzn-trace-id");
    if let Some(v) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        req.headers_mut().insert("x-request-id", v);
    }
    if let Some(v) = trace.and_then(|t| HeaderValue::from_str(&t).ok()) {
        req.headers_mut().insert("x-amzn-trace-id", v);
    }
    req
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing();
    let app = match Env::read() {
        Ok(env) => build(env).await,
        Err(e) => Err(e),
    };
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            let message = format!("{e:#}");
            tracing::error!(error = %message, "the API function cannot start");
            photo_aws::lambda::report_init_error(&message);
            return Err(message.into());
        }
    };
    lambda_http::run(app.map_request(with_request_id)).await
}
