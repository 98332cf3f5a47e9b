//! The local stage's photo bucket: objects as files, uploads by SigV4 POST forms, media by signed URLs.
//!
//! Upload forms are real S3 POST forms ([`s3post::presign_post`]) aimed at the stage's own
//! `/_s3/{bucket}` endpoint, which checks them with [`s3post::verify_post`]. Download URLs are
//! HMAC-signed and expire, like S3's pre-signed GETs. Object bytes live under `objects/data/{key}`
//! and their headers under `objects/meta/{key}` (the content type, and on a second line the
//! `Content-Disposition` of an original), written through a temporary file and a rename so a
//! crash never leaves half an object.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use photo_domain::{
    Error, Grant, ObjectKey, ObjectStore, PresignedPost, Result, Timestamp, UploadPolicy,
};
use s3post::{Credentials, Endpoint, PolicyLifetime, PostUpload};

type HmacSha256 = Hmac<sha2::Sha256>;

/// The region the local endpoint claims; credential scopes must name it.
pub const LOCAL_REGION: &str = "us-east-1";
/// The access key id of the local signing secret.
pub const LOCAL_ACCESS_KEY_ID: &str = "LOCALSTAGE";

/// The signing secrets, generated once per data directory.
#[derive(Clone)]
pub struct Secrets {
    pub upload: String,
    pub media: [u8; 32],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn mac(secret: &[u8], data: &[u8]) -> HmacSha256 {
    let mut m = <HmacSha256 as hmac::digest::KeyInit>::new_from_slice(secret)
        .expect("hmac takes any key length");
    m.update(data);
    m
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Backend(format!("{what} `{}`: {e}", path.display()))
}

/// The photo bucket on disk.
#[derive(Debug)]
pub struct FileObjectStore {
    root: PathBuf,
    bucket: String,
    /// `http://127.0.0.1:{port}`, without a trailing slash.
    base_url: String,
    secrets: Secrets,
    /// Shortens upload policies for tests of expiry; `None` keeps the API's lifetime.
    max_policy_secs: Option<u64>,
}

/// An object read with a size bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bounded {
    Missing,
    /// Larger than the bound: not read.
    TooLarge {
        size: u64,
    },
    Found(StoredObject),
}

/// A stored object read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub content_type: String,
    /// How a download is saved; set on originals only.
    pub content_disposition: Option<String>,
}

impl FileObjectStore {
    pub fn new(
        root: PathBuf,
        bucket: impl Into<String>,
        base_url: impl Into<String>,
        secrets: Secrets,
        max_policy_secs: Option<u64>,
    ) -> Self {
        FileObjectStore {
            root,
            bucket: bucket.into(),
            base_url: base_url.into(),
            secrets,
            max_policy_secs,
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The file of a key, refusing anything that could step outside the bucket.
    fn path(&self, area: &str, key: &str) -> Option<PathBuf> {
        let ok = !key.is_empty()
            && key.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            });
        ok.then(|| self.root.join(area).join(key))
    }

    fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
        Self::place(path, |tmp| crate::datadir::write_private(tmp, bytes))
    }

    /// Puts a file at `path` by filling a temporary file beside it and renaming it into place.
    fn place(path: &Path, fill: impl Fn(&Path) -> std::io::Result<()>) -> Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let tmp = path.with_extension("partial");
        let mut written = Ok(());
        // A deletion tidying up empty directories may remove `dir` between its creation and
        // the write: create it again once.
        for _ in 0..2 {
            std::fs::create_dir_all(dir).map_err(|e| io("creating", dir, e))?;
            written = fill(&tmp);
            if !matches!(&written, Err(e) if e.kind() == std::io::ErrorKind::NotFound) {
                break;
            }
        }
        written.map_err(|e| io("writing", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| io("renaming", &tmp, e))
    }

    /// Removes the directories above a deleted object that are now empty, up to the area's
    /// root, so nothing named after a deleted photo is left. A directory still in use is kept.
    fn remove_empty_parents(&self, area: &str, file: &Path) {
        let top = self.root.join(area);
        let mut dir = file.parent();
        while let Some(d) = dir {
            if d == top || !d.starts_with(&top) || std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }

    /// Stores an object (an accepted upload, or a derivative the thumbnail step writes).
    pub fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<()> {
        let (Some(data), Some(meta)) = (self.path("data", key), self.path("meta", key)) else {
            return Err(Error::Backend(format!("`{key}` is not a bucket key")));
        };
        // Metadata first: an object is visible once its bytes are in place.
        Self::write_atomically(&meta, content_type.as_bytes())?;
        Self::write_atomically(&data, bytes)
    }

    /// Stores under `key` the object at `source`, whose bytes were read as `bytes`: a hard link
    /// to the source's file, so an original of tens of megabytes is not written a second time.
    /// The linked file is compared with `bytes` before it is put in place (objects are only ever
    /// replaced by a rename, never changed in place, so what is compared stays); when the source
    /// is gone, holds other bytes, or cannot be linked, `bytes` are written instead.
    pub fn put_original(
        &self,
        source: &str,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        content_disposition: &str,
    ) -> Result<()> {
        let (Some(from), Some(data), Some(meta)) = (
            self.path("data", source),
            self.path("data", key),
            self.path("meta", key),
        ) else {
            return Err(Error::Backend(format!("`{key}` is not a bucket key")));
        };
        // One header a line: neither value may hold a line break.
        if content_type.contains('\n') || content_disposition.contains('\n') {
            return Err(Error::Backend(format!(
                "a header of `{key}` holds a line break"
            )));
        }
        let headers = format!("{content_type}\n{content_disposition}");
        Self::write_atomically(&meta, headers.as_bytes())?;
        let linked = Self::place(&data, |tmp| {
            match std::fs::remove_file(tmp) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            std::fs::hard_link(&from, tmp)?;
            if same_bytes(tmp, bytes)? {
                Ok(())
            } else {
                std::fs::remove_file(tmp)?;
                Err(std::io::Error::other("the source holds other bytes"))
            }
        });
        match linked {
            Ok(()) => Ok(()),
            Err(_) => Self::write_atomically(&data, bytes),
        }
    }

    /// Reads an object; `None` if there is none (or the key is not a bucket key).
    pub fn get(&self, key: &str) -> Result<Option<StoredObject>> {
        let (Some(data), Some(meta)) = (self.path("data", key), self.path("meta", key)) else {
            return Ok(None);
        };
        let bytes = match std::fs::read(&data) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("reading", &data, e)),
        };
        let headers = std::fs::read_to_string(&meta).unwrap_or_default();
        let mut lines = headers.lines();
        let content_type = lines
            .next()
            .filter(|t| !t.is_empty())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let content_disposition = lines.next().map(str::to_owned);
        Ok(Some(StoredObject {
            bytes,
            content_type,
            content_disposition,
        }))
    }

    /// Reads an object no larger than `max_bytes`, checking the size before reading a byte.
    pub fn get_bounded(&self, key: &str, max_bytes: u64) -> Result<Bounded> {
        let Some(data) = self.path("data", key) else {
            return Ok(Bounded::Missing);
        };
        match std::fs::metadata(&data) {
            Ok(m) if m.len() > max_bytes => return Ok(Bounded::TooLarge { size: m.len() }),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Bounded::Missing),
            Err(e) => return Err(io("reading", &data, e)),
        }
        Ok(match self.get(key)? {
            // It may have grown since: a rename put a new object in place.
            Some(o) if o.bytes.len() as u64 > max_bytes => Bounded::TooLarge {
                size: o.bytes.len() as u64,
            },
            Some(o) => Bounded::Found(o),
            None => Bounded::Missing,
        })
    }

    /// The secret for an access key id, for [`s3post::verify_post`].
    pub fn secret_for(&self, access_key_id: &str) -> Option<String> {
        (access_key_id == LOCAL_ACCESS_KEY_ID).then(|| self.secrets.upload.clone())
    }

    fn media_signature(&self, key: &str, expires: i64) -> HmacSha256 {
        mac(
            &self.secrets.media,
            format!("GET\n{}\n{key}\n{expires}", self.bucket).as_bytes(),
        )
    }

    /// Whether a `/_media/{key}?expires=..&signature=..` request is genuine and unexpired.
    pub fn verify_media(&self, key: &str, expires: i64, signature: &str, now: Timestamp) -> bool {
        let Some(sig) = (0..signature.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(signature.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()
        else {
            return false;
        };
        now.secs() < expires
            && self
                .media_signature(key, expires)
                .verify_slice(&sig)
                .is_ok()
    }
}

#[async_trait]
impl ObjectStore for FileObjectStore {
    async fn presign_upload(&self, policy: &UploadPolicy, now: Timestamp) -> Result<PresignedPost> {
        let mut secs = (policy.expires_at.secs() - now.secs()).clamp(1, 900) as u64;
        if let Some(max) = self.max_policy_secs {
            secs = secs.min(max.max(1));
        }
        let lifetime = PolicyLifetime::new(Duration::from_secs(secs))
            .map_err(|e| Error::Backend(e.to_string()))?;
        let upload = PostUpload {
            bucket: self.bucket.clone(),
            key: policy.key.as_str().to_owned(),
            content_type: policy.content_type.as_str().to_owned(),
            // The photo was declared with its exact size and checksum: nothing else may arrive.
            size: policy.size,
            sha256: Some(*policy.sha256.as_bytes()),
            lifetime,
        };
        let endpoint = Endpoint::path_style(&format!("{}/_s3", self.base_url))
            .map_err(|e| Error::Backend(e.to_string()))?;
        let credentials = Credentials::new(LOCAL_ACCESS_KEY_ID, self.secrets.upload.clone(), None);
        let signed_at = UNIX_EPOCH + Duration::from_millis(now.millis().max(0) as u64);
        let post = s3post::presign_post(&upload, LOCAL_REGION, &endpoint, &credentials, signed_at)
            .map_err(|e| Error::Backend(e.to_string()))?;
        Ok(PresignedPost {
            url: post.url,
            fields: post.fields.into_iter().collect::<BTreeMap<_, _>>(),
            expires_at: Timestamp::from_secs(post.expires_at as i64),
        })
    }

    /// One key's link, whatever the grant: an HMAC costs nothing, so nothing is shared.
    async fn presign_download(
        &self,
        key: &ObjectKey,
        _grant: Grant,
        _signed_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<String> {
        let expires = expires_at.secs();
        let sig = hex(&self
            .media_signature(key.as_str(), expires)
            .finalize()
            .into_bytes());
        Ok(format!(
            "{}/_media/{}/{key}?expires={expires}&signature={sig}",
            self.base_url, self.bucket
        ))
    }

    async fn delete_objects(&self, keys: &[ObjectKey]) -> Result<()> {
        for key in keys {
            for area in ["data", "meta"] {
                let Some(path) = self.path(area, key.as_str()) else {
                    continue;
                };
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io("deleting", &path, e)),
                }
                self.remove_empty_parents(area, &path);
            }
        }
        Ok(())
    }

    async fn object_exists(&self, key: &ObjectKey) -> Result<bool> {
        let Some(path) = self.path("data", key.as_str()) else {
            return Ok(false);
        };
        std::fs::exists(&path).map_err(|e| io("looking for", &path, e))
    }
}

/// Whether the file at `path` holds exactly `bytes`, read in chunks.
fn same_bytes(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    if file.metadata()?.len() != bytes.len() as u64 {
        return Ok(false);
    }
    let mut chunk = vec![0; 64 * 1024];
    let mut rest = bytes;
    loop {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            return Ok(rest.is_empty());
        }
        match rest.split_at_checked(n) {
            Some((head, tail)) if head == &chunk[..n] => rest = tail,
            _ => return Ok(false),
        }
    }
}

/// The current time as the verifier wants it.
pub fn system_time(now: Timestamp) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(now.millis().max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use photo_domain::{ContentType, PhotoId, Sha256, UserId};
    use sha2::Digest as _;

    fn store(root: &Path) -> FileObjectStore {
        FileObjectStore::new(
            root.to_owned(),
            "photos-local",
            "http://127.0.0.1:9",
            Secrets {
                upload: "upload-secret".into(),
                media: [7; 32],
            },
            None,
        )
    }

    fn key() -> ObjectKey {
        ObjectKey::upload(
            &UserId::parse("alice").unwrap(),
            &PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap(),
        )
    }

    #[tokio::test]
    async fn a_signed_form_verifies_for_its_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let now = Timestamp::from_secs(1_700_000_000);
        let photo = b"12345";
        let digest: [u8; 32] = sha2::Sha256::digest(photo).into();
        let policy = UploadPolicy {
            key: key(),
            content_type: ContentType::Jpeg,
            size: 5,
            sha256: Sha256::from_bytes(digest),
            expires_at: now.plus_secs(300),
        };
        let post = store.presign_upload(&policy, now).await.unwrap();
        assert_eq!(post.url, "http://127.0.0.1:9/_s3/photos-local");
        let fields: Vec<(String, String)> = post.fields.clone().into_iter().collect();
        let submit = |fields: &[(String, String)], file: &[u8], at: Timestamp| {
            s3post::verify_post(
                &s3post::PostSubmission {
                    bucket: "photos-local",
                    region: LOCAL_REGION,
                    fields,
                    file,
                    now: system_time(at),
                },
                |id| store.secret_for(id),
            )
        };
        assert_eq!(submit(&fields, photo, now).unwrap().key, key().as_str());
        assert_eq!(
            submit(&fields, b"123456", now).unwrap_err().s3_code(),
            "EntityTooLarge"
        );
        assert_eq!(
            submit(&fields, b"12346", now).unwrap_err().s3_code(),
            "BadDigest"
        );
        assert_eq!(
            submit(&fields, photo, now.plus_secs(301))
                .unwrap_err()
                .s3_code(),
            "AccessDenied"
        );
        let other: Vec<_> = fields
            .iter()
            .map(|(k, v)| match k.as_str() {
                "key" => (k.clone(), "uploads/bob/x".to_owned()),
                _ => (k.clone(), v.clone()),
            })
            .collect();
        assert_eq!(
            submit(&other, photo, now).unwrap_err().s3_code(),
            "AccessDenied"
        );
    }

    #[tokio::test]
    async fn objects_round_trip_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        store.put(key().as_str(), b"bytes", "image/jpeg").unwrap();
        let got = store.get(key().as_str()).unwrap().unwrap();
        assert_eq!(got.bytes, b"bytes");
        assert_eq!(got.content_type, "image/jpeg");
        assert!(store.put("../escape", b"x", "text/plain").is_err());
        assert!(store.put("a//b", b"x", "text/plain").is_err());
        assert_eq!(store.get("../../etc/passwd").unwrap(), None);
        assert_eq!(
            store.get_bounded(key().as_str(), 5).unwrap(),
            Bounded::Found(got.clone())
        );
        assert_eq!(
            store.get_bounded(key().as_str(), 4).unwrap(),
            Bounded::TooLarge { size: 5 }
        );
        assert_eq!(
            store.get_bounded("originals/x/y", 4).unwrap(),
            Bounded::Missing
        );
        assert_eq!(store.get_bounded("../x", 4).unwrap(), Bounded::Missing);
        let user = UserId::parse("alice").unwrap();
        let photo = PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap();
        let other = PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAW").unwrap();
        let [_, _, thumb, _] = ObjectKey::all_for(&user, &photo);
        store.put(thumb.as_str(), b"t", "image/jpeg").unwrap();
        let kept = ObjectKey::original(&user, &other);
        store.put(kept.as_str(), b"k", "image/jpeg").unwrap();
        store
            .delete_objects(&ObjectKey::all_for(&user, &photo))
            .await
            .unwrap();
        store.delete_objects(&[key()]).await.unwrap();
        assert_eq!(store.get(key().as_str()).unwrap(), None);
        // No directory named after the photo is left; the other photo's are untouched.
        for area in ["data", "meta"] {
            assert!(!dir.path().join(area).join("derivatives/alice").exists());
            assert!(dir.path().join(area).join("originals/alice").is_dir());
            assert!(dir.path().join(area).is_dir());
        }
        assert_eq!(store.get(kept.as_str()).unwrap().unwrap().bytes, b"k");
    }

    #[tokio::test]
    async fn a_copy_shares_the_sources_bytes_only_when_they_are_the_ones_read() {
        use std::os::unix::fs::MetadataExt as _;
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let user = UserId::parse("alice").unwrap();
        let photo = PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap();
        let (upload, original) = (key(), ObjectKey::original(&user, &photo));
        let inode = |key: &ObjectKey| {
            std::fs::metadata(dir.path().join("data").join(key.as_str()))
                .unwrap()
                .ino()
        };
        let photo_bytes = vec![42; 200_000];
        store
            .put(upload.as_str(), &photo_bytes, "image/png")
            .unwrap();
        let stored = store.get(upload.as_str()).unwrap().unwrap();
        assert_eq!(stored.content_disposition, None);

        let saved_as = "attachment; filename=\"a.png\"; filename*=UTF-8''a.png";
        let copy_of = |bytes: &[u8], disposition: &str| {
            store.put_original(
                upload.as_str(),
                original.as_str(),
                bytes,
                "image/png",
                disposition,
            )
        };
        copy_of(&photo_bytes, saved_as).unwrap();
        assert_eq!(
            inode(&original),
            inode(&upload),
            "linked, not written again"
        );
        let copy = store.get(original.as_str()).unwrap().unwrap();
        assert_eq!(copy.bytes, photo_bytes);
        assert_eq!(copy.content_type, "image/png");
        assert_eq!(copy.content_disposition.as_deref(), Some(saved_as));
        // Deleting the upload, as processing does next, leaves the original whole.
        store
            .delete_objects(std::slice::from_ref(&upload))
            .await
            .unwrap();
        let kept = store.get(original.as_str()).unwrap().unwrap();
        assert_eq!(kept.bytes, photo_bytes);

        // A source that is gone, or that holds other bytes than were read (one byte differs
        // near the end, the same length): the bytes read are written.
        copy_of(b"read", saved_as).unwrap();
        assert_eq!(
            store.get(original.as_str()).unwrap().unwrap().bytes,
            b"read"
        );
        let mut other = photo_bytes.clone();
        other[199_000] = 0;
        store.put(upload.as_str(), &other, "image/png").unwrap();
        copy_of(&photo_bytes, saved_as).unwrap();
        assert_ne!(inode(&original), inode(&upload));
        let kept = store.get(original.as_str()).unwrap().unwrap();
        assert_eq!(kept.bytes, photo_bytes);
        assert_eq!(store.get(upload.as_str()).unwrap().unwrap().bytes, other);
        let partial = "data/originals/alice/01ARZ3NDEKTSV4RRFFQ69G5FAV.partial";
        assert!(
            !dir.path().join(partial).exists(),
            "no temporary file is left"
        );
        assert!(
            store
                .put_original("../x", original.as_str(), b"x", "image/png", saved_as)
                .is_err()
        );
        assert!(
            copy_of(b"x", "a\nb").is_err(),
            "a header cannot add a line of its own"
        );
    }

    #[tokio::test]
    async fn media_urls_expire_and_name_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let now = Timestamp::from_secs(1000);
        let url = store
            .presign_download(&key(), Grant::Owner, now, now.plus_secs(60))
            .await
            .unwrap();
        let query = url.split_once('?').unwrap().1;
        let sig = query.split_once("signature=").unwrap().1;
        assert!(store.verify_media(key().as_str(), 1060, sig, now));
        assert!(!store.verify_media(key().as_str(), 1060, sig, now.plus_secs(60)));
        assert!(!store.verify_media("originals/bob/x", 1060, sig, now));
        assert!(!store.verify_media(key().as_str(), 1061, sig, now));
        assert!(!store.verify_media(key().as_str(), 1060, "zz", now));
    }
}
