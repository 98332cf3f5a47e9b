//! The thumbnailer: from the key of an uploaded original to a READY or FAILED photo, with its
//! derivatives written or every object of a refused upload deleted.

use std::sync::Arc;

use tokio::sync::Semaphore;

use imaging::{ImagingError, PhotoMetadata, Settings, TakenAt};
use photo_domain::{
    BlobError, BlobStore, Camera, Dimensions, Error as DomainError, Gps, ObjectKey, Photo, PhotoId,
    PhotoStatus, ProcessedInfo, Processing, Sha256, Start, Timestamp, UserId,
};

/// The content type of both derivatives.
const JPEG: &str = "image/jpeg";

/// How the processing of one original ended. Every variant is final: processing the same key
/// again gives [`Outcome::Skipped`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The derivatives are written and the photo is READY.
    Ready,
    /// The photo is FAILED with this reason, worded for its owner; its objects are deleted.
    Failed { reason: String },
    /// Nothing to do: the photo is gone, already finished, or the key is not an upload.
    Skipped { reason: String },
}

/// Trouble that may go away on a retry; the original and the photo record are left as they were
/// (or in a state a retry finishes), so the caller should report the failure and let Lambda
/// retry.
#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    /// The object store failed.
    #[error("{action} `{key}`: {cause}")]
    Storage {
        /// What was being done: `reading`, `writing` or `deleting`.
        action: &'static str,
        key: String,
        cause: BlobError,
    },
    /// The photo records failed.
    #[error("{action} photo `{photo}`: {cause}")]
    Repository {
        /// What was being done.
        action: &'static str,
        photo: PhotoId,
        cause: DomainError,
    },
    /// The blocking task that decodes the image was cancelled or panicked outside the decoder.
    #[error("the imaging task did not finish: {0}")]
    Task(String),
    /// Some records of an event failed transiently (the others were processed).
    #[error("`{failed}` of `{total}` records failed; the first, `{key}`: {first}")]
    Records {
        failed: usize,
        total: usize,
        key: String,
        first: Box<ThumbnailError>,
    },
}

fn skipped(reason: impl Into<String>) -> Outcome {
    Outcome::Skipped {
        reason: reason.into(),
    }
}

/// How many times one photo's processing may start on Lambda: the event's delivery and
/// Lambda's two retries of an asynchronous invocation.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The photo an event's key names and the key its bytes are at: an upload
/// (`uploads/{user}/{photo}`), or an original uploaded before uploads were staged (the local
/// stage may still hold jobs for those). `None` for any other key.
pub fn source_of(key: &str) -> Option<(UserId, PhotoId, ObjectKey)> {
    if let Some((owner, id)) = ObjectKey::parse_upload(key) {
        let source = ObjectKey::upload(&owner, &id);
        return Some((owner, id, source));
    }
    let (owner, id) = ObjectKey::parse_original(key)?;
    let source = ObjectKey::original(&owner, &id);
    Some((owner, id, source))
}

/// Processes uploads; cheap to share, one per function instance.
#[derive(Debug, Clone)]
pub struct Thumbnailer {
    processing: Processing,
    blobs: Arc<dyn BlobStore>,
    settings: Arc<Settings>,
    max_attempts: u32,
    /// Permits to decode: `None` decodes every photo at once (Lambda runs one at a time).
    decode_slots: Option<Arc<Semaphore>>,
}

impl Thumbnailer {
    /// A thumbnailer recording outcomes through `processing` (which cannot sign links: this
    /// step never needs media-signing keys) and reading and writing bytes through `blobs`.
    pub fn new(processing: Processing, blobs: Arc<dyn BlobStore>, settings: Settings) -> Self {
        Thumbnailer {
            processing,
            blobs,
            settings: Arc::new(settings),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            decode_slots: None,
        }
    }

    /// The same thumbnailer, decoding and deriving a photo only while it holds one of `slots`'
    /// permits. A caller with several photos in flight bounds the CPU work with it, while the
    /// photos' reads and writes (files, records) go on around it.
    pub fn with_decode_slots(mut self, slots: Arc<Semaphore>) -> Self {
        self.decode_slots = Some(slots);
        self
    }

    /// The same thumbnailer, starting a photo's processing at most `attempts` times (at least
    /// once).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Processes the upload at `key` (an S3 key as stored, already URL-decoded).
    ///
    /// An attempt is taken on the photo's record before anything is read, so events of one
    /// upload arriving together (a form posted again and again) decode it at most
    /// `max_attempts` times. The upload's bytes are checked and decoded, the derivatives
    /// written, the bytes copied to the photo's original key, the photo marked READY, and the
    /// upload deleted: nothing a form can write reaches a processed photo, and an upload that
    /// arrives after its photo is finished (or deleted) is removed unread.
    ///
    /// `Ok` for every final answer: READY, FAILED with a user-readable reason, or skipped because
    /// the photo is gone, already finished, or `key` is not an upload. `Err` only for transient
    /// trouble (storage, repository), so the caller retries; a retry finishes what this call
    /// started, because every step is idempotent and the photo stays PENDING until the last one.
    pub async fn process(&self, key: &str) -> Result<Outcome, ThumbnailError> {
        let Some((owner, id, source)) = source_of(key) else {
            return Ok(skipped(format!("`{key}` is not the key of an upload")));
        };
        let staged = source == ObjectKey::upload(&owner, &id);
        let start = self
            .processing
            .start(&owner, &id, self.max_attempts)
            .await
            .map_err(|cause| ThumbnailError::Repository {
                action: "starting to process",
                photo: id,
                cause,
            })?;
        let photo = match start {
            Start::Go(photo) => photo,
            Start::Finished(photo) => {
                return self.already_finished(&owner, &id, &photo.status).await;
            }
            Start::Gone => {
                // A form posted after its photo was deleted: its bytes go too.
                if staged {
                    self.delete(std::slice::from_ref(&source)).await?;
                }
                return Ok(skipped("the photo was deleted"));
            }
            Start::Spent(photo) => {
                let reason = format!(
                    "processing did not finish in {} attempts",
                    photo.processing_attempts
                );
                return self.fail(&owner, &id, &reason).await;
            }
        };

        // The upload form pins the size, so anything longer than declared is refused unread.
        let limit = self.settings.max_file_bytes.min(photo.size);
        let bytes = match self.blobs.get(&source, limit).await {
            Ok(Some(bytes)) => bytes,
            // Deleted by its owner after we read the record; the record goes next.
            Ok(None) => return Ok(skipped("the upload is gone")),
            Err(BlobError::TooLarge { size, .. }) if size > self.settings.max_file_bytes => {
                let refusal = ImagingError::FileTooLarge {
                    bytes: size,
                    limit: self.settings.max_file_bytes,
                };
                return self.fail(&owner, &id, &refusal.to_string()).await;
            }
            Err(BlobError::TooLarge { .. }) => {
                return self.fail(&owner, &id, "size mismatch").await;
            }
            // S3 answers a missing key with 403 to a role that may not list the bucket, as the
            // thumbnail role may not: an upload another attempt finished (and deleted) looks like
            // a failure. The record tells: finished or gone is final, PENDING is worth a retry.
            Err(cause) => {
                return match self.photo(&owner, &id).await? {
                    Some(photo) if photo.status != PhotoStatus::Pending => {
                        self.already_finished(&owner, &id, &photo.status).await
                    }
                    None => Ok(skipped("the photo was deleted while it was processed")),
                    Some(_) => Err(storage("reading", &source, cause)),
                };
            }
        };

        // Decoding a 24-megapixel photo takes a CPU for a good fraction of a second: keep it off
        // the async worker threads.
        let settings = Arc::clone(&self.settings);
        let slot = match &self.decode_slots {
            Some(slots) => Some(
                Arc::clone(slots)
                    .acquire_owned()
                    .await
                    .map_err(|e| ThumbnailError::Task(e.to_string()))?,
            ),
            None => None,
        };
        let (bytes, processed) = tokio::task::spawn_blocking(move || {
            let processed = imaging::process(&bytes, &settings);
            (bytes, processed)
        })
        .await
        .map_err(|e| ThumbnailError::Task(e.to_string()))?;
        drop(slot);
        let processed = match processed {
            Ok(processed) => processed,
            Err(refusal) => return self.fail(&owner, &id, &refusal.to_string()).await,
        };

        let thumbnail = ObjectKey::thumbnail(&owner, &id);
        let preview = ObjectKey::preview(&owner, &id);
        let original = ObjectKey::original(&owner, &id);
        let info = processed_info(&processed.metadata);
        // Bytes other than the declared ones are not copied: `complete` records why.
        let declared = info.sha256_actual == photo.sha256_declared && info.size == photo.size;
        // The three writes go together: the function waits for the slowest, not for the sum.
        // Each is idempotent, so a retry after one of them failed writes them all again.
        tokio::try_join!(
            self.put(&thumbnail, processed.thumbnail.bytes, JPEG),
            self.put(&preview, processed.preview.bytes, JPEG),
            async {
                if staged && declared {
                    self.blobs
                        .put_original(
                            &source,
                            &original,
                            bytes,
                            photo.content_type.as_str(),
                            &photo.file_name.content_disposition(),
                        )
                        .await
                        .map_err(|cause| storage("writing", &original, cause))
                } else {
                    Ok(())
                }
            },
        )?;
        // `start` answered the record: completing needs no second read.
        match self.processing.complete_read(&owner, photo, info).await {
            Ok(done) => match done.status {
                PhotoStatus::Ready => {
                    if staged {
                        self.delete(std::slice::from_ref(&source)).await?;
                    }
                    Ok(Outcome::Ready)
                }
                // The checksum or size does not match the declaration.
                PhotoStatus::Failed { reason } => {
                    self.delete(&ObjectKey::all_for(&owner, &id)).await?;
                    Ok(Outcome::Failed { reason })
                }
                PhotoStatus::Pending => Err(ThumbnailError::Repository {
                    action: "completing",
                    photo: id,
                    cause: DomainError::Conflict("the photo is still PENDING".into()),
                }),
            },
            Err(DomainError::NotFound) => {
                self.delete(&ObjectKey::all_for(&owner, &id)).await?;
                Ok(skipped("the photo was deleted while it was processed"))
            }
            Err(DomainError::Conflict(_)) => self.settle(&owner, &id).await,
            Err(cause) => Err(ThumbnailError::Repository {
                action: "completing",
                photo: id,
                cause,
            }),
        }
    }

    async fn photo(&self, owner: &UserId, id: &PhotoId) -> Result<Option<Photo>, ThumbnailError> {
        match self.processing.photo(owner, id).await {
            Ok(photo) => Ok(photo),
            Err(cause) => Err(ThumbnailError::Repository {
                action: "reading",
                photo: *id,
                cause,
            }),
        }
    }

    /// Marks the photo FAILED with `reason`, then deletes its objects.
    ///
    /// The record goes first: if the delete fails, the retry finds the photo FAILED and finishes
    /// the cleanup ([`Thumbnailer::already_finished`]); the other order could leave a PENDING
    /// photo whose original is gone.
    async fn fail(
        &self,
        owner: &UserId,
        id: &PhotoId,
        reason: &str,
    ) -> Result<Outcome, ThumbnailError> {
        let photo = match self.processing.fail(owner, id, reason).await {
            Ok(photo) => photo,
            Err(DomainError::NotFound) => return Ok(skipped("the photo was deleted")),
            Err(DomainError::Conflict(_)) => return self.settle(owner, id).await,
            Err(cause) => {
                return Err(ThumbnailError::Repository {
                    action: "failing",
                    photo: *id,
                    cause,
                });
            }
        };
        self.delete(&ObjectKey::all_for(owner, id)).await?;
        let reason = match photo.status {
            PhotoStatus::Failed { reason } => reason,
            _ => reason.to_owned(),
        };
        Ok(Outcome::Failed { reason })
    }

    /// Someone else finished the photo between our read and our write: go by what is stored now.
    async fn settle(&self, owner: &UserId, id: &PhotoId) -> Result<Outcome, ThumbnailError> {
        match self.photo(owner, id).await? {
            Some(photo) => self.already_finished(owner, id, &photo.status).await,
            None => {
                self.delete(&ObjectKey::all_for(owner, id)).await?;
                Ok(skipped("the photo was deleted while it was processed"))
            }
        }
    }

    /// A duplicate event, a form posted again after processing, or a retry after an earlier
    /// attempt got further than it could report.
    async fn already_finished(
        &self,
        owner: &UserId,
        id: &PhotoId,
        status: &PhotoStatus,
    ) -> Result<Outcome, ThumbnailError> {
        match status {
            // A FAILED photo keeps no objects: finish a cleanup an earlier attempt may not have.
            PhotoStatus::Failed { .. } => self.delete(&ObjectKey::all_for(owner, id)).await?,
            // A READY photo keeps its original and derivatives; whatever sits at its upload key
            // came later (or is left from a retry) and is removed unread.
            _ => self.delete(&[ObjectKey::upload(owner, id)]).await?,
        }
        Ok(skipped(format!("the photo is already {}", status.as_str())))
    }

    async fn put(
        &self,
        key: &ObjectKey,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), ThumbnailError> {
        self.blobs
            .put(key, body, content_type)
            .await
            .map_err(|cause| storage("writing", key, cause))
    }

    async fn delete(&self, keys: &[ObjectKey]) -> Result<(), ThumbnailError> {
        self.blobs.delete(keys).await.map_err(|cause| {
            let key = keys.first().map(ObjectKey::to_string).unwrap_or_default();
            storage("deleting", &key, cause)
        })
    }
}

fn storage(action: &'static str, key: impl ToString, cause: BlobError) -> ThumbnailError {
    ThumbnailError::Storage {
        action,
        key: key.to_string(),
        cause,
    }
}

/// What the domain records about a processed photo. EXIF values that do not fit the domain's
/// types (an impossible date, a camera name full of control characters) are dropped rather than
/// failing a photo that decoded fine.
fn processed_info(m: &PhotoMetadata) -> ProcessedInfo {
    ProcessedInfo {
        dimensions: Dimensions {
            width: m.width,
            height: m.height,
        },
        taken_at: m.taken_at.as_ref().and_then(taken_at),
        taken_offset_minutes: m
            .taken_at
            .filter(|t| taken_at(t).is_some())
            .and_then(|t| t.offset_minutes),
        camera: m.camera.as_ref().and_then(camera),
        gps: m.gps.and_then(|g| Gps::new(g.latitude, g.longitude).ok()),
        sha256_actual: Sha256::from_bytes(m.sha256.0),
        size: m.bytes,
    }
}

/// EXIF `DateTimeOriginal` as an instant. Without an offset tag the camera's local time is
/// unknown, so the wall-clock reading is taken as UTC: the day and time a user sees stay those
/// the camera showed.
fn taken_at(t: &TakenAt) -> Option<Timestamp> {
    let year = i64::from(t.year);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match t.month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if t.day == 0 || t.day > month_days || t.hour > 23 || t.minute > 59 || t.second > 60 {
        return None;
    }
    let days = days_from_civil(year, i64::from(t.month), i64::from(t.day));
    let seconds =
        days * 86_400 + i64::from(t.hour) * 3600 + i64::from(t.minute) * 60 + i64::from(t.second)
            - i64::from(t.offset_minutes.unwrap_or(0)) * 60;
    Some(Timestamp::from_secs(seconds))
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// EXIF `Make` and `Model` as one name; most cameras repeat the make in the model
/// (`Canon` + `Canon EOS R6`), which is then shown once.
fn camera(c: &imaging::Camera) -> Option<Camera> {
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(|s| s.chars().filter(|c| !c.is_control()).collect::<String>())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let name = match (clean(&c.make), clean(&c.model)) {
        (Some(make), Some(model)) if model.to_lowercase().starts_with(&make.to_lowercase()) => {
            model
        }
        (Some(make), Some(model)) => format!("{make} {model}"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => return None,
    };
    let name: String = name.chars().take(Camera::MAX_CHARS).collect();
    Camera::parse(&name).ok()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use photo_domain::memory::{InMemoryObjectStore, InMemoryRepository, ManualClock};
    use photo_domain::{ContentType, FileName, Limits, NewUpload};

    use super::*;
    use photo_domain::PhotoService;

    use crate::event::S3Record;

    /// Which operation of [`MemoryBlobs`] fails next, to play a flaky S3.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Flake {
        Get,
        Put,
        Delete,
    }

    /// The photo bucket in memory: `(bytes, content type)` by key.
    #[derive(Debug, Default)]
    struct MemoryBlobs {
        objects: Mutex<BTreeMap<String, (Vec<u8>, String)>>,
        flake: Mutex<Option<Flake>>,
        /// How many reads of an upload were made (each one is followed by a decode).
        upload_gets: std::sync::atomic::AtomicUsize,
        /// Deletes this photo through the service when the preview is written, as its owner
        /// would while the function is busy.
        delete_on_put: Mutex<Option<(PhotoService, UserId, PhotoId)>>,
        /// Finishes this photo (FAILED) and then refuses the read, as S3 answers 403 for an
        /// upload another attempt finished and deleted.
        finish_on_get: Mutex<Option<(PhotoService, UserId, PhotoId)>>,
        /// Holds every write until this many writes are in flight at once.
        put_barrier: Mutex<Option<Arc<tokio::sync::Barrier>>>,
        /// The `Content-Disposition` each original was written with.
        dispositions: Mutex<BTreeMap<String, String>>,
    }

    impl MemoryBlobs {
        fn insert(&self, key: &ObjectKey, bytes: Vec<u8>) {
            let mut objects = self.objects.lock().unwrap();
            objects.insert(key.to_string(), (bytes, "application/octet-stream".into()));
        }
        fn get_now(&self, key: &ObjectKey) -> Option<(Vec<u8>, String)> {
            self.objects.lock().unwrap().get(key.as_str()).cloned()
        }
        fn keys(&self) -> Vec<String> {
            self.objects.lock().unwrap().keys().cloned().collect()
        }
        fn gets(&self) -> usize {
            self.upload_gets.load(std::sync::atomic::Ordering::SeqCst)
        }
        fn fail_next(&self, op: Flake) {
            *self.flake.lock().unwrap() = Some(op);
        }
        fn flaky(&self, op: Flake) -> Result<(), BlobError> {
            let mut flake = self.flake.lock().unwrap();
            if *flake == Some(op) {
                *flake = None;
                return Err(BlobError::new(format!("injected {op:?} failure")));
            }
            Ok(())
        }
    }

    #[async_trait]
    impl BlobStore for MemoryBlobs {
        async fn get(&self, key: &ObjectKey, max: u64) -> Result<Option<Vec<u8>>, BlobError> {
            if key.as_str().starts_with("uploads/") {
                self.upload_gets
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let finish = self.finish_on_get.lock().unwrap().take();
                if let Some((service, owner, id)) = finish {
                    service
                        .fail_processing(&owner, &id, "finished elsewhere")
                        .await
                        .unwrap();
                    return Err(BlobError::new("AccessDenied"));
                }
            }
            self.flaky(Flake::Get)?;
            match self.get_now(key) {
                Some((bytes, _)) if bytes.len() as u64 > max => Err(BlobError::TooLarge {
                    size: bytes.len() as u64,
                    limit: max,
                }),
                found => Ok(found.map(|(bytes, _)| bytes)),
            }
        }
        async fn put(&self, key: &ObjectKey, body: Vec<u8>, ct: &str) -> Result<(), BlobError> {
            self.flaky(Flake::Put)?;
            let barrier = self.put_barrier.lock().unwrap().clone();
            if let Some(barrier) = barrier {
                let together = barrier.wait();
                if tokio::time::timeout(std::time::Duration::from_secs(5), together)
                    .await
                    .is_err()
                {
                    return Err(BlobError::new("the other writes never came"));
                }
            }
            self.objects
                .lock()
                .unwrap()
                .insert(key.to_string(), (body, ct.to_owned()));
            if key.as_str().ends_with("/preview.jpg") {
                let pending = self.delete_on_put.lock().unwrap().take();
                if let Some((service, owner, id)) = pending {
                    service.delete_photo(&owner, &id).await.unwrap();
                }
            }
            Ok(())
        }
        async fn put_original(
            &self,
            _source: &ObjectKey,
            key: &ObjectKey,
            body: Vec<u8>,
            ct: &str,
            disposition: &str,
        ) -> Result<(), BlobError> {
            self.put(key, body, ct).await?;
            self.dispositions
                .lock()
                .unwrap()
                .insert(key.to_string(), disposition.to_owned());
            Ok(())
        }
        async fn delete(&self, keys: &[ObjectKey]) -> Result<(), BlobError> {
            self.flaky(Flake::Delete)?;
            let mut objects = self.objects.lock().unwrap();
            for key in keys {
                objects.remove(key.as_str());
            }
            Ok(())
        }
    }

    struct Fixture {
        service: PhotoService,
        blobs: Arc<MemoryBlobs>,
        thumbnailer: Thumbnailer,
    }

    fn fixture_with(settings: Settings) -> Fixture {
        let service = PhotoService::new(
            Arc::new(InMemoryRepository::new()),
            Arc::new(InMemoryObjectStore::new("mem://photos")),
            Arc::new(ManualClock::new(Timestamp::from_secs(1_800_000_000))),
            Limits::default(),
        );
        let blobs = Arc::new(MemoryBlobs::default());
        let thumbnailer = Thumbnailer::new(service.processing(), blobs.clone(), settings);
        Fixture {
            service,
            blobs,
            thumbnailer,
        }
    }

    fn fixture() -> Fixture {
        fixture_with(Settings::default())
    }

    fn owner() -> UserId {
        UserId::parse("0f1e2d3c-aaaa-bbbb-cccc-1234567890ab").unwrap()
    }

    fn photo_fixture(name: &str) -> Vec<u8> {
        let path = testkit::test_photos().join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("reading `{}`: {e}", path.display()))
    }

    fn hostile_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../imaging/tests/hostile")
    }

    /// What the browser does: asks for an upload declaring `size` and `sha256`, then puts
    /// `bytes` (which may differ from the declaration) at the upload key.
    async fn upload_declaring(f: &Fixture, bytes: Vec<u8>, size: u64, sha256: Sha256) -> Photo {
        let upload = NewUpload {
            file_name: FileName::parse("IMG_0001.jpg").unwrap(),
            content_type: ContentType::Jpeg,
            size,
            sha256,
        };
        let (photo, _) = f.service.start_upload(&owner(), upload).await.unwrap();
        f.blobs
            .insert(&ObjectKey::upload(&owner(), &photo.id), bytes);
        photo
    }

    async fn upload(f: &Fixture, bytes: Vec<u8>) -> Photo {
        let sha = Sha256::from_bytes(imaging::Sha256Digest::of(&bytes).0);
        let size = bytes.len() as u64;
        upload_declaring(f, bytes, size, sha).await
    }

    fn key(photo: &Photo) -> String {
        ObjectKey::upload(&owner(), &photo.id).to_string()
    }

    async fn stored(f: &Fixture, photo: &Photo) -> Photo {
        f.service
            .get_photo(&owner(), &photo.id)
            .await
            .unwrap()
            .photo
    }

    /// Asserts both derivatives are stored as JPEGs and returns them.
    fn derivatives(f: &Fixture, photo: &Photo) -> [Vec<u8>; 2] {
        [
            ObjectKey::thumbnail(&owner(), &photo.id),
            ObjectKey::preview(&owner(), &photo.id),
        ]
        .map(|key| {
            let (bytes, content_type) = f.blobs.get_now(&key).expect("derivative written");
            assert_eq!(content_type, "image/jpeg");
            assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]), "{key} is a JPEG");
            bytes
        })
    }

    async fn check_ready(name: &str) -> (Fixture, Photo) {
        let f = fixture();
        let bytes = photo_fixture(name);
        let expected = imaging::process(&bytes, &Settings::default()).unwrap();
        let photo = upload(&f, bytes).await;
        assert_eq!(
            f.thumbnailer.process(&key(&photo)).await.unwrap(),
            Outcome::Ready,
            "{name}"
        );
        let [thumb, preview] = derivatives(&f, &photo);
        assert_eq!(thumb, expected.thumbnail.bytes, "{name}: the thumbnail");
        assert_eq!(preview, expected.preview.bytes, "{name}: the preview");
        let done = stored(&f, &photo).await;
        assert_eq!(done.status, PhotoStatus::Ready, "{name}");
        assert_eq!(
            done.dimensions,
            Some(Dimensions {
                width: expected.metadata.width,
                height: expected.metadata.height
            })
        );
        assert_eq!(done.sha256_actual, Some(photo.sha256_declared));
        (f, photo)
    }

    #[tokio::test]
    async fn a_photo_waits_for_a_decode_slot_and_then_becomes_ready() {
        let slots = Arc::new(Semaphore::new(1));
        let mut f = fixture();
        f.thumbnailer = f.thumbnailer.clone().with_decode_slots(slots.clone());
        let photo = upload(&f, photo_fixture("orientation-1.jpg")).await;
        let held = slots.clone().acquire_owned().await.unwrap();
        let thumbnailer = f.thumbnailer.clone();
        let key = key(&photo);
        let running = tokio::spawn(async move { thumbnailer.process(&key).await });
        // Every slot is taken: the photo is read, but nothing is decoded or written.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!running.is_finished(), "processed without a slot");
        assert_eq!(stored(&f, &photo).await.status, PhotoStatus::Pending);
        assert!(
            f.blobs
                .get_now(&ObjectKey::thumbnail(&owner(), &photo.id))
                .is_none(),
            "a derivative written without a slot"
        );
        drop(held);
        assert_eq!(running.await.unwrap().unwrap(), Outcome::Ready);
        assert_eq!(stored(&f, &photo).await.status, PhotoStatus::Ready);
        assert_eq!(slots.available_permits(), 1, "the slot is given back");
    }

    #[tokio::test]
    async fn a_camera_jpeg_becomes_ready_with_its_metadata() {
        let (f, photo) = check_ready("landscape-8mp.jpg").await;
        let done = stored(&f, &photo).await;
        assert_eq!(
            done.dimensions,
            Some(Dimensions {
                width: 3640,
                height: 2400
            })
        );
        assert!(done.camera.is_some(), "camera from EXIF");
        assert!(done.taken_at.is_some(), "taken-at from EXIF");
        assert!(done.gps.is_some(), "GPS kept in the owner's record");
        // The upload is now the original, which its owner may download; the upload key is
        // empty again.
        let (original, content_type) = f
            .blobs
            .get_now(&ObjectKey::original(&owner(), &photo.id))
            .expect("the original");
        assert_eq!(original, photo_fixture("landscape-8mp.jpg"));
        assert_eq!(content_type, "image/jpeg");
        // A download of it is saved under the name it was uploaded with.
        assert_eq!(
            f.blobs.dispositions.lock().unwrap()[ObjectKey::original(&owner(), &photo.id).as_str()],
            "attachment; filename=\"IMG_0001.jpg\"; filename*=UTF-8''IMG_0001.jpg"
        );
        assert!(
            f.blobs
                .get_now(&ObjectKey::upload(&owner(), &photo.id))
                .is_none()
        );
        assert_eq!(f.blobs.keys().len(), 3);
    }

    #[tokio::test]
    async fn a_form_posted_again_after_processing_changes_nothing_and_is_removed() {
        let (f, photo) = check_ready("orientation-1.jpg").await;
        let original = ObjectKey::original(&owner(), &photo.id);
        let before = (
            f.blobs.get_now(&original),
            derivatives(&f, &photo),
            stored(&f, &photo).await,
        );
        // The same form posted later: other bytes at the upload key (S3 would refuse bytes that
        // do not match the form's checksum; these stand for whatever arrives).
        f.blobs.insert(
            &ObjectKey::upload(&owner(), &photo.id),
            photo_fixture("orientation-2.jpg"),
        );
        assert_eq!(
            f.thumbnailer.process(&key(&photo)).await.unwrap(),
            skipped("the photo is already READY")
        );
        let after = (
            f.blobs.get_now(&original),
            derivatives(&f, &photo),
            stored(&f, &photo).await,
        );
        assert_eq!(before, after, "the processed photo is untouched");
        assert_eq!(f.blobs.keys().len(), 3, "the late upload is gone");
        assert_eq!(f.blobs.gets(), 1, "and was never read");
    }

    #[tokio::test]
    async fn a_burst_of_events_for_one_upload_decodes_it_at_most_the_attempt_limit() {
        let f = fixture();
        let photo = upload(&f, photo_fixture("orientation-3.jpg")).await;
        let key = key(&photo);
        // Twenty deliveries at once, as re-posting one form would cause.
        let mut burst = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (thumbnailer, key) = (f.thumbnailer.clone(), key.clone());
            burst.spawn(async move { thumbnailer.process(&key).await });
        }
        let outcomes = burst.join_all().await;
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        assert!(
            f.blobs.gets() <= DEFAULT_MAX_ATTEMPTS as usize,
            "read (and decoded) {} times",
            f.blobs.gets()
        );
        // The attempts are spent while the first ones still run: the photo is refused, and
        // keeps nothing.
        assert_eq!(
            stored(&f, &photo).await.status,
            PhotoStatus::Failed {
                reason: "processing did not finish in 3 attempts".into()
            }
        );
        assert_eq!(f.blobs.keys(), Vec::<String>::new());
    }

    #[tokio::test]
    async fn an_unreadable_upload_of_a_photo_finished_meanwhile_is_settled_by_its_record() {
        let f = fixture();
        let photo = upload(&f, photo_fixture("orientation-7.jpg")).await;
        *f.blobs.finish_on_get.lock().unwrap() = Some((f.service.clone(), owner(), photo.id));
        assert_eq!(
            f.thumbnailer.process(&key(&photo)).await.unwrap(),
            skipped("the photo is already FAILED")
        );
        assert_eq!(f.blobs.keys(), Vec::<String>::new());
        // While the photo is still PENDING, the same failure is worth a retry.
        let pending = upload(&f, photo_fixture("orientation-8.jpg")).await;
        f.blobs.fail_next(Flake::Get);
        assert!(f.thumbnailer.process(&key(&pending)).await.is_err());
    }

    #[tokio::test]
    async fn the_original_and_both_derivatives_are_written_together() {
        let f = fixture();
        let photo = upload(&f, photo_fixture("orientation-1.jpg")).await;
        // Written one after the other, the first write would wait for the others in vain.
        *f.blobs.put_barrier.lock().unwrap() = Some(Arc::new(tokio::sync::Barrier::new(3)));
        assert_eq!(
            f.thumbnailer.process(&key(&photo)).await.unwrap(),
            Outcome::Ready
        );
        let mut keys = f.blobs.keys();
        keys.sort();
        let mut expected = [
            ObjectKey::original(&owner(), &photo.id),
            ObjectKey::preview(&owner(), &photo.id),
            ObjectKey::thumbnail(&owner(), &photo.id),
        ]
        .map(|key| key.to_string())
        .to_vec();
        expected.sort();
        assert_eq!(keys, expected);
    }

    #[tokio::test]
    async fn the_attempt_limit_is_the_thumbnailers_setting() {
        let f = fixture();
        let photo = upload(&f, photo_fixture("orientation-4.jpg")).await;
        let once = f.thumbnailer.clone().with_max_attempts(1);
        f.blobs.fail_next(Flake::Get);
        assert!(once.process(&key(&photo)).await.is_err());
        // The retry finds the only attempt used.
        assert_eq!(
            once.process(&key(&photo)).await.unwrap(),
            Outcome::Failed {
                reason: "processing did not finish in 1 attempts".into()
            }
        );
    }

    #[tokio::test]
    async fn png_with_alpha_and_webp_become_ready() {
        check_ready("alpha.png").await;
        check_ready("texture.webp").await;
    }

    #[tokio::test]
    async fn every_orientation_becomes_ready_with_upright_dimensions() {
        for n in 1..=8 {
            let (f, photo) = check_ready(&format!("orientation-{n}.jpg")).await;
            let done = stored(&f, &photo).await;
            assert_eq!(
                done.dimensions,
                Some(Dimensions {
                    width: 1200,
                    height: 800
                }),
                "orientation {n}: the upright reference is 1200×800"
            );
        }
    }

    #[tokio::test]
    async fn a_duplicate_event_changes_nothing() {
        let (f, photo) = check_ready("no-exif-9mp.jpg").await;
        let before = (
            f.blobs.keys(),
            derivatives(&f, &photo),
            stored(&f, &photo).await,
        );
        assert_eq!(
            f.thumbnailer.process(&key(&photo)).await.unwrap(),
            Outcome::Skipped {
                reason: "the photo is already READY".into()
            }
        );
        let after = (
            f.blobs.keys(),
            derivatives(&f, &photo),
            stored(&f, &photo).await,
        );
        assert_eq!(before, after);
    }

    #[tokio::test]
    async fn every_hostile_file_fails_with_a_reason_and_loses_its_original() {
        let mut names: Vec<_> = std::fs::read_dir(hostile_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.ends_with(".md"))
            .collect();
        names.sort();
        assert!(names.len() >= 6, "the hostile set: {names:?}");
        let f = fixture();
        for name in names {
            let bytes = std::fs::read(hostile_dir().join(&name)).unwrap();
            let expected = imaging::process(&bytes, &Settings::default())
                .expect_err(&name)
                .to_string();
            // An empty file cannot be declared (an upload has at least one byte), but S3 may
            // still hold fewer bytes than declared.
            let photo = if bytes.is_empty() {
                upload_declaring(&f, bytes, 1, Sha256::from_bytes([7; 32])).await
            } else {
                upload(&f, bytes).await
            };
            let outcome = f.thumbnailer.process(&key(&photo)).await.unwrap();
            assert_eq!(
                outcome,
                Outcome::Failed {
                    reason: expected.clone()
                },
                "{name}"
            );
            assert_eq!(
                stored(&f, &photo).await.status,
                PhotoStatus::Failed { reason: expected },
                "{name}"
            );
            assert_eq!(f.blobs.keys(), Vec::<String>::new(), "{name}: nothing kept");
            // A second delivery of the same event is a no-op.
            assert_eq!(
                f.thumbnailer.process(&key(&photo)).await.unwrap(),
                Outcome::Skipped {
                    reason: "the photo is already FAILED".into()
                },
                "{name}"
            );
        }
    }

    #[tokio::test]
    async fn a_checksum_mismatch_fails_and_deletes_every_object() {
        let f = fixture();
        let bytes = photo_fixture("orientation-1.jpg");
        let size = bytes.len() as u64;
        let photo = upload_declaring(&f, bytes, size, Sha256::from_bytes([1; 32])).await;
        assert_eq!(
            f.thumbnailer.process(&key(&photo)).await.unwrap(),
            Outcome::Failed {
                reason: "checksum mismatch".into()
            }
        );
        assert_eq!(f.blobs.keys(), Vec::<String>::new());
        assert!(matches!(
            stored(&f, &photo).await.status,
            PhotoStatus::Failed { .. }
        ));
    }

    #[tokio::test]
    async fn more_bytes_than_declared_are_refused_unread() {
        let f = fixture();
        let bytes = photo_fixture("orientation-2.jpg");
        let sha = Sha256::from_bytes(imaging::Sha256Digest::of(&bytes).0);
        let photo = upload_declaring(&f, bytes, 1000, sha).await;
        assert_eq!(
            f.thumbnailer.process(&key(&photo)).await.unwrap(),
            Outcome::Failed {
                reason: "size mismatch".into()
            }
        );
        assert_eq!(f.blobs.keys(), Vec::<String>::new());
    }

    #[tokio::test]
    async fn a_file_over_the_imaging_limit_is_refused_with_the_limit() {
        let f = fixture_with(Settings {
            max_file_bytes: 1000,
            ..Settings::default()
        });
        let photo = upload(&f, photo_fixture("orientation-3.jpg")).await;
        let Outcome::Failed { reason } = f.thumbnailer.process(&key(&photo)).await.unwrap() else {
            panic!("refused");
        };
        assert!(reason.starts_with("image file is too large"), "{reason}");
        assert!(reason.contains("`1000` byte limit"), "{reason}");
        assert_eq!(f.blobs.keys(), Vec::<String>::new());
    }

    #[tokio::test]
    async fn keys_that_are_not_uploads_are_skipped() {
        let f = fixture();
        for key in [
            "derivatives/alice/01ARZ3NDEKTSV4RRFFQ69G5FAV/thumb.jpg",
            "uploads/alice",
            "uploads/some photo.jpg",
            "originals/alice",
            "",
        ] {
            let Outcome::Skipped { reason } = f.thumbnailer.process(key).await.unwrap() else {
                panic!("{key} skipped");
            };
            assert!(reason.contains("is not the key of an upload"), "{reason}");
        }
        // A well-formed key of a photo nobody recorded (or that its owner deleted): whatever
        // was posted there is removed.
        let orphan = ObjectKey::from_trusted("uploads/alice/01ARZ3NDEKTSV4RRFFQ69G5FAV".into());
        f.blobs.insert(&orphan, vec![1, 2, 3]);
        assert_eq!(
            f.thumbnailer.process(orphan.as_str()).await.unwrap(),
            Outcome::Skipped {
                reason: "the photo was deleted".into()
            }
        );
        assert_eq!(f.blobs.keys(), Vec::<String>::new());
    }

    #[tokio::test]
    async fn an_original_uploaded_before_staging_is_processed_in_place() {
        let f = fixture();
        let bytes = photo_fixture("orientation-5.jpg");
        let photo = upload(&f, bytes.clone()).await;
        // Where uploads landed before they were staged.
        let upload_key = ObjectKey::upload(&owner(), &photo.id);
        let original = ObjectKey::original(&owner(), &photo.id);
        f.blobs.delete(&[upload_key]).await.unwrap();
        f.blobs.insert(&original, bytes.clone());
        assert_eq!(
            f.thumbnailer.process(original.as_str()).await.unwrap(),
            Outcome::Ready
        );
        assert_eq!(f.blobs.get_now(&original).unwrap().0, bytes);
        derivatives(&f, &photo);
    }

    #[tokio::test]
    async fn a_photo_deleted_while_processing_leaves_no_derivatives() {
        let f = fixture();
        let photo = upload(&f, photo_fixture("orientation-4.jpg")).await;
        *f.blobs.delete_on_put.lock().unwrap() = Some((f.service.clone(), owner(), photo.id));
        assert_eq!(
            f.thumbnailer.process(&key(&photo)).await.unwrap(),
            Outcome::Skipped {
                reason: "the photo was deleted while it was processed".into()
            }
        );
        let keys = f.blobs.keys();
        assert!(
            !keys.iter().any(|k| k.starts_with("derivatives/")),
            "{keys:?}"
        );
        assert!(matches!(
            f.service.get_photo(&owner(), &photo.id).await,
            Err(DomainError::NotFound)
        ));
    }

    #[tokio::test]
    async fn a_missing_upload_is_skipped() {
        let f = fixture();
        let photo = upload(&f, photo_fixture("orientation-5.jpg")).await;
        f.blobs
            .delete(&[ObjectKey::upload(&owner(), &photo.id)])
            .await
            .unwrap();
        assert_eq!(
            f.thumbnailer.process(&key(&photo)).await.unwrap(),
            Outcome::Skipped {
                reason: "the upload is gone".into()
            }
        );
        assert_eq!(stored(&f, &photo).await.status, PhotoStatus::Pending);
    }

    #[tokio::test]
    async fn storage_trouble_is_an_error_and_the_retry_finishes() {
        let f = fixture();
        let photo = upload(&f, photo_fixture("orientation-6.jpg")).await;
        for flake in [Flake::Get, Flake::Put] {
            f.blobs.fail_next(flake);
            let err = f.thumbnailer.process(&key(&photo)).await.unwrap_err();
            assert!(
                matches!(err, ThumbnailError::Storage { .. }),
                "{flake:?}: {err}"
            );
            assert!(err.to_string().contains("injected"), "{err}");
            assert_eq!(stored(&f, &photo).await.status, PhotoStatus::Pending);
        }
        assert_eq!(
            f.thumbnailer.process(&key(&photo)).await.unwrap(),
            Outcome::Ready
        );
        derivatives(&f, &photo);
    }

    #[tokio::test]
    async fn a_failed_cleanup_is_finished_by_the_retry() {
        let f = fixture();
        let photo = upload(
            &f,
            std::fs::read(hostile_dir().join("truncated.jpg")).unwrap(),
        )
        .await;
        f.blobs.fail_next(Flake::Delete);
        let err = f.thumbnailer.process(&key(&photo)).await.unwrap_err();
        assert!(
            matches!(
                err,
                ThumbnailError::Storage {
                    action: "deleting",
                    ..
                }
            ),
            "{err}"
        );
        assert!(matches!(
            stored(&f, &photo).await.status,
            PhotoStatus::Failed { .. }
        ));
        assert_eq!(f.blobs.keys().len(), 1, "the upload is still there");
        assert!(matches!(
            f.thumbnailer.process(&key(&photo)).await.unwrap(),
            Outcome::Skipped { .. }
        ));
        assert_eq!(f.blobs.keys(), Vec::<String>::new());
    }

    /// The records of an S3 notification, one per `(event name, raw key)`.
    fn s3_records(records: &[(&str, &str)]) -> Vec<S3Record> {
        records
            .iter()
            .map(|(name, key)| S3Record {
                event_name: Some((*name).to_owned()),
                key: (*key).to_owned(),
            })
            .collect()
    }

    #[tokio::test]
    async fn an_event_fails_when_one_record_fails_transiently_after_trying_all() {
        let f = fixture();
        let first = upload(&f, photo_fixture("orientation-7.jpg")).await;
        let second = upload(&f, photo_fixture("orientation-8.jpg")).await;
        let event = s3_records(&[
            ("ObjectCreated:Post", &key(&first)),
            ("ObjectCreated:Post", &key(&second)),
            ("ObjectRemoved:Delete", &key(&second)),
            ("ObjectCreated:Put", "originals/my+photo%281%29.jpg"),
        ]);
        f.blobs.fail_next(Flake::Get);
        let err = f.thumbnailer.process_records(&event).await.unwrap_err();
        let ThumbnailError::Records {
            failed,
            total,
            key: failed_key,
            ..
        } = &err
        else {
            panic!("{err}");
        };
        assert_eq!((*failed, *total), (1, 4));
        assert_eq!(failed_key, &key(&first));
        assert!(err.to_string().contains("injected Get failure"), "{err}");
        assert_eq!(stored(&f, &second).await.status, PhotoStatus::Ready);
        assert_eq!(stored(&f, &first).await.status, PhotoStatus::Pending);

        // Lambda's retry delivers the same event: the first record is done now.
        let reports = f.thumbnailer.process_records(&event).await.unwrap();
        let outcomes: Vec<_> = reports
            .iter()
            .map(|r| (r.key.as_str(), r.outcome.clone()))
            .collect();
        assert_eq!(
            outcomes,
            vec![
                (key(&first).as_str(), Outcome::Ready),
                (key(&second).as_str(), skipped("the photo is already READY")),
                (
                    key(&second).as_str(),
                    skipped("`ObjectRemoved:Delete` is not an upload")
                ),
                (
                    "originals/my photo(1).jpg",
                    skipped("`originals/my photo(1).jpg` is not the key of an upload")
                ),
            ]
        );
    }

    fn check_taken_at(t: TakenAt, expected: Option<&str>) {
        assert_eq!(
            taken_at(&t).map(Timestamp::to_rfc3339).as_deref(),
            expected,
            "{t:?}"
        );
    }

    fn at(year: u16, month: u8, day: u8, offset_minutes: Option<i16>) -> TakenAt {
        TakenAt {
            year,
            month,
            day,
            hour: 14,
            minute: 3,
            second: 9,
            offset_minutes,
        }
    }

    #[test]
    fn exif_dates_become_instants() {
        check_taken_at(at(2024, 6, 1, None), Some("2024-06-01T14:03:09.000Z"));
        check_taken_at(at(2024, 6, 1, Some(120)), Some("2024-06-01T12:03:09.000Z"));
        check_taken_at(at(2024, 6, 1, Some(-330)), Some("2024-06-01T19:33:09.000Z"));
        check_taken_at(at(2000, 2, 29, None), Some("2000-02-29T14:03:09.000Z"));
        check_taken_at(at(1970, 1, 1, None), Some("1970-01-01T14:03:09.000Z"));
        check_taken_at(at(1900, 2, 29, None), None);
        check_taken_at(at(2023, 4, 31, None), None);
        check_taken_at(at(2023, 13, 1, None), None);
        check_taken_at(at(2023, 1, 0, None), None);
    }

    fn metadata(taken_at: Option<TakenAt>) -> PhotoMetadata {
        PhotoMetadata {
            format: imaging::Format::Jpeg,
            width: 4,
            height: 3,
            orientation: imaging::Orientation::Normal,
            taken_at,
            camera: None,
            gps: None,
            sha256: imaging::Sha256Digest([1; 32]),
            bytes: 1,
        }
    }

    #[test]
    fn the_camera_clock_and_its_offset_are_shown_as_the_camera_wrote_them() {
        for offset in [None, Some(120), Some(-330), Some(0)] {
            let t = at(2024, 6, 1, offset);
            let mut photo = Photo::pending(
                PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap(),
                UserId::parse("alice").unwrap(),
                FileName::parse("a.jpg").unwrap(),
                ContentType::Jpeg,
                1,
                Sha256::from_bytes([1; 32]),
                Timestamp::from_secs(0),
            );
            let info = processed_info(&metadata(Some(t)));
            photo.taken_at = info.taken_at;
            photo.taken_offset_minutes = info.taken_offset_minutes;
            assert_eq!(photo.taken_at_local(), Some(t.to_string()), "{t:?}");
        }
        // A date that is no date keeps no offset either.
        let info = processed_info(&metadata(Some(at(2023, 4, 31, Some(60)))));
        assert_eq!((info.taken_at, info.taken_offset_minutes), (None, None));
    }

    fn check_camera(make: Option<&str>, model: Option<&str>, expected: Option<&str>) {
        let c = imaging::Camera {
            make: make.map(str::to_owned),
            model: model.map(str::to_owned),
        };
        assert_eq!(
            camera(&c).as_ref().map(Camera::as_str),
            expected,
            "{make:?} {model:?}"
        );
    }

    #[test]
    fn camera_names_join_make_and_model() {
        check_camera(Some("Canon"), Some("Canon EOS R6"), Some("Canon EOS R6"));
        check_camera(Some("FUJIFILM"), Some("X-T4"), Some("FUJIFILM X-T4"));
        check_camera(Some(" Apple\0"), None, Some("Apple"));
        check_camera(None, Some("Pixel 8"), Some("Pixel 8"));
        check_camera(Some("  "), Some("\n"), None);
        let long = "x".repeat(500);
        assert_eq!(
            camera(&imaging::Camera {
                make: Some(long),
                model: None
            })
            .map(|c| c.as_str().len()),
            Some(Camera::MAX_CHARS)
        );
    }
}
