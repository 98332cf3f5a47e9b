//! Runs the real `bootstrap` binary as Lambda would: a Runtime API on loopback feeds it API
//! Gateway HTTP API (v2) events built from JSON fixtures, while DynamoDB, S3 and Cognito are moto.
//! The token is a real access token from moto's user pool, verified by the binary itself.

use std::io::Read as _;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use testkit::MotoServer;
use testkit::runtime_api::{Outcome, RuntimeApi};

const REGION: &str = "eu-west-1";
const TABLE: &str = "photo-app-test";
const BUCKET: &str = "photo-app-test-photos";
const EVENT: &str = include_str!("fixtures/apigw-http-v2-event.json");
const CLAIMS: &str = include_str!("fixtures/jwt-access-claims.json");

async fn sdk(moto: &MotoServer) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .endpoint_url(moto.endpoint_url())
        .load()
        .await
}

async fn create_table(config: &SdkConfig) {
    photo_aws::table::create_table(&aws_sdk_dynamodb::Client::new(config), TABLE)
        .await
        .expect("creating the table");
}

async fn create_bucket(config: &SdkConfig) {
    aws_sdk_s3::Client::new(config)
        .create_bucket()
        .bucket(BUCKET)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("creating the bucket");
}

struct Pool {
    id: String,
    client_id: String,
    sub: String,
    access_token: String,
}

/// A user pool, an app client with password sign-in, one user, and that user's access token.
async fn pool(config: &SdkConfig) -> Pool {
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(config);
    let id = cognito
        .create_user_pool()
        .pool_name("photos")
        .send()
        .await
        .expect("creating a user pool")
        .user_pool
        .and_then(|p| p.id)
        .unwrap();
    let client_id = cognito
        .create_user_pool_client()
        .user_pool_id(&id)
        .client_name("spa")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .send()
        .await
        .expect("creating an app client")
        .user_pool_client
        .and_then(|c| c.client_id)
        .unwrap();
    cognito
        .admin_create_user()
        .user_pool_id(&id)
        .username("alice")
        .temporary_password("Temp-Passw0rd!")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("creating a user");
    cognito
        .admin_set_user_password()
        .user_pool_id(&id)
        .username("alice")
        .password("Real-Passw0rd!")
        .permanent(true)
        .send()
        .await
        .expect("setting the password");
    let sub = cognito
        .admin_get_user()
        .user_pool_id(&id)
        .username("alice")
        .send()
        .await
        .unwrap()
        .user_attributes
        .unwrap_or_default()
        .into_iter()
        .find(|a| a.name == "sub")
        .and_then(|a| a.value)
        .unwrap();
    let access_token = cognito
        .initiate_auth()
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .client_id(&client_id)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", "Real-Passw0rd!")
        .send()
        .await
        .expect("signing in")
        .authentication_result
        .and_then(|r| r.access_token)
        .unwrap();
    Pool {
        id,
        client_id,
        sub,
        access_token,
    }
}

/// The bootstrap process; killed on drop, its stdout kept for the log checks.
struct Function {
    child: Child,
    logs: Arc<Mutex<String>>,
}

impl Function {
    fn start(runtime: &RuntimeApi, moto: &MotoServer, pool: &Pool) -> Function {
        let mut child = Command::new(env!("CARGO_BIN_EXE_photo-api"))
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", runtime.endpoint())
            .env("AWS_LAMBDA_FUNCTION_NAME", "photo-app-test-api")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "/aws/lambda/photo-app-test-api",
            )
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/11/24/[$LATEST]0123456789abcdef",
            )
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", "AKIDTESTING")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_SESSION_TOKEN", "testing-session")
            .env("AWS_ENDPOINT_URL", moto.endpoint_url())
            .env("COGNITO_ENDPOINT", moto.endpoint_url())
            .env("PHOTO_TABLE", TABLE)
            .env("PHOTO_BUCKET", BUCKET)
            .env("USER_POOL_ID", &pool.id)
            .env("USER_POOL_CLIENT_ID", &pool.client_id)
            .env("MAX_UPLOAD_BYTES", "1000000")
            .env("QUOTA_BYTES", "5000000")
            .env("MAX_SHARE_DAYS", "30")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting bootstrap");
        let logs = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let logs = Arc::clone(&logs);
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    logs.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        Function { child, logs }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the test asks for; the fixture supplies everything else API Gateway sends.
struct Call<'a> {
    method: &'a str,
    route: &'a str,
    path: String,
    path_parameters: Value,
    body: Option<Value>,
    token: Option<&'a str>,
    request_id: &'a str,
}

fn event(call: &Call, pool: &Pool) -> String {
    let mut event: Value = serde_json::from_str(EVENT).unwrap();
    let mut claims: Value = serde_json::from_str(CLAIMS).unwrap();
    claims["sub"] = json!(pool.sub);
    claims["client_id"] = json!(pool.client_id);
    claims["iss"] = json!(format!(
        "https://cognito-idp.{REGION}.amazonaws.com/{}",
        pool.id
    ));
    let route_key = format!("{} {}", call.method, call.route);
    event["routeKey"] = json!(route_key);
    event["rawPath"] = json!(call.path);
    event["pathParameters"] = call.path_parameters.clone();
    let ctx = &mut event["requestContext"];
    ctx["routeKey"] = json!(route_key);
    ctx["requestId"] = json!(call.request_id);
    ctx["http"]["method"] = json!(call.method);
    ctx["http"]["path"] = json!(call.path);
    ctx["authorizer"]["jwt"]["claims"] = claims;
    if let Some(token) = call.token {
        event["headers"]["authorization"] = json!(format!("Bearer {token}"));
    }
    if let Some(body) = &call.body {
        let text = body.to_string();
        event["headers"]["content-type"] = json!("application/json");
        event["headers"]["content-length"] = json!(text.len().to_string());
        event["body"] = json!(text);
    }
    event.to_string()
}

/// Invokes the function and returns `(status, headers, JSON body or null)`.
fn invoke(runtime: &RuntimeApi, call: &Call, pool: &Pool) -> (u16, Value, Value) {
    let outcome = runtime
        .invoke(&event(call, pool), Duration::from_secs(60))
        .unwrap_or_else(|| panic!("no answer to {} {}", call.method, call.path));
    let Outcome::Response(text) = outcome else {
        panic!("the function reported an error: {outcome:?}");
    };
    let response: Value = serde_json::from_str(&text).unwrap();
    let status = response["statusCode"].as_u64().unwrap() as u16;
    let body = match response["body"].as_str() {
        Some(b) if !b.is_empty() => serde_json::from_str(b).unwrap(),
        _ => Value::Null,
    };
    (status, response["headers"].clone(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_serves_the_api_over_moto() {
    let moto = MotoServer::start();
    let config = sdk(&moto).await;
    create_table(&config).await;
    create_bucket(&config).await;
    let pool = pool(&config).await;
    let runtime = RuntimeApi::start();
    let function = Function::start(&runtime, &moto, &pool);
    assert!(
        runtime.wait_first_poll(Duration::from_secs(20)).is_some(),
        "bootstrap never polled; init error: {:?}; logs: {}",
        runtime.init_error(),
        function.logs.lock().unwrap()
    );
    let token = pool.access_token.as_str();
    let call = |method, route, path: String, params: Value, body, token, id| Call {
        method,
        route,
        path,
        path_parameters: params,
        body,
        token,
        request_id: id,
    };

    let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let upload = json!({"file_name": "IMG_0001.jpg", "content_type": "image/jpeg", "size": 1234, "sha256": sha});
    let (status, headers, body) = invoke(
        &runtime,
        &call(
            "POST",
            "/photos/uploads",
            "/photos/uploads".into(),
            json!({}),
            Some(upload),
            Some(token),
            "BtGEHjZ-IAMEPaA=",
        ),
        &pool,
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
        format!("originals/{}/{id}", pool.sub)
    );
    assert_eq!(
        body["upload"]["fields"]["x-amz-security-token"],
        "testing-session"
    );

    let (status, _, body) = invoke(
        &runtime,
        &call(
            "GET",
            "/photos",
            "/photos".into(),
            json!({}),
            None,
            Some(token),
            "req-list=",
        ),
        &pool,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["id"], id.as_str());

    let path = format!("/photos/{id}");
    let params = json!({ "id": id });
    let (status, _, body) = invoke(
        &runtime,
        &call(
            "GET",
            "/photos/{id}",
            path.clone(),
            params.clone(),
            None,
            Some(token),
            "req-get",
        ),
        &pool,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["file_name"], "IMG_0001.jpg");
    assert_eq!(body["sha256"], sha);

    let (status, _, body) = invoke(
        &runtime,
        &call(
            "PATCH",
            "/photos/{id}",
            path.clone(),
            params.clone(),
            Some(json!({"title": "Harbour at dawn", "favourite": true})),
            Some(token),
            "req-patch",
        ),
        &pool,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["title"], "Harbour at dawn");
    assert_eq!(body["favourite"], true);

    // The authorizer's claims are present, but the token itself is forged: refused.
    let (head, rest) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", rest.chars().rev().collect::<String>());
    let (status, _, body) = invoke(
        &runtime,
        &call(
            "GET",
            "/photos/{id}",
            path.clone(),
            params.clone(),
            None,
            Some(&forged),
            "req-forged",
        ),
        &pool,
    );
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _, _) = invoke(
        &runtime,
        &call(
            "GET",
            "/photos",
            "/photos".into(),
            json!({}),
            None,
            None,
            "req-none",
        ),
        &pool,
    );
    assert_eq!(status, 401, "no Authorization header");

    let (status, _, body) = invoke(
        &runtime,
        &call(
            "DELETE",
            "/photos/{id}",
            path.clone(),
            params.clone(),
            None,
            Some(token),
            "req-delete",
        ),
        &pool,
    );
    assert_eq!(status, 204, "{body}");
    let (status, _, body) = invoke(
        &runtime,
        &call(
            "GET",
            "/photos/{id}",
            path.clone(),
            params.clone(),
            None,
            Some(token),
            "req-gone",
        ),
        &pool,
    );
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");

    // The table holds only the user's usage item now.
    let items = aws_sdk_dynamodb::Client::new(&config)
        .query()
        .table_name(TABLE)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{}", pool.sub)))
        .send()
        .await
        .unwrap();
    let sks: Vec<_> = items
        .items()
        .iter()
        .map(|i| i["sk"].as_s().unwrap().clone())
        .collect();
    assert_eq!(sks, vec!["USAGE".to_owned()]);

    let logs = function.logs.lock().unwrap().clone();
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
    let runtime = RuntimeApi::start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_photo-api"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.endpoint())
        .env("AWS_REGION", REGION)
        .env("PHOTO_BUCKET", BUCKET)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting bootstrap");
    let status = child.wait().expect("bootstrap exits");
    assert!(
        !status.success(),
        "a function that cannot start exits non-zero"
    );
    let report: Value = serde_json::from_str(&runtime.init_error().expect("an init error report"))
        .expect("the report is JSON");
    assert_eq!(report["errorType"], "ConfigError");
    assert_eq!(
        report["errorMessage"],
        "environment variable `PHOTO_TABLE` is not set"
    );
    assert!(runtime.first_poll_at().is_none(), "it never asked for work");
}
