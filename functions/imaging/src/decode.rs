//! Decodes an upload to 8-bit RGB under limits: the header is read and checked first, so a
//! decompression bomb is refused before its pixels are allocated. JPEGs are decoded at a reduced
//! scale in the DCT domain (1/2, 1/4 or 1/8) when the derivatives are smaller than that anyway.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder};

use crate::{Format, ImagingError, Settings};

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

/// Decodes `bytes` of the sniffed `format`. `needed` maps the full (stored) size to the
/// smallest stored size the derivatives need; the JPEG path uses it to pick its DCT scale.
pub(crate) fn decode(
    bytes: &[u8],
    format: Format,
    settings: &Settings,
    needed: impl Fn(u32, u32) -> (u32, u32),
) -> Result<Decoded, ImagingError> {
    match format {
        Format::Jpeg => decode_jpeg(bytes, settings, needed),
        Format::Png => decode_other(bytes, format, image::ImageFormat::Png, settings),
        Format::WebP => decode_other(bytes, format, image::ImageFormat::WebP, settings),
    }
}

fn corrupt(format: Format, err: impl std::fmt::Display) -> ImagingError {
    ImagingError::Corrupt {
        detail: err.to_string(),
        format,
    }
}

/// The size of a JPEG scaled by `idct/8`, rounded up as the decoder does.
fn jpeg_scaled(len: u32, idct: u32) -> u32 {
    (len * idct).div_ceil(8)
}

fn decode_jpeg(
    bytes: &[u8],
    settings: &Settings,
    needed: impl Fn(u32, u32) -> (u32, u32),
) -> Result<Decoded, ImagingError> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(|e| corrupt(Format::Jpeg, e))?;
    let info = decoder
        .info()
        .ok_or_else(|| corrupt(Format::Jpeg, "no frame header"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_dimensions(width, height, Format::Jpeg, settings)?;

    // Progressive JPEGs keep every DCT coefficient (2 bytes each) of every component until the
    // last scan; count that against the budget as well as the output.
    // (Baseline JPEGs are decoded one MCU row at a time and keep none.)
    let components = info.pixel_format.pixel_bytes().max(1) as u64;
    let coefficients = u64::from(width) * u64::from(height) * components * 2;
    let progressive = info.coding_process == jpeg_decoder::CodingProcess::DctProgressive;
    if progressive && coefficients > settings.max_alloc {
        return Err(ImagingError::TooMuchMemory {
            limit: settings.max_alloc,
        });
    }

    // Smallest DCT scale (of 1/8, 2/8, 4/8, 8/8) whose output still covers what the
    // derivatives need on both axes: decoding less is the biggest saving there is.
    let (need_w, need_h) = needed(width, height);
    let idct = [1, 2, 4, 8]
        .into_iter()
        .find(|&s| jpeg_scaled(width, s) >= need_w && jpeg_scaled(height, s) >= need_h)
        .unwrap_or(8);
    if idct < 8 {
        // Both sides are ≤ 65535 (u16 in the header), so the scaled sizes fit too.
        let request = |len: u32| u16::try_from(jpeg_scaled(len, idct)).unwrap_or(u16::MAX);
        decoder
            .scale(request(width), request(height))
            .map_err(|e| corrupt(Format::Jpeg, e))?;
    }
    decoder.set_max_decoding_buffer_size(usize::try_from(settings.max_alloc).unwrap_or(usize::MAX));
    let raw = decoder.decode().map_err(|e| corrupt(Format::Jpeg, e))?;
    let info = decoder
        .info()
        .ok_or_else(|| corrupt(Format::Jpeg, "no frame header"))?;
    let (out_w, out_h) = (u32::from(info.width), u32::from(info.height));
    let pixel_count = out_w as usize * out_h as usize;
    let expected = pixel_count * info.pixel_format.pixel_bytes();
    if raw.len() < expected {
        return Err(corrupt(Format::Jpeg, "the decoder returned too few pixels"));
    }
    let pixels = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => {
            let mut raw = raw;
            raw.truncate(expected);
            raw
        }
        jpeg_decoder::PixelFormat::L8 => {
            raw[..pixel_count].iter().flat_map(|&l| [l, l, l]).collect()
        }
        jpeg_decoder::PixelFormat::L16 => raw[..expected]
            .chunks_exact(2)
            .flat_map(|l| [l[0], l[0], l[0]])
            .collect(),
        jpeg_decoder::PixelFormat::CMYK32 => raw[..expected]
            .chunks_exact(4)
            .flat_map(|p| {
                // The decoder hands out Adobe's inverted CMYK; undo it and multiply by K.
                let k = 255 - u16::from(p[3]);
                let channel = |c: u8| ((255 - u16::from(c)) * k / 255) as u8;
                [channel(p[0]), channel(p[1]), channel(p[2])]
            })
            .collect(),
    };
    Ok(Decoded {
        image: Rgb {
            width: out_w,
            height: out_h,
            pixels,
        },
        full_width: width,
        full_height: height,
    })
}

fn decode_other(
    bytes: &[u8],
    format: Format,
    image_format: image::ImageFormat,
    settings: &Settings,
) -> Result<Decoded, ImagingError> {
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), image_format);
    // Our own dimension checks run on the header below, with better messages; the allocation
    // budget is the decoder's backstop for everything else (e.g. huge text chunks).
    let mut limits = image::Limits::no_limits();
    limits.max_alloc = Some(settings.max_alloc);
    reader.limits(limits);
    let decoder = reader
        .into_decoder()
        .map_err(|e| map_image_error(e, format, settings))?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, format, settings)?;
    let rgba_bytes = u64::from(width) * u64::from(height) * 4;
    if rgba_bytes > settings.max_alloc {
        return Err(ImagingError::TooMuchMemory {
            limit: settings.max_alloc,
        });
    }
    let image =
        DynamicImage::from_decoder(decoder).map_err(|e| map_image_error(e, format, settings))?;
    Ok(Decoded {
        image: flatten_on_white(image),
        full_width: width,
        full_height: height,
    })
}

fn map_image_error(err: image::ImageError, format: Format, settings: &Settings) -> ImagingError {
    match err {
        image::ImageError::Limits(_) => ImagingError::TooMuchMemory {
            limit: settings.max_alloc,
        },
        image::ImageError::Unsupported(e) => corrupt(format, e),
        other => corrupt(format, other),
    }
}

/// 8-bit RGB, with any transparency composited on white (a transparent PNG logo looks as it
/// does on a white page, not on black).
fn flatten_on_white(image: DynamicImage) -> Rgb {
    let (width, height) = (image.width(), image.height());
    let pixels = match image {
        DynamicImage::ImageRgb8(rgb) => rgb.into_raw(),
        DynamicImage::ImageLuma8(luma) => luma
            .into_raw()
            .into_iter()
            .flat_map(|l| [l, l, l])
            .collect(),
        other if !other.color().has_alpha() => other.into_rgb8().into_raw(),
        other => {
            let rgba = other.into_rgba8().into_raw();
            rgba.chunks_exact(4)
                .flat_map(|p| {
                    let alpha = u32::from(p[3]);
                    let blend =
                        |c: u8| ((u32::from(c) * alpha + 255 * (255 - alpha) + 127) / 255) as u8;
                    [blend(p[0]), blend(p[1]), blend(p[2])]
                })
                .collect()
        }
    };
    Rgb {
        width,
        height,
        pixels,
    }
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
        let rgba =
            image::RgbaImage::from_raw(3, 1, vec![0, 0, 0, 0, 0, 0, 0, 255, 200, 100, 0, 128])
                .expect("3 pixels");
        let flat = flatten_on_white(DynamicImage::ImageRgba8(rgba));
        assert_eq!(flat.pixels, vec![255, 255, 255, 0, 0, 0, 227, 177, 127]);
    }

    #[test]
    fn jpeg_scale_rounds_up() {
        assert_eq!(jpeg_scaled(6000, 4), 3000);
        assert_eq!(jpeg_scaled(3750, 1), 469);
        assert_eq!(jpeg_scaled(1, 1), 1);
    }
}
