//! Every PNG colour type and bit depth the format allows, plain and interlaced, comes out with
//! the right colours: each test image is red on its left half and something else on its right
//! (blue, white, or transparent, which shows as white), and the preview must show the same.

use crate::common;

use imaging::{Settings, process};
use png::{BitDepth, ColorType};
use testkit::images::png_rows;

const W: u32 = 40;
const H: u32 = 30;

/// Packs samples of `depth` bits, most significant bit first, as PNG rows are.
fn pack(samples: &[u16], depth: BitDepth) -> Vec<u8> {
    match depth {
        BitDepth::Sixteen => samples.iter().flat_map(|s| s.to_be_bytes()).collect(),
        BitDepth::Eight => samples.iter().map(|&s| s as u8).collect(),
        _ => {
            let bits = depth as usize;
            let mut out = vec![0u8; (samples.len() * bits).div_ceil(8)];
            for (i, &s) in samples.iter().enumerate() {
                let at = i * bits;
                out[at / 8] |= (s as u8) << (8 - bits - at % 8);
            }
            out
        }
    }
}

/// Mean RGB of the preview's columns `x0..x1`.
fn mean(rgb: &[u8], width: u32, x0: u32, x1: u32) -> [f64; 3] {
    let mut sum = [0f64; 3];
    let mut n = 0f64;
    for (i, px) in rgb.chunks_exact(3).enumerate() {
        let x = i as u32 % width;
        if (x0..x1).contains(&x) {
            for c in 0..3 {
                sum[c] += f64::from(px[c]);
            }
            n += 1.0;
        }
    }
    sum.map(|s| s / n)
}

/// The samples of one pixel of each half, and the colours each half must show.
struct Halves<'a> {
    left: &'a [u16],
    right: &'a [u16],
    shows: ([u8; 3], [u8; 3]),
}

fn check(
    what: &str,
    color: ColorType,
    depth: BitDepth,
    palette: Option<(Vec<u8>, Option<Vec<u8>>)>,
    halves: Halves,
) {
    let Halves {
        left,
        right,
        shows: (expected_left, expected_right),
    } = halves;
    for interlaced in [false, true] {
        let samples: Vec<u16> = (0..W)
            .flat_map(|x| if x < W / 2 { left } else { right }.iter().copied())
            .collect();
        let bytes = png_rows(
            W,
            H,
            color,
            depth,
            palette.clone(),
            interlaced,
            &pack(&samples, depth),
        );
        let processed = process(&bytes, &Settings::default())
            .unwrap_or_else(|e| panic!("{what} (interlaced: {interlaced}): {e}"));
        let (w, h, rgb) = common::decode_jpeg(&processed.preview.bytes);
        assert_eq!((w, h), (W, H), "{what}");
        for (side, got, want) in [
            ("left", mean(&rgb, w, 2, W / 2 - 4), expected_left),
            ("right", mean(&rgb, w, W / 2 + 4, W - 2), expected_right),
        ] {
            for c in 0..3 {
                assert!(
                    (got[c] - f64::from(want[c])).abs() < 12.0,
                    "{what} (interlaced: {interlaced}), {side}: {got:?} instead of {want:?}"
                );
            }
        }
    }
}

const RED: [u8; 3] = [255, 0, 0];
const BLUE: [u8; 3] = [0, 0, 255];
const WHITE: [u8; 3] = [255, 255, 255];
const BLACK: [u8; 3] = [0, 0, 0];

#[test]
fn grey_at_every_bit_depth() {
    for depth in [
        BitDepth::One,
        BitDepth::Two,
        BitDepth::Four,
        BitDepth::Eight,
        BitDepth::Sixteen,
    ] {
        let max = u16::try_from((1u32 << (depth as u32)) - 1).expect("at most 16 bits");
        check(
            &format!("grey {depth:?}"),
            ColorType::Grayscale,
            depth,
            None,
            Halves {
                left: &[0],
                right: &[max],
                shows: (BLACK, WHITE),
            },
        );
    }
}

#[test]
fn grey_with_alpha_rgb_and_rgba_at_8_and_16_bits() {
    for (depth, max) in [(BitDepth::Eight, 255u16), (BitDepth::Sixteen, u16::MAX)] {
        check(
            &format!("grey+alpha {depth:?}"),
            ColorType::GrayscaleAlpha,
            depth,
            None,
            Halves {
                left: &[0, max],
                right: &[0, 0],
                shows: (BLACK, WHITE),
            },
        );
        check(
            &format!("rgb {depth:?}"),
            ColorType::Rgb,
            depth,
            None,
            Halves {
                left: &[max, 0, 0],
                right: &[0, 0, max],
                shows: (RED, BLUE),
            },
        );
        check(
            &format!("rgba {depth:?}"),
            ColorType::Rgba,
            depth,
            None,
            Halves {
                left: &[max, 0, 0, max],
                right: &[0, 0, max, 0],
                shows: (RED, WHITE),
            },
        );
    }
}

#[test]
fn palettes_at_every_bit_depth_with_and_without_transparency() {
    for depth in [
        BitDepth::One,
        BitDepth::Two,
        BitDepth::Four,
        BitDepth::Eight,
    ] {
        let plte = vec![255, 0, 0, 0, 0, 255];
        check(
            &format!("palette {depth:?}"),
            ColorType::Indexed,
            depth,
            Some((plte.clone(), None)),
            Halves {
                left: &[0],
                right: &[1],
                shows: (RED, BLUE),
            },
        );
        check(
            &format!("palette {depth:?} with tRNS"),
            ColorType::Indexed,
            depth,
            Some((plte, Some(vec![255, 0]))),
            Halves {
                left: &[0],
                right: &[1],
                shows: (RED, WHITE),
            },
        );
    }
}
