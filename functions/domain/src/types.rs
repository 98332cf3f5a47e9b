//! Validated value types: ids, tokens, checksums, names and timestamps.
//!
//! Every type here is checked when it is built, so the rest of the domain never re-validates.

use std::fmt;
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Fills `buf` from the operating system's random source.
pub(crate) fn random_bytes(buf: &mut [u8]) {
    OsRng.fill_bytes(buf);
}

/// The serde form of a validated type: read back through `parse`, written as `$into`.
macro_rules! string_form {
    ($name:ident, |$v:ident| $into:expr) => {
        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self> {
                $name::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from($v: $name) -> String {
                $into
            }
        }
    };
}

/// Whether `s` is made of `[A-Za-z0-9_-]` only, so it can sit in keys and URLs unescaped.
fn url_safe(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `s`, owned, if it passed the checks (`ok`); otherwise `field` is invalid: `expected` says why.
fn accept(ok: bool, s: &str, field: &'static str, expected: &'static str) -> Result<String> {
    if ok {
        Ok(s.to_owned())
    } else {
        Err(Error::invalid(field, expected))
    }
}

/// A user, as identified by the verified token's `sub` claim.
///
/// Restricted to `[A-Za-z0-9_-]` so it can sit inside S3 keys (`/`) and table keys (`#`) unescaped;
/// Cognito `sub` values are UUIDs and pass.
///
/// Like the text types below, it holds its text shared: a copy of a photo (a listing's page,
/// read again and again) copies no text, only a count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(Arc<str>);

impl UserId {
    pub fn parse(s: &str) -> Result<Self> {
        let ok = !s.is_empty() && s.len() <= 128 && url_safe(s);
        accept(
            ok,
            s,
            "user_id",
            "expected 1 to 128 characters of `A-Za-z0-9_-`",
        )
        .map(|s| UserId(s.into()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_form!(UserId, |u| u.0.as_ref().to_owned());
impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }
    pub const fn from_secs(s: i64) -> Self {
        Timestamp(s * 1000)
    }
    pub const fn millis(self) -> i64 {
        self.0
    }
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }
    pub const fn plus_secs(self, s: i64) -> Self {
        Timestamp(self.0.saturating_add(s.saturating_mul(1000)))
    }

    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-24T20:25:07.123Z`.
    pub fn to_rfc3339(self) -> String {
        self.rfc3339().to_string()
    }

    /// The [`to_rfc3339`](Self::to_rfc3339) form as a `Display`, to write into a larger text
    /// (a JSON response) without a `String` of its own.
    pub fn rfc3339(self) -> Rfc3339 {
        Rfc3339(self)
    }

    /// The calendar month this instant falls in, in UTC, as `YYYY-MM`.
    pub fn month(self) -> String {
        let (y, m, _) = civil_from_days(self.0.div_euclid(86_400_000));
        format!("{y:04}-{m:02}")
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID: 48 bits of milliseconds then 80 random bits, written as 26 Crockford base32 characters.
///
/// Sorting the text sorts by creation time, so "newest first" is a descending key-range query.
/// 80 random bits make ids unguessable.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ulid(u128);

// The text form, so logs and test dumps show ids the way the API does.
impl fmt::Debug for Ulid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ulid({self})")
    }
}

impl Ulid {
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != 26 {
            return None;
        }
        let mut v: u128 = 0;
        for (i, b) in s.bytes().enumerate() {
            let digit = CROCKFORD.iter().position(|&c| c == b)? as u128;
            // 26 characters hold 130 bits; the first may only carry the top 3 bits.
            if i == 0 && digit > 7 {
                return None;
            }
            v = (v << 5) | digit;
        }
        Some(Ulid(v))
    }
    pub fn created_at(self) -> Timestamp {
        Timestamp((self.0 >> 80) as i64)
    }
}

impl fmt::Display for Ulid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0u8; 26];
        for (i, c) in out.iter_mut().enumerate() {
            *c = CROCKFORD[((self.0 >> (125 - 5 * i)) & 31) as usize];
        }
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

/// A [`Timestamp`] shown as RFC 3339 in UTC with milliseconds ([`Timestamp::rfc3339`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(Timestamp);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.0.div_euclid(86_400_000);
        let ms_of_day = self.0.0.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        let (h, min, s, ms) = (
            ms_of_day / 3_600_000,
            ms_of_day / 60_000 % 60,
            ms_of_day / 1000 % 60,
            ms_of_day % 1000,
        );
        if !(0..=9999).contains(&y) {
            return write!(f, "{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{ms:03}Z");
        }
        // Listings print several timestamps per photo: write the fixed-width digits directly
        // rather than through the formatting machinery.
        let mut out = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut value: i64| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, y);
        put(5, 2, i64::from(m));
        put(8, 2, i64::from(d));
        put(11, 2, h);
        put(14, 2, min);
        put(17, 2, s);
        put(20, 3, ms);
        // Only ASCII digits and separators were written.
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

/// Hands out strictly increasing ULIDs, even within one millisecond or if the clock steps back,
/// so that two photos uploaded in the same millisecond still list in upload order.
///
/// The first id of a millisecond takes 80 fresh random bits; later ids of the same millisecond
/// add one to the last (the ULID specification's monotonic mode), so a burst of ids (a request
/// id for every request of a busy server) asks the operating system for randomness about once a
/// millisecond rather than once an id. Ids are names, not secrets: nothing is authorised by
/// knowing one.
#[derive(Debug, Default)]
pub struct UlidGenerator {
    last: Mutex<u128>,
}

impl UlidGenerator {
    pub fn next(&self, now: Timestamp) -> Ulid {
        let ms = (now.millis().max(0) as u128) & ((1u128 << 48) - 1);
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let next = if ms > *last >> 80 {
            let mut random = [0u8; 16];
            random_bytes(&mut random);
            (ms << 80) | (u128::from_be_bytes(random) & ((1u128 << 80) - 1))
        } else {
            *last + 1
        };
        *last = next;
        Ulid(next)
    }
}

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Ulid);

        impl $name {
            pub fn parse(s: &str) -> Result<Self> {
                Ulid::parse(s)
                    .map($name)
                    .ok_or_else(|| Error::invalid($field, "expected a 26-character id"))
            }
            pub fn from_ulid(u: Ulid) -> Self {
                $name(u)
            }
            pub fn created_at(self) -> Timestamp {
                self.0.created_at()
            }
        }
        string_form!($name, |v| v.to_string());
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

ulid_id!(
    /// A photo's id: time-ordered and unguessable.
    PhotoId,
    "photo_id"
);
ulid_id!(
    /// An album's id: time-ordered and unguessable.
    AlbumId,
    "album_id"
);

/// A share link's secret token: 256 random bits, base64url without padding (43 characters).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShareToken(String);

impl ShareToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        random_bytes(&mut bytes);
        ShareToken(URL_SAFE_NO_PAD.encode(bytes))
    }
    pub fn parse(s: &str) -> Result<Self> {
        let ok = s.len() == 43 && url_safe(s) && URL_SAFE_NO_PAD.decode(s).is_ok();
        accept(ok, s, "token", "expected a 43-character share token").map(ShareToken)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// The token is a bearer secret: keep it out of logs that print `Debug` values.
impl fmt::Debug for ShareToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShareToken({}…)", &self.0[..6])
    }
}
string_form!(ShareToken, |t| t.0);

/// A SHA-256 digest; text form is 64 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256([u8; 32]);

impl Sha256 {
    pub const fn from_bytes(b: [u8; 32]) -> Self {
        Sha256(b)
    }
    pub fn parse(s: &str) -> Result<Self> {
        let err = || Error::invalid("sha256", "expected 64 hex digits");
        if s.len() != 64 {
            return Err(err());
        }
        let mut out = [0u8; 32];
        for (i, pair) in s.as_bytes().chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16).ok_or_else(err)?;
            let lo = (pair[1] as char).to_digit(16).ok_or_else(err)?;
            out[i] = (hi * 16 + lo) as u8;
        }
        Ok(Sha256(out))
    }
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// Standard base64, the form S3's `x-amz-checksum-sha256` expects.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}
impl fmt::Display for Sha256 {
    /// Lowercase hex. Every photo in every listing prints its checksum, so this avoids one
    /// formatting call per byte (it was a fifth of the local stage's time listing photos).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (pair, b) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 0x0f)];
        }
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}
string_form!(Sha256, |v| v.to_string());

/// The image formats the thumbnail pipeline decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ContentType {
    Jpeg,
    Png,
    Webp,
    /// HEIF with HEVC pictures, what iPhones save; the thumbnail step checks the bytes.
    Heic,
    /// The same, declared with HEIF's generic type: kept so the original downloads as uploaded.
    Heif,
}

impl ContentType {
    pub fn parse(s: &str) -> Result<Self> {
        // Parameters such as `; charset=` mean nothing for images; compare the bare media type.
        let bare = s
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match bare.as_str() {
            "image/jpeg" | "image/jpg" => Ok(ContentType::Jpeg),
            "image/png" => Ok(ContentType::Png),
            "image/webp" => Ok(ContentType::Webp),
            "image/heic" => Ok(ContentType::Heic),
            "image/heif" => Ok(ContentType::Heif),
            _ => Err(Error::UnsupportedType(s.chars().take(100).collect())),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Jpeg => "image/jpeg",
            ContentType::Png => "image/png",
            ContentType::Webp => "image/webp",
            ContentType::Heic => "image/heic",
            ContentType::Heif => "image/heif",
        }
    }
}
string_form!(ContentType, |c| c.as_str().to_owned());

/// Checks a free-text field: trimmed length within bounds and no control characters.
fn text(field: &'static str, s: &str, min: usize, max: usize) -> Result<String> {
    let t = s.trim();
    let n = t.chars().count();
    if n < min || n > max {
        return Err(Error::invalid(
            field,
            format!("expected {min} to {max} characters, got {n}"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(Error::invalid(field, "control characters are not allowed"));
    }
    Ok(t.to_owned())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Arc<str>);

        impl $name {
            pub const MAX_CHARS: usize = $max;
            pub fn parse(s: &str) -> Result<Self> {
                text($field, s, $min, $max).map(|s| $name(s.into()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        string_form!($name, |v| v.0.as_ref().to_owned());
    };
}

text_type!(
    /// The name of the file as the user picked it; shown back, never used in storage keys.
    FileName,
    "file_name",
    1,
    255
);
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

impl FileName {
    /// The `Content-Disposition` a download of the photo is served with, so that browsers save
    /// it under this name: `attachment`, an ASCII `filename` for old clients (where characters
    /// outside printable ASCII, quotes, backslashes, semicolons and percent signs become `_`) and
    /// the exact name as RFC 5987's `filename*`. The value is printable ASCII, as S3's object
    /// metadata and HTTP headers want.
    pub fn content_disposition(&self) -> String {
        let fallback: String = self
            .0
            .chars()
            .map(|c| match c {
                ' '..='~' if !matches!(c, '"' | '\\' | ';' | '%') => c,
                _ => '_',
            })
            .collect();
        let mut exact = String::with_capacity(self.0.len() * 3);
        for b in self.0.bytes() {
            // RFC 5987's attr-char is sent as it is; every other byte as %XX.
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                exact.push(char::from(b));
            } else {
                exact.push('%');
                exact.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
                exact.push(char::from(HEX_UPPER[usize::from(b & 15)]));
            }
        }
        format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}")
    }
}
text_type!(
    /// A photo's title, at most 200 characters.
    Title,
    "title",
    1,
    200
);
text_type!(
    /// An album's name, 1 to 200 characters.
    AlbumName,
    "name",
    1,
    200
);
text_type!(
    /// The name a user chose to be shown by, 1 to 60 characters: what a share's guest sees as
    /// "shared by".
    DisplayName,
    "display_name",
    1,
    60
);
text_type!(
    /// Camera make and model as read from EXIF.
    Camera,
    "camera",
    1,
    200
);

/// Pixel dimensions of the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

/// A position from EXIF; sensitive, so only the owner ever sees it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gps {
    latitude: f64,
    longitude: f64,
}

impl Gps {
    pub fn new(latitude: f64, longitude: f64) -> Result<Self> {
        if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
            return Err(Error::invalid("gps", "latitude or longitude out of range"));
        }
        Ok(Gps {
            latitude,
            longitude,
        })
    }
    pub fn latitude(&self) -> f64 {
        self.latitude
    }
    pub fn longitude(&self) -> f64 {
        self.longitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_rfc3339(ms: i64, expected: &str) {
        assert_eq!(Timestamp::from_millis(ms).to_rfc3339(), expected);
    }

    #[test]
    fn timestamps_format_as_rfc3339() {
        check_rfc3339(0, "1970-01-01T00:00:00.000Z");
        check_rfc3339(951_782_400_000, "2000-02-29T00:00:00.000Z");
        check_rfc3339(1_795_551_907_123, "2026-11-24T20:25:07.123Z");
        check_rfc3339(-1, "1969-12-31T23:59:59.999Z");
        check_rfc3339(253_402_300_799_999, "9999-12-31T23:59:59.999Z");
        check_rfc3339(253_402_300_800_000, "10000-01-01T00:00:00.000Z");
    }

    #[test]
    fn ulids_round_trip_and_sort_by_time() {
        let g = UlidGenerator::default();
        let a = g.next(Timestamp::from_millis(1000));
        let b = g.next(Timestamp::from_millis(1000));
        let c = g.next(Timestamp::from_millis(999));
        assert!(
            a < b && b < c,
            "monotonic within a millisecond and across a step back"
        );
        assert!(a.to_string() < b.to_string() && b.to_string() < c.to_string());
        assert_eq!(Ulid::parse(&a.to_string()), Some(a));
        assert_eq!(a.created_at(), Timestamp::from_millis(1000));
        let later = g.next(Timestamp::from_millis(2_000_000_000_000));
        assert!(later.to_string() > c.to_string());
        assert_eq!(
            later.created_at(),
            Timestamp::from_millis(2_000_000_000_000)
        );
    }

    #[test]
    fn a_millisecond_starts_from_fresh_randomness_and_counts_up_from_there() {
        let now = Timestamp::from_millis(1_800_000_000_000);
        let (g, h) = (UlidGenerator::default(), UlidGenerator::default());
        let burst: Vec<Ulid> = (0..100).map(|_| g.next(now)).collect();
        assert!(burst.windows(2).all(|w| w[1].0 == w[0].0 + 1), "{burst:?}");
        assert!(burst.iter().all(|u| u.created_at() == now));
        // Two generators (two processes) meeting in one millisecond draw apart.
        assert_ne!(h.next(now), burst[0]);
        let next_ms = g.next(Timestamp::from_millis(now.millis() + 1));
        assert_eq!(
            next_ms.created_at(),
            Timestamp::from_millis(now.millis() + 1)
        );
    }

    #[test]
    fn bad_ids_are_refused() {
        for bad in [
            "",
            "x",
            "8ZZZZZZZZZZZZZZZZZZZZZZZZZ",
            "01ARZ3NDEKTSV4RRFFQ69G5FAv",
            "01ARZ3NDEKTSV4RRFFQ69G5FA",
        ] {
            assert!(PhotoId::parse(bad).is_err(), "{bad}");
        }
        assert!(PhotoId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").is_ok());
        for bad in ["", "a#b", "a/b", &"a".repeat(129)] {
            assert!(UserId::parse(bad).is_err(), "{bad}");
        }
        assert!(ShareToken::parse("short").is_err());
        assert!(ShareToken::parse(ShareToken::generate().as_str()).is_ok());
        let token = ShareToken::generate();
        assert!(
            !format!("{token:?}").contains(token.as_str()),
            "debug output hides the token"
        );
    }

    #[test]
    fn sha256_parses_hex_only() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(Sha256::parse(hex).unwrap().to_string(), hex);
        assert_eq!(Sha256::parse(&hex.to_uppercase()).unwrap().to_string(), hex);
        assert!(Sha256::parse(&hex[1..]).is_err());
        assert!(Sha256::parse(&format!("{}g", &hex[1..])).is_err());
        assert!(Sha256::parse("é".repeat(32).as_str()).is_err());
    }

    #[test]
    fn content_types() {
        assert_eq!(ContentType::parse("image/JPEG").unwrap(), ContentType::Jpeg);
        assert_eq!(
            ContentType::parse("image/webp; q=1").unwrap(),
            ContentType::Webp
        );
        assert_eq!(ContentType::parse("image/heic").unwrap(), ContentType::Heic);
        assert_eq!(
            ContentType::parse("image/HEIF").unwrap().as_str(),
            "image/heif"
        );
        // Sequences (bursts, animations) are not photos.
        assert!(matches!(
            ContentType::parse("image/heic-sequence"),
            Err(Error::UnsupportedType(_))
        ));
        assert!(matches!(
            ContentType::parse("image/gif"),
            Err(Error::UnsupportedType(_))
        ));
    }

    #[test]
    fn text_limits() {
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert!(Title::parse(&"é".repeat(201)).is_err());
        assert!(AlbumName::parse("   ").is_err());
        assert!(FileName::parse("a\nb.jpg").is_err());
        assert_eq!(AlbumName::parse("  Summer ").unwrap().as_str(), "Summer");
    }

    #[test]
    fn a_download_is_saved_under_the_files_name() {
        let disposition = |name: &str| FileName::parse(name).unwrap().content_disposition();
        assert_eq!(
            disposition("IMG_0042.HEIC"),
            "attachment; filename=\"IMG_0042.HEIC\"; filename*=UTF-8''IMG_0042.HEIC"
        );
        assert_eq!(
            disposition("Été à Nice \"2024\"\\1.jpg"),
            "attachment; filename=\"_t_ _ Nice _2024__1.jpg\"; \
             filename*=UTF-8''%C3%89t%C3%A9%20%C3%A0%20Nice%20%222024%22%5C1.jpg"
        );
        // A name cannot end the header or add a parameter of its own.
        let tricky = disposition("a\"; filename=evil.exe; x=\"");
        assert!(tricky.is_ascii() && !tricky.chars().any(char::is_control));
        assert_eq!(tricky.matches('"').count(), 2, "{tricky}");
        assert_eq!(tricky.matches(';').count(), 2, "{tricky}");
    }
}
