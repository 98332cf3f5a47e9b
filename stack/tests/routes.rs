//! The route contract: the template's API Gateway routes, the HTTP API's OpenAPI document, the
//! contract's endpoints and the API's real router all name the same routes, with the same access.
//!
//! API Gateway forwards only the routes the template declares, and guards those marked JWT with
//! the Cognito authorizer. A route the function serves but the template lacks is unreachable; a
//! route the template declares but the router lacks answers "no such route"; a route documented
//! but absent (or undocumented but present) misleads every client; a public route the template
//! guards with JWT (or the reverse) is broken or open. Both the template and the router are built
//! from `photo_contract::api::Endpoint::ALL`, while the document comes from the handlers' utoipa
//! annotations: this test is what keeps the three, and the router's real behaviour, in step.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

use photo_api::{AppState, router};
use photo_contract::api::{Access, Endpoint};
use photo_domain::memory::{
    InMemoryObjectStore, InMemoryRepository, ManualClock, TestIdentityVerifier,
};
use photo_domain::{Limits, PhotoService, Timestamp};
use stack::StageConfig;

/// Whether a route needs a signed-in caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    SignedIn,
    Public,
}

/// Route key (`GET /photos/{id}`) to its access, as one side sees it.
type Routes = BTreeMap<String, Auth>;

fn stage() -> StageConfig {
    StageConfig::with_defaults("dev".parse().unwrap(), "eu-west-1".parse().unwrap())
}

/// Every `AWS::ApiGatewayV2::Route` of the template: `JWT` is signed-in, `NONE` public.
fn template_routes(config: &StageConfig) -> Routes {
    let template = stack::app::photo_app(config).unwrap().to_value();
    let mut routes = Routes::new();
    for (id, resource) in template["Resources"].as_object().unwrap() {
        if resource["Type"] != "AWS::ApiGatewayV2::Route" {
            continue;
        }
        let props = &resource["Properties"];
        let key = props["RouteKey"]
            .as_str()
            .unwrap_or_else(|| panic!("{id}: RouteKey is not a string"));
        let auth = match props["AuthorizationType"].as_str() {
            Some("JWT") => {
                assert!(
                    !props["AuthorizerId"].is_null(),
                    "{id}: JWT without an authorizer"
                );
                Auth::SignedIn
            }
            Some("NONE") | None => Auth::Public,
            Some(other) => panic!("{id}: unexpected AuthorizationType `{other}`"),
        };
        assert_eq!(
            *id,
            stack::app::route_logical_id(key),
            "logical id of `{key}`"
        );
        assert!(
            routes.insert(key.to_owned(), auth).is_none(),
            "`{key}` twice"
        );
    }
    routes
}

/// Every operation of the OpenAPI document: one with a `security` requirement is signed-in.
fn document_routes() -> Routes {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let doc: Value = serde_json::from_str(photo_api::openapi::document()).unwrap();
    let mut routes = Routes::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let secured = operation["security"]
                .as_array()
                .is_some_and(|requirements| !requirements.is_empty());
            let auth = if secured {
                Auth::SignedIn
            } else {
                Auth::Public
            };
            routes.insert(format!("{} {path}", method.to_ascii_uppercase()), auth);
        }
    }
    routes
}

/// Every endpoint of the contract.
fn contract_routes() -> Routes {
    Endpoint::ALL
        .iter()
        .map(|e| {
            let route = e.route();
            let auth = match route.access {
                Access::SignedIn => Auth::SignedIn,
                Access::Public => Auth::Public,
            };
            (route.key(), auth)
        })
        .collect()
}

/// What differs between the sides, one line per route, or nothing.
fn disagreements(sides: &[(&str, &Routes)]) -> Vec<String> {
    let all: BTreeSet<&String> = sides.iter().flat_map(|(_, r)| r.keys()).collect();
    let mut lines = Vec::new();
    for key in all {
        let present: Vec<&str> = sides
            .iter()
            .filter(|(_, r)| r.contains_key(key))
            .map(|(name, _)| *name)
            .collect();
        if present.len() != sides.len() {
            let missing: Vec<&str> = sides
                .iter()
                .filter(|(_, r)| !r.contains_key(key))
                .map(|(name, _)| *name)
                .collect();
            lines.push(format!(
                "`{key}`: only in {}; missing from {}",
                present.join(", "),
                missing.join(", ")
            ));
            continue;
        }
        let access: Vec<String> = sides
            .iter()
            .map(|(name, r)| format!("{name}: {:?}", r[key]))
            .collect();
        if sides.iter().any(|(_, r)| r[key] != sides[0].1[key]) {
            lines.push(format!("`{key}`: access differs ({})", access.join(", ")));
        }
    }
    lines
}

#[test]
fn template_document_and_contract_have_the_same_routes_and_access() {
    let template = template_routes(&stage());
    let document = document_routes();
    let contract = contract_routes();
    assert!(!template.is_empty(), "the template has no routes");
    let problems = disagreements(&[
        ("the template", &template),
        ("the OpenAPI document", &document),
        ("the contract", &contract),
    ]);
    assert!(
        problems.is_empty(),
        "the HTTP API's routes disagree:\n  {}",
        problems.join("\n  ")
    );
}

/// The routes do not depend on the stage, so checking `dev` above covers every stage.
#[test]
fn every_stage_declares_the_same_routes() {
    let dev = template_routes(&stage());
    let prod = {
        let mut c =
            StageConfig::with_defaults("prod".parse().unwrap(), "us-east-1".parse().unwrap());
        c.protected = true;
        template_routes(&c)
    };
    assert_eq!(dev, prod);
}

/// The real router over in-memory adapters; no request below carries a token.
fn app() -> axum::Router {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_790_000_000_000)));
    let service = PhotoService::new(
        Arc::new(InMemoryRepository::new()),
        Arc::new(InMemoryObjectStore::new("http://127.0.0.1:9/photo-bucket")),
        clock.clone(),
        Limits::default(),
    );
    let identity = Arc::new(TestIdentityVerifier::new("photo-web-client", clock));
    router(AppState::new(service, identity))
}

/// A concrete path for a template: ids become a ULID, `{token}` a 43-character url-safe token.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some("token") => "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE".to_owned(),
                Some(_) => "01ARZ3NDEKTSV4RRFFQ69G5FAV".to_owned(),
                None => segment.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// Sends `method uri` without credentials (a `{}` JSON body where one may be expected); returns
/// the status and the error code and message, if the body has them.
async fn probe(router: &axum::Router, method: &str, uri: &str) -> (StatusCode, String, String) {
    let mut request = Request::builder().method(method).uri(uri);
    let body = if matches!(method, "POST" | "PUT" | "PATCH") {
        request = request.header(header::CONTENT_TYPE, "application/json");
        Body::from("{}")
    } else {
        Body::empty()
    };
    let response = router
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (
        status,
        text(&value["error"]["code"]),
        text(&value["error"]["message"]),
    )
}

/// The router's own answers for a request it has no route for.
fn unrouted(status: StatusCode, code: &str, message: &str) -> bool {
    (status == StatusCode::NOT_FOUND && code == "not_found" && message == "no such route")
        || status == StatusCode::METHOD_NOT_ALLOWED
}

/// Every template route reaches a handler of the real router (no "no such route" 404, no 405),
/// and without a token the JWT routes, and only they, answer 401. (A domain 404 or a 400 means
/// the route exists.)
#[tokio::test]
async fn the_router_serves_every_template_route() {
    let router = app();
    // The probe tells "no route" apart: these are not routes.
    for (method, uri) in [("GET", "/nowhere"), ("DELETE", "/me"), ("PUT", "/photos")] {
        let (status, code, message) = probe(&router, method, uri).await;
        assert!(
            unrouted(status, &code, &message),
            "{method} {uri} was routed: {status} {code} {message}"
        );
    }
    let mut problems = Vec::new();
    for (key, auth) in template_routes(&stage()) {
        let (method, path) = key.split_once(' ').unwrap();
        let uri = concrete(path);
        let (status, code, message) = probe(&router, method, &uri).await;
        let answer = format!("`{key}` ({method} {uri}): {status} {code} \"{message}\"");
        if unrouted(status, &code, &message) {
            problems.push(format!("{answer}: not routed"));
        } else if (auth == Auth::SignedIn) != (status == StatusCode::UNAUTHORIZED) {
            // The function checks the token again behind API Gateway's JWT authorizer: without
            // one, exactly the template's JWT routes are refused.
            problems.push(format!("{answer}: the template says {auth:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "the API's router does not serve the template's routes as declared:\n  {}",
        problems.join("\n  ")
    );
}
