//! The JSON shapes of requests and responses, and their conversions from domain values.
//!
//! Requests deny unknown fields, so a typo is a 400 instead of a silently ignored setting.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use photo_domain::types::Rfc3339;
use photo_domain::{
    Album, Dimensions, DisplayName, Gps, Listing, PhotoId, PhotoStatus, PhotoView, PresignedPost,
    Sha256, Share, ShareTarget, SharedPhoto, SharedView, Timestamp, UsageReport, UserId,
};

/// Starts an upload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// The file's name as the user picked it (1 to 255 characters).
    pub file_name: String,
    /// `image/jpeg`, `image/png`, `image/webp`, `image/heic` or `image/heif`.
    pub content_type: String,
    /// Exact size in bytes.
    pub size: u64,
    /// SHA-256 of the file, 64 hex digits.
    pub sha256: String,
}

/// A pre-signed POST: send `fields`, then the file as `file`, as `multipart/form-data` to `url`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadTarget {
    pub url: String,
    pub fields: BTreeMap<String, String>,
    pub expires_at: String,
}

impl From<PresignedPost> for UploadTarget {
    fn from(p: PresignedPost) -> Self {
        UploadTarget {
            url: p.url,
            fields: p.fields,
            expires_at: p.expires_at.to_rfc3339(),
        }
    }
}

/// The new PENDING photo and where to upload its bytes.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadResponse {
    pub photo: PhotoDto,
    pub upload: UploadTarget,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DimensionsDto {
    pub width: u32,
    pub height: u32,
}

impl From<Dimensions> for DimensionsDto {
    fn from(d: Dimensions) -> Self {
        DimensionsDto {
            width: d.width,
            height: d.height,
        }
    }
}

/// Where the photo was taken; only ever shown to its owner.
#[derive(Debug, Serialize, ToSchema)]
pub struct GpsDto {
    pub latitude: f64,
    pub longitude: f64,
}

impl From<Gps> for GpsDto {
    fn from(g: Gps) -> Self {
        GpsDto {
            latitude: g.latitude(),
            longitude: g.longitude(),
        }
    }
}

// Built for every photo of every page, so it allocates little: ids, checksums and times are
// written into the JSON through their `Display` (`Text`), not first into `String`s of their own.
/// A photo as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoDto {
    #[schema(value_type = String)]
    pub id: Text<PhotoId>,
    /// `PENDING`, `READY` or `FAILED`.
    #[schema(value_type = String)]
    pub status: &'static str,
    pub failure_reason: Option<String>,
    pub file_name: String,
    #[schema(value_type = String)]
    pub content_type: &'static str,
    pub size: u64,
    #[schema(value_type = String)]
    pub sha256: Text<Sha256>,
    pub dimensions: Option<DimensionsDto>,
    /// When the shutter fired, as an instant (RFC 3339, UTC). Without the camera's offset from
    /// UTC, its wall-clock reading taken as UTC.
    #[schema(value_type = Option<String>)]
    pub taken_at: Option<Text<Rfc3339>>,
    /// The camera's wall-clock time of `taken_at`, ISO 8601, with its offset from UTC when the
    /// camera recorded one: `2024-06-01T14:03:09+02:00`, or `2024-06-01T14:03:09`.
    pub taken_at_local: Option<String>,
    pub camera: Option<String>,
    pub gps: Option<GpsDto>,
    pub title: Option<String>,
    pub favourite: bool,
    #[schema(value_type = String)]
    pub created_at: Text<Rfc3339>,
    pub thumbnail_url: Option<String>,
    pub preview_url: Option<String>,
    pub original_url: Option<String>,
}

/// A value that appears in the JSON as a string: its `Display` form, written straight into the
/// response (`collect_str`) with no `String` made for it on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text<T>(pub T);

impl<T: std::fmt::Display> Serialize for Text<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

fn time(t: Timestamp) -> String {
    t.to_rfc3339()
}

impl From<PhotoView> for PhotoDto {
    fn from(v: PhotoView) -> Self {
        let p = v.photo;
        let taken_at_local = p.taken_at_local();
        let status = p.status.as_str();
        let failure_reason = match p.status {
            PhotoStatus::Failed { reason } => Some(reason),
            PhotoStatus::Pending | PhotoStatus::Ready => None,
        };
        PhotoDto {
            id: Text(p.id),
            status,
            failure_reason,
            file_name: p.file_name.into(),
            content_type: p.content_type.as_str(),
            size: p.size,
            sha256: Text(p.sha256_declared),
            dimensions: p.dimensions.map(Into::into),
            taken_at: p.taken_at.map(|t| Text(t.rfc3339())),
            taken_at_local,
            camera: p.camera.map(Into::into),
            gps: p.gps.map(Into::into),
            title: p.title.map(Into::into),
            favourite: p.favourite,
            created_at: Text(p.created_at.rfc3339()),
            thumbnail_url: v.urls.thumbnail,
            preview_url: v.urls.preview,
            original_url: v.urls.original,
        }
    }
}

/// A page of photos, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoPage {
    pub items: Vec<PhotoDto>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl From<Listing<PhotoView>> for PhotoPage {
    fn from(l: Listing<PhotoView>) -> Self {
        PhotoPage {
            items: l.items.into_iter().map(Into::into).collect(),
            next_cursor: l.next_cursor,
        }
    }
}

/// The months of the timeline, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TimelineMonths {
    pub months: Vec<MonthDto>,
}

/// How many photos one month of the timeline holds.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MonthDto {
    /// `YYYY-MM`, the month of the photos' date taken on the camera's clock.
    #[schema(example = "2024-06")]
    pub month: String,
    pub photos: u64,
}

impl From<photo_domain::MonthCount> for MonthDto {
    fn from(m: photo_domain::MonthCount) -> Self {
        MonthDto {
            month: m.month,
            photos: m.photos,
        }
    }
}

/// Paging parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1 to 100, default 30.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
}

impl ListQuery {
    pub const DEFAULT_LIMIT: usize = 30;
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(Self::DEFAULT_LIMIT)
    }
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Changes a photo; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchPhotoRequest {
    /// Up to 200 characters; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    pub favourite: Option<bool>,
}

/// What a batch does to each photo.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchActionDto {
    Favourite,
    Unfavourite,
    Delete,
    /// Needs `album_id`.
    AddToAlbum,
}

/// Acts on up to 100 of my photos at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub action: BatchActionDto,
    /// 1 to 100 photo ids; a repeated id is acted on once.
    pub ids: Vec<String>,
    /// The album, for `add_to_album` only.
    pub album_id: Option<String>,
}

/// What became of each photo of a batch, in the order asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub results: Vec<BatchResult>,
    pub succeeded: usize,
    pub failed: usize,
}

/// One photo of a batch: done, or why not (`not_found` for a photo that is not mine).
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    pub id: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::error::ErrorDetail>,
}

/// Creates or renames an album.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlbumRequest {
    /// 1 to 200 characters.
    pub name: String,
}

/// Renames an album or picks its cover; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchAlbumRequest {
    /// 1 to 200 characters.
    pub name: Option<String>,
    /// One of the album's photos, to show for it.
    pub cover_photo_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlbumDto {
    pub id: String,
    pub name: String,
    pub created_at: String,
    /// How many photos it holds.
    pub photo_count: u64,
    /// The photo shown for it: the one the owner picked, else the first added (when that one
    /// leaves, the album's earliest upload); absent for an empty album.
    pub cover_photo_id: Option<String>,
    /// Whether the owner picked the cover.
    pub cover_chosen: bool,
    /// The earliest and latest date taken of its photos, on the cameras' clocks
    /// (`2019-03-10T09:00:00`); absent when none of its photos says when it was taken.
    pub taken_from: Option<String>,
    pub taken_until: Option<String>,
    /// A link to the cover's thumbnail, valid as a photo's are.
    pub cover_thumbnail_url: Option<String>,
}

/// A wall-clock time as `YYYY-MM-DDTHH:MM:SS`, without an offset.
fn wall_clock(at: Timestamp) -> String {
    let mut text = at.to_rfc3339();
    text.truncate(19);
    text
}

impl From<Album> for AlbumDto {
    fn from(a: Album) -> Self {
        AlbumDto {
            id: a.id.to_string(),
            name: a.name.into(),
            created_at: time(a.created_at),
            photo_count: a.photo_count,
            cover_photo_id: a.cover.map(|c| c.to_string()),
            cover_chosen: a.cover_chosen,
            taken_from: a.taken_from.map(wall_clock),
            taken_until: a.taken_until.map(wall_clock),
            cover_thumbnail_url: None,
        }
    }
}

impl AlbumDto {
    /// The album with its cover's link.
    pub fn with_cover(album: Album, cover_thumbnail_url: Option<String>) -> Self {
        AlbumDto {
            cover_thumbnail_url,
            ..album.into()
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlbumPage {
    pub items: Vec<AlbumDto>,
    pub next_cursor: Option<String>,
}

/// Creates a share link for exactly one of a photo or an album.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    pub photo_id: Option<String>,
    pub album_id: Option<String>,
    /// Default 7, at most the configured maximum.
    pub expires_in_days: Option<u32>,
    /// 8 to 128 characters; stored only as an argon2id hash. Without one, an identical live
    /// link (same target, `allow_download` and `expires_in_days`, no password) is answered
    /// instead of a new one (200 rather than 201).
    pub password: Option<String>,
    /// Whether guests may download the originals, which keep their location and camera data.
    /// Default `false`.
    pub allow_download: Option<bool>,
}

/// A share link as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareDto {
    pub token: String,
    /// `photo` or `album`.
    pub target_kind: String,
    pub target_id: String,
    pub created_at: String,
    pub expires_at: String,
    pub password_protected: bool,
    pub revoked: bool,
    pub allow_download: bool,
    /// The expiry chosen; absent for links made before it was kept.
    pub expires_in_days: Option<u32>,
}

impl From<Share> for ShareDto {
    fn from(s: Share) -> Self {
        let (kind, id) = target(&s.target);
        ShareDto {
            token: s.token.as_str().to_owned(),
            target_kind: kind.to_owned(),
            target_id: id,
            created_at: time(s.created_at),
            expires_at: time(s.expires_at),
            password_protected: s.password_hash.is_some(),
            revoked: s.revoked,
            allow_download: s.allow_download,
            expires_in_days: s.days,
        }
    }
}

fn target(t: &ShareTarget) -> (&'static str, String) {
    match t {
        ShareTarget::Photo(p) => ("photo", p.to_string()),
        ShareTarget::Album(a) => ("album", a.to_string()),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharePage {
    pub items: Vec<ShareDto>,
    pub next_cursor: Option<String>,
}

/// The password for a protected share link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicShareRequest {
    pub password: String,
}

/// Asks for the link that downloads one photo of a share.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareDownloadRequest {
    pub photo_id: String,
    /// The link's password, when it has one.
    pub password: Option<String>,
}

/// A link to one original, valid for a little while (at most until the share expires).
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareDownloadDto {
    pub url: String,
}

/// A shared photo: derivatives and non-sensitive metadata only (no GPS, no original).
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicPhotoDto {
    pub id: String,
    pub title: Option<String>,
    pub dimensions: Option<DimensionsDto>,
    pub taken_at: Option<String>,
    /// As a photo's `taken_at_local`.
    pub taken_at_local: Option<String>,
    pub camera: Option<String>,
    pub thumbnail_url: Option<String>,
    pub preview_url: Option<String>,
}

impl From<SharedPhoto> for PublicPhotoDto {
    fn from(p: SharedPhoto) -> Self {
        PublicPhotoDto {
            id: p.id.to_string(),
            title: p.title.map(Into::into),
            dimensions: p.dimensions.map(Into::into),
            taken_at: p.taken_at.map(time),
            taken_at_local: p.taken_at_local,
            camera: p.camera.map(Into::into),
            thumbnail_url: p.thumbnail_url,
            preview_url: p.preview_url,
        }
    }
}

/// What a share link shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicShareDto {
    /// `photo` or `album`.
    pub kind: String,
    pub album_name: Option<String>,
    pub expires_at: String,
    /// Whether each photo's original may be downloaded (`POST /public/shares/{token}/download`).
    pub allow_download: bool,
    /// The owner's display name, when they set one (`PATCH /me`); never their e-mail address.
    pub shared_by: Option<String>,
    pub photos: Vec<PublicPhotoDto>,
}

impl From<SharedView> for PublicShareDto {
    fn from(v: SharedView) -> Self {
        PublicShareDto {
            kind: target(&v.target).0.to_owned(),
            album_name: v.album_name.map(Into::into),
            expires_at: time(v.expires_at),
            allow_download: v.allow_download,
            shared_by: v.shared_by.map(Into::into),
            photos: v.photos.into_iter().map(Into::into).collect(),
        }
    }
}

/// Changes the caller's profile; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// 1 to 60 characters, surrounding spaces dropped; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "Alice B.")]
    pub display_name: Option<Option<String>>,
}

/// The caller's usage against their quota.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeDto {
    pub user_id: String,
    /// What guests of my share links see as "shared by"; absent until set.
    pub display_name: Option<String>,
    pub used_bytes: u64,
    pub photo_count: u64,
    pub quota_bytes: u64,
    pub max_upload_bytes: u64,
    /// The longest expiry a share link may be given, in days (this stage's limit).
    pub max_share_days: u32,
}

impl MeDto {
    pub fn new(user: &UserId, r: UsageReport, display_name: Option<DisplayName>) -> Self {
        MeDto {
            user_id: user.to_string(),
            display_name: display_name.map(Into::into),
            used_bytes: r.usage.used_bytes,
            photo_count: r.usage.photo_count,
            quota_bytes: r.quota_bytes,
            max_upload_bytes: r.max_upload_bytes,
            max_share_days: r.max_share_days,
        }
    }
}
