//! The thumbnail function's wiring: each S3 ObjectCreated notification for `uploads/` goes to
//! the [`Thumbnailer`], over DynamoDB and the S3 photo bucket; the hourly schedule's event
//! (`{"sweep": "abandoned-uploads"}`, [`photo_contract::functions::SWEEP_FIELD`]) sweeps
//! abandoned uploads instead ([`Abandoned`]).
//!
//! Environment (set by the stack, named in [`photo_contract::env::THUMBNAIL`]): the stage's table
//! and photo bucket.
//!
//! An invocation fails when any of its records failed transiently, so Lambda's retries and the
//! on-failure destination see it; a photo that cannot be processed is not such a failure: it is
//! recorded FAILED with its reason and the invocation succeeds.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use aws_lambda_events::s3::S3Event;
use lambda_runtime::LambdaEvent;
use photo_aws::{DynamoDbRepository, S3ObjectStore};
use photo_contract::env;
use photo_contract::functions::{SWEEP_ABANDONED_UPLOADS, SWEEP_FIELD};
use photo_domain::{Abandoned, Processing, SystemClock};
use photo_thumbnail::{Outcome, S3Record, Thumbnailer};
use serde_json::{Value, json};
use tracing::Instrument as _;

use crate::startup::var;

/// What the function holds between invocations.
#[derive(Debug)]
pub struct ThumbnailFunction {
    thumbnailer: Thumbnailer,
    abandoned: Abandoned,
}

/// Builds the thumbnailer and the sweep over the AWS adapters; clients are built once, per cold
/// start. The thumbnailer records outcomes through [`Processing`], which cannot sign links.
pub async fn build() -> Result<ThumbnailFunction> {
    let table = var(env::PHOTO_TABLE)?;
    let bucket = var(env::PHOTO_BUCKET)?;
    let sdk = crate::startup::sdk_config().await?;
    let repo = Arc::new(DynamoDbRepository::new(&sdk, table));
    let blobs = Arc::new(S3ObjectStore::new(&sdk, bucket).context("configuring S3")?);
    Ok(ThumbnailFunction {
        thumbnailer: Thumbnailer::new(
            Processing::new(repo.clone()),
            blobs.clone(),
            imaging::Settings::default(),
        ),
        abandoned: Abandoned::new(repo, blobs, Arc::new(SystemClock)),
    })
}

/// The `Root=` part of an X-Ray trace header (`Root=1-…;Parent=…;Sampled=1`).
fn trace_root(header: &str) -> Option<&str> {
    header
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Root="))
}

/// One invocation: the schedule's sweep, or every record of an S3 notification, whose answer
/// lists what became of each.
pub async fn handle(
    function: &ThumbnailFunction,
    event: LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    let (event, context) = event.into_parts();
    if let Some(sweep) = event.get(SWEEP_FIELD) {
        if sweep != SWEEP_ABANDONED_UPLOADS {
            return Err(
                format!("unknown sweep {sweep}; expected \"{SWEEP_ABANDONED_UPLOADS}\"").into(),
            );
        }
        let span = tracing::info_span!("sweep", request_id = %context.request_id);
        let done = function.abandoned.sweep(None).instrument(span).await?;
        tracing::info!(
            removed = done.removed,
            kept = done.kept,
            "swept abandoned uploads"
        );
        return Ok(json!({ "sweep": { "removed": done.removed, "kept": done.kept } }));
    }
    let event: S3Event = serde_json::from_value(event)
        .map_err(|e| format!("neither a sweep nor an S3 notification: {e}"))?;
    let thumbnailer = &function.thumbnailer;
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
    let records: Vec<S3Record> = event
        .records
        .into_iter()
        .map(|r| S3Record {
            event_name: r.event_name,
            key: r.s3.object.key.unwrap_or_default(),
        })
        .collect();
    let reports = thumbnailer
        .process_records(&records)
        .instrument(span)
        .await?;
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
