//! The photo API as the SPA sees it: request paths and bodies, and the JSON it answers.
//!
//! These shapes are the contract with the API function (`functions/api/src/dto.rs`, published
//! as `docs/openapi.json`); they are kept in this one module so a change on that side is one
//! edit here. Unknown fields are ignored and optional ones default, so the API can grow without
//! breaking deployed clients. The tests decode answers the API really produces.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// An HTTP request to the API, before it is sent: method, path (with query) and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    pub method: &'static str,
    pub path: String,
    pub body: Option<String>,
}

impl ApiRequest {
    fn new(method: &'static str, path: String) -> Self {
        ApiRequest {
            method,
            path,
            body: None,
        }
    }

    fn json(method: &'static str, path: String, body: &impl Serialize) -> Self {
        ApiRequest {
            method,
            path,
            // Serialising our own plain structs cannot fail.
            body: Some(serde_json::to_string(body).unwrap_or_default()),
        }
    }
}

/// A JSON `null` read as the type's default (the API sends `"title": null` for no title).
fn null_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The life of a photo: uploaded but not yet processed, ready, or not processable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PhotoStatus {
    #[default]
    Pending,
    Ready,
    Failed,
}

/// Pixel size of a processed photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

/// A place on Earth, in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Gps {
    pub latitude: f64,
    pub longitude: f64,
}

/// A photo as the API returns it, to its owner (`PhotoDto`) or on a share page
/// (`PublicPhotoDto`, which has no file name, original or status). Image URLs are short-lived
/// pre-signed GET URLs and are absent while the photo is pending.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Photo {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub title: String,
    #[serde(default)]
    pub file_name: String,
    #[serde(default)]
    pub content_type: String,
    #[serde(default)]
    pub size: u64,
    /// Share pages only list processed photos, so a photo without a status is ready.
    #[serde(default = "ready")]
    pub status: PhotoStatus,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub favourite: bool,
    /// RFC 3339 upload time.
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub dimensions: Option<Dimensions>,
    #[serde(default)]
    pub taken_at: Option<String>,
    /// The camera's wall-clock time of `taken_at`, with its offset from UTC when known: what
    /// the timeline orders and groups by.
    #[serde(default)]
    pub taken_at_local: Option<String>,
    #[serde(default)]
    pub camera: Option<String>,
    /// Where it was taken; only its owner is told.
    #[serde(default)]
    pub gps: Option<Gps>,
    #[serde(default)]
    pub thumbnail_url: Option<String>,
    #[serde(default)]
    pub preview_url: Option<String>,
    #[serde(default)]
    pub original_url: Option<String>,
}

fn ready() -> PhotoStatus {
    PhotoStatus::Ready
}

impl Photo {
    /// The name to show (and the alternative text of its picture): the title, else the file
    /// name, else when it was taken; never its id, which means nothing to anyone.
    pub fn display_name(&self) -> String {
        [&self.title, &self.file_name]
            .into_iter()
            .find(|s| !s.trim().is_empty())
            .cloned()
            .unwrap_or_else(
                || match self.taken_at_local.as_deref().or(self.taken_at.as_deref()) {
                    Some(t) => format!("Photo taken {}", crate::messages::day(t)),
                    None => "Photo".to_owned(),
                },
            )
    }
}

/// One page of photos, newest first; `next_cursor` is opaque and absent on the last page.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PhotoPage {
    #[serde(rename = "items")]
    pub photos: Vec<Photo>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Where a paginated listing is: not started, more to load from a cursor, or done.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Cursor {
    #[default]
    Start,
    Next(String),
    End,
}

impl Cursor {
    /// The cursor after receiving a page that carried `next_cursor`. An empty cursor string
    /// means the end, so a sloppy server cannot make the client loop on the first page.
    pub fn after(next_cursor: Option<&str>) -> Cursor {
        match next_cursor {
            Some(c) if !c.is_empty() => Cursor::Next(c.to_owned()),
            _ => Cursor::End,
        }
    }

    pub fn is_end(&self) -> bool {
        *self == Cursor::End
    }
}

/// The page size the gallery asks for: enough tiles to fill a large screen in one request, so
/// the first screen of thumbnails never waits for a second listing.
pub const PAGE_SIZE: u32 = 60;

/// `GET /photos?limit=..&cursor=..`; `None` once the listing is over.
pub fn list_photos(cursor: &Cursor, limit: u32) -> Option<ApiRequest> {
    paged("/photos".into(), cursor, limit)
}

/// `GET /photos/timeline?limit=..&cursor=..`: newest first by date taken; `None` once over.
pub fn list_timeline(cursor: &Cursor, limit: u32) -> Option<ApiRequest> {
    paged("/photos/timeline".into(), cursor, limit)
}

/// `GET /photos/timeline/months`.
pub fn timeline_months() -> ApiRequest {
    ApiRequest::new("GET", "/photos/timeline/months".into())
}

/// The months of the timeline, newest first, with how many photos each holds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TimelineMonths {
    pub months: Vec<MonthCount>,
}

/// One month of the timeline: `2024-06` and its photo count.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MonthCount {
    pub month: String,
    pub photos: u64,
}

/// The most photos one batch request acts on.
pub const MAX_BATCH: usize = 100;

/// What a batch does to each photo it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchAction {
    Favourite,
    Unfavourite,
    Delete,
    AddToAlbum,
}

#[derive(Serialize)]
struct BatchBody<'a> {
    action: BatchAction,
    ids: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    album_id: Option<&'a str>,
}

/// `POST /photos/batch`: up to [`MAX_BATCH`] photos at once (`album_id` for `AddToAlbum`).
pub fn batch(action: BatchAction, ids: &[String], album_id: Option<&str>) -> ApiRequest {
    let body = BatchBody {
        action,
        ids,
        album_id,
    };
    ApiRequest::json("POST", "/photos/batch".into(), &body)
}

/// What became of a batch: how many photos it acted on and how many it could not.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BatchOutcome {
    pub succeeded: usize,
    pub failed: usize,
    pub results: Vec<BatchItem>,
}

/// One photo of a batch.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BatchItem {
    pub id: String,
    pub ok: bool,
}

/// `GET /albums/{id}/photos?limit=..&cursor=..`; `None` once the listing is over.
pub fn list_album_photos(album_id: &str, cursor: &Cursor, limit: u32) -> Option<ApiRequest> {
    paged(
        format!("/albums/{}/photos", encode(album_id)),
        cursor,
        limit,
    )
}

fn paged(path: String, cursor: &Cursor, limit: u32) -> Option<ApiRequest> {
    let query = match cursor {
        Cursor::Start => format!("?limit={limit}"),
        Cursor::Next(c) => format!("?limit={limit}&cursor={}", encode(c)),
        Cursor::End => return None,
    };
    Some(ApiRequest::new("GET", path + &query))
}

pub fn get_photo(id: &str) -> ApiRequest {
    ApiRequest::new("GET", format!("/photos/{}", encode(id)))
}

/// `PATCH /photos/{id}`: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PhotoPatch {
    /// `Some(None)` (sent as `null`) clears the title: the API refuses an empty one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub favourite: Option<bool>,
}

impl PhotoPatch {
    /// A new title as typed; blank means no title.
    pub fn title(typed: &str) -> Self {
        let t = typed.trim();
        PhotoPatch {
            title: Some((!t.is_empty()).then(|| t.to_owned())),
            favourite: None,
        }
    }

    pub fn favourite(on: bool) -> Self {
        PhotoPatch {
            title: None,
            favourite: Some(on),
        }
    }
}

pub fn update_photo(id: &str, patch: &PhotoPatch) -> ApiRequest {
    ApiRequest::json("PATCH", format!("/photos/{}", encode(id)), patch)
}

pub fn delete_photo(id: &str) -> ApiRequest {
    ApiRequest::new("DELETE", format!("/photos/{}", encode(id)))
}

/// What the file picker offers: the types the app takes, and HEIC's extensions for browsers that
/// know no MIME type for them.
pub const ACCEPTED_FILES: &str =
    "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif";

/// The content type to declare for a file the user picked or dropped: the browser's, or, when it
/// has none (most browsers outside Apple's give HEIC files an empty type), one from the name's
/// extension. The server sniffs the bytes anyway; this only keeps a HEIC from being refused for
/// its missing label.
pub fn upload_content_type(file_name: &str, browser_type: &str) -> String {
    if !browser_type.is_empty() {
        return browser_type.to_owned();
    }
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "heic" => "image/heic",
        "heif" => "image/heif",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        _ => "",
    }
    .to_owned()
}

/// How many bytes of a file [`looks_like_a_photo`] reads.
pub const SNIFF_BYTES: usize = 16;

/// HEIF brands (a still image, or a sequence the API refuses with its own reason).
const HEIF_BRANDS: [&[u8; 4]; 12] = [
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevs", b"mif1", b"mif2", b"miaf",
    b"msf1", b"avif",
];

/// Whether a file's first bytes are those of an image the API may take (JPEG, PNG, WebP, or a
/// HEIF file), read before any byte is sent: a document or a video dropped by mistake is
/// refused at once, whatever its name says. The API decides the rest from the whole file.
pub fn looks_like_a_photo(head: &[u8]) -> bool {
    match head {
        [0xFF, 0xD8, 0xFF, ..] => true,
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => true,
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => true,
        [_, _, _, _, b'f', b't', b'y', b'p', brand @ ..] if brand.len() >= 4 => {
            HEIF_BRANDS.iter().any(|b| brand[..4] == b[..])
        }
        _ => false,
    }
}

/// The body of `POST /photos/uploads`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadIntent {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the file, for duplicate detection and the S3 checksum.
    pub sha256: String,
}

pub fn create_upload(intent: &UploadIntent) -> ApiRequest {
    ApiRequest::json("POST", "/photos/uploads".into(), intent)
}

/// The answer to `POST /photos/uploads`: the new (pending) photo and the pre-signed POST.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UploadGrant {
    pub photo: Photo,
    pub upload: PresignedPost,
}

/// An S3 pre-signed POST: send `fields` as form fields, then the file as `file`, last (S3
/// ignores every field after the file; the order of the others does not matter).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PresignedPost {
    pub url: String,
    pub fields: BTreeMap<String, String>,
}

/// An album of the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Album {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub created_at: String,
    /// How many photos it holds.
    #[serde(default)]
    pub photo_count: u64,
    #[serde(default)]
    pub cover_photo_id: Option<String>,
    /// A link to the cover's thumbnail.
    #[serde(default)]
    pub cover_thumbnail_url: Option<String>,
    /// The span of its photos' dates taken, on the cameras' clocks (`2019-03-10T09:00:00`).
    #[serde(default)]
    pub taken_from: Option<String>,
    #[serde(default)]
    pub taken_until: Option<String>,
}

/// `GET /albums` answers a page `{items: [...], next_cursor}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AlbumList {
    #[serde(rename = "items")]
    pub albums: Vec<Album>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[derive(Serialize)]
struct AlbumName<'a> {
    name: &'a str,
}

/// `GET /albums?limit=..&cursor=..`; `None` once the listing is over.
pub fn list_albums(cursor: &Cursor, limit: u32) -> Option<ApiRequest> {
    paged("/albums".into(), cursor, limit)
}

pub fn get_album(id: &str) -> ApiRequest {
    ApiRequest::new("GET", format!("/albums/{}", encode(id)))
}

pub fn create_album(name: &str) -> ApiRequest {
    ApiRequest::json("POST", "/albums".into(), &AlbumName { name: name.trim() })
}

pub fn rename_album(id: &str, name: &str) -> ApiRequest {
    ApiRequest::json(
        "PATCH",
        format!("/albums/{}", encode(id)),
        &AlbumName { name: name.trim() },
    )
}

pub fn delete_album(id: &str) -> ApiRequest {
    ApiRequest::new("DELETE", format!("/albums/{}", encode(id)))
}

pub fn add_to_album(album_id: &str, photo_id: &str) -> ApiRequest {
    ApiRequest::new(
        "PUT",
        format!("/albums/{}/photos/{}", encode(album_id), encode(photo_id)),
    )
}

pub fn remove_from_album(album_id: &str, photo_id: &str) -> ApiRequest {
    ApiRequest::new(
        "DELETE",
        format!("/albums/{}/photos/{}", encode(album_id), encode(photo_id)),
    )
}

/// What a share link points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareKind {
    Photo,
    Album,
}

/// The body of `POST /shares`: exactly one of `photo_id` and `album_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewShare {
    #[serde(skip_serializing_if = "Option::is_none")]
    photo_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    album_id: Option<String>,
    expires_in_days: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    allow_download: bool,
}

impl NewShare {
    /// A link to a photo or an album; an empty password means none.
    pub fn new(kind: ShareKind, target_id: &str, expires_in_days: u32, password: &str) -> Self {
        let (photo_id, album_id) = match kind {
            ShareKind::Photo => (Some(target_id.to_owned()), None),
            ShareKind::Album => (None, Some(target_id.to_owned())),
        };
        NewShare {
            photo_id,
            album_id,
            expires_in_days,
            password: (!password.is_empty()).then(|| password.to_owned()),
            allow_download: false,
        }
    }

    /// The link lets whoever opens it download the originals.
    pub fn allowing_download(mut self, allow: bool) -> Self {
        self.allow_download = allow;
        self
    }
}

pub fn create_share(share: &NewShare) -> ApiRequest {
    ApiRequest::json("POST", "/shares".into(), share)
}

/// A share link of the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Share {
    pub token: String,
    #[serde(rename = "target_kind")]
    pub kind: ShareKind,
    pub target_id: String,
    /// RFC 3339 expiry.
    pub expires_at: String,
    #[serde(default, rename = "password_protected")]
    pub has_password: bool,
    #[serde(default)]
    pub revoked: bool,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub allow_download: bool,
}

/// `GET /shares` answers a page `{items: [...], next_cursor}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShareList {
    #[serde(rename = "items")]
    pub shares: Vec<Share>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// `GET /shares?limit=..&cursor=..`; `None` once the listing is over.
pub fn list_shares(cursor: &Cursor, limit: u32) -> Option<ApiRequest> {
    paged("/shares".into(), cursor, limit)
}

pub fn revoke_share(token: &str) -> ApiRequest {
    ApiRequest::new("DELETE", format!("/shares/{}", encode(token)))
}

/// `GET /public/shares/{token}`, or `POST` with `{password}` for a protected link.
pub fn open_public_share(token: &str, password: Option<&str>) -> ApiRequest {
    #[derive(Serialize)]
    struct Password<'a> {
        password: &'a str,
    }
    let path = format!("/public/shares/{}", encode(token));
    match password {
        None => ApiRequest::new("GET", path),
        Some(password) => ApiRequest::json("POST", path, &Password { password }),
    }
}

/// What a public share link shows: one photo, or an album's photos.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PublicShare {
    pub kind: ShareKind,
    /// The album's name; absent for a photo link.
    #[serde(default, deserialize_with = "null_default")]
    pub album_name: String,
    pub photos: Vec<Photo>,
    #[serde(default)]
    pub expires_at: String,
    /// The owner's display name, when they set one.
    #[serde(default)]
    pub shared_by: Option<String>,
    /// Whether the owner lets guests download the originals ([`share_download`]).
    #[serde(default)]
    pub allow_download: bool,
}

/// `POST /public/shares/{token}/download`: a link to one shared photo's original, when the
/// owner allowed downloads.
pub fn share_download(token: &str, photo_id: &str, password: Option<&str>) -> ApiRequest {
    #[derive(Serialize)]
    struct Body<'a> {
        photo_id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        password: Option<&'a str>,
    }
    ApiRequest::json(
        "POST",
        format!("/public/shares/{}/download", encode(token)),
        &Body { photo_id, password },
    )
}

/// A link to download one original.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Download {
    pub url: String,
}

/// The caller's storage use, from `GET /me`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Usage {
    pub used_bytes: u64,
    pub photo_count: u64,
    pub quota_bytes: u64,
    pub max_upload_bytes: u64,
    /// The longest a share link may live on this stage, in days.
    #[serde(default = "default_max_share_days")]
    pub max_share_days: u32,
}

fn default_max_share_days() -> u32 {
    30
}

/// The expiry choices a share link offers, in days: 1, 7 and 30 as far as the stage allows,
/// and the stage's longest when it is none of those.
pub fn expiry_choices(max_share_days: u32) -> Vec<u32> {
    let mut out: Vec<u32> = [1, 7, 30]
        .into_iter()
        .filter(|d| *d <= max_share_days)
        .collect();
    if max_share_days > 0 && !out.contains(&max_share_days) {
        out.push(max_share_days);
    }
    out
}

pub fn me() -> ApiRequest {
    ApiRequest::new("GET", "/me".into())
}

/// The link to give out for a share token, on this site's origin.
pub fn share_link(origin: &str, token: &str) -> String {
    format!("{}/s/{}", origin.trim_end_matches('/'), encode(token))
}

/// The API's error body: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl ApiError {
    /// Reads an error body; when it is not the API's shape (a gateway error page, a 502 from a
    /// proxy), the HTTP status stands in as the code.
    pub fn parse(status: u16, body: &str) -> ApiError {
        #[derive(Deserialize)]
        struct Envelope {
            error: ApiError,
        }
        serde_json::from_str::<Envelope>(body)
            .map(|e| e.error)
            .unwrap_or_else(|_| ApiError {
                code: format!("http_{status}"),
                message: String::new(),
            })
    }
}

/// Percent-encodes a path segment or query value (everything but unreserved characters).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heic_files_are_offered_and_labelled_when_the_browser_does_not() {
        for accepted in ["image/heic", "image/heif", ".heic", ".heif", "image/jpeg"] {
            assert!(
                ACCEPTED_FILES.split(',').any(|a| a == accepted),
                "{accepted}"
            );
        }
        assert_eq!(upload_content_type("IMG_0001.HEIC", ""), "image/heic");
        assert_eq!(upload_content_type("photo.heif", ""), "image/heif");
        assert_eq!(upload_content_type("a.b.JPG", ""), "image/jpeg");
        // What the browser says wins; a name says nothing without an extension.
        assert_eq!(
            upload_content_type("IMG_0001.HEIC", "image/heic"),
            "image/heic"
        );
        assert_eq!(upload_content_type("x.heic", "image/png"), "image/png");
        assert_eq!(upload_content_type("README", ""), "");
    }
    use photo_api::dto;

    fn check(req: Option<ApiRequest>, expected: Option<(&str, &str, Option<&str>)>) {
        let got = req
            .as_ref()
            .map(|r| (r.method, r.path.as_str(), r.body.as_deref()));
        assert_eq!(got, expected);
    }

    /// Serialises a value with the API's own DTO type, as the API function does, and decodes
    /// it with ours: the contract test between the two sides.
    fn via_api<T: for<'de> Deserialize<'de>>(api_value: &impl Serialize) -> T {
        let json = serde_json::to_string(api_value).unwrap();
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
    }

    /// The photo id the API photos of these tests carry.
    const PHOTO_ID: &str = "01JD3W8Z5E0000000000000000";

    fn api_photo(status: &'static str, title: Option<&str>) -> dto::PhotoDto {
        use photo_domain::{PhotoId, Sha256, Timestamp};
        dto::PhotoDto {
            id: dto::Text(PhotoId::parse(PHOTO_ID).unwrap()),
            status,
            failure_reason: None,
            file_name: "sea.jpg".into(),
            content_type: "image/jpeg",
            size: 1234,
            sha256: dto::Text(Sha256::from_bytes([0xab; 32])),
            dimensions: Some(dto::DimensionsDto {
                width: 640,
                height: 480,
            }),
            taken_at: Some(dto::Text(
                Timestamp::from_millis(1_714_557_600_000).rfc3339(),
            )),
            taken_at_local: Some("2024-05-01T12:00:00+02:00".into()),
            camera: Some("Canon".into()),
            gps: None,
            title: title.map(Into::into),
            favourite: true,
            created_at: dto::Text(Timestamp::from_millis(1_767_225_600_000).rfc3339()),
            thumbnail_url: Some("http://h/_media/t".into()),
            preview_url: Some("http://h/_media/p".into()),
            original_url: Some("http://h/_media/o".into()),
        }
    }

    #[test]
    fn builds_requests() {
        check(
            list_photos(&Cursor::Start, 30),
            Some(("GET", "/photos?limit=30", None)),
        );
        check(
            list_photos(&Cursor::Next("a+b/c=".into()), 30),
            Some(("GET", "/photos?limit=30&cursor=a%2Bb%2Fc%3D", None)),
        );
        check(list_photos(&Cursor::End, 30), None);
        check(
            list_album_photos("al 1", &Cursor::Start, 5),
            Some(("GET", "/albums/al%201/photos?limit=5", None)),
        );
        check(
            list_albums(&Cursor::Start, 100),
            Some(("GET", "/albums?limit=100", None)),
        );
        check(
            list_shares(&Cursor::Start, 100),
            Some(("GET", "/shares?limit=100", None)),
        );
        check(
            Some(update_photo("p1", &PhotoPatch::title(" Sea "))),
            Some(("PATCH", "/photos/p1", Some(r#"{"title":"Sea"}"#))),
        );
        check(
            Some(update_photo("p1", &PhotoPatch::title("  "))),
            Some(("PATCH", "/photos/p1", Some(r#"{"title":null}"#))),
        );
        check(
            Some(update_photo("p1", &PhotoPatch::favourite(true))),
            Some(("PATCH", "/photos/p1", Some(r#"{"favourite":true}"#))),
        );
        check(
            Some(delete_photo("p/1")),
            Some(("DELETE", "/photos/p%2F1", None)),
        );
        check(
            Some(create_upload(&UploadIntent {
                file_name: "a.jpg".into(),
                content_type: "image/jpeg".into(),
                size: 3,
                sha256: "ab".into(),
            })),
            Some((
                "POST",
                "/photos/uploads",
                Some(r#"{"file_name":"a.jpg","content_type":"image/jpeg","size":3,"sha256":"ab"}"#),
            )),
        );
        check(
            Some(create_album("  Trip ")),
            Some(("POST", "/albums", Some(r#"{"name":"Trip"}"#))),
        );
        check(
            Some(rename_album("a", "B")),
            Some(("PATCH", "/albums/a", Some(r#"{"name":"B"}"#))),
        );
        check(
            Some(add_to_album("a", "p")),
            Some(("PUT", "/albums/a/photos/p", None)),
        );
        check(
            Some(remove_from_album("a", "p")),
            Some(("DELETE", "/albums/a/photos/p", None)),
        );
        check(
            Some(create_share(&NewShare::new(ShareKind::Album, "a", 7, ""))),
            Some((
                "POST",
                "/shares",
                Some(r#"{"album_id":"a","expires_in_days":7}"#),
            )),
        );
        check(
            Some(create_share(
                &NewShare::new(ShareKind::Album, "a", 30, "").allowing_download(true),
            )),
            Some((
                "POST",
                "/shares",
                Some(r#"{"album_id":"a","expires_in_days":30,"allow_download":true}"#),
            )),
        );
        assert_eq!(expiry_choices(30), [1, 7, 30]);
        assert_eq!(expiry_choices(14), [1, 7, 14]);
        assert_eq!(expiry_choices(365), [1, 7, 30, 365]);
        assert_eq!(expiry_choices(1), [1]);
        check(
            Some(create_share(&NewShare::new(ShareKind::Photo, "p", 1, "pw"))),
            Some((
                "POST",
                "/shares",
                Some(r#"{"photo_id":"p","expires_in_days":1,"password":"pw"}"#),
            )),
        );
        check(Some(revoke_share("t")), Some(("DELETE", "/shares/t", None)));
        check(
            Some(open_public_share("t", None)),
            Some(("GET", "/public/shares/t", None)),
        );
        check(
            Some(open_public_share("t", Some("pw"))),
            Some(("POST", "/public/shares/t", Some(r#"{"password":"pw"}"#))),
        );
        check(Some(me()), Some(("GET", "/me", None)));
    }

    #[test]
    fn only_files_that_start_like_photos_are_sent() {
        assert!(looks_like_a_photo(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]));
        assert!(looks_like_a_photo(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        assert!(looks_like_a_photo(b"RIFF\x10\0\0\0WEBPVP8 "));
        assert!(looks_like_a_photo(b"\0\0\0\x18ftypheic\0\0\0\0"));
        assert!(looks_like_a_photo(b"\0\0\0\x1cftypmif1\0\0\0\0"));
        // A PDF, a text file, an MP4 video, nothing at all, a JPEG cut after two bytes.
        assert!(!looks_like_a_photo(b"%PDF-1.7\n%\xe2\xe3"));
        assert!(!looks_like_a_photo(b"hello, world"));
        assert!(!looks_like_a_photo(b"\0\0\0\x20ftypisom\0\0\x02\0"));
        assert!(!looks_like_a_photo(b""));
        assert!(!looks_like_a_photo(&[0xFF, 0xD8]));
    }

    #[test]
    fn the_timeline_and_batches_speak_the_api_s_language() {
        check(
            list_timeline(&Cursor::Next("c".into()), 60),
            Some(("GET", "/photos/timeline?limit=60&cursor=c", None)),
        );
        check(
            Some(timeline_months()),
            Some(("GET", "/photos/timeline/months", None)),
        );
        let mut p = api_photo("READY", None);
        p.gps = Some(dto::GpsDto {
            latitude: 48.5,
            longitude: -2.25,
        });
        let photo: Photo = via_api(&p);
        assert_eq!(
            photo.taken_at_local.as_deref(),
            Some("2024-05-01T12:00:00+02:00")
        );
        assert_eq!(
            photo.gps,
            Some(Gps {
                latitude: 48.5,
                longitude: -2.25
            })
        );
        let months: TimelineMonths = via_api(&dto::TimelineMonths {
            months: vec![dto::MonthDto {
                month: "2024-06".into(),
                photos: 12,
            }],
        });
        assert_eq!(
            months.months,
            vec![MonthCount {
                month: "2024-06".into(),
                photos: 12
            }]
        );
        // The request decodes as the API's own body, album included only when it is needed.
        let ids = vec!["p1".to_owned(), "p2".to_owned()];
        for (request, album) in [
            (batch(BatchAction::AddToAlbum, &ids, Some("a1")), Some("a1")),
            (batch(BatchAction::Delete, &ids, None), None),
        ] {
            let body: dto::BatchRequest = serde_json::from_str(request.body.as_deref().unwrap())
                .unwrap_or_else(|e| panic!("{e}: {:?}", request.body));
            assert_eq!(body.ids, ids);
            assert_eq!(body.album_id.as_deref(), album);
            assert_eq!(
                (request.method, request.path.as_str()),
                ("POST", "/photos/batch")
            );
        }
        let outcome: BatchOutcome = via_api(&dto::BatchResponse {
            results: vec![dto::BatchResult {
                id: "p1".into(),
                ok: true,
                error: None,
            }],
            succeeded: 1,
            failed: 0,
        });
        assert_eq!((outcome.succeeded, outcome.failed), (1, 0));
        assert!(outcome.results[0].ok);
    }

    #[test]
    fn cursor_follows_pages() {
        assert_eq!(Cursor::after(Some("c2")), Cursor::Next("c2".into()));
        assert_eq!(Cursor::after(None), Cursor::End);
        assert_eq!(Cursor::after(Some("")), Cursor::End);
        let page: PhotoPage = via_api(&dto::PhotoPage {
            items: vec![api_photo("PENDING", None)],
            next_cursor: Some("c2".into()),
        });
        assert_eq!(page.photos[0].status, PhotoStatus::Pending);
        assert_eq!(
            Cursor::after(page.next_cursor.as_deref()),
            Cursor::Next("c2".into())
        );
    }

    #[test]
    fn decodes_the_api_photo() {
        let photo: Photo = via_api(&api_photo("READY", None));
        assert_eq!(photo.status, PhotoStatus::Ready);
        assert_eq!(photo.title, "");
        assert_eq!(photo.display_name(), "sea.jpg");
        assert_eq!(
            photo.dimensions,
            Some(Dimensions {
                width: 640,
                height: 480
            })
        );
        assert_eq!(photo.thumbnail_url.as_deref(), Some("http://h/_media/t"));
        assert_eq!(photo.camera.as_deref(), Some("Canon"));
        let failed: Photo = via_api(&dto::PhotoDto {
            failure_reason: Some("not an image".into()),
            ..api_photo("FAILED", Some("Sea"))
        });
        assert_eq!(failed.status, PhotoStatus::Failed);
        assert_eq!(failed.display_name(), "Sea");
    }

    #[test]
    fn parses_upload_grant() {
        let grant: UploadGrant = via_api(&dto::UploadResponse {
            photo: api_photo("PENDING", None),
            upload: dto::UploadTarget {
                url: "https://b.s3.eu-west-1.amazonaws.com".into(),
                fields: [("key", "uploads/u/p1"), ("policy", "x")]
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .into(),
                expires_at: "2026-01-01T00:15:00Z".into(),
            },
        });
        assert_eq!(grant.upload.fields["key"], "uploads/u/p1");
        assert_eq!(grant.photo.id, PHOTO_ID);
    }

    #[test]
    fn decodes_albums_and_shares() {
        let albums: AlbumList = via_api(&dto::AlbumPage {
            items: vec![dto::AlbumDto {
                id: "a1".into(),
                name: "Trip".into(),
                created_at: "2026-01-01T00:00:00Z".into(),
                photo_count: 3,
                cover_photo_id: Some("p1".into()),
                cover_chosen: false,
                taken_from: Some("2019-03-10T09:00:00".into()),
                taken_until: Some("2024-06-01T14:03:09".into()),
                cover_thumbnail_url: Some("http://h/_media/t".into()),
            }],
            next_cursor: None,
        });
        let a = &albums.albums[0];
        assert_eq!((a.name.as_str(), a.photo_count), ("Trip", 3));
        assert_eq!(a.cover_thumbnail_url.as_deref(), Some("http://h/_media/t"));
        assert_eq!(
            crate::messages::album_summary(a),
            "3 photos · Mar 2019 – Jun 2024"
        );
        let shares: ShareList = via_api(&dto::SharePage {
            items: vec![dto::ShareDto {
                token: "t1".into(),
                target_kind: "album".into(),
                target_id: "a1".into(),
                created_at: "2026-01-01T00:00:00Z".into(),
                expires_at: "2026-01-08T00:00:00Z".into(),
                password_protected: true,
                revoked: false,
                allow_download: false,
                expires_in_days: Some(7),
            }],
            next_cursor: None,
        });
        let s = &shares.shares[0];
        assert_eq!(
            (s.kind, s.target_id.as_str(), s.has_password, s.revoked),
            (ShareKind::Album, "a1", true, false)
        );
        let public: PublicShare = via_api(&dto::PublicShareDto {
            kind: "album".into(),
            album_name: Some("Trip".into()),
            expires_at: "2026-01-08T00:00:00Z".into(),
            allow_download: false,
            shared_by: Some("Alice".into()),
            photos: vec![dto::PublicPhotoDto {
                id: "p1".into(),
                title: None,
                dimensions: None,
                taken_at: Some("2024-05-01T10:00:00Z".into()),
                taken_at_local: Some("2024-05-01T12:00:00+02:00".into()),
                camera: None,
                thumbnail_url: Some("t".into()),
                preview_url: Some("p".into()),
            }],
        });
        assert_eq!(public.album_name, "Trip");
        assert_eq!(public.shared_by.as_deref(), Some("Alice"));
        assert!(!public.allow_download);
        let request = share_download("t", "p1", Some("pw"));
        let body: dto::ShareDownloadRequest =
            serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            (body.photo_id.as_str(), body.password.as_deref()),
            ("p1", Some("pw"))
        );
        assert_eq!(request.path, "/public/shares/t/download");
        let link: Download = via_api(&dto::ShareDownloadDto { url: "u".into() });
        assert_eq!(link.url, "u");
        assert_eq!(public.photos[0].status, PhotoStatus::Ready);
        assert_eq!(public.photos[0].display_name(), "Photo taken 1 May 2024");
        let usage: Usage = via_api(&dto::MeDto {
            user_id: "u".into(),
            display_name: None,
            used_bytes: 10,
            photo_count: 1,
            quota_bytes: 100,
            max_upload_bytes: 50,
            max_share_days: 14,
        });
        assert_eq!(usage.max_share_days, 14);
        assert_eq!(usage.photo_count, 1);
    }

    #[test]
    fn parses_errors() {
        let e = ApiError::parse(
            413,
            r#"{"error":{"code":"too_large","message":"max 20 MB","existing_photo_id":"p"}}"#,
        );
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("too_large", "max 20 MB")
        );
        assert_eq!(
            ApiError::parse(502, "<html>Bad gateway</html>").code,
            "http_502"
        );
        assert_eq!(ApiError::parse(500, "").code, "http_500");
    }

    #[test]
    fn photo_names_fall_back() {
        let mut p: Photo = serde_json::from_str(r#"{"id":"p1","title":null}"#).unwrap();
        assert_eq!(p.display_name(), "Photo");
        p.taken_at_local = Some("2024-06-01T14:03:09+02:00".into());
        assert_eq!(p.display_name(), "Photo taken 1 Jun 2024");
        p.file_name = "a.jpg".into();
        assert_eq!(p.display_name(), "a.jpg");
        p.title = "Sea".into();
        assert_eq!(p.display_name(), "Sea");
        p.title = "  ".into();
        assert_eq!(p.display_name(), "a.jpg");
    }

    #[test]
    fn share_links_use_the_site_origin() {
        assert_eq!(
            share_link("https://photos.example.com/", "t-1"),
            "https://photos.example.com/s/t-1"
        );
    }
}
