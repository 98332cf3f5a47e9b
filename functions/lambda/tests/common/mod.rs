//! What the bootstrap tests set up: moto holding the stack's table and bucket, the function's
//! command as Lambda would start it there (the host's test build, or the static Lambda build of
//! either architecture), a photo uploaded as the browser would, the events API Gateway and S3
//! send, and the check of an init error report.

#![allow(dead_code)]

use std::process::Command;

use aws_config::SdkConfig;
use photo_contract::functions::Function;
use std::sync::Arc;

use photo_aws::{DynamoDbRepository, S3ObjectStore};
use photo_domain::{
    ContentType, FileName, Limits, NewUpload, PhotoId, PhotoService, Sha256, SystemClock, UserId,
};
use serde_json::{Value, json};
use testkit::MotoServer;
use testkit::aws::CognitoUser;
use testkit::aws::{BUCKET, REGION, TABLE};
use testkit::lambda::Architecture;
use testkit::runtime_api::RuntimeApi;

const APIGW_EVENT: &str = include_str!("../fixtures/apigw-http-v2-event.json");
const CLAIMS: &str = include_str!("../fixtures/jwt-access-claims.json");
const S3_EVENT: &str = include_str!("../fixtures/s3-object-created.json");

/// moto with the photo table (exactly as the stack declares it) and the photo bucket.
pub async fn moto_stack() -> (MotoServer, SdkConfig) {
    let moto = MotoServer::start();
    let config = testkit::aws::sdk_config(&moto).await;
    photo_aws::table::create_table(&aws_sdk_dynamodb::Client::new(&config), TABLE)
        .await
        .expect("creating the table");
    testkit::aws::create_bucket(&config, BUCKET).await;
    (moto, config)
}

/// The function binary `bin` as Lambda starts it, with its AWS settings pointing at moto.
pub fn bootstrap(
    runtime: &RuntimeApi,
    moto: &MotoServer,
    bin: &str,
    name: &str,
    memory_mb: u32,
) -> Command {
    with_moto(runtime.command(bin, name, memory_mb), moto)
}

/// `function` built for Lambda's `arch` as the deployer builds it (static, musl), started as
/// Lambda would start it, under `qemu-user` when `arch` is not the host's, with its AWS settings
/// pointing at moto.
pub fn lambda_bootstrap(
    runtime: &RuntimeApi,
    moto: &MotoServer,
    function: Function,
    arch: Architecture,
    memory_mb: u32,
) -> Command {
    let bin = testkit::lambda::bootstrap(function, arch);
    let name = format!("photo-app-test-{}-{arch}", function.name);
    with_moto(
        testkit::lambda::command(runtime, arch, &bin, &name, memory_mb),
        moto,
    )
}

/// The API function's settings besides AWS's: `user`'s pool on moto, and small limits.
pub fn api_settings(command: &mut Command, moto: &MotoServer, user: &CognitoUser) {
    command
        .env("COGNITO_ENDPOINT", moto.endpoint_url())
        .env("USER_POOL_ID", &user.pool_id)
        .env("USER_POOL_CLIENT_ID", &user.client_id)
        .env("MAX_UPLOAD_BYTES", "1000000")
        .env("QUOTA_BYTES", "5000000")
        .env("MAX_SHARE_DAYS", "30");
}

/// `command` with the AWS settings of a function of the stack, pointing at moto.
fn with_moto(mut command: Command, moto: &MotoServer) -> Command {
    testkit::aws::moto_env(&mut command, moto);
    command
        .env("AWS_REGION", REGION)
        .env("PHOTO_TABLE", TABLE)
        .env("PHOTO_BUCKET", BUCKET);
    command
}

/// Runs `bin` with only `env` and checks that it reports a `ConfigError` with `message` to
/// Lambda before asking for any work.
pub fn check_init_error(bin: &str, env: &[(&str, &str)], message: &str) {
    let report: Value =
        serde_json::from_str(&RuntimeApi::init_failure(bin, env)).expect("the report is JSON");
    assert_eq!(report["errorType"], "ConfigError");
    assert_eq!(report["errorMessage"], message);
}

/// What the API and the browser leave behind: a PENDING photo of `owner` declaring `bytes`,
/// recorded by the domain service exactly as the API records it, and `bytes` uploaded at the key
/// of the pre-signed POST the service handed out. Returns the photo and that key.
pub async fn uploaded(config: &SdkConfig, owner: &UserId, bytes: Vec<u8>) -> (PhotoId, String) {
    let service = PhotoService::new(
        Arc::new(DynamoDbRepository::new(config, TABLE)),
        Arc::new(S3ObjectStore::new(config, BUCKET).unwrap()),
        Arc::new(SystemClock),
        Limits::default(),
    );
    let upload = NewUpload {
        file_name: FileName::parse("IMG_0001.jpg").unwrap(),
        content_type: ContentType::Jpeg,
        size: bytes.len() as u64,
        sha256: Sha256::from_bytes(imaging::Sha256Digest::of(&bytes).0),
    };
    let (photo, post) = service
        .start_upload(owner, upload)
        .await
        .expect("recording the upload");
    let key = post.fields["key"].clone();
    testkit::aws::s3_client(config)
        .put_object()
        .bucket(BUCKET)
        .key(&key)
        .content_type("image/jpeg")
        .body(bytes.into())
        .send()
        .await
        .expect("uploading the photo");
    (photo.id, key)
}

/// Marks `owner`'s photo `id` READY, as the thumbnail function does once `bytes` are processed.
pub async fn mark_ready(config: &SdkConfig, owner: &UserId, id: &PhotoId, bytes: &[u8]) {
    let repo = Arc::new(DynamoDbRepository::new(config, TABLE));
    let info = photo_domain::model::ProcessedInfo {
        dimensions: photo_domain::Dimensions {
            width: 4,
            height: 3,
        },
        taken_at: None,
        taken_offset_minutes: None,
        camera: None,
        gps: None,
        sha256_actual: Sha256::from_bytes(imaging::Sha256Digest::of(bytes).0),
        size: bytes.len() as u64,
    };
    let ready = photo_domain::Processing::new(repo)
        .complete(owner, id, info)
        .await
        .expect("marking the photo READY");
    assert_eq!(ready.status, photo_domain::model::PhotoStatus::Ready);
}

/// An S3 notification from the fixture with one record per `(event name, raw key)`.
pub fn s3_event(records: &[(&str, &str)]) -> String {
    let mut event: Value = serde_json::from_str(S3_EVENT).unwrap();
    let template = event["Records"][0].clone();
    event["Records"] = records
        .iter()
        .map(|(name, key)| {
            let mut record = template.clone();
            record["eventName"] = json!(name);
            record["s3"]["object"]["key"] = json!(key);
            record
        })
        .collect();
    event.to_string()
}

/// What the test asks for; the fixture supplies everything else API Gateway sends.
pub struct Call<'a> {
    pub method: &'a str,
    pub route: &'a str,
    id: Option<&'a str>,
    body: Option<Value>,
    token: Option<&'a str>,
    request_id: &'a str,
}

/// A call of `method route` (such as `GET /photos/{id}`) with API Gateway's `request_id`.
pub fn call<'a>(method: &'a str, route: &'a str, request_id: &'a str) -> Call<'a> {
    Call {
        method,
        route,
        id: None,
        body: None,
        token: None,
        request_id,
    }
}

impl<'a> Call<'a> {
    /// The `{id}` path parameter.
    pub fn id(self, id: &'a str) -> Self {
        Call {
            id: Some(id),
            ..self
        }
    }

    pub fn body(self, body: Value) -> Self {
        Call {
            body: Some(body),
            ..self
        }
    }

    /// The bearer token of the `Authorization` header.
    pub fn token(self, token: &'a str) -> Self {
        Call {
            token: Some(token),
            ..self
        }
    }

    /// The API Gateway event, with the authorizer's claims of `user`.
    pub fn event(&self, user: &CognitoUser) -> String {
        let mut event: Value = serde_json::from_str(APIGW_EVENT).unwrap();
        let mut claims: Value = serde_json::from_str(CLAIMS).unwrap();
        claims["sub"] = json!(user.sub);
        claims["client_id"] = json!(user.client_id);
        claims["iss"] = json!(format!(
            "https://cognito-idp.{REGION}.amazonaws.com/{}",
            user.pool_id
        ));
        let path = self.route.replace("{id}", self.id.unwrap_or_default());
        let route_key = format!("{} {}", self.method, self.route);
        event["routeKey"] = json!(route_key);
        event["rawPath"] = json!(path);
        event["pathParameters"] = self.id.map_or_else(|| json!({}), |id| json!({ "id": id }));
        let ctx = &mut event["requestContext"];
        ctx["routeKey"] = json!(route_key);
        ctx["requestId"] = json!(self.request_id);
        ctx["http"]["method"] = json!(self.method);
        ctx["http"]["path"] = json!(path);
        ctx["authorizer"]["jwt"]["claims"] = claims;
        if let Some(token) = self.token {
            event["headers"]["authorization"] = json!(format!("Bearer {token}"));
        }
        if let Some(body) = &self.body {
            let text = body.to_string();
            event["headers"]["content-type"] = json!("application/json");
            event["headers"]["content-length"] = json!(text.len().to_string());
            event["body"] = json!(text);
        }
        event.to_string()
    }
}
