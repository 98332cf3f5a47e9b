//! Logs carry the request id and the verified user id, and never a token, password or signed URL.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use common::{App, bytes};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_name_request_and_user_but_no_secrets() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = App::new();
    let id = app.upload("alice", &bytes(1, 10)).await;
    let token = app.token("alice");
    let (_, photo) = app
        .as_user("alice", "GET", &format!("/photos/{id}"), None)
        .await;
    let (_, share) = app
        .as_user(
            "alice",
            "POST",
            "/shares",
            Some(json!({"photo_id": id, "password": "tell no one"})),
        )
        .await;
    let share_token = share["token"].as_str().unwrap().to_owned();
    let open = format!("/public/shares/{share_token}");
    assert_eq!(
        app.call(
            "POST",
            &open,
            None,
            Some(json!({"password": "wrong guess"}))
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(
            "POST",
            &open,
            None,
            Some(json!({"password": "tell no one"}))
        )
        .await
        .0,
        StatusCode::OK
    );
    let expired = app
        .identity
        .issue(&common::user("alice"), app.clock_now().plus_secs(-5));
    assert_eq!(
        app.call("GET", "/me", Some(&expired), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let req = Request::builder()
        .uri("/me")
        .header("x-amzn-requestid", "req-from-gateway-42")
        .header(
            "x-amzn-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        )
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    app.send(req).await;

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let finished: Vec<_> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "request finished")
        .collect();
    assert!(finished.len() >= 6, "{logs}");
    let me = finished
        .iter()
        .find(|l| l["span"]["request_id"] == "req-from-gateway-42")
        .expect("gateway id used");
    assert_eq!(me["span"]["user_id"], "alice");
    assert_eq!(
        me["span"]["trace_id"], "1-5759e988-bd862e3fe1be46a994272793",
        "the X-Ray trace root is logged"
    );
    assert_eq!(me["span"]["route"], "/me");
    assert!(finished.iter().all(|l| {
        l["span"]["request_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    }));
    assert!(
        logs.contains("\"reason\":\"expired\""),
        "refusals say why: {logs}"
    );
    assert!(
        logs.contains("/public/shares/{token}"),
        "the route template is logged"
    );
    let thumb = photo["thumbnail_url"].as_str().unwrap();
    for secret in [
        token.as_str(),
        expired.as_str(),
        "tell no one",
        "wrong guess",
        &share_token,
        thumb,
        "signature=",
    ] {
        assert!(
            !logs.contains(secret),
            "`{secret}` reached the logs:\n{logs}"
        );
    }
}
