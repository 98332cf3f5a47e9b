//! The photo bucket's HTTP side on the local stage: browser uploads by POST form, media by signed GET.
//!
//! `POST /_s3/{bucket}` takes the multipart form S3 takes and refuses what S3 refuses, with S3's
//! status and XML error body; nothing is stored unless every check passes. `GET /_media/{bucket}/{key}`
//! serves an object for a URL [`FileObjectStore`] signed, until it expires.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use photo_domain::{Clock, ObjectKey, PhotoStatus, Repository};

use crate::objects::{FileObjectStore, LOCAL_REGION, system_time};

/// What happens to an accepted original: the processing queue.
pub trait OnUpload: Send + Sync + std::fmt::Debug {
    fn uploaded(&self, key: &ObjectKey) -> Result<(), String>;
}

/// What the bucket endpoints need.
#[derive(Debug, Clone)]
pub struct BucketState {
    pub store: Arc<FileObjectStore>,
    pub clock: Arc<dyn Clock>,
    pub on_upload: Arc<dyn OnUpload>,
    /// The photo records, so an upload form is taken only while its photo waits for it.
    pub photos: Arc<dyn Repository>,
}

/// S3's XML error answer.
pub fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message></Error>",
        escape(code),
        escape(message)
    );
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

fn malformed(message: &str) -> Response {
    s3_error(StatusCode::BAD_REQUEST, "MalformedPOSTRequest", message)
}

/// `POST /_s3/{bucket}`.
pub async fn upload(
    State(state): State<BucketState>,
    Path(bucket): Path<String>,
    request: Request,
) -> Response {
    if bucket != state.store.bucket() {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        );
    }
    let Ok(mut form) = Multipart::from_request(request, &()).await else {
        return malformed("The body of your POST request is not well-formed multipart/form-data.");
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut file: Option<Bytes> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            // The body limit cuts off an oversized file while it streams in.
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return s3_error(
                    StatusCode::BAD_REQUEST,
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                );
            }
            Err(_) => {
                return malformed(
                    "The body of your POST request is not well-formed multipart/form-data.",
                );
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            // As in S3, everything after the file is ignored.
            match field.bytes().await {
                Ok(b) => file = Some(b),
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return s3_error(
                        StatusCode::BAD_REQUEST,
                        "EntityTooLarge",
                        "Your proposed upload exceeds the maximum allowed size",
                    );
                }
                Err(_) => return malformed("The file could not be read."),
            }
            break;
        }
        match field.text().await {
            Ok(value) => fields.push((name, value)),
            Err(_) => return malformed("A form field could not be read."),
        }
    }
    let Some(file) = file else {
        return s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "POST requires exactly one file upload per request.",
        );
    };
    let submission = s3post::PostSubmission {
        bucket: &bucket,
        region: LOCAL_REGION,
        fields: &fields,
        file: &file,
        now: system_time(state.clock.now()),
    };
    let verified = match s3post::verify_post(&submission, |id| state.store.secret_for(id)) {
        Ok(v) => v,
        Err(e) => {
            let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            return s3_error(status, e.s3_code(), &e.s3_message());
        }
    };
    // A form stays valid for its whole lifetime, but it is for one PENDING photo: once that photo
    // is processed or deleted, posting the form again stores nothing. (S3 cannot ask the table;
    // on AWS the late upload is stored and the thumbnail step removes it unread.)
    if let Some((owner, id)) = ObjectKey::parse_upload(&verified.key) {
        match state.photos.get_photo(&owner, &id).await {
            Ok(Some(photo)) if photo.status == PhotoStatus::Pending => {}
            Ok(_) => {
                return s3_error(
                    StatusCode::FORBIDDEN,
                    "AccessDenied",
                    "This upload form is used up: its photo is already processed or deleted.",
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "reading the photo of an upload");
                return s3_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                );
            }
        }
    }
    let content_type = verified
        .content_type
        .clone()
        .unwrap_or_else(|| "binary/octet-stream".to_owned());
    // File work goes to the blocking pool: a 50 MB write must not hold up other requests.
    let (store, key) = (state.store.clone(), verified.key.clone());
    let stored = tokio::task::spawn_blocking(move || store.put(&key, &file, &content_type))
        .await
        .unwrap_or_else(|e| Err(photo_domain::Error::Backend(e.to_string())));
    if let Err(e) = stored {
        tracing::error!(error = %e, "storing an upload");
        return s3_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        );
    }
    // Like the bucket notification, only uploads start processing.
    if ObjectKey::parse_upload(&verified.key).is_some() {
        let key = ObjectKey::from_trusted(verified.key.clone());
        if let Err(e) = state.on_upload.uploaded(&key) {
            tracing::error!(error = %e, "queueing an upload for processing");
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /_media/{bucket}/{*key}?expires=..&signature=..`.
pub async fn media(
    State(state): State<BucketState>,
    Path((bucket, key)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let denied = || {
        s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Request has expired or its signature does not match",
        )
    };
    if bucket != state.store.bucket() {
        return denied();
    }
    let (Some(expires), Some(signature)) = (
        query.get("expires").and_then(|e| e.parse::<i64>().ok()),
        query.get("signature"),
    ) else {
        return denied();
    };
    if !state
        .store
        .verify_media(&key, expires, signature, state.clock.now())
    {
        return denied();
    }
    let store = state.store.clone();
    let object = tokio::task::spawn_blocking(move || store.get(&key))
        .await
        .unwrap_or_else(|e| Err(photo_domain::Error::Backend(e.to_string())));
    match object {
        Ok(Some(object)) => {
            let mut response = object.bytes.into_response();
            let headers = response.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&object.content_type) {
                headers.insert(header::CONTENT_TYPE, v);
            }
            if let Some(Ok(v)) = object
                .content_disposition
                .as_deref()
                .map(HeaderValue::from_str)
            {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(photo_contract::keys::MEDIA_VIEWER_CACHE_CONTROL),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        Ok(None) => s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        ),
        Err(e) => {
            tracing::error!(error = %e, "reading an object");
            s3_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            )
        }
    }
}
