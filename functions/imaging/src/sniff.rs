//! Tells the real image type from the first bytes (magic numbers), never from a name or a
//! declared content type, which the uploader controls. ISO-BMFF files (HEIF, AVIF, MP4) are told
//! apart by their primary item's codec ([`crate::heif`]), not by their brands alone.

use crate::{ImagingError, heif};

/// The image formats we decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JPEG/JFIF/EXIF: starts with `FF D8 FF`.
    Jpeg,
    /// PNG: the eight-byte signature `89 50 4E 47 0D 0A 1A 0A`.
    Png,
    /// WebP: a RIFF container of form type `WEBP`.
    WebP,
    /// HEIC: a HEIF (ISO-BMFF) file whose primary image is HEVC-coded, alone or as a grid of
    /// tiles, as iPhones write them.
    Heic,
}

impl Format {
    /// The MIME type of the format.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::WebP => "image/webp",
            Format::Heic => "image/heic",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::WebP => "webp",
            Format::Heic => "heic",
        })
    }
}

/// Brands of HEVC and AV1 image sequences (bursts, animations, Live Photos' motion): tracks,
/// not still images.
const SEQUENCE_BRANDS: [&[u8; 4]; 5] = [b"msf1", b"hevc", b"hevx", b"hevs", b"avis"];

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
    if let Some(peek) = heif::peek(bytes) {
        return iso_media(&peek);
    }
    Err(ImagingError::Unsupported(describe_unknown(bytes)))
}

/// An ISO-BMFF file: a HEIF still image is HEIC when its primary item is HEVC-coded (or a grid
/// of HEVC tiles); AVIF (same `mif1` brand, AV1 items), sequences and videos are refused.
fn iso_media(peek: &heif::Peek) -> Result<Format, ImagingError> {
    let sequence = ImagingError::Unsupported(
        "image sequence or video (heif sequences, live photos and movies are not photos)",
    );
    // A file whose main brand is a sequence's is one, even with a still image beside it.
    if SEQUENCE_BRANDS.iter().any(|b| &&peek.major == b) {
        return Err(sequence);
    }
    // A grid's codec is its tiles'.
    let coded = match peek.primary_type.as_ref() {
        Some(b"grid") => peek.first_input_type,
        other => other.copied(),
    };
    match coded.as_ref() {
        Some(b"hvc1") => return Ok(Format::Heic),
        Some(b"av01") => return Err(ImagingError::Unsupported("avif")),
        Some(_) => {
            return Err(ImagingError::Unsupported(
                "heif image coded with something other than hevc",
            ));
        }
        None => {}
    }
    // No primary image to look at: say what the brands promise.
    if peek.moov {
        return Err(sequence);
    }
    if peek.has_brand(b"avif") {
        return Err(ImagingError::Unsupported("avif"));
    }
    if [b"heic", b"heix", b"mif1", b"mif2", b"miaf"]
        .iter()
        .any(|b| peek.has_brand(b))
    {
        return Err(ImagingError::Corrupt {
            detail: "the heif file has no primary image".into(),
            format: Format::Heic,
        });
    }
    Err(ImagingError::Unsupported("iso media file (video?)"))
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
        "not a jpeg, png, webp or heic image"
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

    /// `ftyp`, then a `meta` whose primary item 1 is of `primary` type and, for a grid, whose
    /// tile 2 is of `tile` type.
    fn heif(ftyp_box: Vec<u8>, primary: &[u8; 4], tile: &[u8; 4]) -> Vec<u8> {
        let bx = |kind: &[u8; 4], body: &[u8]| {
            let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
            out.extend(kind);
            out.extend(body);
            out
        };
        let infe = |id: u8, kind: &[u8; 4]| {
            bx(
                b"infe",
                &[&[2, 0, 0, 0, 0, id, 0, 0][..], kind, &[0]].concat(),
            )
        };
        let iinf = [&[0, 0, 0, 0, 0, 2][..], &infe(1, primary), &infe(2, tile)].concat();
        let iref = [&[0, 0, 0, 0][..], &bx(b"dimg", &[0, 1, 0, 1, 0, 2])].concat();
        let meta = [
            &[0, 0, 0, 0][..],
            &bx(b"pitm", &[0, 0, 0, 0, 0, 1]),
            &bx(b"iinf", &iinf),
            &bx(b"iref", &iref),
        ]
        .concat();
        [ftyp_box, bx(b"meta", &meta)].concat()
    }

    #[test]
    fn heic_is_an_hevc_primary_image_alone_or_in_a_grid() {
        for brands in [
            ftyp(b"heic", &[b"mif1", b"heic"]),
            ftyp(b"mif1", &[b"mif1", b"miaf"]),
        ] {
            check(&heif(brands.clone(), b"hvc1", b"hvc1"), Ok(Format::Heic));
            check(&heif(brands, b"grid", b"hvc1"), Ok(Format::Heic));
        }
    }

    #[test]
    fn avif_sequences_and_videos_are_refused_with_their_own_reason() {
        let avif = Err(ImagingError::Unsupported("avif"));
        // AVIF has the same `mif1` brand: its AV1 items tell it apart.
        check(
            &heif(ftyp(b"mif1", &[b"mif1"]), b"av01", b"av01"),
            avif.clone(),
        );
        check(
            &heif(ftyp(b"mif1", &[b"mif1"]), b"grid", b"av01"),
            avif.clone(),
        );
        check(&ftyp(b"avif", &[b"mif1", b"avif"]), avif);
        let sequence = Err(ImagingError::Unsupported(
            "image sequence or video (heif sequences, live photos and movies are not photos)",
        ));
        check(&ftyp(b"msf1", &[b"msf1", b"hevc"]), sequence.clone());
        check(&ftyp(b"avis", &[b"avis", b"msf1"]), sequence.clone());
        check(
            &heif(ftyp(b"msf1", &[b"msf1", b"heic"]), b"hvc1", b"hvc1"),
            sequence,
        );
        check(
            &heif(ftyp(b"mif1", &[b"mif1"]), b"jpeg", b"jpeg"),
            Err(ImagingError::Unsupported(
                "heif image coded with something other than hevc",
            )),
        );
        check(
            &ftyp(b"isom", &[b"mp41"]),
            Err(ImagingError::Unsupported("iso media file (video?)")),
        );
        // A HEIC brand with no image in it is a broken HEIC file, not another format.
        check(
            &ftyp(b"heic", &[b"mif1", b"heic"]),
            Err(ImagingError::Corrupt {
                detail: "the heif file has no primary image".into(),
                format: Format::Heic,
            }),
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
            Err(ImagingError::Unsupported(
                "not a jpeg, png, webp or heic image",
            )),
        );
        check(
            b"RIFF\x10\0\0\0WAVEfmt ",
            Err(ImagingError::Unsupported("text, not an image")),
        );
    }
}
