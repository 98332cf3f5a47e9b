//! The photo bucket in memory, checking uploads and download URLs the way S3 would.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::signing::{random_secret, sign_hex, verify_hex};
use crate::error::{Error, Result};
use crate::ports::{Grant, ObjectKey, ObjectStore, PresignedPost, UploadPolicy};
use crate::types::{Sha256, Timestamp};

/// One stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// The photo bucket, in memory, with HMAC-signed upload policies and download URLs.
#[derive(Debug)]
pub struct InMemoryObjectStore {
    base_url: String,
    secret: [u8; 32],
    objects: Mutex<BTreeMap<String, StoredObject>>,
}

#[derive(Serialize, Deserialize)]
struct Policy {
    key: String,
    content_type: String,
    size: u64,
    sha256: String,
    expires: i64,
}

impl InMemoryObjectStore {
    /// `base_url` is where a local server would accept uploads and serve objects, without a
    /// trailing slash, e.g. `http://127.0.0.1:9000/photos`.
    pub fn new(base_url: impl Into<String>) -> Self {
        InMemoryObjectStore {
            base_url: base_url.into(),
            secret: random_secret(),
            objects: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, StoredObject>> {
        self.objects.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores an object directly, as the thumbnail function writes derivatives.
    pub fn put(&self, key: &ObjectKey, bytes: Vec<u8>, content_type: &str) {
        self.lock().insert(
            key.as_str().to_owned(),
            StoredObject {
                bytes,
                content_type: content_type.into(),
            },
        );
    }

    pub fn get(&self, key: &str) -> Option<StoredObject> {
        self.lock().get(key).cloned()
    }

    /// Every stored key, in order.
    pub fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// Accepts a browser upload made with a pre-signed POST, checking what S3 checks: the
    /// signature, the expiry, and that key, content type, size and checksum match the policy.
    pub fn accept_upload(
        &self,
        fields: &BTreeMap<String, String>,
        bytes: Vec<u8>,
        now: Timestamp,
    ) -> Result<ObjectKey> {
        let refuse = |why: &str| Error::invalid("upload", why.to_owned());
        let field = |name: &str| {
            fields
                .get(name)
                .ok_or_else(|| refuse(&format!("missing field `{name}`")))
        };
        let policy_b64 = field("policy")?;
        if !verify_hex(&self.secret, policy_b64.as_bytes(), field("x-signature")?) {
            return Err(refuse("bad signature"));
        }
        let policy: Policy = URL_SAFE_NO_PAD
            .decode(policy_b64)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| refuse("malformed policy"))?;
        if now.secs() >= policy.expires {
            return Err(refuse("policy expired"));
        }
        if field("key")? != &policy.key || field("Content-Type")? != &policy.content_type {
            return Err(refuse("fields do not match the policy"));
        }
        if bytes.len() as u64 != policy.size {
            return Err(refuse("size does not match the policy"));
        }
        let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        if Sha256::from_bytes(digest).to_string() != policy.sha256 {
            return Err(refuse("checksum does not match the policy"));
        }
        self.lock().insert(
            policy.key.clone(),
            StoredObject {
                bytes,
                content_type: policy.content_type,
            },
        );
        Ok(ObjectKey::from_trusted(policy.key))
    }

    /// Checks a download URL made by [`ObjectStore::presign_download`]; returns the key it opens.
    pub fn verify_download_url(&self, url: &str, now: Timestamp) -> Option<String> {
        let rest = url.strip_prefix(&self.base_url)?.strip_prefix('/')?;
        let (key, query) = rest.split_once('?')?;
        let mut expires = None;
        let mut signature = None;
        for pair in query.split('&') {
            match pair.split_once('=')? {
                ("expires", v) => expires = v.parse::<i64>().ok(),
                ("signature", v) => signature = Some(v),
                _ => return None,
            }
        }
        let (expires, signature) = (expires?, signature?);
        let ok = now.secs() < expires
            && verify_hex(
                &self.secret,
                format!("GET\n{key}\n{expires}").as_bytes(),
                signature,
            );
        ok.then(|| key.to_owned())
    }
}

#[async_trait]
impl ObjectStore for InMemoryObjectStore {
    async fn presign_upload(
        &self,
        policy: &UploadPolicy,
        _now: Timestamp,
    ) -> Result<PresignedPost> {
        let wire = Policy {
            key: policy.key.as_str().to_owned(),
            content_type: policy.content_type.as_str().to_owned(),
            size: policy.size,
            sha256: policy.sha256.to_string(),
            expires: policy.expires_at.secs(),
        };
        let encoded = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&wire).map_err(|e| Error::Backend(e.to_string()))?);
        let fields = BTreeMap::from([
            ("key".to_owned(), wire.key),
            ("Content-Type".to_owned(), wire.content_type),
            (
                "x-amz-checksum-sha256".to_owned(),
                policy.sha256.to_base64(),
            ),
            (
                "x-signature".to_owned(),
                sign_hex(&self.secret, encoded.as_bytes()),
            ),
            ("policy".to_owned(), encoded),
        ]);
        Ok(PresignedPost {
            url: self.base_url.clone(),
            fields,
            expires_at: policy.expires_at,
        })
    }

    async fn presign_download(
        &self,
        key: &ObjectKey,
        _grant: Grant,
        _signed_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<String> {
        let expires = expires_at.secs();
        let sig = sign_hex(&self.secret, format!("GET\n{key}\n{expires}").as_bytes());
        Ok(format!(
            "{}/{key}?expires={expires}&signature={sig}",
            self.base_url
        ))
    }

    async fn object_exists(&self, key: &ObjectKey) -> Result<bool> {
        Ok(self.lock().contains_key(key.as_str()))
    }

    async fn delete_objects(&self, keys: &[ObjectKey]) -> Result<()> {
        let mut objects = self.lock();
        for k in keys {
            objects.remove(k.as_str());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ContentType, PhotoId, UserId};

    #[tokio::test]
    async fn uploads_are_checked_like_s3_would() {
        let store = InMemoryObjectStore::new("http://127.0.0.1:1/b");
        let bytes = b"hello photo".to_vec();
        let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        let alice = UserId::parse("alice").unwrap();
        let photo = PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap();
        let now = Timestamp::from_secs(1000);
        let policy = UploadPolicy {
            key: ObjectKey::original(&alice, &photo),
            content_type: ContentType::Jpeg,
            size: bytes.len() as u64,
            sha256: Sha256::from_bytes(digest),
            expires_at: now.plus_secs(60),
        };
        let post = store.presign_upload(&policy, now).await.unwrap();
        assert!(
            !format!("{post:?}").contains(&post.fields["x-signature"]),
            "debug hides the signature"
        );
        let check = |fields: &BTreeMap<String, String>, bytes: &[u8], at: Timestamp| {
            store
                .accept_upload(fields, bytes.to_vec(), at)
                .map(|k| k.to_string())
                .map_err(|e| e.to_string())
        };
        let mut other_key = post.fields.clone();
        other_key.insert("key".into(), "originals/bob/x".into());
        let mut forged = post.fields.clone();
        forged.insert("x-signature".into(), "00".repeat(32));
        assert!(
            check(&other_key, &bytes, now)
                .unwrap_err()
                .contains("do not match")
        );
        assert!(
            check(&forged, &bytes, now)
                .unwrap_err()
                .contains("bad signature")
        );
        assert!(
            check(&post.fields, b"hello phot0", now)
                .unwrap_err()
                .contains("checksum")
        );
        assert!(
            check(&post.fields, b"hello", now)
                .unwrap_err()
                .contains("size")
        );
        assert!(
            check(&post.fields, &bytes, now.plus_secs(60))
                .unwrap_err()
                .contains("expired")
        );
        assert!(store.keys().is_empty());
        assert_eq!(
            check(&post.fields, &bytes, now).unwrap(),
            format!("originals/alice/{photo}")
        );
        assert_eq!(
            store
                .get(&format!("originals/alice/{photo}"))
                .unwrap()
                .bytes,
            bytes
        );
        store
            .delete_objects(&ObjectKey::all_for(&alice, &photo))
            .await
            .unwrap();
        assert!(store.keys().is_empty());
    }
}
