//! Images made on the spot for the memory-budget tests (imaging, the local stage) and the
//! imaging crate's `budget_fixtures` example: small on disk, huge once decoded. PNGs are written
//! row by row, so generating even a 10000×10000 16-bit one never holds it in memory.

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

/// A PNG of `width`×`height` whose samples are all zero, written directly: its compressed data
/// is one literal zero and then matches of 258 zeros (fixed-Huffman DEFLATE), so even an 800 MB
/// image is made in milliseconds, without running an encoder over it.
pub fn png_zeros(width: u32, height: u32, color: png::ColorType, depth: png::BitDepth) -> Vec<u8> {
    let bits_per_pixel = color.samples() * depth as usize;
    let row = 1 + (width as usize * bits_per_pixel).div_ceil(8);
    let total = row as u64 * u64::from(height);

    let mut deflate = Bits::default();
    deflate.push(0b1, 1); // last block
    deflate.push(0b01, 2); // fixed Huffman codes
    deflate.code(0x30, 8); // literal 0
    let rest = total - 1;
    for _ in 0..rest / 258 {
        deflate.code(0xC5, 8); // length 258 (code 285)
        deflate.code(0, 5); // distance 1
    }
    for _ in 0..rest % 258 {
        deflate.code(0x30, 8);
    }
    deflate.code(0, 7); // end of block
    let mut zlib = vec![0x78, 0x01];
    zlib.extend(deflate.finish());
    // Adler-32 of zeros: a stays 1, b adds 1 per byte.
    let adler = (((total % 65_521) as u32) << 16) | 1;
    zlib.extend(adler.to_be_bytes());

    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([depth as u8, color as u8, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", header), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        out.extend((data.len() as u32).to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(&data);
        out.extend(kind);
        out.extend(&data);
        out.extend(crc.finalize().to_be_bytes());
    }
    out
}

/// A DEFLATE bit stream: fields least significant bit first, Huffman codes most significant first.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    acc: u64,
    len: u32,
}

impl Bits {
    fn push(&mut self, value: u32, count: u32) {
        self.acc |= u64::from(value) << self.len;
        self.len += count;
        while self.len >= 8 {
            self.bytes.push(self.acc as u8);
            self.acc >>= 8;
            self.len -= 8;
        }
    }

    fn code(&mut self, code: u32, count: u32) {
        self.push(code.reverse_bits() >> (32 - count), count);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.len > 0 {
            self.bytes.push(self.acc as u8);
        }
        self.bytes
    }
}

/// `side`×`side` RGBA at 16 bits a sample, every sample zero: 800 MB decoded at 10000×10000.
pub fn rgba16_zeros(side: u32) -> Vec<u8> {
    png_zeros(side, side, png::ColorType::Rgba, png::BitDepth::Sixteen)
}

/// RGB at 16 bits a sample, every sample zero.
pub fn rgb16_zeros(side: u32) -> Vec<u8> {
    png_zeros(side, side, png::ColorType::Rgb, png::BitDepth::Sixteen)
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

/// RGB pixels of a pattern with detail in every 8×8 block, so a JPEG of it has real
/// coefficients everywhere. Rows are shifted copies of one, which keeps this fast unoptimised.
pub fn pattern_rgb(width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let period = 64;
    let row: Vec<u8> = (0..w + period)
        .flat_map(|x| {
            [
                (x / 7) as u8,
                (x / 2) as u8,
                ((x / 11) as u8) ^ (x as u8 & 0x10),
            ]
        })
        .collect();
    let mut pixels = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let shift = (y / 5) % period;
        pixels.extend_from_slice(&row[shift * 3..(shift + w) * 3]);
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
