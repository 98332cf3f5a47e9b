//! Tells the real image type from the first bytes (magic numbers), never from a name or a
//! declared content type, which the uploader controls.

use crate::ImagingError;

/// The image formats we decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JPEG/JFIF/EXIF: starts with `FF D8 FF`.
    Jpeg,
    /// PNG: the eight-byte signature `89 50 4E 47 0D 0A 1A 0A`.
    Png,
    /// WebP: a RIFF container of form type `WEBP`.
    WebP,
}

impl Format {
    /// The MIME type of the format.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::WebP => "image/webp",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::WebP => "webp",
        })
    }
}

/// ISO-BMFF brands that mean HEIF/HEIC (HEVC-coded stills and sequences).
const HEIF_BRANDS: [&[u8; 4]; 8] = [
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
];

/// Identifies the format from the magic number, refusing everything we cannot decode with a
/// reason the uploader can act on.
pub fn sniff(bytes: &[u8]) -> Result<Format, ImagingError> {
    if bytes.is_empty() {
        return Err(ImagingError::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Format::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(Format::Png);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(Format::WebP);
    }
    if let Some(brands) = iso_bmff_brands(bytes) {
        // An AVIF file also lists `mif1`, so look for AVIF first.
        if brands.iter().any(|b| b == b"avif" || b == b"avis") {
            return Err(ImagingError::Unsupported("avif"));
        }
        if brands.iter().any(|b| HEIF_BRANDS.contains(&b)) {
            return Err(ImagingError::Heic);
        }
        return Err(ImagingError::Unsupported("iso media file (video?)"));
    }
    Err(ImagingError::Unsupported(describe_unknown(bytes)))
}

/// The major and compatible brands of an ISO-BMFF `ftyp` box at the start of the file.
fn iso_bmff_brands(bytes: &[u8]) -> Option<Vec<[u8; 4]>> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes(bytes[..4].try_into().ok()?) as usize;
    let end = size.clamp(16, bytes.len());
    let mut brands = vec![bytes[8..12].try_into().ok()?];
    // Bytes 12..16 are the minor version; compatible brands follow.
    brands.extend(
        bytes[16..end]
            .chunks_exact(4)
            .filter_map(|c| <[u8; 4]>::try_from(c).ok()),
    );
    Some(brands)
}

/// A short name for common non-image uploads, so the error says what the file looked like.
fn describe_unknown(bytes: &[u8]) -> &'static str {
    let known: [(&[u8], &'static str); 8] = [
        (b"GIF8", "gif"),
        (b"BM", "bmp"),
        (b"II*\0", "tiff"),
        (b"MM\0*", "tiff"),
        (b"%PDF", "pdf"),
        (b"\x7fELF", "executable"),
        (b"PK\x03\x04", "zip archive"),
        (b"\0\0\x01\0", "ico"),
    ];
    for (magic, name) in known {
        if bytes.starts_with(magic) {
            return name;
        }
    }
    if std::str::from_utf8(&bytes[..bytes.len().min(512)]).is_ok() {
        "text, not an image"
    } else {
        "not a jpeg, png or webp image"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8], expected: Result<Format, ImagingError>) {
        assert_eq!(
            sniff(bytes),
            expected,
            "sniffing {:?}",
            &bytes[..bytes.len().min(16)]
        );
    }

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut out = (size as u32).to_be_bytes().to_vec();
        out.extend_from_slice(b"ftyp");
        out.extend_from_slice(major);
        out.extend_from_slice(&[0, 0, 0, 0]);
        for b in compatible {
            out.extend_from_slice(*b);
        }
        out
    }

    #[test]
    fn recognises_supported_formats() {
        check(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16], Ok(Format::Jpeg));
        check(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Ok(Format::Png));
        check(b"RIFF\x10\0\0\0WEBPVP8 ", Ok(Format::WebP));
    }

    #[test]
    fn refuses_heic_and_avif_with_their_own_reason() {
        check(&ftyp(b"heic", &[b"mif1", b"heic"]), Err(ImagingError::Heic));
        check(&ftyp(b"mif1", &[b"heic"]), Err(ImagingError::Heic));
        check(
            &ftyp(b"avif", &[b"mif1", b"avif"]),
            Err(ImagingError::Unsupported("avif")),
        );
        check(
            &ftyp(b"isom", &[b"mp41"]),
            Err(ImagingError::Unsupported("iso media file (video?)")),
        );
    }

    #[test]
    fn refuses_everything_else() {
        check(b"", Err(ImagingError::Empty));
        check(
            b"hello, world",
            Err(ImagingError::Unsupported("text, not an image")),
        );
        check(
            b"\x7fELF\x02\x01\x01\0",
            Err(ImagingError::Unsupported("executable")),
        );
        check(b"GIF89a", Err(ImagingError::Unsupported("gif")));
        check(
            &[0xFF, 0xD8],
            Err(ImagingError::Unsupported("not a jpeg, png or webp image")),
        );
        check(
            b"RIFF\x10\0\0\0WAVEfmt ",
            Err(ImagingError::Unsupported("text, not an image")),
        );
    }
}
