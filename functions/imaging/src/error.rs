//! The one error type of the crate: every way a photo can be refused, worded for the person who
//! uploaded it.

use crate::Format;

/// Why a photo could not be processed. Messages are shown to users, so they say what is wrong
/// with the file, not what went wrong inside the code.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ImagingError {
    /// Zero bytes: an aborted upload, most likely.
    #[error("image is empty")]
    Empty,
    /// More bytes than the upload limit allows.
    #[error("image file is too large: `{bytes}` bytes exceeds the `{limit}` byte limit")]
    FileTooLarge {
        /// The size of the file.
        bytes: u64,
        /// The configured maximum.
        limit: u64,
    },
    /// The bytes are not JPEG, PNG, WebP or HEIC, whatever the name or declared type said.
    #[error("unsupported image type: {0}")]
    Unsupported(&'static str),
    /// A HEIF image made of more tiles than any camera writes: a tile bomb.
    #[error("image has too many tiles: `{tiles}` exceeds the `{limit}` tile limit")]
    TooManyTiles {
        /// Tiles (or items) the file lists.
        tiles: u64,
        /// The configured maximum, [`crate::Settings::max_tiles`].
        limit: u32,
    },
    /// The header announces more pixels than we are willing to decode.
    #[error(
        "image is too large: {width}×{height} pixels exceeds the {limit_megapixels} megapixel limit"
    )]
    TooManyPixels {
        /// Width claimed by the header.
        width: u32,
        /// Height claimed by the header.
        height: u32,
        /// The configured maximum, in millions of pixels.
        limit_megapixels: u32,
    },
    /// One side is longer than any real photo: a crafted or broken header.
    #[error(
        "image is too large: a side of {width}×{height} pixels exceeds the `{limit}` pixel limit"
    )]
    SideTooLong {
        /// Width claimed by the header.
        width: u32,
        /// Height claimed by the header.
        height: u32,
        /// The configured maximum side.
        limit: u32,
    },
    /// Processing would hold more memory at once than the configured budget allows.
    #[error(
        "image needs too much memory to process: about {} MB, over the {} MB limit",
        .needed.div_ceil(1 << 20),
        .limit / (1 << 20)
    )]
    TooMuchMemory {
        /// What processing this image would hold at once, estimated from its header, in bytes.
        needed: u64,
        /// The configured budget, in bytes.
        limit: u64,
    },
    /// The decoder gave up: missing data, bad markers, inconsistent header.
    #[error("image is truncated or corrupt: {detail}")]
    Corrupt {
        /// What the decoder said, for support.
        detail: String,
        /// The format the magic number announced.
        format: Format,
    },
    /// Encoding a derivative failed; this is our fault, not the upload's.
    #[error("encoding the {what} failed: {detail}")]
    Encode {
        /// `thumbnail` or `preview`.
        what: &'static str,
        /// What the encoder said.
        detail: String,
    },
}
