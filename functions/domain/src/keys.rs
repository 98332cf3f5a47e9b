//! The single-table key layout, shared by every repository adapter so they agree on it.
//!
//! | item            | `pk`              | `sk`                               | `gsi1pk`                          | `gsi1sk`           |
//! |-----------------|-------------------|------------------------------------|-----------------------------------|--------------------|
//! | photo           | `USER#{user}`     | `PHOTO#{photo}`                    | `PENDING#{shard}` while awaited   | `{user}#{created ms, 13 digits}#{photo}` |
//! | month count     | `USER#{user}`     | `MONTH#{YYYY-MM}`                  |                                   |                    |
//! | checksum lookup | `USER#{user}`     | `SHA256#{hex}`                     |                                   |                    |
//! | usage           | `USER#{user}`     | `USAGE`                            |                                   |                    |
//! | profile         | `USER#{user}`     | `PROFILE`                          |                                   |                    |
//! | album           | `USER#{user}`     | `ALBUM#{album}`                    |                                   |                    |
//! | album member    | `USER#{user}`     | `MEMBER#{album}#{photo}`           | `TARGET#{user}#PHOTO#{photo}`     | `MEMBER#{album}`   |
//! | share link      | `SHARE#{token}`   | `SHARE`                            | `TARGET#{user}#{PHOTO|ALBUM}#{id}` | `SHARE#{token}`   |
//! | share of owner  | `USER#{user}`     | `SHARELINK#{created ms, 13 digits}#{token}` |                          |                    |
//!
//! Photo and album ids are ULIDs, so listing a prefix in descending key order is "newest first".
//! The share link lives under its own partition so the public endpoint reads it with one strongly
//! consistent `GetItem`; the owner's copy makes "my links" a query. `gsi1` answers "what points at
//! this photo or album", which deleting needs. A photo carries `gsi1` keys only from its upload's
//! start until processing takes it up: the index's `PENDING#{shard}` partitions are then a sparse
//! list of the uploads still awaited, which is what expiring abandoned uploads reads (one user's
//! by a key range, everyone's by reading the [`PENDING_SHARDS`] partitions), never a scan.
//!
//! Photos also carry `tlsk` = `TAKEN#{timeline ms + 62135596800000, 15 digits}#{photo}`
//! ([`timeline_sk`]), the sort key of the `timeline` index (partition key `pk`): the owner's
//! photos by date taken, newest first, is a descending query of `USER#{user}` there. The offset
//! is the milliseconds from 0001-01-01 to 1970-01-01, so every year from 1 to 9999 sorts as text.
//! A month count item holds `photos`, how many of the owner's photos have their
//! [`Photo::timeline_month`] in that month; every write that adds, moves or removes a photo on the
//! timeline changes it in the same transaction.
//!
//! Share-link items should also carry `ttl` (epoch seconds) some time after `expires_at`, so
//! DynamoDB clears out dead links; the API never relies on that, it checks `expires_at` itself.

use crate::model::{Photo, ShareTarget};
use crate::types::{AlbumId, PhotoId, Sha256, ShareToken, Timestamp, UserId};

pub const PHOTO_PREFIX: &str = "PHOTO#";
pub const ALBUM_PREFIX: &str = "ALBUM#";
pub const MEMBER_PREFIX: &str = "MEMBER#";
pub const SHARE_LINK_PREFIX: &str = "SHARELINK#";
pub const TIMELINE_PREFIX: &str = "TAKEN#";
pub const MONTH_PREFIX: &str = "MONTH#";
pub const USAGE_SK: &str = "USAGE";
pub const PROFILE_SK: &str = "PROFILE";
pub const SHARE_SK: &str = "SHARE";

pub fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}
pub fn photo_sk(photo: &PhotoId) -> String {
    format!("{PHOTO_PREFIX}{photo}")
}
pub fn sha256_sk(sha: &Sha256) -> String {
    format!("SHA256#{sha}")
}
pub fn album_sk(album: &AlbumId) -> String {
    format!("{ALBUM_PREFIX}{album}")
}
pub fn member_prefix(album: &AlbumId) -> String {
    format!("{MEMBER_PREFIX}{album}#")
}
pub fn member_sk(album: &AlbumId, photo: &PhotoId) -> String {
    format!("{MEMBER_PREFIX}{album}#{photo}")
}
/// Milliseconds from 0001-01-01T00:00:00Z to the Unix epoch.
const YEAR_ONE_MS: i64 = 62_135_596_800_000;

/// `tlsk` of a photo: where it sits on the owner's timeline ([`Photo::timeline_at`]).
pub fn timeline_sk(photo: &Photo) -> String {
    let at = photo.timeline_at().millis().saturating_add(YEAR_ONE_MS);
    format!(
        "{TIMELINE_PREFIX}{:015}#{}",
        at.clamp(0, 999_999_999_999_999),
        photo.id
    )
}
/// The month (`YYYY-MM`) a stored `tlsk` counts its photo in: what its place was written
/// from, even if a writer that did not know the timeline changed the photo since.
pub fn month_of_timeline_sk(tlsk: &str) -> Option<String> {
    let (digits, _) = tlsk.strip_prefix(TIMELINE_PREFIX)?.split_once('#')?;
    let at: i64 = digits.parse().ok()?;
    Some(Timestamp::from_millis(at - YEAR_ONE_MS).month())
}
/// The photo a `tlsk` belongs to.
pub fn photo_of_timeline_sk(tlsk: &str) -> Option<PhotoId> {
    let (_, photo) = tlsk.strip_prefix(TIMELINE_PREFIX)?.split_once('#')?;
    PhotoId::parse(photo).ok()
}
/// `sk` of the owner's count of photos in `month` (`YYYY-MM`).
pub fn month_sk(month: &str) -> String {
    format!("{MONTH_PREFIX}{month}")
}
pub fn share_pk(token: &ShareToken) -> String {
    format!("SHARE#{}", token.as_str())
}
pub fn share_link_sk(created_at: Timestamp, token: &ShareToken) -> String {
    format!(
        "{SHARE_LINK_PREFIX}{:013}#{}",
        created_at.millis().max(0),
        token.as_str()
    )
}
/// `gsi1pk` of everything that points at `target`: memberships (photos only) and share links.
pub fn target_gsi1pk(owner: &UserId, target: &ShareTarget) -> String {
    match target {
        ShareTarget::Photo(p) => format!("TARGET#{owner}#PHOTO#{p}"),
        ShareTarget::Album(a) => format!("TARGET#{owner}#ALBUM#{a}"),
    }
}
pub fn member_gsi1sk(album: &AlbumId) -> String {
    format!("{MEMBER_PREFIX}{album}")
}
/// How many `PENDING#{shard}` partitions the awaited uploads are spread over, so that a burst of
/// uploads does not write one index partition. Changing it strands the entries of the old shards:
/// it is part of the layout.
pub const PENDING_SHARDS: u32 = 16;

/// The shard of `user`'s awaited uploads: FNV-1a of the user id, stable across releases.
pub fn pending_shard(user: &UserId) -> u32 {
    let hash = user.as_str().bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash % PENDING_SHARDS
}
/// `gsi1pk` of shard `shard`'s awaited uploads.
pub fn pending_gsi1pk(shard: u32) -> String {
    format!("PENDING#{shard:02}")
}
/// `gsi1sk` of an awaited upload: by owner, then oldest first.
pub fn pending_gsi1sk(user: &UserId, created_at: Timestamp, photo: &PhotoId) -> String {
    format!("{user}#{:013}#{photo}", created_at.millis().max(0))
}
pub fn share_gsi1sk(token: &ShareToken) -> String {
    format!("SHARE#{}", token.as_str())
}
