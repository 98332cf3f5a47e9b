//! Photo processing for the thumbnail function and the local stage: bytes in, derivatives and
//! metadata out. Pure: no AWS, no files, no network.
//!
//! [`process`] checks the real type from the magic number ([`sniff`]), refuses oversized files
//! and decompression bombs from their headers, estimates what decoding and deriving will hold in
//! memory and refuses what exceeds the budget ([`Settings::max_alloc`], [`memory_needed`]),
//! decodes (JPEGs at a reduced DCT scale, PNGs row by row into a box-filter shrink, whenever the
//! derivatives are small enough), applies the EXIF orientation, and encodes a square grid
//! thumbnail and a larger preview as metadata-free JPEGs. [`PhotoMetadata`] carries the size,
//! when and where the photo was taken, the camera, and the SHA-256 of the original bytes.
//!
//! Derivatives are JPEG rather than WebP because lossy WebP encoding exists only in libwebp (C);
//! staying pure Rust keeps the Lambda build a plain cross-compile (see `derive.rs`).
//!
//! HEIC (HEIF with HEVC, what iPhones write) is decoded in pure Rust with `heifer`, tile by tile
//! into the same box-filter shrink as PNG; its orientation comes from the `irot`/`imir`
//! properties only, never from EXIF, as libheif does (see `decode/heic.rs`).

mod budget;
mod decode;
mod derive;
mod error;
mod heif;
mod metadata;
mod shrink;
mod sniff;

use sha2::{Digest, Sha256};

pub use error::ImagingError;
pub use metadata::{Camera, ExifSummary, GpsPosition, Orientation, TakenAt, read_exif};
pub use sniff::{Format, sniff};

/// Limits and output sizes. `Settings::default()` is what the app uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Largest accepted file, in bytes.
    pub max_file_bytes: u64,
    /// Largest accepted pixel count (width × height, from the header).
    pub max_pixels: u64,
    /// Longest accepted side, in pixels: real panoramas stay below it, crafted headers do not.
    pub max_side: u32,
    /// Most tiles (and items) a HEIF file may list: an iPhone's 12 MP photo is 48 tiles, a
    /// 200 MP one from Samsung 768; a tile bomb lists tens of thousands.
    pub max_tiles: u32,
    /// Threads decoding the tiles of one row of a HEIC at once: 0 for as many as the machine
    /// has (at most 4), 1 for none besides the caller's. Each holds one tile's decoder, which the
    /// memory estimate counts.
    pub decode_threads: usize,
    /// The memory budget: most bytes that processing one image may hold at once (decoder,
    /// decoded or shrunk image, conversions, resizing, derivatives, encoders), the original file
    /// aside. A photo that would need more is refused from its header, before decoding.
    pub max_alloc: u64,
    /// Side of the square grid thumbnail (smaller when the photo is).
    pub thumbnail_side: u32,
    /// Long edge of the preview (the photo's own size when it is smaller: never upscaled).
    pub preview_long_edge: u32,
    /// JPEG quality of the thumbnail, 1–100.
    pub thumbnail_quality: u8,
    /// JPEG quality of the preview, 1–100.
    pub preview_quality: u8,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_file_bytes: 50 * 1024 * 1024,
            max_pixels: 100_000_000,
            max_side: 40_000,
            max_tiles: 1024,
            decode_threads: 0,
            max_alloc: 256 * 1024 * 1024,
            thumbnail_side: 400,
            preview_long_edge: 1600,
            thumbnail_quality: 80,
            preview_quality: 82,
        }
    }
}

impl Settings {
    /// Largest WebP accepted, in pixels: WebP decodes only whole frames, at up to 16 bytes a
    /// pixel (lossy with alpha, or an animation's canvas), so its limit follows from the budget:
    /// 16.7 megapixels with the default 256 MiB.
    pub fn max_webp_pixels(&self) -> u64 {
        (self.max_alloc / 16).min(self.max_pixels)
    }
}

/// The SHA-256 of an original, to compare with the hash the client declared.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// Hashes `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Sha256Digest(Sha256::digest(bytes).into())
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

impl std::fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// What we know about an original photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoMetadata {
    /// The real format, from the magic number.
    pub format: Format,
    /// Width as shown, i.e. after the EXIF orientation.
    pub width: u32,
    /// Height as shown, i.e. after the EXIF orientation.
    pub height: u32,
    /// The orientation that was applied: EXIF's, or for HEIC its `irot`/`imir` transforms.
    pub orientation: Orientation,
    /// EXIF `DateTimeOriginal`.
    pub taken_at: Option<TakenAt>,
    /// EXIF `Make` / `Model`.
    pub camera: Option<Camera>,
    /// EXIF GPS position, decimal degrees. Never copied into a derivative.
    pub gps: Option<GpsPosition>,
    /// SHA-256 of the original bytes.
    pub sha256: Sha256Digest,
    /// Size of the original, in bytes.
    pub bytes: u64,
}

/// One encoded derivative.
#[derive(Clone, PartialEq, Eq)]
pub struct Jpeg {
    /// The JPEG file.
    pub bytes: Vec<u8>,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
}

impl std::fmt::Debug for Jpeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Jpeg({}×{}, {} bytes)",
            self.width,
            self.height,
            self.bytes.len()
        )
    }
}

/// The result of [`process`].
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// Square center crop, `thumbnail_side` pixels (for the grid).
    pub thumbnail: Jpeg,
    /// Long edge `preview_long_edge` pixels, aspect kept (for the photo page).
    pub preview: Jpeg,
    /// Size, EXIF facts and hash of the original.
    pub metadata: PhotoMetadata,
}

/// Checks, decodes and derives an uploaded photo. Never panics: a decoder bug surfaces as
/// [`ImagingError::Corrupt`].
pub fn process(bytes: &[u8], settings: &Settings) -> Result<Processed, ImagingError> {
    check_file(bytes, settings)?;
    let format = sniff(bytes)?;
    // The decoders are well fuzzed, but one bad upload must never take the function down, so a
    // panic deep inside one becomes an ordinary "corrupt" error.
    std::panic::catch_unwind(|| process_checked(bytes, format, settings)).unwrap_or_else(|_| {
        Err(ImagingError::Corrupt {
            detail: "the decoder failed on this file".into(),
            format,
        })
    })
}

/// Refuses empty and oversized files before anything else looks at them.
fn check_file(bytes: &[u8], settings: &Settings) -> Result<(), ImagingError> {
    let len = bytes.len() as u64;
    if len == 0 {
        return Err(ImagingError::Empty);
    }
    if len > settings.max_file_bytes {
        return Err(ImagingError::FileTooLarge {
            bytes: len,
            limit: settings.max_file_bytes,
        });
    }
    Ok(())
}

/// What processing `bytes` would hold in memory at once, in bytes, estimated from its headers
/// without decoding: what [`process`] compares with [`Settings::max_alloc`]. A caller running
/// several photos at a time can use it to keep their sum within what it has.
pub fn memory_needed(bytes: &[u8], settings: &Settings) -> Result<u64, ImagingError> {
    check_file(bytes, settings)?;
    let format = sniff(bytes)?;
    decode::memory_needed(bytes, format, settings, |w, h| needed(w, h, settings))
}

/// The side of the square thumbnail of a `w`×`h` photo (smaller when the photo is).
fn thumb_side_for(w: u32, h: u32, settings: &Settings) -> u32 {
    settings.thumbnail_side.max(1).min(w.min(h))
}

/// What the derivatives need from the stored image of a `w`×`h` photo: the preview box on both
/// axes, and a short side at least as long as the thumbnail. Orientation does not change either.
fn needed(w: u32, h: u32, settings: &Settings) -> (u32, u32) {
    let (pw, ph) = derive::fit_long_edge(w, h, settings.preview_long_edge.max(1));
    let thumb = thumb_side_for(w, h, settings);
    (pw.max(thumb), ph.max(thumb))
}

fn process_checked(
    bytes: &[u8],
    format: Format,
    settings: &Settings,
) -> Result<Processed, ImagingError> {
    let exif = read_exif(bytes);
    let long_edge = settings.preview_long_edge.max(1);
    let decoded = decode::decode(bytes, format, settings, |w, h| needed(w, h, settings))?;
    let (full_w, full_h) = (decoded.full_width, decoded.full_height);
    let image = decoded.image;

    let (pw, ph) = derive::fit_long_edge(full_w, full_h, long_edge);
    let (pw, ph) = (pw.min(image.width), ph.min(image.height));
    // A photo no larger than the preview is its own preview, not a copy of it.
    let reduced = if (pw, ph) == (image.width, image.height) {
        None
    } else {
        Some(derive::resize(&image, false, pw, ph)?)
    };
    let thumb_side = thumb_side_for(full_w, full_h, settings);
    // The preview is already a good-quality reduction; cropping the thumbnail from it is much
    // cheaper than from the decoded image, and just as sharp while it is at least as large.
    let thumb_source = match &reduced {
        Some(preview) if preview.width.min(preview.height) >= thumb_side => preview,
        _ => &image,
    };
    let thumb_side = thumb_side.min(thumb_source.width.min(thumb_source.height));
    let thumbnail = derive::resize(thumb_source, true, thumb_side, thumb_side)?;
    let preview = reduced.unwrap_or(image);

    let preview = derive::orient(preview, exif.orientation);
    let thumbnail = derive::orient(thumbnail, exif.orientation);
    let (width, height) = exif.orientation.oriented(full_w, full_h);
    Ok(Processed {
        thumbnail: Jpeg {
            bytes: derive::encode_jpeg(&thumbnail, settings.thumbnail_quality, "thumbnail")?,
            width: thumbnail.width,
            height: thumbnail.height,
        },
        preview: Jpeg {
            bytes: derive::encode_jpeg(&preview, settings.preview_quality, "preview")?,
            width: preview.width,
            height: preview.height,
        },
        metadata: PhotoMetadata {
            format,
            width,
            height,
            orientation: exif.orientation,
            taken_at: exif.taken_at,
            camera: exif.camera,
            gps: exif.gps,
            sha256: Sha256Digest::of(bytes),
            bytes: bytes.len() as u64,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_standard_vector() {
        assert_eq!(
            Sha256Digest::of(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn refuses_empty_and_oversized_files() {
        let settings = Settings {
            max_file_bytes: 4,
            ..Settings::default()
        };
        assert_eq!(process(b"", &settings), Err(ImagingError::Empty));
        assert_eq!(
            process(b"\xFF\xD8\xFF\xE0\0", &settings),
            Err(ImagingError::FileTooLarge { bytes: 5, limit: 4 })
        );
    }
}
