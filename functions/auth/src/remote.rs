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
    pub fn remote(config: VerifierConfig, jwks_url: impl Into<String>) -> Result<Verifier, AuthError> {
        let client = reqwest::Client::builder()
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
            return Err(unavailable(format!("fetching `{}`: HTTP {status}", self.url)));
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
