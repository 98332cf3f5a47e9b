//! Helpers shared by the integration tests: decoding our JPEGs, comparing images. The fixtures
//! themselves come from `testkit` (`test_photo`, `hostile_file`).

#![allow(dead_code)]

/// Decodes one of our derivatives to `(width, height, rgb)`.
pub fn decode_jpeg(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let pixels = decoder.decode().expect("our derivative decodes");
    let info = decoder.info().expect("info after decode");
    assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24);
    (u32::from(info.width), u32::from(info.height), pixels)
}

/// Mean absolute difference per channel of two equally sized RGB buffers, 0–255.
pub fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "images differ in size");
    let total: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.len() as f64
}

/// The marker segments of a JPEG before its first scan, as `(marker, payload)`.
pub fn jpeg_segments(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    assert!(bytes.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let mut segments = Vec::new();
    let mut at = 2;
    while at + 4 <= bytes.len() {
        assert_eq!(bytes[at], 0xFF, "marker expected at {at}");
        let marker = bytes[at + 1];
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        segments.push((marker, bytes[at + 4..at + 2 + len].to_vec()));
        if marker == 0xDA {
            break;
        }
        at += 2 + len;
    }
    segments
}

/// The JPEG without its APP1 segments (EXIF, XMP): how it would look to a decoder that
/// ignores EXIF.
pub fn without_app1(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes[..2].to_vec();
    let mut at = 2;
    loop {
        let marker = bytes[at + 1];
        if marker == 0xDA {
            out.extend_from_slice(&bytes[at..]);
            return out;
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if marker != 0xE1 {
            out.extend_from_slice(&bytes[at..at + 2 + len]);
        }
        at += 2 + len;
    }
}

/// Fails when a derivative carries any metadata: only JFIF APP0, tables, frame and scan
/// headers may appear, and no byte string that EXIF, GPS, XMP or ICC blocks contain.
pub fn assert_no_metadata(what: &str, bytes: &[u8]) {
    for (marker, payload) in jpeg_segments(bytes) {
        let allowed = matches!(marker, 0xC0 | 0xC2 | 0xC4 | 0xDA | 0xDB | 0xDD)
            || (marker == 0xE0 && payload.starts_with(b"JFIF\0"));
        assert!(allowed, "{what}: unexpected segment FF{marker:02X}");
    }
    for needle in [
        &b"Exif\0"[..],
        b"GPS",
        b"ICC_PROFILE",
        b"http://ns.adobe.com",
        b"Panasonic",
    ] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{what}: contains {:?}",
            String::from_utf8_lossy(needle)
        );
    }
}

/// A valid 120×80 RGB PNG, made with the `image` crate.
pub fn small_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(120, 80, |x, y| image::Rgb([x as u8, y as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encodes png");
    out.into_inner()
}
