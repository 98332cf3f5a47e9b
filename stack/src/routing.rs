//! How the site tells the SPA's routes from its files, at the edge and on the local stage alike.
//!
//! The SPA routes in the browser: a deep link such as `/albums/42` is no object in the bucket and
//! is answered with `index.html`. Everything else is a file: a path whose last segment has a dot
//! (`/assets/app-1f2e.wasm`, `/config.json`, `/favicon.svg`). A missing file is a real 404, never
//! `index.html`: HTML answered for a script, a module or a download hides the mistake and, for
//! hashed assets, would be cached as immutable.
//!
//! On AWS the rule runs as a CloudFront Function on viewer request ([`VIEWER_REQUEST_FUNCTION`]);
//! the local stage calls [`is_app_route`]. The function's source is the same rule, line for line.

/// Whether `path` (a URL path, without query) is one of the SPA's routes, answered with
/// `index.html`, rather than a file. `/` is neither: it is the document itself.
pub fn is_app_route(path: &str) -> bool {
    if path == "/" {
        return false;
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    !last.contains('.')
}

/// The CloudFront Function (runtime `cloudfront-js-2.0`) that routes deep links to `index.html`
/// on viewer request: [`is_app_route`] in JavaScript.
pub const VIEWER_REQUEST_FUNCTION: &str = "\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/') {
    return request;
  }
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
";

/// Where the site serves the HTTP API: `/api/photos` is the API's `/photos`. On AWS the site's
/// distribution sends `/api/*` to API Gateway through [`API_REQUEST_FUNCTION`]; the local stage
/// nests its API router here. One origin for the SPA and its API: no CORS preflight before
/// each call, and a CSP whose `connect-src` is the site itself.
pub const API_PREFIX: &str = "/api";

/// The API's own path for a site path under [`API_PREFIX`]: what [`API_REQUEST_FUNCTION`] does.
pub fn api_path(uri: &str) -> &str {
    match uri.strip_prefix(API_PREFIX) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => uri,
    }
}

/// The CloudFront Function (runtime `cloudfront-js-2.0`) of the site's `api/*` behavior: on
/// viewer request it drops the [`API_PREFIX`] before the request goes to API Gateway, whose
/// `$default` stage serves the routes at its root. [`api_path`] in JavaScript.
pub const API_REQUEST_FUNCTION: &str = "\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/api') {
    request.uri = '/';
  } else if (uri.indexOf('/api/') === 0) {
    request.uri = uri.substring(4);
  }
  return request;
}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths() {
        for (site, api) in [
            ("/api/photos", "/photos"),
            ("/api/photos/01J/edit", "/photos/01J/edit"),
            ("/api/", "/"),
            ("/api", "/"),
            ("/apiary", "/apiary"),
            ("/photos", "/photos"),
        ] {
            assert_eq!(api_path(site), api, "{site}");
        }
    }

    #[test]
    fn routes_and_files() {
        for route in [
            "/albums",
            "/albums/42",
            "/albums/",
            "/s/abc-DEF_1",
            "/photos/01J/edit",
        ] {
            assert!(is_app_route(route), "{route}");
        }
        for file in [
            "/",
            "/index.html",
            "/config.json",
            "/assets/app-1f2e.wasm",
            "/assets/app-1f2e.js",
            "/favicon.svg",
            "/media/u/p/original.jpg",
        ] {
            assert!(!is_app_route(file), "{file}");
        }
    }

    /// What the CloudFront Function makes of a request for `path`, run in QuickJS.
    fn at_the_edge(path: &str) -> String {
        run(VIEWER_REQUEST_FUNCTION, path)
    }

    /// What `function` makes of a request for `path`, run in QuickJS.
    fn run(function: &str, path: &str) -> String {
        let runtime = rquickjs::Runtime::new().unwrap();
        let context = rquickjs::Context::full(&runtime).unwrap();
        context.with(|ctx| {
            let event = format!("{{ request: {{ uri: {path:?}, method: 'GET' }} }}");
            let script = format!("{function}\nhandler({event}).uri");
            ctx.eval::<String, _>(script)
                .unwrap_or_else(|e| panic!("running the function on `{path}`: {e}"))
        })
    }

    #[test]
    fn the_edge_function_is_the_same_rule() {
        for path in [
            "/",
            "/index.html",
            "/config.json",
            "/albums",
            "/albums/",
            "/albums/42",
            "/s/abc-DEF_1",
            "/assets/app-1f2e.wasm",
            "/assets/missing",
            "/media/u/p/original.jpg",
            "/a.b/c",
            "/.well-known/x",
            "//",
        ] {
            let expected = if is_app_route(path) {
                "/index.html"
            } else {
                path
            };
            assert_eq!(at_the_edge(path), expected, "{path}");
        }
        // CloudFront Functions take at most 10 KB of code.
        assert!(VIEWER_REQUEST_FUNCTION.len() < 10_240);
    }

    #[test]
    fn the_api_function_is_the_same_rule() {
        // The `api/*` behaviour only sends paths under the prefix; the others show the rule.
        for path in [
            "/api/photos",
            "/api/photos/01J/edit",
            "/api/public/shares/abc-DEF_1",
            "/api/",
            "/api",
            "/apiary",
        ] {
            assert_eq!(run(API_REQUEST_FUNCTION, path), api_path(path), "{path}");
        }
        assert!(API_REQUEST_FUNCTION.len() < 10_240);
    }
}
