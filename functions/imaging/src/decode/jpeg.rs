//! JPEG through `jpeg-decoder`, at the smallest DCT scale (1/8, 2/8, 4/8 or 8/8) that still covers
//! what the derivatives need.
//!
//! Memory: a baseline JPEG is decoded into one plane per component at the chosen scale, then
//! converted to interleaved RGB; nothing is held at full size. A progressive JPEG also keeps every
//! DCT coefficient of every component (two bytes each, at full size) until its last scan, so it
//! needs about 6 bytes a pixel at 4:4:4 and 3 at 4:2:0: above what the budget allows it is
//! refused before the decoder allocates them. The frame header is read here to know the
//! components' sampling, which the decoder does not report.

use std::io::Cursor;

use super::{Decoded, Rgb, check_dimensions, corrupt};
use crate::budget::{self, with_slack};
use crate::{Format, ImagingError, Settings};

/// The size of a JPEG side scaled by `idct/8`, rounded up as the decoder does.
fn scaled(len: u32, idct: u32) -> u32 {
    (len * idct).div_ceil(8)
}

/// What the frame header (SOFn) says about the components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    /// Horizontal and vertical sampling factor of each component.
    pub sampling: Vec<(u8, u8)>,
    /// Sample precision in bits.
    pub precision: u8,
}

/// Reads the first frame header, walking the marker segments before it.
pub(crate) fn read_frame(bytes: &[u8]) -> Option<Frame> {
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return None;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let payload = bytes.get(at + 4..at + 2 + len)?;
        // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let precision = *payload.first()?;
            let count = usize::from(*payload.get(5)?);
            let sampling = (0..count)
                .map(|i| {
                    let hv = *payload.get(6 + i * 3 + 1)?;
                    Some(((hv >> 4).max(1), (hv & 0x0F).max(1)))
                })
                .collect::<Option<Vec<_>>>()?;
            return Some(Frame {
                sampling,
                precision,
            });
        }
        if marker == 0xDA {
            return None;
        }
        at += 2 + len;
    }
    None
}

/// Blocks (8×8) of each component, padded to whole MCUs as the decoder allocates them.
fn blocks(frame: &Frame, width: u32, height: u32) -> Vec<u64> {
    let h_max = u32::from(frame.sampling.iter().map(|s| s.0).max().unwrap_or(1));
    let v_max = u32::from(frame.sampling.iter().map(|s| s.1).max().unwrap_or(1));
    let mcu_w = u64::from(width.div_ceil(8 * h_max));
    let mcu_h = u64::from(height.div_ceil(8 * v_max));
    frame
        .sampling
        .iter()
        .map(|&(h, v)| mcu_w * u64::from(h) * mcu_h * u64::from(v))
        .collect()
}

/// Bytes the decoder and our conversion hold at once for a JPEG decoded at `idct/8`.
pub(crate) fn decode_bytes(
    frame: &Frame,
    width: u32,
    height: u32,
    idct: u32,
    progressive: bool,
    lossless: bool,
) -> u64 {
    let blocks = blocks(frame, width, height);
    let components = blocks.len() as u64;
    if lossless {
        // No DCT, no scaling: 16-bit planes at full size, then the output and our RGB.
        let pixels = u64::from(width) * u64::from(height);
        return with_slack(pixels * components * 2 * 2 + pixels * 3);
    }
    let idct = u64::from(idct);
    let planes: u64 = blocks.iter().map(|b| b * idct * idct).sum();
    let coefficients: u64 = if progressive {
        blocks.iter().map(|b| b * 64 * 2).sum()
    } else {
        0
    };
    let out = u64::from(scaled(width, idct as u32)) * u64::from(scaled(height, idct as u32));
    let output = out * components.min(4);
    // Grey and CMYK are converted to RGB into a new buffer while the decoder's is alive.
    let conversion = if components == 3 { 0 } else { out * 3 };
    with_slack(coefficients + planes + output + conversion)
}

/// What decoding a JPEG will take, from its headers.
pub(super) struct Plan {
    width: u32,
    height: u32,
    idct: u32,
    /// The estimate of what decoding and deriving hold at once.
    pub bytes: u64,
}

pub(super) fn plan(
    bytes: &[u8],
    settings: &Settings,
    needed: impl Fn(u32, u32) -> (u32, u32),
) -> Result<Plan, ImagingError> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(|e| corrupt(Format::Jpeg, e))?;
    let info = decoder
        .info()
        .ok_or_else(|| corrupt(Format::Jpeg, "no frame header"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_dimensions(width, height, Format::Jpeg, settings)?;
    let frame = read_frame(bytes).ok_or_else(|| corrupt(Format::Jpeg, "no frame header"))?;
    let progressive = info.coding_process == jpeg_decoder::CodingProcess::DctProgressive;
    let lossless = info.coding_process == jpeg_decoder::CodingProcess::Lossless;

    // Smallest DCT scale (of 1/8, 2/8, 4/8, 8/8) whose output still covers what the
    // derivatives need on both axes: decoding less is the biggest saving there is.
    let (need_w, need_h) = needed(width, height);
    let idct = [1, 2, 4, 8]
        .into_iter()
        .find(|&s| scaled(width, s) >= need_w && scaled(height, s) >= need_h)
        .unwrap_or(8);
    let idct = if lossless { 8 } else { idct };
    let (out_w, out_h) = (scaled(width, idct), scaled(height, idct));
    let stored_bytes = u64::from(out_w) * u64::from(out_h) * 3;
    let bytes = decode_bytes(&frame, width, height, idct, progressive, lossless).max(
        budget::derive_bytes((width, height), (out_w, out_h), stored_bytes, settings),
    );
    Ok(Plan {
        width,
        height,
        idct,
        bytes,
    })
}

pub(super) fn decode(
    bytes: &[u8],
    plan: Plan,
    settings: &Settings,
) -> Result<Decoded, ImagingError> {
    let Plan {
        width,
        height,
        idct,
        ..
    } = plan;
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    if idct < 8 {
        // Both sides are ≤ 65535 (u16 in the header), so the scaled sizes fit too.
        let request = |len: u32| u16::try_from(scaled(len, idct)).unwrap_or(u16::MAX);
        decoder
            .scale(request(width), request(height))
            .map_err(|e| corrupt(Format::Jpeg, e))?;
    }
    decoder.set_max_decoding_buffer_size(usize::try_from(settings.max_alloc).unwrap_or(usize::MAX));
    // The decoder hands each row's inverse DCT to rayon's pool and waits for it. A thread outside
    // the pool waits idle; inside it (where `scope` runs this), the waiting thread does that work
    // itself, or another photo's, so photos decoded side by side keep every core busy.
    let raw = rayon::scope(|_| decoder.decode()).map_err(|e| corrupt(Format::Jpeg, e))?;
    let info = decoder
        .info()
        .ok_or_else(|| corrupt(Format::Jpeg, "no frame header"))?;
    // The decoder keeps a progressive JPEG's coefficients: free them before converting.
    drop(decoder);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_rounds_up() {
        assert_eq!(scaled(6000, 4), 3000);
        assert_eq!(scaled(3750, 1), 469);
        assert_eq!(scaled(1, 1), 1);
    }

    #[test]
    fn frame_header_gives_the_sampling() {
        // SOI, an APP0 of 2 bytes, then SOF2: precision 8, 16×8, 3 components 2×2, 1×1, 1×1.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB];
        jpeg.extend_from_slice(&[0xFF, 0xC2, 0x00, 0x11, 8, 0, 8, 0, 16, 3]);
        jpeg.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        let frame = read_frame(&jpeg).expect("frame");
        assert_eq!(frame.sampling, vec![(2, 2), (1, 1), (1, 1)]);
        assert_eq!(frame.precision, 8);
        // 16×8 at 4:2:0: one MCU of 16×16 → 4 luma blocks and 1 block per chroma component.
        assert_eq!(blocks(&frame, 16, 8), vec![4, 1, 1]);
        assert_eq!(read_frame(&jpeg[..12]), None);
    }
}
