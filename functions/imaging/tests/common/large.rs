//! Large images made on the spot for the memory-budget tests and `examples/budget_fixtures.rs`:
//! small on disk, huge once decoded. Each is written row by row (PNG) or from a buffer that is
//! freed before the measurement starts, so generating them costs no more than the file itself.

#![allow(dead_code)]

use std::io::Write;

/// A PNG of `width`×`height` whose every row is `row` (its raw samples, before filtering),
/// streamed so that the whole image never exists in memory.
pub fn png_rows(
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    palette: Option<(Vec<u8>, Option<Vec<u8>>)>,
    interlaced: bool,
    row: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(color);
        encoder.set_depth(depth);
        encoder.set_compression(png::Compression::Fast);
        encoder.set_filter(png::Filter::Sub);
        if let Some((plte, trns)) = palette {
            encoder.set_palette(plte);
            if let Some(trns) = trns {
                encoder.set_trns(trns);
            }
        }
        if interlaced {
            // Adam7 rows have pass-dependent lengths, which the streaming writer cannot take
            // from a single row; interlaced fixtures are small, so write the whole image.
            let mut writer = encoder.write_header().expect("png header");
            let image: Vec<u8> = (0..height).flat_map(|_| row.iter().copied()).collect();
            writer.write_image_data(&image).expect("png data");
            writer.finish().expect("png end");
        } else {
            let mut writer = encoder.write_header().expect("png header");
            let mut stream = writer.stream_writer().expect("png stream");
            for _ in 0..height {
                stream.write_all(row).expect("png row");
            }
            stream.finish().expect("png end");
            writer.finish().expect("png end");
        }
    }
    out
}

/// 10000×10000 RGBA at 16 bits a sample, every sample zero: 0.8 MB on disk, 800 MB decoded.
pub fn rgba16_zeros(side: u32) -> Vec<u8> {
    png_rows(
        side,
        side,
        png::ColorType::Rgba,
        png::BitDepth::Sixteen,
        None,
        false,
        &vec![0; side as usize * 8],
    )
}

/// RGB at 16 bits a sample, every sample zero.
pub fn rgb16_zeros(side: u32) -> Vec<u8> {
    png_rows(
        side,
        side,
        png::ColorType::Rgb,
        png::BitDepth::Sixteen,
        None,
        false,
        &vec![0; side as usize * 6],
    )
}

/// An 8-bit palette PNG with a transparency table, rows cycling through the palette.
pub fn palette(side: u32) -> Vec<u8> {
    let plte: Vec<u8> = (0..=255u8).flat_map(|i| [i, 255 - i, i / 2]).collect();
    let trns: Vec<u8> = (0..=255u8).collect();
    let row: Vec<u8> = (0..side).map(|x| x as u8).collect();
    png_rows(
        side,
        side,
        png::ColorType::Indexed,
        png::BitDepth::Eight,
        Some((plte, Some(trns))),
        false,
        &row,
    )
}

/// RGB pixels of a smooth pattern, so a JPEG of it has real coefficients in every block.
pub fn pattern_rgb(width: u32, height: u32) -> Vec<u8> {
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        for x in 0..width {
            pixels.extend_from_slice(&[
                (x / 7) as u8,
                (y / 5) as u8,
                ((x + y) / 11) as u8 ^ (x as u8 & 0x10),
            ]);
        }
    }
    pixels
}

/// A JPEG of [`pattern_rgb`], progressive or baseline, 4:4:4 or 4:2:0.
pub fn jpeg(width: u16, height: u16, progressive: bool, subsampled: bool) -> Vec<u8> {
    let pixels = pattern_rgb(u32::from(width), u32::from(height));
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 85);
    encoder.set_progressive(progressive);
    encoder.set_sampling_factor(if subsampled {
        jpeg_encoder::SamplingFactor::F_2_2
    } else {
        jpeg_encoder::SamplingFactor::F_1_1
    });
    encoder
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .expect("jpeg encodes");
    out
}

/// A lossless WebP of [`pattern_rgb`], with an alpha channel when `alpha`.
pub fn webp_lossless(width: u32, height: u32, alpha: bool) -> Vec<u8> {
    let rgb = pattern_rgb(width, height);
    let (pixels, color) = if alpha {
        let rgba: Vec<u8> = rgb
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], p[0] | 0x80])
            .collect();
        (rgba, image_webp::ColorType::Rgba8)
    } else {
        (rgb, image_webp::ColorType::Rgb8)
    };
    let mut out = Vec::new();
    image_webp::WebPEncoder::new(&mut out)
        .encode(&pixels, width, height, color)
        .expect("webp encodes");
    out
}
