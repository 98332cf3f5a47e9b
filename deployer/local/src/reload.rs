//! The reload channel of `deployer watch`: the page learns that the stage restarted with a new
//! build, and reloads itself.
//!
//! `GET /_watch/events` is a Server-Sent Events stream that announces the build number this
//! process runs as soon as it is opened, then only keeps the connection alive. When `watch`
//! restarts the stage, the stream breaks; the browser's `EventSource` reconnects by itself, and
//! `GET /_watch/reload.js`, which the served `index.html` loads in watch mode only, reloads the
//! page when the number it then hears differs from the one it first heard. A script file rather
//! than an inline script, since the site's CSP allows only scripts of its own origin.
//!
//! Served only by a stage that `watch` started: a plain `up` has no `/_watch/` routes.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::watch;

/// How often an idle stream sends a comment, so that nothing between closes it as idle.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The `<script>` element `index.html` gets in watch mode.
pub const SCRIPT_TAG: &str = r#"<script type="module" src="/_watch/reload.js"></script>"#;

/// The page's side: reload when the stage answers with another build than the first one heard.
const RELOAD_JS: &str = r#"// deployer watch: reloads this page when the local stage restarts with a new build.
let build = null;
const events = new EventSource("/_watch/events");
events.onmessage = (event) => {
  if (build !== null && event.data !== build) {
    location.reload();
  }
  build = event.data;
};
"#;

/// The `/_watch` routes of a stage running build `build`; its streams end when `closing` turns
/// true.
pub fn router(build: u64, closing: watch::Receiver<bool>) -> Router {
    Router::new()
        .route(
            "/events",
            get(move || std::future::ready(events(build, closing.clone()))),
        )
        .route("/reload.js", get(script))
}

async fn script() -> Response {
    uncached(RELOAD_JS, "text/javascript; charset=utf-8")
}

/// `body` as `content_type`, never kept by the browser: each build has its own.
fn uncached(body: impl IntoResponse, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What the stream sends next: the build first, then keep-alive comments until closing.
enum Step {
    Announce,
    Wait,
}

fn events(build: u64, closing: watch::Receiver<bool>) -> Response {
    let stream = futures_util::stream::unfold(
        (Step::Announce, closing),
        move |(step, mut closing)| async move {
            match step {
                // `retry`: reconnect half a second after the stream breaks.
                Step::Announce => Some((
                    Ok::<_, Infallible>(Bytes::from(format!("retry: 500\ndata: {build}\n\n"))),
                    (Step::Wait, closing),
                )),
                Step::Wait => {
                    if *closing.borrow() {
                        return None;
                    }
                    tokio::select! {
                        _ = closing.changed() => None,
                        () = tokio::time::sleep(KEEP_ALIVE) => Some((
                            Ok(Bytes::from_static(b": keep-alive\n\n")),
                            (Step::Wait, closing),
                        )),
                    }
                }
            }
        },
    );
    uncached(Body::from_stream(stream), "text/event-stream")
}

/// `index.html` with the reload script, before `</head>` (or at the end when it has none).
pub fn with_script(html: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(html);
    match text.find("</head>") {
        Some(at) => format!("{}{SCRIPT_TAG}{}", &text[..at], &text[at..]).into_bytes(),
        None => format!("{text}{SCRIPT_TAG}").into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn the_stream_announces_its_build_then_ends_when_the_stage_closes() {
        let (closing_tx, closing) = watch::channel(false);
        let app = router(7, closing);
        let response = app
            .oneshot(Request::get("/events").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream"
        );
        let mut body = response.into_body();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&first[..], b"retry: 500\ndata: 7\n\n");
        closing_tx.send(true).unwrap();
        let end = tokio::time::timeout(Duration::from_secs(5), body.frame()).await;
        assert!(matches!(end, Ok(None)), "the stream outlived the stage");
    }

    #[test]
    fn the_script_goes_into_the_head() {
        assert_eq!(
            with_script(b"<html><head><title>x</title></head><body></body></html>"),
            format!("<html><head><title>x</title>{SCRIPT_TAG}</head><body></body></html>")
                .into_bytes()
        );
        assert_eq!(with_script(b"<p>"), format!("<p>{SCRIPT_TAG}").into_bytes());
    }
}
