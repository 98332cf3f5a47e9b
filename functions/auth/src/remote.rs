//! The token verifier: an in-memory key set, or the pool's JWKS fetched over HTTP and cached.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::claims::Claims;
use crate::jwks::{Jwks, KeySet};
use crate::verify::{VerifierConfig, parse, verify_parsed};
use crate::{AuthError, clip};

/// Verifies user-pool tokens. Cheap to share: put it in an `Arc` (it is `Send + Sync`).
#[derive(Debug)]
pub struct Verifier {
    config: VerifierConfig,
    source: Source,
}

#[derive(Debug)]
enum Source {
    /// Keys given up front (the local stage's own issuer); never refreshed.
    Fixed(KeySet),
    Remote(Remote),
}

/// A JWKS fetched over HTTP.
///
/// Cognito rotates keys rarely and publishes a new one before signing with it, so the set is
/// fetched once and again only when a token names a `kid` we do not have. Those refetches are
/// rate limited: anyone can send tokens with random `kid`s, and each must not cost a request
/// to the pool's endpoint.
#[derive(Debug)]
struct Remote {
    url: String,
    client: reqwest::Client,
    /// The last key set fetched successfully; `None` until the first success.
    keys: RwLock<Option<Arc<KeySet>>>,
    /// When the last fetch was attempted. Held across the fetch, so concurrent requests with
    /// the same new `kid` wait for one fetch instead of each starting their own.
    last_attempt: tokio::sync::Mutex<Option<Instant>>,
    min_interval: Duration,
}

/// JWKS documents are a few KiB; anything much larger is not one.
const MAX_JWKS_BYTES: usize = 256 * 1024;

impl Verifier {
    /// The least time between two JWKS fetches unless set otherwise.
    pub const DEFAULT_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

    /// A verifier over a key set held in memory, such as the local stage issuer's
    /// ([`Issuer::jwks`](crate::issuer::Issuer::jwks)). Pure: no I/O now or later.
    pub fn from_jwks(config: VerifierConfig, jwks: &Jwks) -> Result<Verifier, AuthError> {
        Ok(Verifier {
            config,
            source: Source::Fixed(KeySet::from_jwks(jwks)?),
        })
    }

    /// A verifier that fetches the JWKS from `jwks_url` (see
    /// [`VerifierConfig::cognito_jwks_url`]) on first use, with its own HTTPS client (rustls,
    /// 2 s connect and 5 s overall timeouts).
    pub fn remote(
        config: VerifierConfig,
        jwks_url: impl Into<String>,
    ) -> Result<Verifier, AuthError> {
        let client = crate::tls::http_client()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| AuthError::JwksUnavailable(format!("building the HTTP client: {e}")))?;
        Ok(Verifier::remote_with_client(config, jwks_url, client))
    }

    /// Like [`Verifier::remote`], with a client of the caller's choosing.
    pub fn remote_with_client(
        config: VerifierConfig,
        jwks_url: impl Into<String>,
        client: reqwest::Client,
    ) -> Verifier {
        Verifier {
            config,
            source: Source::Remote(Remote {
                url: jwks_url.into(),
                client,
                keys: RwLock::new(None),
                last_attempt: tokio::sync::Mutex::new(None),
                min_interval: Self::DEFAULT_MIN_REFRESH_INTERVAL,
            }),
        }
    }

    /// Sets the least time between two JWKS fetches (no effect on an in-memory key set).
    pub fn with_min_refresh_interval(mut self, interval: Duration) -> Verifier {
        if let Source::Remote(remote) = &mut self.source {
            remote.min_interval = interval;
        }
        self
    }

    /// What this verifier accepts.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Verifies `token` (the bare JWT, see [`bearer_token`](crate::bearer_token)) now.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.verify_at(token, now).await
    }

    /// Verifies `token` as of `now`, in seconds since the Unix epoch.
    pub async fn verify_at(&self, token: &str, now: u64) -> Result<Claims, AuthError> {
        let parsed = parse(token)?;
        match &self.source {
            Source::Fixed(keys) => verify_parsed(&self.config, keys, &parsed, now),
            Source::Remote(remote) => {
                let keys = remote.keys_with(&parsed.kid).await?;
                verify_parsed(&self.config, &keys, &parsed, now)
            }
        }
    }
}

impl Remote {
    fn cached(&self) -> Option<Arc<KeySet>> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A key set holding `kid`, fetching a fresh one if the cached set lacks it and the rate
    /// limit allows.
    async fn keys_with(&self, kid: &str) -> Result<Arc<KeySet>, AuthError> {
        if let Some(keys) = self.cached().filter(|keys| keys.get(kid).is_some()) {
            return Ok(keys);
        }
        let mut last_attempt = self.last_attempt.lock().await;
        // Someone may have fetched while we waited for the lock.
        let cached = self.cached();
        if let Some(keys) = cached.as_ref().filter(|keys| keys.get(kid).is_some()) {
            return Ok(Arc::clone(keys));
        }
        if last_attempt.is_some_and(|at| at.elapsed() < self.min_interval) {
            return Err(match cached {
                Some(_) => AuthError::UnknownKey(clip(kid)),
                None => AuthError::JwksUnavailable(
                    "the last fetch failed moments ago; not retrying yet".to_owned(),
                ),
            });
        }
        *last_attempt = Some(Instant::now());
        let keys = Arc::new(self.fetch().await?);
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&keys));
        if keys.get(kid).is_some() {
            Ok(keys)
        } else {
            Err(AuthError::UnknownKey(clip(kid)))
        }
    }

    async fn fetch(&self) -> Result<KeySet, AuthError> {
        let unavailable = |what: String| AuthError::JwksUnavailable(what);
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| unavailable(format!("fetching `{}`: {e}", self.url)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(unavailable(format!(
                "fetching `{}`: HTTP {status}",
                self.url
            )));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| unavailable(format!("reading `{}`: {e}", self.url)))?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(unavailable(format!(
                "`{}` answered {} bytes, too many for a JWKS",
                self.url,
                body.len()
            )));
        }
        KeySet::from_jwks(&Jwks::from_json(&body)?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::json;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;
    use crate::TokenUse;
    use crate::issuer::Issuer;

    const NOW: u64 = 1_800_000_000;
    const ISS: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test";

    fn issuer(pem: &str) -> Issuer {
        Issuer::from_pkcs8_pem(pem, ISS, "client").unwrap()
    }

    fn token(issuer: &Issuer, kid: Option<&str>) -> String {
        let claims = json!({"sub": "u", "iss": ISS, "client_id": "client", "token_use": "access",
            "iat": NOW, "exp": NOW + 60});
        let token = issuer.sign_claims(&claims).unwrap();
        match kid {
            // Swap the header for one naming another kid; the signature no longer matters.
            Some(kid) => {
                use base64::Engine as _;
                let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(json!({"alg": "RS256", "kid": kid}).to_string());
                let rest = token.split_once('.').unwrap().1;
                format!("{header}.{rest}")
            }
            None => token,
        }
    }

    /// A JWKS endpoint on 127.0.0.1 serving `body` (swappable), counting requests.
    struct JwksServer {
        url: String,
        body: Arc<Mutex<(u16, String)>>,
        hits: Arc<AtomicUsize>,
    }

    impl JwksServer {
        async fn start(body: String) -> JwksServer {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!(
                "http://{}/pool/.well-known/jwks.json",
                listener.local_addr().unwrap()
            );
            let body = Arc::new(Mutex::new((200, body)));
            let hits = Arc::new(AtomicUsize::new(0));
            let (served, counted) = (Arc::clone(&body), Arc::clone(&hits));
            // Ends with the test's runtime.
            tokio::spawn(async move {
                while let Ok((mut stream, _)) = listener.accept().await {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let mut request = vec![0u8; 4096];
                    let _ = stream.read(&mut request).await;
                    let (status, body) = served.lock().unwrap().clone();
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                }
            });
            JwksServer { url, body, hits }
        }

        fn hits(&self) -> usize {
            self.hits.load(Ordering::SeqCst)
        }

        fn serve(&self, status: u16, body: String) {
            *self.body.lock().unwrap() = (status, body);
        }
    }

    fn remote_verifier(url: &str, interval: Duration) -> Verifier {
        let config = VerifierConfig::new(ISS, "client", TokenUse::Access);
        Verifier::remote(config, url)
            .unwrap()
            .with_min_refresh_interval(interval)
    }

    #[test]
    fn verifier_can_be_shared_across_tasks() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: T) {}
        let verifier = remote_verifier("http://127.0.0.1:9/jwks.json", Duration::ZERO);
        send_sync(&verifier);
        // axum handlers need the verification future to be `Send`.
        send(verifier.verify("token"));
    }

    #[tokio::test]
    async fn fetches_once_then_serves_from_cache() {
        let a = issuer(include_str!("../testdata/key-a.pem"));
        let server = JwksServer::start(a.jwks().to_json()).await;
        let verifier = remote_verifier(&server.url, Duration::from_secs(3600));
        assert_eq!(
            server.hits(),
            0,
            "nothing is fetched before the first token"
        );
        for _ in 0..3 {
            let claims = verifier.verify_at(&token(&a, None), NOW).await.unwrap();
            assert_eq!(claims.sub, "u");
        }
        assert_eq!(server.hits(), 1);
    }

    #[tokio::test]
    async fn unknown_kid_refetches_once_and_floods_are_rate_limited() {
        let a = issuer(include_str!("../testdata/key-a.pem"));
        let server = JwksServer::start(a.jwks().to_json()).await;
        let verifier = remote_verifier(&server.url, Duration::from_secs(3600));
        verifier.verify_at(&token(&a, None), NOW).await.unwrap();
        // The first unknown kid after the rate-limit window would refetch; inside it, nothing does.
        for i in 0..50 {
            let error = verifier
                .verify_at(&token(&a, Some(&format!("random-{i}"))), NOW)
                .await
                .unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("token signed with unknown key `random-{i}`")
            );
        }
        assert_eq!(
            server.hits(),
            1,
            "a flood of unknown kids must not reach the endpoint"
        );
    }

    #[tokio::test]
    async fn rotated_key_is_picked_up_by_a_refetch() {
        let a = issuer(include_str!("../testdata/key-a.pem"));
        let b = issuer(include_str!("../testdata/key-b.pem"));
        let server = JwksServer::start(a.jwks().to_json()).await;
        let verifier = remote_verifier(&server.url, Duration::ZERO);
        verifier.verify_at(&token(&a, None), NOW).await.unwrap();
        // Unknown kid: refetch, still unknown.
        let error = verifier.verify_at(&token(&b, None), NOW).await.unwrap_err();
        assert!(matches!(error, AuthError::UnknownKey(_)), "{error}");
        assert_eq!(server.hits(), 2);
        // The pool publishes key B next to A: the next refetch finds it.
        let both = Jwks {
            keys: [a.jwks().keys, b.jwks().keys].concat(),
        };
        server.serve(200, both.to_json());
        assert_eq!(
            verifier.verify_at(&token(&b, None), NOW).await.unwrap().sub,
            "u"
        );
        assert_eq!(
            verifier.verify_at(&token(&a, None), NOW).await.unwrap().sub,
            "u"
        );
        assert_eq!(server.hits(), 3);
    }

    #[tokio::test]
    async fn endpoint_failures_are_jwks_unavailable() {
        let a = issuer(include_str!("../testdata/key-a.pem"));
        let server = JwksServer::start(String::new()).await;
        let verifier = remote_verifier(&server.url, Duration::ZERO);
        for (status, body, expected) in [
            (404, String::new(), "HTTP 404 Not Found"),
            (200, "<html>".to_owned(), "JWKS is not valid JSON"),
        ] {
            server.serve(status, body);
            let error = verifier.verify_at(&token(&a, None), NOW).await.unwrap_err();
            assert!(matches!(error, AuthError::JwksUnavailable(_)), "{error}");
            assert!(error.to_string().contains(expected), "{error}");
            assert!(!error.is_client_error());
        }
        // Nothing listening at all.
        let closed = format!("http://127.0.0.1:{}/jwks.json", testkit::free_port());
        let error = verifier_for(&closed)
            .verify_at(&token(&a, None), NOW)
            .await
            .unwrap_err();
        assert!(matches!(error, AuthError::JwksUnavailable(_)), "{error}");
        // After a failure, a retry inside the window does not hit the endpoint again.
        let limited = remote_verifier(&server.url, Duration::from_secs(3600));
        let hits = server.hits();
        let first = limited.verify_at(&token(&a, None), NOW).await.unwrap_err();
        let second = limited.verify_at(&token(&a, None), NOW).await.unwrap_err();
        assert!(matches!(first, AuthError::JwksUnavailable(_)), "{first}");
        assert_eq!(
            second.to_string(),
            "user pool keys unavailable: the last fetch failed moments ago; not retrying yet"
        );
        assert_eq!(server.hits(), hits + 1);
    }

    fn verifier_for(url: &str) -> Verifier {
        remote_verifier(url, Duration::ZERO)
    }
}
