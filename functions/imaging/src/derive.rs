//! Makes the derivatives from decoded pixels: sizes, SIMD resizing, orientation, JPEG encoding.
//!
//! The derivatives are JPEG, not WebP: a WebP *lossy* encoder exists only as libwebp (C), and
//! this crate stays pure Rust so the Lambda cross-compiles with nothing but cargo. JPEG is
//! understood by every browser, and at these sizes the byte difference is small.

use fast_image_resize::images::{TypedImage, TypedImageRef};
use fast_image_resize::pixels::U8x3;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};

use crate::decode::Rgb;
use crate::{ImagingError, Orientation};

/// `(width, height)` of a box fitting `(width, height)` into `long_edge`, never larger than the
/// original and never 0.
pub(crate) fn fit_long_edge(width: u32, height: u32, long_edge: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= long_edge {
        return (width, height);
    }
    let scale = |side: u32| {
        let scaled =
            (u64::from(side) * u64::from(long_edge) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(scaled).unwrap_or(long_edge).max(1)
    };
    (scale(width), scale(height))
}

/// Resizes `src` (optionally its centered square) to `width`×`height` with Lanczos3, the
/// filter vipsthumbnail uses after its shrink-on-load too.
///
/// Typed as RGB (`resize_typed`): the untyped `resize` dispatches over every pixel type the
/// resizer knows and so compiles all of their SIMD kernels into this crate, which made it the
/// slowest crate of the workspace to build.
pub(crate) fn resize(
    src: &Rgb,
    square_crop: bool,
    width: u32,
    height: u32,
) -> Result<Rgb, ImagingError> {
    let fail = |e: &dyn std::fmt::Display| ImagingError::Encode {
        what: "resized image",
        detail: e.to_string(),
    };
    let view = TypedImageRef::<U8x3>::from_buffer(src.width, src.height, &src.pixels)
        .map_err(|e| fail(&e))?;
    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    if square_crop {
        let side = src.width.min(src.height);
        let left = f64::from(src.width - side) / 2.0;
        let top = f64::from(src.height - side) / 2.0;
        options = options.crop(left, top, f64::from(side), f64::from(side));
    }
    let mut pixels = vec![0; width as usize * height as usize * 3];
    let mut dst =
        TypedImage::<U8x3>::from_buffer(width, height, &mut pixels).map_err(|e| fail(&e))?;
    Resizer::new()
        .resize_typed(&view, &mut dst, &options)
        .map_err(|e| fail(&e))?;
    Ok(Rgb {
        width,
        height,
        pixels,
    })
}

/// Turns stored pixels upright. Done on the small derivatives, where it costs next to nothing.
pub(crate) fn orient(src: Rgb, orientation: Orientation) -> Rgb {
    if orientation == Orientation::Normal {
        return src;
    }
    let (w, h) = (src.width as isize, src.height as isize);
    let (out_w, out_h) = orientation.oriented(src.width, src.height);
    // The stored pixel shown at (x, y) is `first + x * across + y * down` (in pixels): a walk
    // through the source with fixed steps, so the loop below has no branch per pixel.
    let (first, across, down) = match orientation {
        Orientation::Normal => (0, 1, w),
        Orientation::FlipHorizontal => (w - 1, -1, w),
        Orientation::Rotate180 => ((h - 1) * w + w - 1, -1, -w),
        Orientation::FlipVertical => ((h - 1) * w, 1, -w),
        Orientation::Transpose => (0, w, 1),
        Orientation::Rotate90 => ((h - 1) * w, -w, 1),
        Orientation::Transverse => ((h - 1) * w + w - 1, -w, -1),
        Orientation::Rotate270 => (w - 1, w, -1),
    };
    let mut pixels = vec![0u8; src.pixels.len()];
    let row_len = out_w as usize * 3;
    let (stored, _) = src.pixels.as_chunks::<3>();
    for (y, row) in pixels.chunks_exact_mut(row_len.max(1)).enumerate() {
        let mut at = first + y as isize * down;
        let (row, _) = row.as_chunks_mut::<3>();
        for out in row {
            // In bounds: `at` walks the stored image's own pixels, one each.
            *out = stored[at as usize];
            at += across;
        }
    }
    debug_assert_eq!(pixels.len(), row_len * out_h as usize);
    Rgb {
        width: out_w,
        height: out_h,
        pixels,
    }
}

/// Baseline JPEG with a bare JFIF header: no EXIF, XMP, ICC or comment segment is ever written,
/// so nothing of the original's metadata (GPS above all) can leak into a derivative.
pub(crate) fn encode_jpeg(
    image: &Rgb,
    quality: u8,
    what: &'static str,
) -> Result<Vec<u8>, ImagingError> {
    let fail = |detail: String| ImagingError::Encode { what, detail };
    let side = |v: u32| u16::try_from(v).map_err(|_| fail(format!("side `{v}` exceeds 65535")));
    let (width, height) = (side(image.width)?, side(image.height)?);
    let mut out = Vec::with_capacity(image.pixels.len() / 8);
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    encoder
        .encode(&image.pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| fail(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_the_long_edge_without_upscaling() {
        let check = |w, h, edge, expected| {
            assert_eq!(fit_long_edge(w, h, edge), expected, "{w}×{h} in {edge}")
        };
        check(6000, 3750, 1600, (1600, 1000));
        check(3750, 6000, 1600, (1000, 1600));
        check(1200, 800, 1600, (1200, 800));
        check(100_000, 1, 1600, (1600, 1));
    }

    /// A 3×2 image whose pixels are numbered 0..6 in their red channel.
    fn numbered() -> Rgb {
        Rgb {
            width: 3,
            height: 2,
            pixels: (0..6u8).flat_map(|i| [i, 0, 0]).collect(),
        }
    }

    fn reds(img: &Rgb) -> Vec<u8> {
        img.pixels.chunks_exact(3).map(|p| p[0]).collect()
    }

    #[test]
    fn orientations_move_pixels_where_exif_says() {
        // Stored:  0 1 2
        //          3 4 5
        let check = |o: Orientation, dims: (u32, u32), expected: &[u8]| {
            let out = orient(numbered(), o);
            assert_eq!((out.width, out.height), dims, "{o:?}");
            assert_eq!(reds(&out), expected, "{o:?}");
        };
        check(Orientation::Normal, (3, 2), &[0, 1, 2, 3, 4, 5]);
        check(Orientation::FlipHorizontal, (3, 2), &[2, 1, 0, 5, 4, 3]);
        check(Orientation::Rotate180, (3, 2), &[5, 4, 3, 2, 1, 0]);
        check(Orientation::FlipVertical, (3, 2), &[3, 4, 5, 0, 1, 2]);
        check(Orientation::Transpose, (2, 3), &[0, 3, 1, 4, 2, 5]);
        check(Orientation::Rotate90, (2, 3), &[3, 0, 4, 1, 5, 2]);
        check(Orientation::Transverse, (2, 3), &[5, 2, 4, 1, 3, 0]);
        check(Orientation::Rotate270, (2, 3), &[2, 5, 1, 4, 0, 3]);
    }

    #[test]
    fn encoded_jpeg_has_no_metadata_segment() {
        let img = Rgb {
            width: 16,
            height: 16,
            pixels: vec![128; 16 * 16 * 3],
        };
        let jpeg = encode_jpeg(&img, 80, "thumbnail").expect("encodes");
        assert!(jpeg.starts_with(&[0xFF, 0xD8]));
        assert!(!jpeg.windows(2).any(|w| w == [0xFF, 0xE1]), "APP1 present");
        assert!(!jpeg.windows(2).any(|w| w == [0xFF, 0xE2]), "APP2 present");
    }
}
