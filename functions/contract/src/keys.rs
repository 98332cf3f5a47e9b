//! The photo bucket's key layout.

/// Where the browser uploads (`uploads/{user}/{photo}`), with a form that pins the exact bytes.
/// The bucket notifies the thumbnail function for this prefix only. Nothing here is served:
/// processing checks an upload, writes its derivatives, copies it to [`ORIGINALS_PREFIX`] and
/// deletes it, so a form posted again later can never change a processed photo.
pub const UPLOADS_PREFIX: &str = "uploads/";

/// Where processed originals live (`originals/{user}/{photo}`): written only by the thumbnail
/// step, never by an upload form.
pub const ORIGINALS_PREFIX: &str = "originals/";

/// Where the thumbnail function writes (`derivatives/{user}/{photo}/thumb.jpg` and
/// `preview.jpg`): outside [`UPLOADS_PREFIX`], so writing a derivative (or an original) can never
/// trigger the function again.
pub const DERIVATIVES_PREFIX: &str = "derivatives/";

/// How originals and derivatives are stored: an object under one key never changes (a photo's
/// id names its bytes, and processing writes the same derivatives again), so caches may keep it
/// for a year. The media distribution keeps it at the edge, which serves it only to signed
/// requests.
pub const MEDIA_CACHE_CONTROL: &str = "max-age=31536000, immutable";

/// How a browser is told to keep a photo it was sent: as [`MEDIA_CACHE_CONTROL`], but in its own
/// cache only, never in a shared one (a proxy's), since the link's signature is the only check.
pub const MEDIA_VIEWER_CACHE_CONTROL: &str = "private, max-age=31536000, immutable";
