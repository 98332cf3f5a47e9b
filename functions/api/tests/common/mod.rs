//! The test harness: the real router over in-memory adapters, driven with `oneshot`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use sha2::Digest as _;
use tower::ServiceExt as _;

use photo_api::{AppState, router};
use photo_domain::memory::{
    InMemoryObjectStore, InMemoryRepository, ManualClock, TestIdentityVerifier,
};
use photo_domain::{
    Camera, Dimensions, Gps, Limits, ObjectKey, PasswordCost, PhotoId, PhotoService, ProcessedInfo,
    Sha256, Timestamp, UserId,
};

pub const T0: Timestamp = Timestamp::from_millis(1_790_000_000_000);
pub const AUDIENCE: &str = "photo-web-client";
pub const BASE_URL: &str = "http://127.0.0.1:9/photo-bucket";

pub struct App {
    pub router: Router,
    pub repo: Arc<InMemoryRepository>,
    pub store: Arc<InMemoryObjectStore>,
    pub clock: Arc<ManualClock>,
    pub identity: Arc<TestIdentityVerifier>,
    pub service: PhotoService,
}

pub fn limits() -> Limits {
    Limits {
        max_upload_bytes: 1000,
        quota_bytes: 2500,
        max_share_days: 30,
        password_cost: PasswordCost::Minimal,
        ..Limits::default()
    }
}

pub fn user(name: &str) -> UserId {
    UserId::parse(name).unwrap()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let d: [u8; 32] = sha2::Sha256::digest(bytes).into();
    Sha256::from_bytes(d).to_string()
}

/// Distinct file contents of `len` bytes for the `n`th photo.
pub fn bytes(n: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(n))
        .collect()
}

impl App {
    pub fn new() -> Self {
        Self::with_limits(limits())
    }

    pub fn with_limits(limits: Limits) -> Self {
        let repo = Arc::new(InMemoryRepository::new());
        let store = Arc::new(InMemoryObjectStore::new(BASE_URL));
        let clock = Arc::new(ManualClock::new(T0));
        let identity = Arc::new(TestIdentityVerifier::new(AUDIENCE, clock.clone()));
        let service = PhotoService::new(repo.clone(), store.clone(), clock.clone(), limits);
        let router = router(AppState::new(service.clone(), identity.clone()));
        App {
            router,
            repo,
            store,
            clock,
            identity,
            service,
        }
    }

    /// A token for `name`, valid for an hour from now.
    pub fn token(&self, name: &str) -> String {
        self.identity
            .issue(&user(name), self.clock_now().plus_secs(3600))
    }

    pub fn clock_now(&self) -> Timestamp {
        use photo_domain::Clock as _;
        self.clock.now()
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let value = if body.is_empty() {
            Value::Null
        } else {
            let ct = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert!(
                ct.starts_with("application/json"),
                "{status}: content type `{ct}`"
            );
            serde_json::from_slice(&body)
                .unwrap_or_else(|e| panic!("{status}: body is not JSON ({e})"))
        };
        if !status.is_success() {
            let code = value["error"]["code"].as_str().unwrap_or_default();
            assert!(
                !code.is_empty() && value["error"]["message"].is_string(),
                "{status}: bad error body {value}"
            );
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "code `{code}`"
            );
        }
        (status, headers, value)
    }

    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        let (status, _, value) = self.send(req.unwrap()).await;
        (status, value)
    }

    pub async fn as_user(
        &self,
        name: &str,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(method, uri, Some(&self.token(name)), body).await
    }

    /// Checks that each bodiless call `(method, uri, status)` answers `status`, in order; made
    /// as `name`, or without a token for `None`.
    pub async fn check(&self, name: Option<&str>, calls: &[(&str, &str, StatusCode)]) {
        for &(method, uri, expected) in calls {
            let token = name.map(|n| self.token(n));
            let (status, body) = self.call(method, uri, token.as_deref(), None).await;
            assert_eq!(status, expected, "{method} {uri}: {body}");
        }
    }

    /// Starts an upload of `content` and returns the response body.
    pub async fn start_upload(&self, name: &str, content: &[u8]) -> (StatusCode, Value) {
        let body = json!({
            "file_name": "IMG_0001.jpg",
            "content_type": "image/jpeg",
            "size": content.len(),
            "sha256": sha256_hex(content),
        });
        self.as_user(name, "POST", "/photos/uploads", Some(body))
            .await
    }

    /// Uploads `content` the whole way: API, browser POST, thumbnail function. Returns the id.
    pub async fn upload(&self, name: &str, content: &[u8]) -> String {
        let (status, body) = self.start_upload(name, content).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["photo"]["id"].as_str().unwrap().to_owned();
        let fields: BTreeMap<String, String> =
            serde_json::from_value(body["upload"]["fields"].clone()).unwrap();
        self.store
            .accept_upload(&fields, content.to_vec(), self.clock_now())
            .unwrap();
        let (owner, photo) = (user(name), PhotoId::parse(&id).unwrap());
        self.store.put(
            &ObjectKey::thumbnail(&owner, &photo),
            b"thumb".to_vec(),
            "image/jpeg",
        );
        self.store.put(
            &ObjectKey::preview(&owner, &photo),
            b"preview".to_vec(),
            "image/jpeg",
        );
        let info = ProcessedInfo {
            dimensions: Dimensions {
                width: 4032,
                height: 3024,
            },
            // 2023-11-14T22:13:20Z, on a camera an hour ahead of UTC.
            taken_at: Some(Timestamp::from_secs(1_700_000_000)),
            taken_offset_minutes: Some(60),
            camera: Some(Camera::parse("Pixel 8").unwrap()),
            gps: Some(Gps::new(48.8584, 2.2945).unwrap()),
            sha256_actual: Sha256::parse(&sha256_hex(content)).unwrap(),
            size: content.len() as u64,
        };
        self.service
            .complete_processing(&owner, &photo, info)
            .await
            .unwrap();
        id
    }

    /// Everything the table and the bucket hold, as text, to compare before and after.
    pub fn snapshot(&self) -> String {
        format!("{:?}\n{:?}", self.repo.export(), self.store.keys())
    }
}
