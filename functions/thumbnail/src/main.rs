//! The thumbnail Lambda's `bootstrap`: starts JSON tracing, builds the AWS clients once, and
//! processes each S3 ObjectCreated notification for `originals/` with the [`Thumbnailer`].
//!
//! Environment (set by the stack):
//! - `PHOTO_TABLE`, `PHOTO_BUCKET`: the stage's table and photo bucket;
//! - `AWS_REGION` (set by Lambda) and the execution role's credentials (from the environment).
//!
//! For tests and emulators only: `AWS_ENDPOINT_URL` points every SDK client at an emulator such
//! as moto (S3 is then addressed path-style).
//!
//! An invocation fails when any of its records failed transiently, so Lambda's retries and the
//! on-failure destination see it; a photo that cannot be processed is not such a failure: it is
//! recorded FAILED with its reason and the invocation succeeds.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use aws_config::BehaviorVersion;
use aws_lambda_events::s3::S3Event;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};
use tracing::Instrument as _;

use photo_aws::{DynamoDbRepository, S3ObjectStore};
use photo_domain::{Limits, PhotoService, SystemClock};
use photo_thumbnail::{Outcome, S3BlobStore, Thumbnailer};

/// The environment the function reads, gathered before any client is built.
struct Env {
    table: String,
    bucket: String,
    region: String,
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
        })
    }
}

/// Logs as JSON lines for CloudWatch; Lambda stamps the time itself. The invocation's span
/// carries the request id and the X-Ray trace root.
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

/// Builds the thumbnailer over the AWS adapters; clients are built once, per cold start.
async fn build(env: Env) -> Result<Thumbnailer> {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(env.region))
        .load()
        .await;
    let repo = Arc::new(DynamoDbRepository::new(&sdk, env.table.clone()));
    // The domain service needs an object store for signing; the thumbnailer never signs.
    let store = Arc::new(S3ObjectStore::new(&sdk, env.bucket.clone()).context("configuring S3")?);
    let service = PhotoService::new(repo, store, Arc::new(SystemClock), Limits::default());
    let blobs = Arc::new(S3BlobStore::new(&sdk, env.bucket));
    Ok(Thumbnailer::new(
        service,
        blobs,
        imaging::Settings::default(),
    ))
}

/// The `Root=` part of an X-Ray trace header (`Root=1-…;Parent=…;Sampled=1`).
fn trace_root(header: &str) -> Option<&str> {
    header
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Root="))
}

/// One invocation: every record of the event; the answer lists what became of each.
async fn handle(
    thumbnailer: &Thumbnailer,
    event: LambdaEvent<S3Event>,
) -> Result<Value, lambda_runtime::Error> {
    let (event, context) = event.into_parts();
    let trace_id = context
        .xray_trace_id
        .as_deref()
        .and_then(trace_root)
        .unwrap_or_default();
    let span = tracing::info_span!(
        "invocation",
        request_id = %context.request_id,
        trace_id,
    );
    let reports = thumbnailer.process_event(&event).instrument(span).await?;
    let records: Vec<Value> = reports
        .into_iter()
        .map(|r| match r.outcome {
            Outcome::Ready => json!({ "key": r.key, "outcome": "READY" }),
            Outcome::Failed { reason } => {
                json!({ "key": r.key, "outcome": "FAILED", "reason": reason })
            }
            Outcome::Skipped { reason } => {
                json!({ "key": r.key, "outcome": "SKIPPED", "reason": reason })
            }
        })
        .collect();
    Ok(json!({ "records": records }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let thumbnailer = match Env::read() {
        Ok(env) => build(env).await,
        Err(e) => Err(e),
    };
    let thumbnailer = match thumbnailer {
        Ok(t) => t,
        Err(e) => {
            let message = format!("{e:#}");
            tracing::error!(error = %message, "the thumbnail function cannot start");
            photo_aws::lambda::report_init_error(&message);
            return Err(message.into());
        }
    };
    let thumbnailer = &thumbnailer;
    lambda_runtime::run(service_fn(move |event| handle(thumbnailer, event))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trace_root_is_taken_from_the_header() {
        assert_eq!(
            trace_root(
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
            ),
            Some("1-5759e988-bd862e3fe1be46a994272793")
        );
        assert_eq!(trace_root("Parent=1;Sampled=0"), None);
    }
}
