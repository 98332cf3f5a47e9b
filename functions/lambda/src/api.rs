//! The API function's wiring: the photo API's axum router over DynamoDB, S3 and the user pool's
//! tokens, served to API Gateway (HTTP API, payload v2) through `lambda_http`.
//!
//! Environment (set by the stack, named in [`photo_contract::env::API`]): the stage's table and
//! photo bucket, whose access tokens are accepted, the API's limits, and the media distribution
//! with the key its links are signed with (read from Secrets Manager once per cold start). For tests and emulators
//! only, `COGNITO_ENDPOINT` replaces `https://cognito-idp.{region}.amazonaws.com` as the base the
//! user pool's JWKS is fetched from; the accepted issuer stays the AWS one, which moto also signs
//! with.
//!
//! API Gateway's JWT authorizer has already checked the token, but the function checks it again
//! itself: it trusts no claim it did not verify.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use axum::http::HeaderValue;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt as _};
use photo_api::{ApiConfig, AppState, router};
use photo_auth::CognitoIdentity;
use photo_aws::cloudfront::UrlSigner;
use photo_aws::{CloudFrontMedia, DynamoDbRepository, S3ObjectStore};
use photo_contract::env;
use photo_domain::{ObjectStore, PhotoService, SystemClock};

use crate::startup::var;

/// Builds the router over the AWS adapters; clients are built once, per cold start.
pub async fn build() -> Result<axum::Router> {
    let table = var(env::PHOTO_TABLE)?;
    let bucket = var(env::PHOTO_BUCKET)?;
    let pool_id = var(env::USER_POOL_ID)?;
    let client_id = var(env::USER_POOL_CLIENT_ID)?;
    let cognito_endpoint = var(env::COGNITO_ENDPOINT).ok();
    let limits = ApiConfig::from_env()
        .context("reading the API limits")?
        .limits();
    let sdk = crate::startup::sdk_config().await?;
    let region = sdk.region().map(ToString::to_string).unwrap_or_default();
    let repo = Arc::new(DynamoDbRepository::new(&sdk, table));
    let mut store: Arc<dyn ObjectStore> =
        Arc::new(S3ObjectStore::new(&sdk, bucket).context("configuring S3")?);
    if let Ok(domain) = var(env::MEDIA_DOMAIN) {
        store = Arc::new(media(&sdk, store, &domain).await?);
    }
    let clock = Arc::new(SystemClock);
    let identity = CognitoIdentity::remote(
        &region,
        &pool_id,
        &client_id,
        cognito_endpoint.as_deref(),
        clock.clone(),
    )
    .context("configuring the token verifier")?;
    let service = PhotoService::new(repo, store, clock, limits);
    Ok(router(AppState::new(service, Arc::new(identity))))
}

/// Links through the media distribution `domain`, signed with the key whose private half the
/// secret `MEDIA_KEY_SECRET` holds.
async fn media(
    sdk: &aws_config::SdkConfig,
    store: Arc<dyn ObjectStore>,
    domain: &str,
) -> Result<CloudFrontMedia> {
    let key_id = var(env::MEDIA_KEY_ID)?;
    let secret = var(env::MEDIA_KEY_SECRET)?;
    let value = aws_sdk_secretsmanager::Client::new(sdk)
        .get_secret_value()
        .secret_id(&secret)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "reading the media signing key from secret `{secret}`: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            )
        })?;
    let pem = value
        .secret_string()
        .with_context(|| format!("secret `{secret}` holds no PEM text"))?;
    let signer = UrlSigner::from_pkcs8_pem(&key_id, pem)
        .with_context(|| format!("the media signing key in secret `{secret}`"))?;
    CloudFrontMedia::new(store, domain, signer).context("configuring media links")
}

/// Hands API Gateway's request id to the router, whose span and `x-request-id` answer use it,
/// so a log line can be found from the id API Gateway logs and returns; and hands it the X-Ray
/// trace id of this invocation (active tracing), which the span records as `trace_id`.
pub fn with_request_id(mut req: Request) -> Request {
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
