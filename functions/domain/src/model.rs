//! The records the domain keeps: photos, albums, share links and usage.

use serde::{Deserialize, Serialize};

use crate::types::{
    AlbumId, AlbumName, Camera, ContentType, Dimensions, FileName, Gps, PhotoId, Sha256,
    ShareToken, Timestamp, Title, UserId,
};

/// Where a photo is in its life: uploaded-to-be, processed, or refused by the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PhotoStatus {
    Pending,
    Ready,
    Failed { reason: String },
}

impl PhotoStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            PhotoStatus::Pending => "PENDING",
            PhotoStatus::Ready => "READY",
            PhotoStatus::Failed { .. } => "FAILED",
        }
    }
}

/// A photo's metadata. The bytes live in the object store under keys derived from owner and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Photo {
    pub id: PhotoId,
    pub owner: UserId,
    #[serde(flatten)]
    pub status: PhotoStatus,
    pub file_name: FileName,
    pub content_type: ContentType,
    /// Declared at upload; the pre-signed POST pins the upload to exactly this many bytes.
    pub size: u64,
    pub sha256_declared: Sha256,
    pub sha256_actual: Option<Sha256>,
    /// After orientation: as the photo is shown.
    pub dimensions: Option<Dimensions>,
    /// When the shutter fired: the instant when the camera recorded its offset from UTC, else
    /// the camera's wall-clock reading taken as UTC.
    pub taken_at: Option<Timestamp>,
    /// The camera's offset from UTC at `taken_at`, in minutes, when it recorded one (EXIF
    /// `OffsetTimeOriginal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_offset_minutes: Option<i16>,
    pub camera: Option<Camera>,
    /// Owner-only: never leaves the server through a share link.
    pub gps: Option<Gps>,
    pub title: Option<Title>,
    pub favourite: bool,
    pub created_at: Timestamp,
    /// How many times processing has started on this photo (crashed and duplicate runs
    /// included): the thumbnail step takes an attempt before it decodes anything, and stops at
    /// its limit, so re-posting one upload form cannot make it decode the photo again and again.
    #[serde(default)]
    pub processing_attempts: u32,
}

impl Photo {
    /// When the shutter fired as the camera's clock showed it, ISO 8601, with its offset from UTC
    /// when known: `2024-06-01T14:03:09+02:00`, or `2024-06-01T14:03:09`.
    pub fn taken_at_local(&self) -> Option<String> {
        let at = self.taken_at?;
        let offset = self.taken_offset_minutes;
        let wall = at
            .plus_secs(i64::from(offset.unwrap_or(0)) * 60)
            .to_rfc3339();
        let mut local = wall.get(..19)?.to_owned();
        if let Some(offset) = offset {
            let sign = if offset < 0 { '-' } else { '+' };
            let abs = offset.unsigned_abs();
            local.push_str(&format!("{sign}{:02}:{:02}", abs / 60, abs % 60));
        }
        Some(local)
    }

    /// Where the photo sits on its owner's timeline: when the shutter fired as the camera's clock
    /// showed it (the instant moved by its offset, so that a day's photos stay on that day
    /// wherever they were taken), else when its upload started (a PENDING photo, or one whose
    /// file says nothing). Day and month headers read this as UTC.
    pub fn timeline_at(&self) -> Timestamp {
        match self.taken_at {
            Some(at) => at.plus_secs(i64::from(self.taken_offset_minutes.unwrap_or(0)) * 60),
            None => self.created_at,
        }
    }

    /// When the shutter fired on the camera's clock, if the file said: [`Photo::timeline_at`]
    /// of a photo with a date taken.
    pub fn date_taken(&self) -> Option<Timestamp> {
        self.taken_at.map(|_| self.timeline_at())
    }

    /// The month of [`Photo::timeline_at`], `YYYY-MM`: which count of the scrubber it is in.
    pub fn timeline_month(&self) -> String {
        self.timeline_at().month()
    }

    /// The photo as processing left it: READY with what was read from its bytes, or FAILED.
    /// Only the status and the fields processing owns change.
    pub fn finish(&mut self, outcome: &ProcessingOutcome) {
        match outcome {
            ProcessingOutcome::Ready(info) => {
                self.status = PhotoStatus::Ready;
                self.sha256_actual = Some(info.sha256_actual);
                self.dimensions = Some(info.dimensions);
                self.taken_at = info.taken_at;
                self.taken_offset_minutes = info.taken_offset_minutes;
                self.camera = info.camera.clone();
                self.gps = info.gps;
            }
            ProcessingOutcome::Failed { reason, actual } => {
                self.status = PhotoStatus::Failed {
                    reason: reason.clone(),
                };
                self.sha256_actual = *actual;
            }
        }
    }

    /// Whether its upload is still awaited: PENDING, and processing never took it up.
    pub fn is_awaited(&self) -> bool {
        self.status == PhotoStatus::Pending && self.processing_attempts == 0
    }

    /// A photo announced for upload: PENDING, with nothing read from its bytes yet, no title and
    /// not a favourite.
    pub fn pending(
        id: PhotoId,
        owner: UserId,
        file_name: FileName,
        content_type: ContentType,
        size: u64,
        sha256_declared: Sha256,
        created_at: Timestamp,
    ) -> Self {
        Photo {
            id,
            owner,
            status: PhotoStatus::Pending,
            file_name,
            content_type,
            size,
            sha256_declared,
            sha256_actual: None,
            dimensions: None,
            taken_at: None,
            taken_offset_minutes: None,
            camera: None,
            gps: None,
            title: None,
            favourite: false,
            created_at,
            processing_attempts: 0,
        }
    }
}

/// What the thumbnail function learned from the uploaded bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessedInfo {
    pub dimensions: Dimensions,
    pub taken_at: Option<Timestamp>,
    /// The camera's offset from UTC, when it recorded one.
    #[serde(default)]
    pub taken_offset_minutes: Option<i16>,
    pub camera: Option<Camera>,
    pub gps: Option<Gps>,
    pub sha256_actual: Sha256,
    pub size: u64,
}

/// The end state of processing, as stored by [`crate::Repository::finish_processing`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ProcessingOutcome {
    /// The bytes match what was declared: the photo becomes READY with this metadata.
    Ready(ProcessedInfo),
    /// The photo becomes FAILED; `actual` holds what was measured, if anything.
    Failed {
        reason: String,
        actual: Option<Sha256>,
    },
}

/// A named set of the owner's photos.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Album {
    pub id: AlbumId,
    pub owner: UserId,
    pub name: AlbumName,
    pub created_at: Timestamp,
    /// How many photos it holds.
    #[serde(default)]
    pub photo_count: u64,
    /// The photo shown for it: the one the owner picked, else the first added; when that one
    /// leaves, the member with the smallest id (the earliest upload).
    #[serde(default)]
    pub cover: Option<PhotoId>,
    /// Whether the owner picked the cover.
    #[serde(default)]
    pub cover_chosen: bool,
    /// The earliest and latest date taken of its photos ([`Photo::date_taken`]); photos whose
    /// file says nothing do not count.
    #[serde(default)]
    pub taken_from: Option<Timestamp>,
    #[serde(default)]
    pub taken_until: Option<Timestamp>,
}

impl Album {
    /// A new, empty album.
    pub fn new(id: AlbumId, owner: UserId, name: AlbumName, created_at: Timestamp) -> Self {
        Album {
            id,
            owner,
            name,
            created_at,
            photo_count: 0,
            cover: None,
            cover_chosen: false,
            taken_from: None,
            taken_until: None,
        }
    }

    /// Widens the date range to `at`.
    pub fn widen(&mut self, at: Timestamp) {
        self.taken_from = Some(self.taken_from.map_or(at, |t| t.min(at)));
        self.taken_until = Some(self.taken_until.map_or(at, |t| t.max(at)));
    }

    /// The album after `photo` joined it.
    pub fn joined(&mut self, photo: &Photo) {
        self.photo_count += 1;
        if self.cover.is_none() {
            self.cover = Some(photo.id);
        }
        if let Some(at) = photo.date_taken() {
            self.widen(at);
        }
    }

    /// Whether [`Album::left`] needs the other members to say what the album is without
    /// `photo`: it is the cover, or its date is one end of the range.
    pub fn leaving_needs_members(&self, photo: &Photo) -> bool {
        self.cover == Some(photo.id)
            || photo
                .date_taken()
                .is_some_and(|at| Some(at) == self.taken_from || Some(at) == self.taken_until)
    }

    /// The album after `photo` left it; `others` are the remaining members by id (needed only
    /// when [`Album::leaving_needs_members`] says so).
    pub fn left(&mut self, photo: &Photo, others: &[Photo]) {
        self.photo_count = self.photo_count.saturating_sub(1);
        if self.leaving_needs_members(photo) {
            let chosen = self.cover_chosen && self.cover != Some(photo.id);
            self.recount(others);
            self.cover_chosen = chosen;
        }
    }

    /// Counts, covers and dates the album anew from all its `members` (by id), keeping a cover
    /// the owner picked while it is a member.
    pub fn recount(&mut self, members: &[Photo]) {
        self.photo_count = members.len() as u64;
        let keep = self.cover.filter(|c| members.iter().any(|m| m.id == *c));
        self.cover_chosen &= keep.is_some();
        self.cover = keep.or_else(|| members.first().map(|m| m.id));
        self.taken_from = None;
        self.taken_until = None;
        for at in members.iter().filter_map(Photo::date_taken) {
            self.widen(at);
        }
    }
}

/// What a share link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ShareTarget {
    Photo(PhotoId),
    Album(AlbumId),
}

/// An argon2id hash in PHC string form; never the password itself.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(pub(crate) String);

impl PasswordHash {
    /// Wraps a PHC string read back from storage.
    pub fn from_stored(phc: String) -> Self {
        PasswordHash(phc)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

/// A link that lets anyone holding the token read derivatives and non-sensitive metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub token: ShareToken,
    pub owner: UserId,
    pub target: ShareTarget,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub password_hash: Option<PasswordHash>,
    pub revoked: bool,
    /// Password attempts since the last right one, and when the next may be made. Links
    /// stored before attempts were counted read as none.
    #[serde(default)]
    pub attempts: ShareAttempts,
    /// Whether guests may download the originals. Links made before it existed do not allow it.
    #[serde(default)]
    pub allow_download: bool,
    /// The expiry chosen, in days; links made before it was kept have none (and are never
    /// taken for a new link with the same options).
    #[serde(default)]
    pub days: Option<u32>,
}

/// Wrong-password accounting of a share link. Every attempt is counted before its password is
/// checked (a right one then sets it back to none), so attempts made at the same moment cannot
/// slip past the limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareAttempts {
    /// Attempts counted since the last right password.
    pub failed: u32,
    /// No attempt is heard before this time.
    pub locked_until: Option<Timestamp>,
}

impl ShareAttempts {
    /// Attempts a link takes at its own pace; from then on, one a minute.
    pub const FREE: u32 = 5;
    /// Attempts after which a link takes one an hour.
    pub const SLOW: u32 = 20;

    /// The count after one more attempt made at `now`, and the wait it earns.
    pub fn after_one_more(self, now: Timestamp) -> ShareAttempts {
        let failed = self.failed.saturating_add(1);
        let wait_secs = if failed >= Self::SLOW {
            3_600
        } else if failed >= Self::FREE {
            60
        } else {
            0
        };
        ShareAttempts {
            failed,
            locked_until: (wait_secs > 0).then(|| now.plus_secs(wait_secs)),
        }
    }

    /// Whole seconds until an attempt is heard again, if it is not heard at `now`.
    pub fn retry_after(&self, now: Timestamp) -> Option<u64> {
        let until = self.locked_until?;
        let wait_ms = until
            .millis()
            .checked_sub(now.millis())
            .filter(|ms| *ms > 0)?;
        Some(u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000))
    }
}

impl Share {
    /// Why the link no longer works at `now`, if it does not.
    pub fn gone_reason(&self, now: Timestamp) -> Option<&'static str> {
        if self.revoked {
            Some("been revoked")
        } else if now >= self.expires_at {
            Some("expired")
        } else {
            None
        }
    }
}

/// Bytes and photos a user holds, counted when an upload is accepted and released on delete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub used_bytes: u64,
    pub photo_count: u64,
}

/// One page of a key-range query, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The sort key of the last item when more may follow (DynamoDB's `LastEvaluatedKey`).
    pub next: Option<SortKey>,
}

/// How many of an owner's photos a month of the timeline holds, for the scrubber.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthCount {
    /// `YYYY-MM`, as [`Photo::timeline_month`].
    pub month: String,
    pub photos: u64,
}

/// A table sort key (`sk`) as handed back by a listing; the service wraps it in a cursor.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SortKey(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_time_taken_is_the_instant_at_its_offset() {
        let mut photo = Photo::pending(
            PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap(),
            UserId::parse("alice").unwrap(),
            FileName::parse("a.jpg").unwrap(),
            ContentType::Jpeg,
            1,
            Sha256::from_bytes([1; 32]),
            Timestamp::from_secs(0),
        );
        assert_eq!(photo.taken_at_local(), None);
        // 2024-06-01T12:03:09Z.
        photo.taken_at = Some(Timestamp::from_secs(1_717_243_389));
        assert_eq!(photo.taken_at_local().unwrap(), "2024-06-01T12:03:09");
        for (offset, local) in [
            (120, "2024-06-01T14:03:09+02:00"),
            (-330, "2024-06-01T06:33:09-05:30"),
            (0, "2024-06-01T12:03:09+00:00"),
        ] {
            photo.taken_offset_minutes = Some(offset);
            assert_eq!(photo.taken_at_local().unwrap(), local, "{offset}");
        }
    }
}
