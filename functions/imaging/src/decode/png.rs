//! PNG through the `png` crate, row by row: every colour type and bit depth is expanded to 8-bit
//! grey, grey+alpha, RGB or RGBA while decoding (16-bit samples stripped to their high byte,
//! palettes and low bit depths expanded), each row is flattened on white to RGB and fed to a
//! box-filter [`Shrinker`], so only a few rows and the shrunk image are ever held. A 10000×10000
//! RGBA16 PNG (800 MB decoded) needs about 10 MB.
//!
//! Interlaced (Adam7) PNGs arrive in seven subsampled passes, each touching every part of the
//! image, so their sums are held for the whole shrunk image (12 bytes a cell); the budget counts it.

use std::io::Cursor;

use super::{Decoded, check_dimensions, corrupt, on_white};
use crate::budget::{self, with_slack};
use crate::shrink::{self, ADAM7, Order, Shrinker};
use crate::{Format, ImagingError, Settings};

/// Where each decoded row belongs: `(y, x0, dx)`, in the order the decoder hands rows out.
fn row_positions(
    width: u32,
    height: u32,
    interlaced: bool,
) -> Box<dyn Iterator<Item = (u32, u32, u32)>> {
    if !interlaced {
        return Box::new((0..height).map(|y| (y, 0, 1)));
    }
    Box::new(ADAM7.into_iter().flat_map(move |(x0, dx, y0, dy)| {
        // A pass with no pixel in a row has no rows at all (the decoder skips it).
        let rows = if width > x0 {
            height.saturating_sub(y0).div_ceil(dy)
        } else {
            0
        };
        (0..rows).map(move |line| (y0 + line * dy, x0, dx))
    }))
}

/// Bytes the decoder holds besides the shrinker: the previous and current raw rows (up to
/// 8 bytes a pixel for RGBA16), the expanded output row, our RGB row, and zlib's window and
/// buffers.
fn decoder_bytes(width: u32) -> u64 {
    let w = u64::from(width);
    w * (3 * 8 + 4 + 3) + 256 * 1024
}

fn reader<'a>(
    bytes: &'a [u8],
    settings: &Settings,
) -> Result<png::Reader<Cursor<&'a [u8]>>, ImagingError> {
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            // Ancillary chunks (text, ICC) are all that the decoder buffers whole.
            bytes: usize::try_from(settings.max_alloc.min(16 * budget::MIB)).unwrap_or(usize::MAX),
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    decoder.read_info().map_err(|e| map_error(e, settings))
}

/// What decoding a PNG will take, from its header.
pub(super) struct Plan {
    factor: u32,
    /// The estimate of what decoding and deriving hold at once.
    pub bytes: u64,
}

pub(super) fn plan(
    bytes: &[u8],
    settings: &Settings,
    needed: impl Fn(u32, u32) -> (u32, u32),
) -> Result<Plan, ImagingError> {
    let reader = reader(bytes, settings)?;
    let info = reader.info();
    let (width, height) = (info.width, info.height);
    check_dimensions(width, height, Format::Png, settings)?;
    let factor = shrink::factor_for(width, height, needed(width, height));
    let held = shrink::bytes_held(width, height, factor, order(info.interlaced));
    let (out_w, out_h) = (width.div_ceil(factor), height.div_ceil(factor));
    let stored_bytes = u64::from(out_w) * u64::from(out_h) * 3;
    let bytes = with_slack(held + decoder_bytes(width)).max(budget::derive_bytes(
        (width, height),
        (out_w, out_h),
        stored_bytes,
        settings,
    ));
    Ok(Plan { factor, bytes })
}

fn order(interlaced: bool) -> Order {
    if interlaced {
        Order::Scattered
    } else {
        Order::Sequential
    }
}

pub(super) fn decode(
    bytes: &[u8],
    plan: Plan,
    settings: &Settings,
) -> Result<Decoded, ImagingError> {
    let mut reader = reader(bytes, settings)?;
    let (width, height) = (reader.info().width, reader.info().height);
    let interlaced = reader.info().interlaced;
    let factor = plan.factor;
    let order = order(interlaced);
    let (color, depth) = reader.output_color_type();
    if depth != png::BitDepth::Eight {
        return Err(corrupt(Format::Png, "unexpected bit depth after expansion"));
    }
    let channels = color.samples();
    let mut shrinker = Shrinker::new(width, height, factor, order);
    let mut rgb = Vec::with_capacity(width as usize * 3);
    for (y, x0, dx) in row_positions(width, height, interlaced) {
        let row = reader
            .next_row()
            .map_err(|e| map_error(e, settings))?
            .ok_or_else(|| corrupt(Format::Png, "the image data ends early"))?;
        let samples = row.data();
        rgb.clear();
        match color {
            png::ColorType::Grayscale => rgb.extend(samples.iter().flat_map(|&l| [l, l, l])),
            png::ColorType::GrayscaleAlpha => rgb.extend(
                samples
                    .chunks_exact(2)
                    .flat_map(|p| on_white(p[0], p[0], p[0], p[1])),
            ),
            png::ColorType::Rgb => rgb.extend_from_slice(samples),
            png::ColorType::Rgba => rgb.extend(
                samples
                    .chunks_exact(4)
                    .flat_map(|p| on_white(p[0], p[1], p[2], p[3])),
            ),
            png::ColorType::Indexed => {
                return Err(corrupt(Format::Png, "palette was not expanded"));
            }
        }
        debug_assert_eq!(samples.len() % channels, 0);
        shrinker.push(y, x0, dx, &rgb);
    }
    Ok(Decoded {
        image: shrinker.finish(),
        full_width: width,
        full_height: height,
    })
}

fn map_error(err: png::DecodingError, settings: &Settings) -> ImagingError {
    match err {
        png::DecodingError::LimitsExceeded => ImagingError::TooMuchMemory {
            needed: settings.max_alloc.min(16 * budget::MIB) + 1,
            limit: settings.max_alloc,
        },
        other => corrupt(Format::Png, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam7_rows_cover_every_pixel_once() {
        for (w, h) in [(1, 1), (3, 2), (8, 8), (13, 11), (1, 9)] {
            let mut seen = vec![0u8; (w * h) as usize];
            for (y, x0, dx) in row_positions(w, h, true) {
                for x in (x0..w).step_by(dx as usize) {
                    seen[(y * w + x) as usize] += 1;
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "{w}×{h}: {seen:?}");
        }
    }
}
