//! The local stage against hostile callers: forms that must not crash the upload endpoint, and
//! pages elsewhere that reach it through DNS rebinding (requests naming another host).
//!
//! Every test starts the stage in-process and drives it as a browser or a script would: the
//! bucket's form over HTTP, the user pool with the JSON protocol Cognito speaks.

use serde_json::json;
use testkit::local::{POOL_ID, STEP};
use testkit::stage::InProcessStage;

/// The `<Code>` of an S3 error body.
fn s3_code(body: &str) -> &str {
    body.split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_form_with_a_non_ascii_date_is_refused_and_the_stage_keeps_answering() {
    let stage = InProcessStage::start().await;
    let form = json!({"url": format!("{}/_s3/photos-local", stage.base)});
    let scope = "AKIDLOCAL/20261124/us-east-1/s3/aws4_request";
    // Sixteen bytes with `T` and `Z` where `YYYYMMDDTHHMMSSZ` has them, and a three-byte
    // character where the month is: no token, no signature needed to send this.
    for date in [
        "2026\u{20ac}2T203045Z",
        "\u{e9}026112T203045Z",
        "20261124T2030\u{e9}Z",
    ] {
        let fields: Vec<(String, String)> = [
            ("key", "originals/x/y"),
            ("policy", "e30="),
            ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
            ("x-amz-credential", scope),
            ("x-amz-date", date),
            ("x-amz-signature", "00"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let (status, body) = testkit::local::bounded(
            "posting a hostile form",
            STEP,
            stage.post_form(&form, &fields, b"x"),
        )
        .await;
        assert_eq!(status, 400, "{date:?}: {body}");
        assert!(
            body.starts_with("<?xml") && body.contains("<Error><Code>"),
            "{body}"
        );
        assert_eq!(
            s3_code(&body),
            "AuthorizationQueryParametersError",
            "{body}"
        );
    }
    // Still serving: a sign-up goes through.
    stage
        .cognito_ok(
            "SignUp",
            json!({"ClientId": testkit::local::CLIENT_ID, "Username": "carol@example.com",
                   "Password": "Correct-Horse-9",
                   "UserAttributes": [{"Name": "email", "Value": "carol@example.com"}]}),
        )
        .await;
}

/// A GET of the stage's keys naming `host` in its `Host` header: the status and the body.
fn get_naming(base: &str, host: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let addr = base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET /_cognito/{POOL_ID}/.well-known/jwks.json HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_naming_another_host_are_refused() {
    let stage = InProcessStage::start_with(|options, _| {
        options.allowed_hosts = vec!["photos.test".to_owned()];
    })
    .await;
    let port = stage.base.rsplit(':').next().unwrap().to_owned();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("photos.test:{port}"),
    ] {
        let (status, body) = get_naming(&stage.base, &host);
        assert_eq!(status, 200, "{host}: {body}");
    }
    for host in [
        format!("attacker.example:{port}"),
        "attacker.example".to_owned(),
        format!("127.0.0.1:{}", port.parse::<u16>().unwrap().wrapping_add(1)),
        format!("photos.test.attacker.example:{port}"),
    ] {
        let (status, body) = get_naming(&stage.base, &host);
        assert_eq!(status, 421, "{host}: {body}");
        assert!(body.contains("--allow-host"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn share_passwords_are_not_guessed_a_hundred_at_a_time() {
    let stage = InProcessStage::start().await;
    let (alice, _) = stage
        .account("guessed@example.com", "Correct-Horse-Battery-9")
        .await;
    let (photo, _) = stage.start_upload(&alice, "a.jpg", b"not sent").await;
    let create = |password: &str| json!({"photo_id": photo, "password": password});
    let (status, refused) = stage
        .api("POST", "/shares", &alice, Some(create("1234567")))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(
        refused["error"]["message"],
        "invalid `password`: expected 8 to 128 characters, got 7"
    );
    let (status, share) = stage
        .api("POST", "/shares", &alice, Some(create("open sesame")))
        .await;
    assert_eq!(status, 201, "{share}");
    let url = format!(
        "{}/api/public/shares/{}",
        stage.base,
        share["token"].as_str().unwrap()
    );
    let open = |password: &'static str| {
        let request = stage
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(json!({"password": password}).to_string());
        async move {
            let r = request.send().await.expect("opening the link");
            let retry_after = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            let status = r.status().as_u16();
            let bytes = r.bytes().await.expect("the answer's body");
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            (
                status,
                retry_after,
                body["error"]["code"].as_str().unwrap_or("").to_owned(),
            )
        }
    };
    for _ in 0..5 {
        assert_eq!(
            open("open sesamE").await,
            (401, None, "wrong_password".into())
        );
    }
    // Locked for a minute (less the time the fifth guess took to check): refused unheard, even
    // with the right password.
    let (status, retry_after, code) = open("open sesame").await;
    assert_eq!((status, code.as_str()), (429, "too_many_attempts"));
    assert!(
        retry_after.is_some_and(|s| (50..=60).contains(&s)),
        "{retry_after:?}"
    );
    let (status, _, code) = open("open sesamE").await;
    assert_eq!((status, code.as_str()), (429, "too_many_attempts"));
}

#[tokio::test(flavor = "multi_thread")]
async fn paths_under_the_api_that_name_nothing_answer_a_json_404() {
    let stage = InProcessStage::start().await;
    for (method, path) in [
        ("GET", "/api"),
        ("GET", "/api/"),
        ("GET", "/api/nothing-here"),
        ("POST", "/api/photos/uploads/extra"),
        ("DELETE", "/api/public"),
    ] {
        let r = stage
            .http
            .request(method.parse().unwrap(), format!("{}{path}", stage.base))
            .send()
            .await
            .expect("a request");
        let status = r.status().as_u16();
        let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
        let body: serde_json::Value =
            serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or_default();
        assert_eq!(
            (status, content_type.as_str(), &body["error"]["code"]),
            (404, "application/json", &json!("not_found")),
            "{method} {path}: {body}"
        );
    }
    // The app's own pages are still the app's.
    let r = stage.get(&format!("{}/photos", stage.base)).await;
    assert_ne!(r.headers()["content-type"], "application/json");
}
