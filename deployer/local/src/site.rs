//! The SPA on the local stage: built with spa-build, served with the headers CloudFront adds.
//!
//! Hashed `assets/` are immutable, `index.html` and `config.json` are revalidated, a deep link
//! (no dot in its last segment: `stack::routing`, the edge's rule) gets `index.html`, and any other
//! missing path is a 404. The security headers are the stack's response headers
//! policy, minus what needs HTTPS (HSTS, `upgrade-insecure-requests`), with every origin the
//! page talks to being this one.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use spa_build::{BuildOptions, CachePolicy, RuntimeConfig};

/// The page may load and call only its own origin, and run its wasm.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Builds the SPA into `out_dir` and writes its `config.json` for a stage at `base_url`.
pub fn build(
    workspace: &Path,
    out_dir: &Path,
    base_url: &str,
    pool_id: &str,
    client_id: &str,
) -> anyhow::Result<()> {
    let mut site = spa_build::build(&BuildOptions::new(workspace, out_dir))
        .context("building the SPA (`--no-site` skips it)")?;
    let config = RuntimeConfig {
        api_url: format!("{base_url}/api"),
        region: crate::objects::LOCAL_REGION.to_owned(),
        user_pool_id: pool_id.to_owned(),
        user_pool_client_id: client_id.to_owned(),
        cognito_endpoint: format!("{base_url}/_cognito/"),
    };
    spa_build::write_config(&mut site, &config).context("writing the SPA's config.json")?;
    Ok(())
}

/// Where the built site is.
#[derive(Debug, Clone)]
pub struct SiteState {
    pub dir: PathBuf,
    /// Under `deployer watch`: `index.html` loads the reload channel's script ([`crate::reload`]).
    pub reload_script: bool,
}

fn security_headers(headers: &mut HeaderMap, cache: CachePolicy) {
    let pairs = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Share links carry their token in the path: never send it anywhere.
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, cache.cache_control()),
    ];
    for (name, value) in pairs {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// A site path made only of plain segments, or `None`.
fn site_path(uri_path: &str) -> Option<&str> {
    let path = uri_path.trim_start_matches('/');
    let ok = !path.is_empty()
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && seg != ".."
                && seg != "."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        });
    ok.then_some(path)
}

fn file(site: &SiteState, path: &str) -> Option<Response> {
    let mut bytes = std::fs::read(site.dir.join(path)).ok()?;
    if site.reload_script && path == "index.html" {
        bytes = crate::reload::with_script(&bytes);
    }
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(spa_build::content_type(path)),
    );
    security_headers(headers, CachePolicy::for_path(path));
    Some(response)
}

/// Any `GET` no other route took.
pub async fn serve(State(site): State<SiteState>, uri: Uri) -> Response {
    if let Some(path) = site_path(uri.path())
        && let Some(response) = file(&site, path)
    {
        return response;
    }
    // The SPA's routes get index.html; a missing file (a script, a module, a download) is a real
    // 404, as at the edge: answering HTML for it hides the mistake. `/` is the document itself.
    if uri.path() != "/" && !stack::routing::is_app_route(uri.path()) {
        let mut response = (StatusCode::NOT_FOUND, "not found").into_response();
        security_headers(response.headers_mut(), CachePolicy::Revalidate);
        return response;
    }
    file(&site, "index.html").unwrap_or_else(|| {
        (
            StatusCode::NOT_FOUND,
            "the SPA is not built: run `deployer up --stage local` without `--no-site`",
        )
            .into_response()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    async fn check(dir: &Path, path: &str, expected: (u16, &str, Option<&str>)) {
        let app = Router::new().fallback(serve).with_state(SiteState {
            dir: dir.to_owned(),
            reload_script: false,
        });
        let response = app
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let cache = response
            .headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap().to_owned());
        if status == 200 {
            assert_eq!(
                response.headers()[header::CONTENT_SECURITY_POLICY],
                CONTENT_SECURITY_POLICY
            );
            assert_eq!(response.headers()[header::X_FRAME_OPTIONS], "DENY");
        }
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        assert_eq!(
            (
                status,
                String::from_utf8_lossy(&body).as_ref(),
                cache.as_deref()
            ),
            expected,
            "{path}"
        );
    }

    #[tokio::test]
    async fn files_deep_links_and_headers() {
        let dir = tempfile::tempdir().unwrap();
        let d = &dir.path().join("site");
        std::fs::create_dir_all(d.join("assets")).unwrap();
        std::fs::write(d.join("index.html"), "<html>").unwrap();
        std::fs::write(d.join("config.json"), "{}").unwrap();
        std::fs::write(d.join("assets/app-1a2b.js"), "js").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "no").unwrap();
        check(d, "/", (200, "<html>", Some("no-cache"))).await;
        check(
            d,
            "/albums/01ARZ3NDEKTSV4RRFFQ69G5FAV",
            (200, "<html>", Some("no-cache")),
        )
        .await;
        check(d, "/config.json", (200, "{}", Some("no-cache"))).await;
        check(
            d,
            "/assets/app-1a2b.js",
            (200, "js", Some("public, max-age=31536000, immutable")),
        )
        .await;
        check(
            d,
            "/assets/gone-0000.js",
            (404, "not found", Some("no-cache")),
        )
        .await;
        // Missing files anywhere are 404s, not the app: the edge's rule (`stack::routing`).
        check(d, "/gone.wasm", (404, "not found", Some("no-cache"))).await;
        check(d, "/albums/", (200, "<html>", Some("no-cache"))).await;
        // Paths that try to leave the site never get a file outside it.
        check(d, "/../secret.txt", (404, "not found", Some("no-cache"))).await;
        check(d, "/%2e%2e/etc/passwd", (200, "<html>", Some("no-cache"))).await;
    }

    #[tokio::test]
    async fn under_watch_the_page_loads_the_reload_script_and_nothing_else_changes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<head></head>").unwrap();
        std::fs::write(dir.path().join("config.json"), "{}").unwrap();
        let app = Router::new().fallback(serve).with_state(SiteState {
            dir: dir.path().to_owned(),
            reload_script: true,
        });
        let expected = format!("<head>{}</head>", crate::reload::SCRIPT_TAG);
        for (path, body) in [
            ("/", expected.as_str()),
            ("/index.html", &expected),
            ("/albums/01ARZ3NDEKTSV4RRFFQ69G5FAV", &expected),
            ("/config.json", "{}"),
        ] {
            let response = app
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let got = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&got), body, "{path}");
        }
    }
}
