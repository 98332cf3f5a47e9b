//! HEIF files made on the spot, the way iPhones write them and the way attackers would: coded
//! pictures come from Debian's `heif-enc` (libheif with x265), and this module wraps them into a
//! file of its own making: a single image or a `grid` of tiles, with `irot`/`imir` transforms, an
//! `Exif` item, and any size a test wants to claim. Debian 12's `heif-enc` writes neither grids
//! nor transforms, hence the writer; `heif-convert` (same package, `libheif-examples`) is the
//! oracle every decode is compared with ([`heif_convert`]).
//!
//! The writer follows ISO/IEC 23008-12: `ftyp`, then `meta` (`hdlr`, `pitm`, `iloc`, `iinf`,
//! `iref`, `iprp`), then `mdat`. Tiles that carry the same coded bytes are stored once, so a
//! tile bomb (thousands of tiles) stays a small file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One HEVC-coded picture as `heif-enc` wrote it: its configuration (`hvcC` box), its size
/// (`ispe`, which a test may change to make the file lie), its bit depth and its bitstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coded {
    /// Width the `ispe` property will claim.
    pub width: u32,
    /// Height the `ispe` property will claim.
    pub height: u32,
    /// The whole `hvcC` box, header included.
    pub hvcc: Vec<u8>,
    /// The whole `pixi` box, when `heif-enc` wrote one.
    pub pixi: Option<Vec<u8>>,
    /// The HEVC NAL units, each behind a 4-byte length.
    pub data: Vec<u8>,
}

/// What the primary item is.
#[derive(Debug, Clone)]
pub enum Primary {
    /// One coded picture.
    Single(Coded),
    /// A `grid` derived image: `columns`×`rows` tiles in row order, cropped to `width`×`height`.
    Grid {
        /// Tiles across.
        columns: u32,
        /// Tiles down.
        rows: u32,
        /// The output width the grid declares.
        width: u32,
        /// The output height the grid declares.
        height: u32,
        /// The tiles, row by row.
        tiles: Vec<Coded>,
    },
}

/// A HEIF file to write.
#[derive(Debug, Clone)]
pub struct Heif {
    /// The primary image.
    pub primary: Primary,
    /// `irot`: anticlockwise quarter turns, 0–3.
    pub irot: Option<u8>,
    /// `imir`: 0 mirrors about a vertical axis (left and right swap), 1 about a horizontal one.
    pub imir: Option<u8>,
    /// The TIFF structure of an `Exif` item describing the primary image (from `II*\0` or `MM\0*`).
    pub exif: Option<Vec<u8>>,
    /// The major brand and the compatible brands of `ftyp`.
    pub brands: (&'static [u8; 4], Vec<&'static [u8; 4]>),
}

impl Heif {
    /// A file holding `primary` with HEIC's brands and nothing else.
    pub fn new(primary: Primary) -> Heif {
        Heif {
            primary,
            irot: None,
            imir: None,
            exif: None,
            brands: (b"heic", vec![b"mif1", b"heic", b"miaf"]),
        }
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        write(self)
    }
}

/// Item ids: the primary is 1, tiles follow, the `Exif` item is last.
fn write(heif: &Heif) -> Vec<u8> {
    // Each item's payload, and the properties associated with it (indices into `props`, 1-based,
    // with the essential bit where the specification wants one).
    let mut props: Vec<Vec<u8>> = Vec::new();
    let prop_index = |bytes: Vec<u8>, props: &mut Vec<Vec<u8>>| -> u16 {
        if let Some(i) = props.iter().position(|p| *p == bytes) {
            return i as u16 + 1;
        }
        props.push(bytes);
        props.len() as u16
    };
    struct Item {
        kind: &'static [u8; 4],
        hidden: bool,
        data: Vec<u8>,
        props: Vec<(u16, bool)>,
    }
    let coded_props = |c: &Coded, props: &mut Vec<Vec<u8>>| {
        let mut out = vec![
            (prop_index(c.hvcc.clone(), props), true),
            (prop_index(ispe(c.width, c.height), props), false),
        ];
        if let Some(pixi) = &c.pixi {
            out.push((prop_index(pixi.clone(), props), false));
        }
        out
    };
    let mut items = Vec::new();
    let mut tiles = 0u32;
    match &heif.primary {
        Primary::Single(c) => {
            let p = coded_props(c, &mut props);
            items.push(Item {
                kind: b"hvc1",
                hidden: false,
                data: c.data.clone(),
                props: p,
            });
        }
        Primary::Grid {
            columns,
            rows,
            width,
            height,
            tiles: coded,
        } => {
            let large = *width > 0xFFFF || *height > 0xFFFF;
            let mut grid = vec![0, u8::from(large)];
            grid.push((rows - 1) as u8);
            grid.push((columns - 1) as u8);
            if large {
                grid.extend(width.to_be_bytes());
                grid.extend(height.to_be_bytes());
            } else {
                grid.extend((*width as u16).to_be_bytes());
                grid.extend((*height as u16).to_be_bytes());
            }
            let mut p = vec![(prop_index(ispe(*width, *height), &mut props), false)];
            if let Some(pixi) = coded.first().and_then(|c| c.pixi.clone()) {
                p.push((prop_index(pixi, &mut props), false));
            }
            items.push(Item {
                kind: b"grid",
                hidden: false,
                data: grid,
                props: p,
            });
            for c in coded {
                let p = coded_props(c, &mut props);
                items.push(Item {
                    kind: b"hvc1",
                    hidden: true,
                    data: c.data.clone(),
                    props: p,
                });
            }
            tiles = coded.len() as u32;
        }
    }
    // Transforms belong to the primary item, after its other properties (clap, irot, imir order).
    if let Some(quarters) = heif.irot {
        let i = prop_index(bx(b"irot", &[quarters & 3]), &mut props);
        items[0].props.push((i, true));
    }
    if let Some(axis) = heif.imir {
        let i = prop_index(bx(b"imir", &[axis & 1]), &mut props);
        items[0].props.push((i, true));
    }
    if let Some(tiff) = &heif.exif {
        let mut data = 0u32.to_be_bytes().to_vec();
        data.extend(tiff);
        items.push(Item {
            kind: b"Exif",
            hidden: false,
            data,
            props: Vec::new(),
        });
    }
    let id = |i: usize| i as u32 + 1;

    // mdat, with identical payloads stored once.
    let mut mdat_body = Vec::new();
    let mut stored: HashMap<&[u8], u32> = HashMap::new();
    let mut offsets = Vec::new();
    for item in &items {
        let at = *stored.entry(&item.data).or_insert_with(|| {
            let at = mdat_body.len() as u32;
            mdat_body.extend(&item.data);
            at
        });
        offsets.push((at, item.data.len() as u32));
    }

    let mut hdlr = vec![0; 4];
    hdlr.extend(b"pict");
    hdlr.extend([0; 13]);
    let large_ids = items.len() > 0xFFFF;
    let item_id = |out: &mut Vec<u8>, i: u32| {
        if large_ids {
            out.extend(i.to_be_bytes());
        } else {
            out.extend((i as u16).to_be_bytes());
        }
    };
    let version = u8::from(large_ids);
    let mut pitm = Vec::new();
    item_id(&mut pitm, 1);
    let mut iinf = Vec::new();
    if large_ids {
        iinf.extend((items.len() as u32).to_be_bytes());
    } else {
        iinf.extend((items.len() as u16).to_be_bytes());
    }
    for (i, item) in items.iter().enumerate() {
        let mut infe = Vec::new();
        item_id(&mut infe, id(i));
        infe.extend([0, 0]); // protection index
        infe.extend(item.kind);
        infe.push(0); // empty name
        iinf.extend(full(
            b"infe",
            if large_ids { 3 } else { 2 },
            u32::from(item.hidden),
            &infe,
        ));
    }
    let mut iref = Vec::new();
    if tiles > 0 {
        let mut dimg = Vec::new();
        item_id(&mut dimg, 1);
        dimg.extend((tiles as u16).to_be_bytes());
        for t in 0..tiles {
            item_id(&mut dimg, t + 2);
        }
        iref.extend(bx(b"dimg", &dimg));
    }
    if heif.exif.is_some() {
        let mut cdsc = Vec::new();
        item_id(&mut cdsc, items.len() as u32);
        cdsc.extend(1u16.to_be_bytes());
        item_id(&mut cdsc, 1);
        iref.extend(bx(b"cdsc", &cdsc));
    }
    let mut ipma = (items.iter().filter(|i| !i.props.is_empty()).count() as u32)
        .to_be_bytes()
        .to_vec();
    for (i, item) in items.iter().enumerate() {
        if item.props.is_empty() {
            continue;
        }
        item_id(&mut ipma, id(i));
        ipma.push(item.props.len() as u8);
        for &(index, essential) in &item.props {
            // Flag 1 (set below): 15-bit indices.
            ipma.extend((index | (u16::from(essential) << 15)).to_be_bytes());
        }
    }
    let ipco: Vec<u8> = props.concat();
    let iprp = bx(
        b"iprp",
        &[bx(b"ipco", &ipco), full(b"ipma", version, 1, &ipma)].concat(),
    );

    // iloc v1 (v2 with 32-bit ids): 4-byte offsets and lengths, no base offset. The offsets are
    // absolute, so the iloc is written twice: once to learn the size of what precedes mdat.
    let iloc = |mdat_start: u32| {
        let mut body = vec![0x44, 0x00];
        if large_ids {
            body.extend((items.len() as u32).to_be_bytes());
        } else {
            body.extend((items.len() as u16).to_be_bytes());
        }
        for (i, &(at, len)) in offsets.iter().enumerate() {
            item_id(&mut body, id(i));
            body.extend([0, 0]); // construction method 0: file offset
            body.extend([0, 0]); // data reference: this file
            body.extend(1u16.to_be_bytes());
            body.extend((mdat_start + at).to_be_bytes());
            body.extend(len.to_be_bytes());
        }
        full(b"iloc", if large_ids { 2 } else { 1 }, 0, &body)
    };
    let mut ftyp = heif.brands.0.to_vec();
    ftyp.extend([0; 4]);
    for b in &heif.brands.1 {
        ftyp.extend(*b);
    }
    let head = |mdat_start: u32| {
        let mut meta = full(b"hdlr", 0, 0, &hdlr);
        meta.extend(full(b"pitm", version, 0, &pitm));
        meta.extend(iloc(mdat_start));
        meta.extend(full(b"iinf", u8::from(large_ids), 0, &iinf));
        if !iref.is_empty() {
            meta.extend(full(b"iref", u8::from(large_ids), 0, &iref));
        }
        meta.extend(&iprp);
        let mut out = bx(b"ftyp", &ftyp);
        out.extend(full(b"meta", 0, 0, &meta));
        out
    };
    let start = head(0).len() as u32 + 8;
    let mut out = head(start);
    out.extend(bx(b"mdat", &mdat_body));
    out
}

/// A box: size, type, body.
fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend(kind);
    out.extend(body);
    out
}

/// A full box: a box whose body starts with a version and 24 bits of flags.
fn full(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut inner = (u32::from(version) << 24 | (flags & 0xFF_FFFF))
        .to_be_bytes()
        .to_vec();
    inner.extend(body);
    bx(kind, &inner)
}

fn ispe(width: u32, height: u32) -> Vec<u8> {
    let mut body = width.to_be_bytes().to_vec();
    body.extend(height.to_be_bytes());
    full(b"ispe", 0, 0, &body)
}

/// The boxes directly inside `bytes`: `(type, whole box, body)`.
fn boxes(bytes: &[u8]) -> Vec<([u8; 4], &[u8], &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let kind: [u8; 4] = bytes[at + 4..at + 8].try_into().expect("4 bytes");
        let size = if size == 0 { bytes.len() - at } else { size };
        assert!(size >= 8 && at + size <= bytes.len(), "a broken box");
        out.push((kind, &bytes[at..at + size], &bytes[at + 8..at + size]));
        at += size;
    }
    out
}

fn child<'a>(bytes: &'a [u8], kind: &[u8; 4]) -> (&'a [u8], &'a [u8]) {
    boxes(bytes)
        .into_iter()
        .find(|(k, _, _)| k == kind)
        .map(|(_, whole, body)| (whole, body))
        .unwrap_or_else(|| panic!("no `{}` box", String::from_utf8_lossy(kind)))
}

/// Reads back the first coded picture of a file `heif-enc` wrote: one `hvc1` item, its
/// `hvcC`, `ispe` and `pixi`, and its bytes (`iloc` version 0 or 1, one extent).
pub fn read_coded(file: &[u8]) -> Coded {
    let (_, meta) = child(file, b"meta");
    let meta = &meta[4..];
    let (_, iprp) = child(meta, b"iprp");
    let (_, ipco) = child(iprp, b"ipco");
    let (hvcc, _) = child(ipco, b"hvcC");
    let (_, ispe) = child(ipco, b"ispe");
    let pixi = boxes(ipco)
        .into_iter()
        .find(|(k, _, _)| k == b"pixi")
        .map(|(_, whole, _)| whole.to_vec());
    let (_, iloc) = child(meta, b"iloc");
    let version = iloc[0];
    let (offset_size, length_size) = (usize::from(iloc[4] >> 4), usize::from(iloc[4] & 15));
    let base_size = usize::from(iloc[5] >> 4);
    let index_size = if version >= 1 {
        usize::from(iloc[5] & 15)
    } else {
        0
    };
    let read = |bytes: &[u8], at: &mut usize, n: usize| -> u64 {
        let v = bytes[*at..*at + n]
            .iter()
            .fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        *at += n;
        v
    };
    let mut at = 6;
    let _count = read(iloc, &mut at, 2);
    let _id = read(iloc, &mut at, 2); // the first item is the picture
    if version >= 1 {
        at += 2; // construction method
    }
    at += 2; // data reference index
    let base = read(iloc, &mut at, base_size);
    let extents = read(iloc, &mut at, 2);
    assert_eq!(extents, 1, "heif-enc writes one extent");
    at += index_size;
    let offset = (base + read(iloc, &mut at, offset_size)) as usize;
    let length = read(iloc, &mut at, length_size) as usize;
    Coded {
        width: u32::from_be_bytes(ispe[4..8].try_into().expect("4 bytes")),
        height: u32::from_be_bytes(ispe[8..12].try_into().expect("4 bytes")),
        hvcc: hvcc.to_vec(),
        pixi,
        data: file[offset..offset + length].to_vec(),
    }
}

/// A scratch directory of this process, removed by the caller's [`TempDir`].
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("testkit-{what}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating a scratch directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The path of one of libheif's example tools, or a panic that says how to install it.
fn libheif_tool(name: &str) -> PathBuf {
    let path = Path::new("/usr/bin").join(name);
    assert!(
        path.is_file(),
        "test oracle `{name}` is not installed: `apt-get install libheif-examples` \
         (`cargo xtask test` installs it)"
    );
    path
}

fn run(cmd: &mut Command) {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("starting {shown}: {e}"));
    assert!(
        out.status.success(),
        "{shown} failed with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Encodes an RGB image (`width`×`height`, 8 or 16 bits a sample, big-endian as PNG stores
/// them) with `heif-enc` at `quality`, 10-bit when the samples are 16-bit, and returns the
/// coded picture.
pub fn heif_enc(width: u32, height: u32, rgb: &[u8], sixteen_bit: bool, quality: u8) -> Coded {
    let dir = TempDir::new("heif-enc");
    let png_path = dir.0.join("in.png");
    let out_path = dir.0.join("out.heic");
    let depth = if sixteen_bit {
        png::BitDepth::Sixteen
    } else {
        png::BitDepth::Eight
    };
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(depth);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().expect("png header");
        writer.write_image_data(rgb).expect("png data");
    }
    std::fs::write(&png_path, png_bytes).expect("writing the tile");
    let mut cmd = Command::new(libheif_tool("heif-enc"));
    cmd.arg("-q").arg(quality.to_string());
    if sixteen_bit {
        cmd.args(["-b", "10"]);
    }
    run(cmd.arg("-o").arg(&out_path).arg(&png_path));
    read_coded(&std::fs::read(&out_path).expect("reading heif-enc's output"))
}

/// A `width`×`height` crop at (`x`, `y`) of an RGB image `stride` pixels wide (`channels` bytes
/// a pixel), padded by repeating its last row and column where it runs past the edge.
pub fn crop(
    pixels: &[u8],
    stride: u32,
    full_height: u32,
    channels: usize,
    (x, y, width, height): (u32, u32, u32, u32),
) -> Vec<u8> {
    let mut out = Vec::with_capacity(width as usize * height as usize * channels);
    for row in y..y + height {
        let row = row.min(full_height - 1) as usize;
        for col in x..x + width {
            let col = col.min(stride - 1) as usize;
            let at = (row * stride as usize + col) * channels;
            out.extend_from_slice(&pixels[at..at + channels]);
        }
    }
    out
}

/// Cuts an RGB image (8-bit, or 16-bit when `sixteen_bit`) into `tile`-sized squares, encodes
/// each with `heif-enc` (on as many threads as there are cores), and returns the grid that shows
/// it, as an iPhone stores a photo.
pub fn grid_of(
    width: u32,
    height: u32,
    rgb: &[u8],
    sixteen_bit: bool,
    tile: u32,
    quality: u8,
) -> Primary {
    let channels = if sixteen_bit { 6 } else { 3 };
    let (columns, rows) = (width.div_ceil(tile), height.div_ceil(tile));
    let count = (columns * rows) as usize;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: Vec<std::sync::Mutex<Option<Coded>>> =
        (0..count).map(|_| std::sync::Mutex::new(None)).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads.min(count) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let (c, r) = (i as u32 % columns, i as u32 / columns);
                    let pixels = crop(
                        rgb,
                        width,
                        height,
                        channels,
                        (c * tile, r * tile, tile, tile),
                    );
                    let coded = heif_enc(tile, tile, &pixels, sixteen_bit, quality);
                    *done[i].lock().expect("a tile slot") = Some(coded);
                }
            });
        }
    });
    let tiles = done
        .into_iter()
        .map(|m| {
            m.into_inner()
                .expect("a tile slot")
                .expect("an encoded tile")
        })
        .collect();
    Primary::Grid {
        columns,
        rows,
        width,
        height,
        tiles,
    }
}

/// The TIFF structure of a JPEG's EXIF segment (APP1 `Exif\0\0`), for an `Exif` item.
pub fn jpeg_exif(jpeg: &[u8]) -> Option<Vec<u8>> {
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        let payload = jpeg.get(at + 4..at + 2 + len)?;
        if marker == 0xE1 && payload.starts_with(b"Exif\0\0") {
            return Some(payload[6..].to_vec());
        }
        if marker == 0xDA {
            return None;
        }
        at += 2 + len;
    }
    None
}

/// A HEIC as an iPhone writes a photo, made from an 8-bit RGB PNG: a grid of 512×512 tiles
/// coded by `heif-enc` at `quality`, with `exif` (TIFF) as its `Exif` item.
pub fn iphone_like_from_png(png_bytes: &[u8], quality: u8, exif: Option<Vec<u8>>) -> Vec<u8> {
    let (width, height, rgb) = decode_png(png_bytes);
    let mut file = Heif::new(grid_of(width, height, &rgb, false, 512, quality));
    file.exif = exif;
    file.to_bytes()
}

/// An 8-bit PNG as `(width, height, rgb)` (alpha dropped, 16-bit samples cut to their high byte).
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sized PNG")];
    let info = reader.next_frame(&mut buf).expect("PNG pixels");
    buf.truncate(info.buffer_size());
    let rgb = match info.color_type {
        png::ColorType::Rgb => buf,
        png::ColorType::Rgba => buf
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        png::ColorType::Grayscale => buf.iter().flat_map(|&l| [l, l, l]).collect(),
        other => panic!("an RGB PNG, not {other:?}"),
    };
    (info.width, info.height, rgb)
}

/// Decodes `heic` with libheif's `heif-convert` (grids composed, `irot`/`imir` applied, EXIF
/// orientation ignored) and returns `(width, height, rgb)` at 8 bits a sample.
pub fn heif_convert(heic: &[u8]) -> (u32, u32, Vec<u8>) {
    let dir = TempDir::new("heif-convert");
    let input = dir.0.join("in.heic");
    let output = dir.0.join("out.png");
    std::fs::write(&input, heic).expect("writing the HEIF file");
    run(Command::new(libheif_tool("heif-convert"))
        .arg("--quiet")
        .arg(&input)
        .arg(&output));
    decode_png(&std::fs::read(&output).expect("heif-convert's PNG"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_have_their_sizes() {
        assert_eq!(
            bx(b"free", &[1, 2]),
            [0, 0, 0, 10, b'f', b'r', b'e', b'e', 1, 2]
        );
        assert_eq!(
            full(b"irot", 0, 0, &[3]),
            [0, 0, 0, 13, b'i', b'r', b'o', b't', 0, 0, 0, 0, 3]
        );
    }
}
