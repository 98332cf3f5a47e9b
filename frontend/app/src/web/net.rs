//! Talking to the outside: fetch for the API and Cognito, XMLHttpRequest for uploads (fetch
//! has no upload progress), SubtleCrypto for file digests, timers.

use js_sys::{ArrayBuffer, Promise, Uint8Array};
use serde::de::DeserializeOwned;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FormData, Headers, Request, RequestInit, Response, XmlHttpRequest};

use super::dom::window;
use super::session;
use crate::api::{ApiError, ApiRequest, PresignedPost};
use crate::cognito::{CognitoError, CognitoRequest};

fn network_error() -> ApiError {
    ApiError {
        code: "network".into(),
        message: String::new(),
    }
}

/// Sends one request and returns the status and body text; `Err` only for network failures.
pub async fn fetch(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<(u16, String), JsValue> {
    let init = RequestInit::new();
    init.set_method(method);
    let h = Headers::new()?;
    for (k, v) in headers {
        h.set(k, v)?;
    }
    init.set_headers_headers(&h);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let request = Request::new_with_str_and_init(url, &init)?;
    let response: Response = JsFuture::from(window().fetch_with_request(&request))
        .await?
        .dyn_into()?;
    let text = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok((response.status(), text))
}

/// Calls Cognito; `Ok` carries the answer body.
pub async fn cognito(request: CognitoRequest) -> Result<String, CognitoError> {
    let endpoint = session::config().cognito_endpoint;
    let target = request.target();
    let body = request.body.to_string();
    match fetch(
        "POST",
        &endpoint,
        &[
            ("X-Amz-Target", &target),
            ("Content-Type", CognitoRequest::CONTENT_TYPE),
        ],
        Some(&body),
    )
    .await
    {
        Ok((200, text)) => Ok(text),
        Ok((_, text)) => Err(CognitoError::parse(&text)),
        Err(_) => Err(CognitoError::parse(r#"{"__type":"NetworkError"}"#)),
    }
}

/// Calls the API with the session's access token; on a 401 refreshes the tokens once and
/// retries. Returns the body text of a 2xx answer.
pub async fn api_text(request: &ApiRequest) -> Result<String, ApiError> {
    api_status(request).await.map(|(_, text)| text)
}

/// [`api_text`] with the status of the answer (`201` for something new, `200` for what was
/// already there).
pub async fn api_status(request: &ApiRequest) -> Result<(u16, String), ApiError> {
    let url = session::config().api(&request.path);
    let mut refreshed = false;
    loop {
        let token = session::access_token();
        let auth = token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = Vec::new();
        if let Some(auth) = &auth {
            headers.push(("Authorization", auth.as_str()));
        }
        if request.body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        let (status, text) = fetch(request.method, &url, &headers, request.body.as_deref())
            .await
            .map_err(|_| network_error())?;
        // Public share pages answer 401 for a missing password: that is not about the session.
        let public = request.path.starts_with("/public/");
        if status == 401 && token.is_some() && !refreshed && !public {
            refreshed = true;
            if session::refresh().await {
                continue;
            }
            // The session cannot be renewed: sign in again rather than show a broken page.
            session::forget();
            super::go("/signin");
        }
        return if (200..300).contains(&status) {
            Ok((status, text))
        } else {
            Err(ApiError::parse(status, &text))
        };
    }
}

/// Calls the API and decodes the JSON answer.
pub async fn api<T: DeserializeOwned>(request: &ApiRequest) -> Result<T, ApiError> {
    let text = api_text(request).await?;
    serde_json::from_str(&text).map_err(|e| ApiError {
        code: "bad_response".into(),
        message: e.to_string(),
    })
}

/// The lower-case hex SHA-256 of a file, computed by the browser's SubtleCrypto.
pub async fn sha256_hex(file: &File) -> Result<String, JsValue> {
    let buffer: ArrayBuffer = JsFuture::from(file.array_buffer()).await?.dyn_into()?;
    let subtle = window().crypto()?.subtle();
    let digest =
        JsFuture::from(subtle.digest_with_str_and_buffer_source("SHA-256", &buffer)?).await?;
    let bytes = Uint8Array::new(&digest).to_vec();
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The first `n` bytes of a file (fewer when it is shorter).
pub async fn head_bytes(file: &File, n: usize) -> Result<Vec<u8>, JsValue> {
    let head = file.slice_with_i32_and_i32(0, n as i32)?;
    let buffer: ArrayBuffer = JsFuture::from(head.array_buffer()).await?.dyn_into()?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Uploads a file with an S3 pre-signed POST, reporting progress as a fraction.
pub async fn upload(
    post: &PresignedPost,
    file: &File,
    on_progress: impl FnMut(f64) + 'static,
) -> Result<(), ApiError> {
    let form = FormData::new().map_err(|_| network_error())?;
    for (name, value) in &post.fields {
        form.append_with_str(name, value)
            .map_err(|_| network_error())?;
    }
    // The file goes last: S3 ignores any field after it.
    form.append_with_blob_and_filename("file", file, &file.name())
        .map_err(|_| network_error())?;
    let xhr = XmlHttpRequest::new().map_err(|_| network_error())?;
    xhr.open("POST", &post.url).map_err(|_| network_error())?;
    let mut on_progress = on_progress;
    let progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                on_progress(e.loaded() / e.total());
            }
        });
    if let Ok(u) = xhr.upload() {
        u.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    let done = Promise::new(&mut |resolve, _reject| {
        let resolve2 = resolve.clone();
        let load = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let fail = Closure::once_into_js(move || {
            let _ = resolve2.call0(&JsValue::NULL);
        });
        xhr.set_onload(Some(load.unchecked_ref()));
        xhr.set_onerror(Some(fail.unchecked_ref()));
    });
    xhr.send_with_opt_form_data(Some(&form))
        .map_err(|_| network_error())?;
    let _ = JsFuture::from(done).await;
    drop(progress);
    match xhr.status() {
        Ok(status) if (200..300).contains(&status) => Ok(()),
        Ok(0) | Err(_) => Err(network_error()),
        Ok(status) => Err(ApiError {
            code: format!("http_{status}"),
            message: String::new(),
        }),
    }
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let promise = Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
    });
    let _ = JsFuture::from(promise).await;
}

/// Copies text to the clipboard; false when the browser refuses.
pub async fn copy(text: &str) -> bool {
    JsFuture::from(window().navigator().clipboard().write_text(text))
        .await
        .is_ok()
}
