//! HEIC through `heifer` (pure Rust, no `unsafe`), tile by tile: iPhones store a photo as a `grid`
//! of 512×512 HEVC pictures, and each row of tiles is decoded (the tiles of a row on parallel
//! threads), converted to RGB with heifer's own conversion, and fed row by row into the
//! box-filter [`Shrinker`], so a 12 MP photo is never held whole. A photo stored as one coded
//! picture is a grid of one tile.
//!
//! Everything the memory estimate needs comes from the headers before any pixel is decoded:
//! the grid and its tiles, each tile's coded size, bit depth and chroma format from the sequence
//! parameter set in its `hvcC` (what the decoder will allocate, whatever `ispe` claims), and the
//! largest tile bitstream. Decoding one picture holds about twice its YCbCr planes at 16 bits a
//! sample (6.1 bytes a pixel at 4:2:0, measured), so the estimate counts 2 × planes + 0.5 bytes a
//! pixel, plus a cropped copy when the picture has a conformance window.
//!
//! As libheif does, the orientation comes from the `irot` and `imir` properties and never from
//! the EXIF orientation tag; a `clap` crop is applied while rows are fed to the shrinker. The
//! transforms are returned as an [`Orientation`] and applied to the small derivatives.
//!
//! Left out, as for the other formats: colour profiles (an iPhone's Display P3 `colr` is read as
//! the samples are, as `heif-convert` does), and auxiliary images (depth and HDR gain maps, and
//! an alpha plane, rare in photos: such a picture is shown opaque).
//!
//! heifer was chosen over heic-rs after comparing both with libheif's `heif-convert` on the test
//! photos and on generated grids with every transform: heifer is within half a level (mean
//! absolute difference per channel), heic-rs differs by about 9 levels on every file (a colour
//! conversion that does not follow the stream's VUI) and mirrors `imir` on the other axis.

use heifer::color::{ColorParams, frame_to_rgba_into};
use heifer::heifer_hevc_dec::decoder::{DecodeOptions, decode_picture};
use heifer::heifer_hevc_dec::nal::NalUnit;
use heifer::heifer_hevc_dec::params::ParameterSets;
use heifer::heifer_hevc_dec::recon::Frame;
use heifer::heifer_isobmff::boxes::{ColorInfo, Property};
use heifer::heifer_isobmff::{HeifFile, ItemId};

use super::{Decoded, check_dimensions, corrupt};
use crate::budget::{self, with_slack};
use crate::shrink::{self, Order, Shrinker};
use crate::{Format, ImagingError, Orientation, Settings, heif};

/// What a parsed item list costs per item (ids, properties, locations, references).
const BYTES_PER_ITEM: u64 = 512;

/// Most threads decoding the tiles of one row at once, unless [`Settings::decode_threads`] says.
const MAX_THREADS: usize = 4;

/// The coded size of the tiles, from their sequence parameter sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Coded {
    /// Luma samples the decoder allocates (the whole coded picture).
    allocated: (u32, u32),
    /// What it returns: the picture cropped to its conformance window.
    size: (u32, u32),
    /// Bytes a pixel of its YCbCr planes at 16 bits a sample: 6 (4:4:4), 4 (4:2:2), 3 (4:2:0)
    /// or 2 (monochrome).
    plane_bytes: u64,
    bit_depth: (u8, u8),
}

/// The rectangle of the image that is shown (`clap`), in stored pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Crop {
    x: u32,
    y: u32,
    width: u32,
    height: u32,
}

/// How the primary image is laid out, from its headers.
#[derive(Debug)]
struct Layout {
    /// The tiles in row order (one for a single coded picture).
    tiles: Vec<ItemId>,
    columns: u32,
    rows: u32,
    coded: Coded,
    /// The image the tiles make (the grid's output size, or the single picture's `ispe`).
    size: (u32, u32),
    crop: Crop,
}

/// What decoding a HEIC file will take, from its headers.
pub(super) struct Plan {
    layout: Layout,
    factor: u32,
    threads: usize,
    /// The estimate of what decoding and deriving hold at once.
    pub bytes: u64,
}

fn fail(err: impl std::fmt::Display) -> ImagingError {
    corrupt(Format::Heic, err)
}

/// Counts the items before heifer builds its tables (its lookups are linear in the item count,
/// so a file listing tens of thousands of tiles would cost seconds before any check), then parses.
fn parse<'a>(bytes: &'a [u8], settings: &Settings) -> Result<HeifFile<'a>, ImagingError> {
    let peek = heif::peek(bytes).ok_or_else(|| fail("not a heif file"))?;
    // The tiles, the grid, and a few more: the EXIF and XMP items, a thumbnail, depth and
    // HDR gain maps (each a grid of its own on an iPhone).
    let limit = u64::from(settings.max_tiles) * 2 + 64;
    if u64::from(peek.items) > limit {
        return Err(ImagingError::TooManyTiles {
            tiles: u64::from(peek.items),
            limit: settings.max_tiles,
        });
    }
    // The other tables are looked up item by item: as long as the item list, or the parse is
    // quadratic in what the file claims.
    if u64::from(peek.tables) > limit {
        return Err(fail(format_args!(
            "the heif file lists {} entries in a table for at most {limit} items",
            peek.tables
        )));
    }
    HeifFile::parse(bytes).map_err(|e| fail(format_args!("the heif container is unreadable: {e}")))
}

/// The orientation the primary item's transforms add up to: `irot` (anticlockwise quarter turns)
/// then `imir` (`true`: top and bottom exchanged, as heifer reads axis 0; `false`: left and right).
fn orientation(rotation: u8, mirror: Option<bool>) -> Orientation {
    use Orientation::*;
    match (rotation & 3, mirror) {
        (0, None) => Normal,
        (1, None) => Rotate270,
        (2, None) => Rotate180,
        (3, None) => Rotate90,
        (0, Some(true)) | (2, Some(false)) => FlipVertical,
        (0, Some(false)) | (2, Some(true)) => FlipHorizontal,
        (1, Some(true)) | (3, Some(false)) => Transpose,
        (1, Some(false)) | (3, Some(true)) => Transverse,
        _ => Normal,
    }
}

/// The coded size of an `hvc1` item, from the sequence parameter set of its `hvcC`.
fn coded(file: &HeifFile<'_>, id: ItemId) -> Result<Coded, ImagingError> {
    let config = file
        .hevc_config(id)
        .map_err(fail)?
        .ok_or_else(|| fail("a coded image has no hevc configuration"))?;
    let mut sets = ParameterSets::default();
    for nal in &config.nal_units {
        sets.add(&NalUnit::parse(nal).map_err(fail)?)
            .map_err(fail)?;
    }
    let sps = sets
        .sps
        .iter()
        .flatten()
        .next()
        .ok_or_else(|| fail("the hevc configuration has no sequence parameter set"))?;
    let (w, h) = (
        sps.pic_width_in_luma_samples,
        sps.pic_height_in_luma_samples,
    );
    let (sw, sh) = sps.chroma_subsampling();
    let [left, right, top, bottom] = sps.conf_win_offsets;
    let crop = |len: u32, a: u32, b: u32, sub: u32| {
        a.checked_add(b)
            .and_then(|n| n.checked_mul(sub))
            .and_then(|n| len.checked_sub(n))
            .filter(|&n| n > 0)
    };
    let size = crop(w, left, right, sw)
        .zip(crop(h, top, bottom, sh))
        .ok_or_else(|| fail("the conformance window is larger than the picture"))?;
    let plane_bytes = if sps.chroma_format_idc == 0 {
        2
    } else {
        2 + 4 / u64::from(sw * sh)
    };
    Ok(Coded {
        allocated: (w, h),
        size,
        plane_bytes,
        bit_depth: (sps.bit_depth_luma, sps.bit_depth_chroma),
    })
}

/// The `clap` rectangle, as libheif computes it (centred, offsets from the centre).
fn clean_aperture(
    (width, height): (u32, u32),
    w: (u32, u32),
    h: (u32, u32),
    x: (i32, u32),
    y: (i32, u32),
) -> Option<Crop> {
    let frac = |(n, d): (u32, u32)| (d != 0).then(|| f64::from(n) / f64::from(d));
    let off = |(n, d): (i32, u32)| (d != 0).then(|| f64::from(n) / f64::from(d));
    let (cw, ch) = (frac(w)?.round(), frac(h)?.round());
    let left = (f64::from(width) - 1.0) / 2.0 + off(x)? - (cw - 1.0) / 2.0;
    let top = (f64::from(height) - 1.0) / 2.0 + off(y)? - (ch - 1.0) / 2.0;
    let (left, top) = (left.round(), top.round());
    let fits = cw >= 1.0
        && ch >= 1.0
        && left >= 0.0
        && top >= 0.0
        && left + cw <= f64::from(width)
        && top + ch <= f64::from(height);
    fits.then_some(Crop {
        x: left as u32,
        y: top as u32,
        width: cw as u32,
        height: ch as u32,
    })
}

fn layout(file: &HeifFile<'_>, settings: &Settings) -> Result<Layout, ImagingError> {
    let id = file.primary_id;
    let item = file.item(id).map_err(fail)?;
    let (tiles, columns, rows, size) = match &item.item_type.0 {
        b"hvc1" => {
            let size = file
                .image_size(id)
                .map_err(fail)?
                .ok_or_else(|| fail("the image has no size (ispe)"))?;
            (vec![id], 1, 1, size)
        }
        b"grid" => {
            let grid = file.grid(id).map_err(fail)?;
            let tiles = file.referenced_items(id, b"dimg").to_vec();
            let (columns, rows) = (u32::from(grid.columns), u32::from(grid.rows));
            if tiles.len() as u64 > u64::from(settings.max_tiles) {
                return Err(ImagingError::TooManyTiles {
                    tiles: tiles.len() as u64,
                    limit: settings.max_tiles,
                });
            }
            if tiles.len() as u64 != u64::from(columns) * u64::from(rows) {
                return Err(fail(format!(
                    "the grid is {columns}×{rows} tiles but lists {}",
                    tiles.len()
                )));
            }
            (
                tiles,
                columns,
                rows,
                (grid.output_width, grid.output_height),
            )
        }
        other => {
            return Err(fail(format!(
                "the primary image is a `{}` item, not hevc",
                String::from_utf8_lossy(other)
            )));
        }
    };
    check_dimensions(size.0, size.1, Format::Heic, settings)?;

    // Every tile is decoded at the size its parameter sets give: check them all (files share
    // one configuration between tiles, so this parses one or two).
    let mut seen: Vec<(u16, Coded)> = Vec::new();
    let mut first = None;
    for &tile in &tiles {
        let t = file.item(tile).map_err(fail)?;
        if t.item_type.0 != *b"hvc1" {
            return Err(fail("a grid tile is not hevc"));
        }
        let config = file
            .item(tile)
            .map_err(fail)?
            .properties
            .iter()
            .find(|a| {
                a.index > 0
                    && matches!(
                        file.properties.get(usize::from(a.index) - 1),
                        Some(Property::HevcConfig(_))
                    )
            })
            .map(|a| a.index)
            .ok_or_else(|| fail("a coded image has no hevc configuration"))?;
        let c = match seen.iter().find(|(i, _)| *i == config) {
            Some((_, c)) => *c,
            None => {
                let c = coded(file, tile)?;
                seen.push((config, c));
                c
            }
        };
        match first {
            None => first = Some(c),
            Some(f) if (f.size, f.bit_depth) != (c.size, c.bit_depth) => {
                return Err(fail("the grid's tiles differ in size or bit depth"));
            }
            Some(_) => {}
        }
    }
    let coded = seen
        .iter()
        .map(|(_, c)| *c)
        .max_by_key(|c| u64::from(c.allocated.0) * u64::from(c.allocated.1) * c.plane_bytes)
        .ok_or_else(|| fail("the image has no tiles"))?;
    let (tw, th) = coded.size;
    check_dimensions(coded.allocated.0, coded.allocated.1, Format::Heic, settings)?;
    // The tiles must cover the image, and none may lie wholly outside it (whose decoding would
    // be work for nothing).
    let covers = |count: u32, tile: u32, len: u32| {
        u64::from(count) * u64::from(tile) >= u64::from(len)
            && u64::from(count - 1) * u64::from(tile) < u64::from(len)
    };
    if !covers(columns, tw, size.0) || !covers(rows, th, size.1) {
        return Err(fail(format!(
            "{columns}×{rows} tiles of {tw}×{th} do not make a {}×{} image",
            size.0, size.1
        )));
    }

    // `clap` is applied here; `irot` and `imir` to the derivatives ([`exif_and_orientation`]).
    let mut crop = Crop {
        x: 0,
        y: 0,
        width: size.0,
        height: size.1,
    };
    for property in file.item_properties(id).map_err(fail)? {
        if let Property::CleanAperture {
            width,
            height,
            horiz_offset,
            vert_offset,
        } = *property
        {
            crop = clean_aperture(size, width, height, horiz_offset, vert_offset)
                .ok_or_else(|| fail("the clean aperture lies outside the image"))?;
        }
    }
    Ok(Layout {
        tiles,
        columns,
        rows,
        coded,
        size,
        crop,
    })
}

/// Bytes the decoder holds for one picture of `coded` (its RGBA output is counted with the row).
fn tile_bytes(coded: &Coded, stream: u64) -> u64 {
    let (w, h) = coded.allocated;
    let allocated = u64::from(w) * u64::from(h);
    let (cw, ch) = coded.size;
    // Cropping to the conformance window copies the planes.
    let copy = if (cw, ch) == (w, h) {
        0
    } else {
        u64::from(cw) * u64::from(ch) * coded.plane_bytes
    };
    // The annex B stream and the unescaped payload of its NAL units.
    allocated * (2 * coded.plane_bytes) + allocated / 2 + copy + 2 * stream
}

/// The largest tile bitstream, from the item locations (a length of 0 means "to the end").
fn largest_stream(file: &HeifFile<'_>, tiles: &[ItemId], file_len: u64) -> u64 {
    let length = |id: ItemId| {
        let location = file.item(id).ok()?.location.as_ref()?;
        let extents = location.extents.iter();
        Some(
            extents
                .map(|e| {
                    if e.length == 0 {
                        file_len
                    } else {
                        e.length.min(file_len)
                    }
                })
                .sum(),
        )
    };
    tiles.iter().filter_map(|&t| length(t)).max().unwrap_or(0) + 1024
}

pub(super) fn plan(
    bytes: &[u8],
    settings: &Settings,
    needed: impl Fn(u32, u32) -> (u32, u32),
) -> Result<Plan, ImagingError> {
    let file = parse(bytes, settings)?;
    let layout = layout(&file, settings)?;
    let crop = layout.crop;
    let factor = shrink::factor_for(crop.width, crop.height, needed(crop.width, crop.height));
    let threads = match settings.decode_threads {
        0 => std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS),
        n => n,
    }
    .min(layout.columns as usize)
    .max(1);
    let stream = largest_stream(&file, &layout.tiles, bytes.len() as u64);
    let (tw, th) = layout.coded.size;
    // A row of tiles converted to RGBA, the tiles in flight, the shrinker and one RGB row.
    let band = u64::from(layout.columns) * u64::from(tw) * u64::from(th) * 4;
    let in_flight = threads as u64 * tile_bytes(&layout.coded, stream);
    let held = shrink::bytes_held(crop.width, crop.height, factor, Order::Sequential);
    let parsed = (file.items.len() as u64 + file.properties.len() as u64) * BYTES_PER_ITEM;
    let (out_w, out_h) = (crop.width.div_ceil(factor), crop.height.div_ceil(factor));
    let stored_bytes = u64::from(out_w) * u64::from(out_h) * 3;
    let bytes =
        with_slack(parsed + band + in_flight + held + u64::from(tw) * 3).max(budget::derive_bytes(
            (crop.width, crop.height),
            (out_w, out_h),
            stored_bytes,
            settings,
        ));
    Ok(Plan {
        layout,
        factor,
        threads,
        bytes,
    })
}

/// The colour description of a tile: its own `nclx`, else the image's, else the stream's VUI.
fn color_params(file: &HeifFile<'_>, tile: ItemId, frame: &Frame) -> ColorParams {
    let nclx = |id: ItemId| {
        file.item_properties(id).ok()?.find_map(|p| match p {
            Property::Color(ColorInfo::Nclx {
                matrix, full_range, ..
            }) => Some(ColorParams {
                matrix: *matrix,
                full_range: *full_range,
            }),
            _ => None,
        })
    };
    nclx(tile)
        .or_else(|| nclx(file.primary_id))
        .unwrap_or_else(|| ColorParams::from_frame(frame))
}

/// One decoded tile: where it sits and its visible pixels as RGBA.
struct Tile {
    x0: u32,
    width: u32,
    rgba: Vec<u8>,
}

/// Decodes tile `index` of the layout to RGBA, cut to the part of it inside the image.
fn decode_tile(file: &HeifFile<'_>, layout: &Layout, index: usize) -> Result<Tile, ImagingError> {
    let id = layout.tiles[index];
    let (tw, th) = layout.coded.size;
    let (column, row) = (index as u32 % layout.columns, index as u32 / layout.columns);
    let (x0, y0) = (column * tw, row * th);
    let (width, height) = (tw.min(layout.size.0 - x0), th.min(layout.size.1 - y0));
    let stream = file
        .hevc_bitstream(id)
        .map_err(|e| fail(format_args!("a coded picture is missing: {e}")))?;
    let (aw, ah) = layout.coded.allocated;
    let options = DecodeOptions {
        // Parameter sets inside the item's data could claim a larger picture: hold them to
        // what the estimate counted.
        max_pixels: u64::from(aw) * u64::from(ah),
        ..DecodeOptions::default()
    };
    let frame = decode_picture(&stream, options)
        .map_err(|e| fail(format_args!("a coded picture is unreadable: {e}")))?;
    drop(stream);
    let depth = (frame.bit_depth[0], frame.bit_depth[1]);
    if (frame.widths[0], frame.heights[0]) != (tw, th) || depth != layout.coded.bit_depth {
        return Err(fail("a tile's picture differs from what its header says"));
    }
    let params = color_params(file, id, &frame);
    let mut rgba = vec![0u8; width as usize * height as usize * 4];
    let mut rows: Vec<&mut [u8]> = rgba.chunks_exact_mut(width as usize * 4).collect();
    frame_to_rgba_into(&frame, params, &mut rows, width as usize, height as usize);
    Ok(Tile { x0, width, rgba })
}

/// Decodes the tiles `indices` (one row of the grid), on up to `threads` threads.
fn decode_row(
    file: &HeifFile<'_>,
    layout: &Layout,
    indices: &[usize],
    threads: usize,
) -> Result<Vec<Tile>, ImagingError> {
    if threads <= 1 || indices.len() <= 1 {
        return indices
            .iter()
            .map(|&i| decode_tile(file, layout, i))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: Vec<std::sync::Mutex<Option<Result<Tile, ImagingError>>>> = indices
        .iter()
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    std::thread::scope(|s| {
        for _ in 0..threads.min(indices.len()) {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&i) = indices.get(k) else { break };
                    let result = decode_tile(file, layout, i);
                    let failed = result.is_err();
                    *done[k].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                    if failed {
                        next.store(indices.len(), std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let mut tiles = Vec::with_capacity(indices.len());
    for slot in done {
        match slot.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(result) => tiles.push(result?),
            None => return Err(fail("a tile was not decoded")),
        }
    }
    Ok(tiles)
}

pub(super) fn decode(
    bytes: &[u8],
    plan: Plan,
    settings: &Settings,
) -> Result<Decoded, ImagingError> {
    let file = parse(bytes, settings)?;
    let layout = &plan.layout;
    let crop = layout.crop;
    let (tw, th) = layout.coded.size;
    let mut shrinker = Shrinker::new(crop.width, crop.height, plan.factor, Order::Sequential);
    let mut rgb = Vec::with_capacity(tw as usize * 3);
    for row in 0..layout.rows {
        let y0 = row * th;
        let (top, bottom) = (
            y0.max(crop.y),
            (y0 + th).min(layout.size.1).min(crop.y + crop.height),
        );
        if top >= bottom {
            continue; // outside the clean aperture
        }
        let indices: Vec<usize> = (0..layout.columns)
            .filter(|&c| c * tw < crop.x + crop.width && (c + 1) * tw > crop.x)
            .map(|c| (row * layout.columns + c) as usize)
            .collect();
        let tiles = decode_row(&file, layout, &indices, plan.threads)?;
        for y in top..bottom {
            for tile in &tiles {
                let from = crop.x.saturating_sub(tile.x0).min(tile.width);
                let to = (crop.x + crop.width - tile.x0).min(tile.width);
                if from >= to {
                    continue;
                }
                let at = (y - y0) as usize * tile.width as usize * 4;
                let pixels = &tile.rgba[at + from as usize * 4..at + to as usize * 4];
                rgb.clear();
                rgb.extend(pixels.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]));
                shrinker.push(y - crop.y, tile.x0 + from - crop.x, 1, &rgb);
            }
        }
    }
    Ok(Decoded {
        image: shrinker.finish(),
        full_width: crop.width,
        full_height: crop.height,
    })
}

/// The EXIF block of the primary image (its `Exif` item, as TIFF) and the orientation its
/// transforms give, for [`crate::read_exif`]. `None` when the file cannot be read.
pub(crate) fn exif_and_orientation(
    bytes: &[u8],
    settings: &Settings,
) -> Option<(Option<Vec<u8>>, Orientation)> {
    let file = parse(bytes, settings).ok()?;
    let (mut rotation, mut mirror) = (0, None);
    for property in file.item_properties(file.primary_id).ok()? {
        match *property {
            Property::Rotation(q) => rotation = q,
            Property::Mirror(top_bottom) => mirror = Some(top_bottom),
            _ => {}
        }
    }
    Some((
        file.exif(file.primary_id).ok().flatten(),
        orientation(rotation, mirror),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_add_up_to_an_orientation() {
        // irot turns anticlockwise; an EXIF orientation says how to turn the stored pixels.
        assert_eq!(orientation(1, None), Orientation::Rotate270);
        assert_eq!(orientation(3, None), Orientation::Rotate90);
        assert_eq!(orientation(0, Some(false)), Orientation::FlipHorizontal);
        assert_eq!(orientation(0, Some(true)), Orientation::FlipVertical);
        assert_eq!(orientation(1, Some(false)), Orientation::Transverse);
        assert_eq!(orientation(1, Some(true)), Orientation::Transpose);
    }

    #[test]
    fn clean_aperture_is_centred() {
        let crop = clean_aperture((100, 80), (50, 1), (40, 1), (0, 1), (0, 1));
        assert_eq!(
            crop,
            Some(Crop {
                x: 25,
                y: 20,
                width: 50,
                height: 40
            })
        );
        assert_eq!(
            clean_aperture((100, 80), (200, 1), (40, 1), (0, 1), (0, 1)),
            None
        );
        assert_eq!(
            clean_aperture((100, 80), (50, 0), (40, 1), (0, 1), (0, 1)),
            None
        );
    }
}
