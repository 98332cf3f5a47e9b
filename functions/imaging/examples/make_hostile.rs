//! Writes the hostile test inputs in `tests/hostile/` (run once, bytes committed):
//! `cargo run -p imaging --example make_hostile -- functions/imaging/tests/hostile`.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "functions/imaging/tests/hostile".into());
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes);

    let jpeg = small_jpeg(256, 256);
    write("empty.jpg", b"")?;
    write("truncated.jpg", &jpeg[..jpeg.len() * 3 / 5])?;
    write("absurd-side.jpg", &with_jpeg_size(&jpeg, 65_000, 8))?;
    write("absurd-area.jpg", &with_jpeg_size(&jpeg, 20_000, 20_000))?;
    write("zero-height.jpg", &with_jpeg_size(&jpeg, 256, 0))?;
    write("bomb.png", &png_bomb(60_000, 60_000))?;
    write(
        "text.jpg",
        b"this is not a photo, just text behind a .jpg name\n",
    )?;
    write("elf.png", &elf_header())?;
    Ok(())
}

/// A real baseline JPEG of a colour gradient.
fn small_jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut pixels = Vec::new();
    for y in 0..height {
        for x in 0..width {
            pixels.extend_from_slice(&[x as u8, y as u8, (x ^ y) as u8]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .expect("encoding the gradient");
    out
}

/// The JPEG with its SOF0 header claiming another size (the scan data stays as it was).
fn with_jpeg_size(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let sof = out
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline JPEG has SOF0");
    // FF C0, length (2), precision (1), height (2), width (2).
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    out
}

/// A PNG whose header claims `width`×`height` RGB pixels (10.8 GB at 60000×60000) while the
/// file holds a few hundred bytes of zlib data: the classic decompression bomb.
fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, adaptive filter, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    // zlib stream of stored (uncompressed) blocks holding 256 zero bytes: valid, and a real
    // decoder would go on asking for 10.8 GB more.
    let raw = [0u8; 256];
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&(raw.len() as u16).to_le_bytes());
    zlib.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// The 64-byte header of an x86-64 Linux executable, as if someone uploaded a binary.
fn elf_header() -> Vec<u8> {
    let mut out = b"\x7fELF\x02\x01\x01\0".to_vec();
    out.resize(16, 0);
    out.extend_from_slice(&[2, 0, 0x3E, 0, 1, 0, 0, 0]); // ET_EXEC, x86-64, version 1
    out.resize(64, 0);
    out
}
