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

#[cfg(test)]
mod tests {
    use super::*;

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
        let runtime = rquickjs::Runtime::new().unwrap();
        let context = rquickjs::Context::full(&runtime).unwrap();
        context.with(|ctx| {
            let event = format!("{{ request: {{ uri: {path:?}, method: 'GET' }} }}");
            let script = format!("{VIEWER_REQUEST_FUNCTION}\nhandler({event}).uri");
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
}
