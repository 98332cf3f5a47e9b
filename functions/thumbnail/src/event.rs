//! S3 event notifications: decoding the object keys S3 URL-encodes, and processing every record
//! of one invocation so that a transient failure of any of them fails the invocation.
//!
//! The records are plain values ([`S3Record`]); the Lambda entry point takes them out of the
//! runtime's event type, so this crate needs no Lambda runtime.

use std::borrow::Cow;

use crate::thumbnailer::{Outcome, ThumbnailError, Thumbnailer};

/// A key as S3 writes it into an event notification: form-URL-encoded, so `+` is a space and
/// `%XX` is a byte. `None` when the bytes are not UTF-8 (no key of ours is).
pub fn decode_key(raw: &str) -> Option<String> {
    let spaced: Cow<'_, str> = if raw.contains('+') {
        Cow::Owned(raw.replace('+', " "))
    } else {
        Cow::Borrowed(raw)
    };
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(Cow::into_owned)
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The decoded key, or the raw one if it did not decode.
    pub key: String,
    pub outcome: Outcome,
}

/// One record of an S3 event notification, as far as the thumbnailer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Record {
    /// `ObjectCreated:Post` and the like.
    pub event_name: Option<String>,
    /// The object key as S3 wrote it: form-URL-encoded ([`decode_key`]).
    pub key: String,
}

/// Why a record is not for the thumbnailer, if it is not.
fn not_for_us(record: &S3Record) -> Option<String> {
    match record.event_name.as_deref() {
        Some(name) if !name.starts_with("ObjectCreated:") => {
            Some(format!("`{name}` is not an upload"))
        }
        _ => None,
    }
}

impl Thumbnailer {
    /// Processes every record of an S3 event notification, one after the other (each decode
    /// needs most of the function's memory).
    ///
    /// Every record is tried even when one fails, so one bad record does not hold the others
    /// back; then, if any failed transiently, the whole event is an error: Lambda retries it
    /// (the records already done are skipped as duplicates) and, once retries run out, hands it
    /// to the on-failure destination. A failure is never only logged.
    pub async fn process_records(
        &self,
        records: &[S3Record],
    ) -> Result<Vec<Report>, ThumbnailError> {
        let mut reports = Vec::with_capacity(records.len());
        let mut failures = Vec::new();
        for record in records {
            let raw = record.key.as_str();
            let Some(key) = decode_key(raw) else {
                let outcome = Outcome::Skipped {
                    reason: format!("`{raw}` is not a UTF-8 key"),
                };
                tracing::warn!(key = raw, ?outcome, "record skipped");
                reports.push(Report {
                    key: raw.to_owned(),
                    outcome,
                });
                continue;
            };
            let result = match not_for_us(record) {
                Some(reason) => Ok(Outcome::Skipped { reason }),
                None => self.process(&key).await,
            };
            match result {
                Ok(outcome) => {
                    match &outcome {
                        Outcome::Ready => tracing::info!(key, "photo ready"),
                        Outcome::Failed { reason } => {
                            tracing::warn!(key, reason, "photo refused")
                        }
                        Outcome::Skipped { reason } => {
                            tracing::info!(key, reason, "record skipped")
                        }
                    }
                    reports.push(Report { key, outcome });
                }
                Err(e) => {
                    tracing::error!(key, error = %e, "record failed; the event will be retried");
                    failures.push((key, e));
                }
            }
        }
        let total = records.len();
        match failures.into_iter().next() {
            None => Ok(reports),
            Some((key, first)) => Err(ThumbnailError::Records {
                failed: total - reports.len(),
                total,
                key,
                first: Box::new(first),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: Option<&str>) {
        assert_eq!(decode_key(raw).as_deref(), expected, "{raw}");
    }

    #[test]
    fn keys_decode_like_s3_encodes_them() {
        check(
            "originals/alice/01ARZ3NDEKTSV4RRFFQ69G5FAV",
            Some("originals/alice/01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        );
        check("originals/my+photo.jpg", Some("originals/my photo.jpg"));
        check("a%2Bb", Some("a+b"));
        check("caf%C3%A9+%28copy%29", Some("café (copy)"));
        check("100%25", Some("100%"));
        // Not a valid escape: kept as it is, as S3 would never write it.
        check("50%+off", Some("50% off"));
        check("%FF%FE", None);
        check("", Some(""));
    }
}
