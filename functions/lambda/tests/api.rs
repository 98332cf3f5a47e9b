//! Runs the real `bootstrap` binary as Lambda would: a Runtime API on loopback feeds it API
//! Gateway HTTP API (v2) events built from JSON fixtures, while DynamoDB, S3 and Cognito are moto.
//! The token is a real access token from moto's user pool, verified by the binary itself.

use crate::common::{self, Call, call};

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use testkit::aws::{BUCKET, CognitoUser, REGION, SESSION_TOKEN, TABLE};
use testkit::runtime_api::{Function, Outcome, RuntimeApi};

const BIN: &str = env!("CARGO_BIN_EXE_photo-api");

/// The running function and the user whose claims the authorizer passes on.
struct Api<'a> {
    function: Function<'a>,
    user: CognitoUser,
}

impl Api<'_> {
    /// Invokes the function and returns `(status, headers, JSON body or null)`.
    fn invoke(&self, call: Call) -> (u16, Value, Value) {
        let outcome = self
            .function
            .invoke(&call.event(&self.user), Duration::from_secs(60));
        let Outcome::Response(text) = outcome else {
            panic!(
                "the function reported an error to {} {}: {outcome:?}",
                call.method, call.route
            );
        };
        let response: Value = serde_json::from_str(&text).unwrap();
        let status = response["statusCode"].as_u64().unwrap() as u16;
        let body = match response["body"].as_str() {
            Some(b) if !b.is_empty() => serde_json::from_str(b).unwrap(),
            _ => Value::Null,
        };
        (status, response["headers"].clone(), body)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_serves_the_api_over_moto() {
    let (moto, config) = common::moto_stack().await;
    let user = testkit::aws::cognito_user(&config, "photos", "alice").await;
    let runtime = RuntimeApi::start();
    let mut command = common::bootstrap(&runtime, &moto, BIN, "photo-app-test-api", 256);
    common::api_settings(&mut command, &moto, &user);
    let api = Api {
        function: runtime.start_function(&mut command, Duration::from_secs(20)),
        user,
    };
    let token = api.user.access_token.as_str();
    let sub = api.user.sub.as_str();

    let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let upload = json!({"file_name": "IMG_0001.jpg", "content_type": "image/jpeg", "size": 1234, "sha256": sha});
    let (status, headers, body) = api.invoke(
        call("POST", "/photos/uploads", "BtGEHjZ-IAMEPaA=")
            .body(upload)
            .token(token),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        headers["x-request-id"], "BtGEHjZ-IAMEPaA=",
        "API Gateway's request id"
    );
    let id = body["photo"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["photo"]["status"], "PENDING");
    assert_eq!(
        body["upload"]["url"],
        format!("{}/{BUCKET}", moto.endpoint_url())
    );
    assert_eq!(
        body["upload"]["fields"]["key"],
        format!("uploads/{sub}/{id}")
    );
    assert_eq!(
        body["upload"]["fields"]["x-amz-security-token"],
        SESSION_TOKEN
    );

    let (status, _, body) = api.invoke(call("GET", "/photos", "req-list=").token(token));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["id"], id.as_str());

    let photo = |method, request_id| call(method, "/photos/{id}", request_id).id(&id);
    let (status, _, body) = api.invoke(photo("GET", "req-get").token(token));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["file_name"], "IMG_0001.jpg");
    assert_eq!(body["sha256"], sha);

    let (status, _, body) = api.invoke(
        photo("PATCH", "req-patch")
            .body(json!({"title": "Harbour at dawn", "favourite": true}))
            .token(token),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["title"], "Harbour at dawn");
    assert_eq!(body["favourite"], true);

    // The authorizer's claims are present, but the token itself is forged: refused.
    let (head, rest) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", rest.chars().rev().collect::<String>());
    let (status, _, body) = api.invoke(photo("GET", "req-forged").token(&forged));
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _, _) = api.invoke(call("GET", "/photos", "req-none"));
    assert_eq!(status, 401, "no Authorization header");

    let (status, _, body) = api.invoke(photo("DELETE", "req-delete").token(token));
    assert_eq!(status, 204, "{body}");
    let (status, _, body) = api.invoke(photo("GET", "req-gone").token(token));
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");

    // The table holds only the user's usage item now, and the count of the month the photo was
    // in, at zero (a count is never deleted: the same write would have to read it first).
    let items = aws_sdk_dynamodb::Client::new(&config)
        .query()
        .table_name(TABLE)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{sub}")))
        .send()
        .await
        .unwrap();
    let left: Vec<_> = items
        .items()
        .iter()
        .map(|i| {
            let sk = i["sk"].as_s().unwrap().clone();
            let photos = i.get("photos").map(|n| n.as_n().unwrap().clone());
            (sk.split('#').next().unwrap().to_owned(), photos)
        })
        .collect();
    assert_eq!(
        left,
        vec![
            ("MONTH".to_owned(), Some("0".to_owned())),
            ("USAGE".to_owned(), None)
        ]
    );

    let logs = api.function.logs();
    assert!(
        logs.contains("BtGEHjZ-IAMEPaA="),
        "logs carry the request id: {logs}"
    );
    // The harness's Runtime API hands every invocation this X-Ray trace id, as Lambda does.
    assert!(
        logs.contains("\"trace_id\":\"1-5759e988-bd862e3fe1be46a994272793\""),
        "logs carry the X-Ray trace root: {logs}"
    );
    assert!(!logs.contains(token), "logs never carry the token");
    assert!(!logs.contains(head), "nor any part of it");
}

#[test]
fn a_missing_setting_is_reported_to_lambda_as_an_init_error() {
    common::check_init_error(
        BIN,
        &[("AWS_REGION", REGION), ("PHOTO_BUCKET", BUCKET)],
        "environment variable `PHOTO_TABLE` is not set",
    );
}

/// With the stack's media settings the function reads the signing key from Secrets Manager
/// (moto's) once, and links a READY photo through the media distribution: CloudFront signed
/// URLs whose custom policy covers the owner's thumbnails (the original's, its own URL), carrying
/// the key's CloudFront id. The key never reaches the logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_are_linked_through_the_media_distribution_with_the_key_from_secrets_manager() {
    let (moto, config) = common::moto_stack().await;
    let user = testkit::aws::cognito_user(&config, "photos", "alice").await;
    let owner = photo_domain::UserId::parse(&user.sub).unwrap();
    let bytes = b"the photo".to_vec();
    let (id, _) = common::uploaded(&config, &owner, bytes.clone()).await;
    common::mark_ready(&config, &owner, &id, &bytes).await;
    let keys = photo_aws::cloudfront::KeyPair::generate().unwrap();
    let secret = "photo-app-test/media-key-a";
    aws_sdk_secretsmanager::Client::new(&config)
        .create_secret()
        .name(secret)
        .secret_string(keys.private_pem.as_str())
        .send()
        .await
        .unwrap();

    let runtime = RuntimeApi::start();
    let mut command = common::bootstrap(&runtime, &moto, BIN, "photo-app-test-api", 256);
    let media = "d111111abcdef8.cloudfront.net";
    common::api_settings(&mut command, &moto, &user);
    command
        .env("MEDIA_DOMAIN", media)
        .env("MEDIA_KEY_ID", "K2JCJMDEHXQW5F")
        .env("MEDIA_KEY_SECRET", secret);
    let api = Api {
        function: runtime.start_function(&mut command, Duration::from_secs(20)),
        user,
    };
    let token = api.user.access_token.as_str();
    let sub = api.user.sub.as_str();
    let (status, _, body) = api.invoke(
        call("GET", "/photos/{id}", "req-media")
            .id(&id.to_string())
            .token(token),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "READY");
    for (field, path, resource) in [
        (
            "thumbnail_url",
            format!("derivatives/{sub}/{id}/thumb.jpg"),
            format!("derivatives/{sub}/*"),
        ),
        (
            "original_url",
            format!("originals/{sub}/{id}"),
            format!("originals/{sub}/{id}"),
        ),
    ] {
        let url = body[field].as_str().unwrap();
        let (address, query) = url.split_once('?').unwrap();
        assert_eq!(address, format!("https://{media}/{path}"));
        assert!(query.ends_with("&Key-Pair-Id=K2JCJMDEHXQW5F"), "{url}");
        let policy = query
            .strip_prefix("Policy=")
            .and_then(|q| q.split_once('&'))
            .unwrap()
            .0;
        let policy = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            policy.replace('-', "+").replace('_', "=").replace('~', "/"),
        )
        .unwrap();
        let policy: Value = serde_json::from_slice(&policy).unwrap();
        assert_eq!(
            policy["Statement"][0]["Resource"],
            format!("https://{media}/{resource}")
        );
    }
    let logs = api.function.logs();
    let body_line = keys.private_pem.lines().nth(1).unwrap();
    assert!(!logs.contains(body_line), "logs never carry the key");
}

/// A media distribution without its key in Secrets Manager stops the function at start-up,
/// saying which secret it could not read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_media_key_is_reported_to_lambda_as_an_init_error() {
    let (moto, _config) = common::moto_stack().await;
    let endpoint = moto.endpoint_url();
    let report = RuntimeApi::init_failure(
        BIN,
        &[
            ("AWS_REGION", REGION),
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", testkit::aws::ACCESS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", testkit::aws::SECRET_ACCESS_KEY),
            ("PHOTO_TABLE", TABLE),
            ("PHOTO_BUCKET", BUCKET),
            ("USER_POOL_ID", "eu-west-1_abc"),
            ("USER_POOL_CLIENT_ID", "client"),
            ("MAX_UPLOAD_BYTES", "1000000"),
            ("QUOTA_BYTES", "5000000"),
            ("MAX_SHARE_DAYS", "30"),
            ("MEDIA_DOMAIN", "d111111abcdef8.cloudfront.net"),
            ("MEDIA_KEY_ID", "K2JCJMDEHXQW5F"),
            ("MEDIA_KEY_SECRET", "photo-app-test/media-key-b"),
        ],
    );
    let report: Value = serde_json::from_str(&report).unwrap();
    let message = report["errorMessage"].as_str().unwrap();
    assert!(
        message.starts_with(
            "reading the media signing key from secret `photo-app-test/media-key-b`: "
        ),
        "{message}"
    );
}
