//! The SPA on the local stage: built with spa-build, served with the headers CloudFront adds.
//!
//! Hashed `assets/` are immutable, `index.html` and `config.json` are revalidated, a deep link
//! (no dot in its last segment: `stack::routing`, the edge's rule) gets `index.html`, and any other
//! missing path is a 404. The security headers are the stack's response headers
//! policy, minus what needs HTTPS (HSTS, `upgrade-insecure-requests`), with every origin the
//! page talks to being this one.
//!
//! Text and wasm go out gzipped to a browser that accepts it, as CloudFront compresses them at
//! the edge: the first load is about a third of its size. Each file is compressed once, when it
//! is first asked for, and again only when its bytes change (`deployer watch` rebuilds the site
//! in place).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
        api_url: format!("{base_url}{}", stack::routing::API_PREFIX),
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
    /// The gzipped form of each file served so far, with the bytes it was made from.
    pub gzipped: Arc<Mutex<HashMap<String, Gzipped>>>,
}

impl SiteState {
    /// The site in `dir`, nothing compressed yet.
    pub fn new(dir: PathBuf, reload_script: bool) -> SiteState {
        SiteState {
            dir,
            reload_script,
            gzipped: Arc::default(),
        }
    }

    /// `bytes` of the file at `path` gzipped: from the memo when the file has not changed since.
    fn gzip(&self, path: &str, bytes: &[u8]) -> Arc<Vec<u8>> {
        let remembered = |m: &HashMap<String, Gzipped>| {
            m.get(path)
                .filter(|g| *g.source == *bytes)
                .map(|g| g.gzipped.clone())
        };
        if let Some(hit) = remembered(&self.lock()) {
            return hit;
        }
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing into a `Vec` cannot fail.
        let gzipped = Arc::new(
            encoder
                .write_all(bytes)
                .and_then(|()| encoder.finish())
                .unwrap_or_default(),
        );
        let mut memo = self.lock();
        // `deployer watch` rebuilds under new hashed names: the old ones are never asked for
        // again, so the memo starts over rather than grow with every rebuild.
        if memo.len() >= GZIPPED_MAX && !memo.contains_key(path) {
            memo.clear();
        }
        memo.insert(
            path.to_owned(),
            Gzipped {
                source: bytes.into(),
                gzipped: gzipped.clone(),
            },
        );
        gzipped
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Gzipped>> {
        self.gzipped.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A file's bytes as served, and gzipped.
#[derive(Debug)]
pub struct Gzipped {
    source: Box<[u8]>,
    gzipped: Arc<Vec<u8>>,
}

/// Files kept gzipped at most: the site has a handful.
const GZIPPED_MAX: usize = 32;

/// Files smaller than this go out as they are: gzip's header and the round trip cost more than
/// it saves.
const GZIP_FROM_BYTES: usize = 1024;

/// Whether a file of this path is worth compressing: text and wasm (images are compressed
/// already).
fn compressible(path: &str) -> bool {
    let ext = path.rsplit_once('.').map(|(_, ext)| ext);
    matches!(ext, Some("html" | "js" | "css" | "wasm" | "json" | "svg"))
}

/// Whether `Accept-Encoding` accepts gzip: `gzip` (or `x-gzip`, or `*`) listed without `q=0`.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            ["gzip", "x-gzip", "*"]
                .iter()
                .any(|g| name.eq_ignore_ascii_case(g))
                && !refused
        })
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

fn file(site: &SiteState, path: &str, request: &HeaderMap) -> Option<Response> {
    let mut bytes = std::fs::read(site.dir.join(path)).ok()?;
    if site.reload_script && path == "index.html" {
        bytes = crate::reload::with_script(&bytes);
    }
    let compress = compressible(path) && bytes.len() >= GZIP_FROM_BYTES;
    let mut response = if compress && accepts_gzip(request) {
        let gzipped = site.gzip(path, &bytes);
        let mut response = gzipped.as_ref().clone().into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    } else {
        bytes.into_response()
    };
    let headers = response.headers_mut();
    if compress {
        // Caches keep the two forms apart.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(spa_build::content_type(path)),
    );
    security_headers(headers, CachePolicy::for_path(path));
    Some(response)
}

/// Any `GET` no other route took.
pub async fn serve(State(site): State<SiteState>, uri: Uri, request: HeaderMap) -> Response {
    if let Some(path) = site_path(uri.path())
        && let Some(response) = file(&site, path, &request)
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
    file(&site, "index.html", &request).unwrap_or_else(|| {
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
        let app = Router::new()
            .fallback(serve)
            .with_state(SiteState::new(dir.to_owned(), false));
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

    /// `path` asked for with `accept_encoding`: status, `Content-Encoding`, `Vary`, and the body
    /// as the browser reads it (gunzipped when it was gzipped).
    async fn fetch(
        site: &SiteState,
        path: &str,
        accept_encoding: Option<&str>,
    ) -> (u16, Option<String>, Option<String>, Vec<u8>) {
        let app = Router::new().fallback(serve).with_state(site.clone());
        let mut request = Request::get(path);
        if let Some(value) = accept_encoding {
            request = request.header(header::ACCEPT_ENCODING, value);
        }
        let response = app
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let named = |name| {
            response
                .headers()
                .get(name)
                .map(|v: &HeaderValue| v.to_str().unwrap().to_owned())
        };
        let (encoding, vary) = (named(header::CONTENT_ENCODING), named(header::VARY));
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .unwrap()
            .to_vec();
        let body = if encoding.as_deref() == Some("gzip") {
            let mut plain = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut plain)
                .expect("a valid gzip stream");
            assert!(plain.len() > body.len(), "gzip made it no smaller");
            plain
        } else {
            body
        };
        (status, encoding, vary, body)
    }

    #[tokio::test]
    async fn text_and_wasm_go_out_gzipped_to_browsers_that_accept_it() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("assets")).unwrap();
        let html = format!("<html>{}</html>", "<p>photos</p>".repeat(200));
        let wasm = b"\0asm".repeat(2000);
        let png = vec![7u8; 4000];
        std::fs::write(d.join("index.html"), &html).unwrap();
        std::fs::write(d.join("assets/app-1a2b.wasm"), &wasm).unwrap();
        std::fs::write(d.join("assets/logo-1a2b.png"), &png).unwrap();
        std::fs::write(d.join("config.json"), "{}").unwrap();
        let site = SiteState::new(d.to_owned(), false);
        let chromium = Some("gzip, deflate, br, zstd");
        let gz = Some("gzip".to_owned());
        let vary = Some("accept-encoding".to_owned());

        let page = fetch(&site, "/", chromium).await;
        assert_eq!(
            page,
            (200, gz.clone(), vary.clone(), html.clone().into_bytes())
        );
        // A deep link is the same document, gzipped too.
        let deep = fetch(&site, "/albums/01ARZ3NDEKTSV4RRFFQ69G5FAV", chromium).await;
        assert_eq!(deep.1, gz);
        let module = fetch(&site, "/assets/app-1a2b.wasm", Some("gzip")).await;
        assert_eq!(module, (200, gz.clone(), vary.clone(), wasm.clone()));
        // No Accept-Encoding, or gzip refused: the bytes as they are, still marked as varying.
        for refused in [None, Some("br"), Some("gzip;q=0, br"), Some("identity")] {
            let plain = fetch(&site, "/assets/app-1a2b.wasm", refused).await;
            assert_eq!(
                plain,
                (200, None, vary.clone(), wasm.clone()),
                "{refused:?}"
            );
        }
        // Images are compressed already, and tiny files are not worth it.
        let image = fetch(&site, "/assets/logo-1a2b.png", chromium).await;
        assert_eq!(image, (200, None, None, png));
        let config = fetch(&site, "/config.json", chromium).await;
        assert_eq!(config, (200, None, None, b"{}".to_vec()));
        // A rebuilt file is compressed again, never served stale from the memo.
        let rebuilt = format!("<html>{}</html>", "<p>albums</p>".repeat(200));
        std::fs::write(d.join("index.html"), &rebuilt).unwrap();
        let page = fetch(&site, "/", chromium).await;
        assert_eq!(page, (200, gz, vary, rebuilt.clone().into_bytes()));
        // Rebuilds under new hashed names do not grow the memo without bound.
        for build in 0..2 * GZIPPED_MAX {
            let name = format!("assets/app-{build:04}.js");
            std::fs::write(d.join(&name), &rebuilt).unwrap();
            assert_eq!(fetch(&site, &format!("/{name}"), chromium).await.0, 200);
        }
        assert!(site.lock().len() <= GZIPPED_MAX);
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        let accepts = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
            accepts_gzip(&headers)
        };
        for yes in [
            "gzip",
            "GZIP",
            "br, gzip;q=0.5",
            "x-gzip",
            "*",
            "deflate, gzip ; q=1",
        ] {
            assert!(accepts(yes), "{yes}");
        }
        for no in [
            "",
            "br",
            "identity",
            "gzip;q=0",
            "gzip; q=0.0",
            "*;q=0",
            "gzipper",
        ] {
            assert!(!accepts(no), "{no}");
        }
    }

    #[tokio::test]
    async fn under_watch_the_page_loads_the_reload_script_and_nothing_else_changes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<head></head>").unwrap();
        std::fs::write(dir.path().join("config.json"), "{}").unwrap();
        let app = Router::new()
            .fallback(serve)
            .with_state(SiteState::new(dir.path().to_owned(), true));
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
