//! WebP through `image-webp`, which decodes whole frames only: the image is held at full size,
//! so WebP has its own pixel limit, [`Settings::max_webp_pixels`], set by the budget.
//!
//! Memory, per pixel: lossless decodes into RGBA (4 bytes), plus a 3-byte RGB copy without alpha;
//! lossy keeps its YUV planes (1.5 bytes) beside the RGB(A) output, plus a lossless alpha plane
//! (about 6 bytes) when it has alpha; an animation composites frames on a canvas of its own. RGBA
//! is flattened on white in place.

use std::io::Cursor;

use super::{Decoded, Rgb, check_dimensions, corrupt, on_white};
use crate::budget::{self, with_slack};
use crate::{Format, ImagingError, Settings};

/// Bytes the decoder holds at once for one image, the output included.
fn decode_bytes(width: u32, height: u32, lossy: bool, alpha: bool, animated: bool) -> u64 {
    // Lossy frames are decoded in whole 16×16 macroblocks.
    let padded = u64::from(width.next_multiple_of(16)) * u64::from(height.next_multiple_of(16));
    let pixels = u64::from(width) * u64::from(height);
    let output = pixels * if alpha { 4 } else { 3 };
    let frame = match (lossy, alpha) {
        (false, true) => 0,
        (false, false) => pixels * 4,
        (true, false) => padded * 3 / 2,
        (true, true) => padded * 3 / 2 + pixels * 6,
    };
    let canvas = if animated { pixels * 4 + frame } else { 0 };
    with_slack(output + frame + canvas)
}

fn decoder(bytes: &[u8]) -> Result<image_webp::WebPDecoder<Cursor<&[u8]>>, ImagingError> {
    image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(|e| corrupt(Format::WebP, e))
}

/// The estimate of what decoding and deriving a WebP hold at once, from its headers.
pub(super) fn plan(bytes: &[u8], settings: &Settings) -> Result<u64, ImagingError> {
    let mut decoder = decoder(bytes)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, Format::WebP, settings)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > settings.max_webp_pixels() {
        return Err(ImagingError::TooManyPixels {
            width,
            height,
            limit_megapixels: u32::try_from(settings.max_webp_pixels() / 1_000_000)
                .unwrap_or(u32::MAX),
        });
    }
    let alpha = decoder.has_alpha();
    let lossy = decoder.is_lossy();
    let output_bytes = pixels * if alpha { 4 } else { 3 };
    Ok(
        decode_bytes(width, height, lossy, alpha, decoder.is_animated()).max(budget::derive_bytes(
            (width, height),
            (width, height),
            output_bytes,
            settings,
        )),
    )
}

pub(super) fn decode(bytes: &[u8], settings: &Settings) -> Result<Decoded, ImagingError> {
    let mut decoder = decoder(bytes)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    let alpha = decoder.has_alpha();
    decoder.set_memory_limit(usize::try_from(settings.max_alloc).unwrap_or(usize::MAX));
    let size = decoder
        .output_buffer_size()
        .ok_or_else(|| corrupt(Format::WebP, "the image is too large"))?;
    let mut buf = vec![0; size];
    decoder
        .read_image(&mut buf)
        .map_err(|e| corrupt(Format::WebP, e))?;
    drop(decoder);
    if alpha {
        // In place: pixel i moves from 4i to 3i, never ahead of what is still to be read.
        let count = pixels as usize;
        for i in 0..count {
            let p = [buf[4 * i], buf[4 * i + 1], buf[4 * i + 2], buf[4 * i + 3]];
            buf[3 * i..3 * i + 3].copy_from_slice(&on_white(p[0], p[1], p[2], p[3]));
        }
        buf.truncate(count * 3);
    }
    Ok(Decoded {
        image: Rgb {
            width,
            height,
            pixels: buf,
        },
        full_width: width,
        full_height: height,
    })
}
