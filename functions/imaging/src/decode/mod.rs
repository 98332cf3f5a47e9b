//! Decodes an upload to 8-bit RGB within the memory budget: the header is read and checked
//! first, and what decoding and deriving will hold at once is estimated from it ([`crate::budget`]),
//! so a decompression bomb is refused before its pixels are allocated. JPEGs are decoded at a
//! reduced scale in the DCT domain (1/2, 1/4 or 1/8), PNGs row by row and HEICs tile row by tile
//! row into a box-filter shrink, whenever the derivatives are smaller than the photo anyway.

pub(crate) mod heic;
mod jpeg;
mod png;
mod webp;

use crate::{Format, ImagingError, Settings, budget};

/// An 8-bit RGB image, rows top to bottom, three bytes per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rgb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// A decoded image together with the size its header announced (before any scaling).
#[derive(Debug)]
pub(crate) struct Decoded {
    pub image: Rgb,
    pub full_width: u32,
    pub full_height: u32,
}

/// Refuses sizes no real photo has, before anything is allocated for them.
pub(crate) fn check_dimensions(
    width: u32,
    height: u32,
    format: Format,
    settings: &Settings,
) -> Result<(), ImagingError> {
    if width == 0 || height == 0 {
        return Err(ImagingError::Corrupt {
            detail: format!("the header says {width}×{height} pixels"),
            format,
        });
    }
    if u64::from(width) * u64::from(height) > settings.max_pixels {
        return Err(ImagingError::TooManyPixels {
            width,
            height,
            limit_megapixels: u32::try_from(settings.max_pixels / 1_000_000).unwrap_or(u32::MAX),
        });
    }
    if width > settings.max_side || height > settings.max_side {
        return Err(ImagingError::SideTooLong {
            width,
            height,
            limit: settings.max_side,
        });
    }
    Ok(())
}

/// Decodes `bytes` of the sniffed `format` to at least the size the derivatives need, within
/// the memory budget. `needed` maps the full (stored) size to the smallest stored size the
/// derivatives need: JPEGs pick a DCT scale from it, PNGs a shrink-on-load factor.
pub(crate) fn decode(
    bytes: &[u8],
    format: Format,
    settings: &Settings,
    needed: impl Fn(u32, u32) -> (u32, u32),
) -> Result<Decoded, ImagingError> {
    match format {
        Format::Jpeg => {
            let plan = jpeg::plan(bytes, settings, needed)?;
            budget::check(plan.bytes, settings)?;
            jpeg::decode(bytes, plan, settings)
        }
        Format::Png => {
            let plan = png::plan(bytes, settings, needed)?;
            budget::check(plan.bytes, settings)?;
            png::decode(bytes, plan, settings)
        }
        Format::WebP => {
            budget::check(webp::plan(bytes, settings)?, settings)?;
            webp::decode(bytes, settings)
        }
        Format::Heic => {
            let plan = heic::plan(bytes, settings, needed)?;
            budget::check(plan.bytes, settings)?;
            heic::decode(bytes, plan, settings)
        }
    }
}

/// The estimate of what [`decode`] and deriving will hold at once, from the headers alone.
pub(crate) fn memory_needed(
    bytes: &[u8],
    format: Format,
    settings: &Settings,
    needed: impl Fn(u32, u32) -> (u32, u32),
) -> Result<u64, ImagingError> {
    match format {
        Format::Jpeg => Ok(jpeg::plan(bytes, settings, needed)?.bytes),
        Format::Png => Ok(png::plan(bytes, settings, needed)?.bytes),
        Format::WebP => webp::plan(bytes, settings),
        Format::Heic => Ok(heic::plan(bytes, settings, needed)?.bytes),
    }
}

pub(crate) fn corrupt(format: Format, err: impl std::fmt::Display) -> ImagingError {
    ImagingError::Corrupt {
        detail: err.to_string(),
        format,
    }
}

/// Composites one pixel's colour on white by its alpha (a transparent PNG logo looks as it does
/// on a white page, not on black).
pub(crate) fn on_white(r: u8, g: u8, b: u8, alpha: u8) -> [u8; 3] {
    let alpha = u32::from(alpha);
    let blend = |c: u8| ((u32::from(c) * alpha + 255 * (255 - alpha) + 127) / 255) as u8;
    [blend(r), blend(g), blend(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(width: u32, height: u32, expected: Result<(), ImagingError>) {
        assert_eq!(
            check_dimensions(width, height, Format::Png, &Settings::default()),
            expected,
            "{width}×{height}"
        );
    }

    #[test]
    fn dimension_limits() {
        check(6000, 4000, Ok(()));
        check(10_000, 10_000, Ok(()));
        check(
            10_001,
            10_000,
            Err(ImagingError::TooManyPixels {
                width: 10_001,
                height: 10_000,
                limit_megapixels: 100,
            }),
        );
        check(
            65_000,
            10,
            Err(ImagingError::SideTooLong {
                width: 65_000,
                height: 10,
                limit: 40_000,
            }),
        );
        check(
            0,
            10,
            Err(ImagingError::Corrupt {
                detail: "the header says 0×10 pixels".into(),
                format: Format::Png,
            }),
        );
    }

    #[test]
    fn too_large_message_reads_well() {
        let err = ImagingError::TooManyPixels {
            width: 50_000,
            height: 50_000,
            limit_megapixels: 100,
        };
        assert_eq!(
            err.to_string(),
            "image is too large: 50000×50000 pixels exceeds the 100 megapixel limit"
        );
    }

    #[test]
    fn alpha_is_composited_on_white() {
        assert_eq!(on_white(0, 0, 0, 0), [255, 255, 255]);
        assert_eq!(on_white(0, 0, 0, 255), [0, 0, 0]);
        assert_eq!(on_white(200, 100, 0, 128), [227, 177, 127]);
    }
}
