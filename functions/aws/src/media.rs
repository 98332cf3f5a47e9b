//! Photo links through the stage's media distribution: the [`ObjectStore`] the API function
//! uses on AWS. Uploads and deletions go to the wrapped store (S3); download links are
//! CloudFront signed URLs with a custom policy, signed with the deployer's key.
//!
//! RSA signing costs milliseconds, so a signature is made once per resource and expiry and
//! reused: the domain signs links for fixed time windows, so every thumbnail and preview link of
//! one owner in one window shares one wildcard policy (`Grant::Owner`:
//! `https://{media}/derivatives/{owner}/*`), a share's links share one per photo (`Grant::Photo`:
//! `https://{media}/derivatives/{owner}/{photo}/*`), which opens nothing else of the owner's,
//! and an original, which keeps its location data, is signed for its own URL alone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use photo_domain::{
    Error, Grant, ObjectKey, ObjectStore, PresignedPost, Result, Timestamp, UploadPolicy,
};

use crate::cloudfront::{Policy, SignedPolicy, UrlSigner};

/// Memoised policies kept before the oldest are dropped: far more than one warm function
/// instance sees in a window.
const MEMO_LIMIT: usize = 10_000;

/// Download links through CloudFront, everything else through `inner`.
pub struct CloudFrontMedia {
    inner: Arc<dyn ObjectStore>,
    /// `https://{domain}`.
    origin: String,
    signer: UrlSigner,
    /// (resource, expiry) -> its signed policy.
    signed: Mutex<HashMap<(String, u64), SignedPolicy>>,
    signatures: AtomicU64,
}

impl std::fmt::Debug for CloudFrontMedia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudFrontMedia")
            .field("origin", &self.origin)
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

impl CloudFrontMedia {
    /// Links under `https://{domain}` (the media distribution's host name, such as
    /// `d111111abcdef8.cloudfront.net`), signed by `signer`.
    pub fn new(inner: Arc<dyn ObjectStore>, domain: &str, signer: UrlSigner) -> Result<Self> {
        let host_ok = !domain.is_empty()
            && domain.len() <= 253
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !host_ok {
            return Err(Error::Backend(format!(
                "the media domain must be a host name such as d111111abcdef8.cloudfront.net, \
                 not `{domain}`"
            )));
        }
        Ok(CloudFrontMedia {
            inner,
            origin: format!("https://{domain}"),
            signer,
            signed: Mutex::new(HashMap::new()),
            signatures: AtomicU64::new(0),
        })
    }

    /// How many RSA signatures this store has made.
    pub fn signatures(&self) -> u64 {
        self.signatures.load(Ordering::Relaxed)
    }

    /// What one signature for `key` and `grant` covers.
    fn resource(&self, key: &ObjectKey, grant: Grant) -> Result<String> {
        let key = key.as_str();
        let url_safe = key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
        let parts: Vec<&str> = key.split('/').collect();
        let shaped = url_safe && parts.len() >= 3 && parts.iter().all(|p| !p.is_empty());
        if !shaped {
            return Err(Error::Backend(format!(
                "`{key}` is not a photo object's key"
            )));
        }
        let origin = &self.origin;
        Ok(match grant {
            // A photo's original (`originals/{owner}/{photo}`) is signed alone, whoever asks: it
            // keeps its location and camera data, and its link is the one an owner copies to
            // send a single photo. One original is linked per answer, so this costs little.
            _ if parts.len() == 3 => format!("{origin}/{key}"),
            // `derivatives/{owner}/*`: every thumbnail and preview of the owner's.
            Grant::Owner => format!("{origin}/{}/{}/*", parts[0], parts[1]),
            // `derivatives/{owner}/{photo}/*`: this photo's alone.
            Grant::Photo => format!("{origin}/{}/*", parts[..3].join("/")),
        })
    }

    /// The signed policy for `resource` until `expires`, signing it only the first time.
    fn policy(&self, resource: String, expires: u64) -> Result<SignedPolicy> {
        let mut signed = self
            .signed
            .lock()
            .map_err(|_| Error::Backend("the media link cache is poisoned".into()))?;
        let memo = (resource, expires);
        if let Some(policy) = signed.get(&memo) {
            return Ok(policy.clone());
        }
        let policy = self
            .signer
            .custom(&Policy::until(memo.0.clone(), expires))
            .map_err(|e| Error::Backend(format!("signing a media link: {e}")))?;
        self.signatures.fetch_add(1, Ordering::Relaxed);
        if signed.len() >= MEMO_LIMIT {
            // Older windows' policies are never asked for again; if the current window alone
            // fills the memo, start it afresh.
            signed.retain(|(_, until), _| *until >= expires);
            if signed.len() >= MEMO_LIMIT {
                signed.clear();
            }
        }
        signed.insert(memo, policy.clone());
        Ok(policy)
    }
}

#[async_trait]
impl ObjectStore for CloudFrontMedia {
    async fn presign_upload(&self, policy: &UploadPolicy, now: Timestamp) -> Result<PresignedPost> {
        self.inner.presign_upload(policy, now).await
    }

    async fn presign_download(
        &self,
        key: &ObjectKey,
        grant: Grant,
        _signed_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<String> {
        let resource = self.resource(key, grant)?;
        let expires = u64::try_from(expires_at.secs())
            .map_err(|_| Error::Backend("a media link cannot expire before 1970".into()))?;
        let policy = self.policy(resource, expires)?;
        Ok(policy.apply(&format!("{}/{key}", self.origin)))
    }

    async fn delete_objects(&self, keys: &[ObjectKey]) -> Result<()> {
        self.inner.delete_objects(keys).await
    }

    async fn object_exists(&self, key: &ObjectKey) -> Result<bool> {
        self.inner.object_exists(key).await
    }
}
