//! The memory budget, measured: a counting global allocator records the peak of live heap bytes
//! while each fixture is processed, and every input either ends processed within the budget (and
//! within the estimate `memory_needed` gave from its headers) or is refused before the big
//! allocation. The large fixtures are made on the spot (`testkit::images`).
//!
//! The allocator counts every thread of this process, so the tests run one at a time behind a
//! lock, fixture generation included.

use std::sync::{Mutex, PoisonError};

use imaging::{ImagingError, Processed, Settings, memory_needed, process};
use peak_alloc::PeakAlloc;
use testkit::images as large;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const MIB: usize = 1 << 20;
/// The goal for PNGs, baseline JPEGs and the repository's photos.
const LOW_PEAK: usize = 128 * MIB;

/// Processes `bytes` and returns the result with the peak of live heap bytes above what was
/// live before (the original file, held by the caller, is not counted).
fn measure(
    name: &str,
    bytes: &[u8],
    settings: &Settings,
) -> (Result<Processed, ImagingError>, usize) {
    ALLOCATOR.reset_peak_usage();
    let before = ALLOCATOR.current_usage();
    let result = process(bytes, settings);
    let peak = ALLOCATOR.peak_usage().saturating_sub(before);
    let estimate = memory_needed(bytes, settings);
    println!(
        "{name}: peak {:.1} MiB, estimate {:?} MiB, {}",
        peak as f64 / MIB as f64,
        estimate.as_ref().map(|e| e / MIB as u64),
        match &result {
            Ok(p) => format!("ready {}×{}", p.metadata.width, p.metadata.height),
            Err(e) => format!("refused: {e}"),
        }
    );
    (result, peak)
}

/// Processes a fixture that must end READY with a peak under `limit` and under its estimate.
fn ready_under(name: &str, bytes: &[u8], limit: usize) -> Processed {
    let settings = Settings::default();
    let (result, peak) = measure(name, bytes, &settings);
    let processed = result.unwrap_or_else(|e| panic!("{name}: refused: {e}"));
    let estimate = memory_needed(bytes, &settings).expect("an estimate") as usize;
    assert!(peak <= limit, "{name}: peak {peak} bytes over {limit}");
    assert!(
        peak <= estimate,
        "{name}: peak {peak} bytes over the estimate {estimate}"
    );
    assert!(estimate as u64 <= settings.max_alloc, "{name}: {estimate}");
    processed
}

/// Processes a fixture that must be refused for memory, having allocated next to nothing.
fn refused_early(name: &str, bytes: &[u8], settings: &Settings) -> ImagingError {
    let (result, peak) = measure(name, bytes, settings);
    let err = result.expect_err(name);
    assert!(
        peak < 4 * MIB,
        "{name}: {peak} bytes allocated before refusing"
    );
    err
}

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

#[test]
fn sixteen_bit_and_palette_pngs_at_the_pixel_limit_end_ready_under_128_mib() {
    let _one = lock();
    for (name, bytes) in [
        ("10000×10000 RGBA16 PNG", large::rgba16_zeros(10_000)),
        ("10000×10000 RGB16 PNG", large::rgb16_zeros(10_000)),
        ("10000×10000 palette PNG", large::palette(10_000)),
    ] {
        let processed = ready_under(name, &bytes, LOW_PEAK);
        assert_eq!(
            (processed.preview.width, processed.preview.height),
            (1600, 1600)
        );
        assert_eq!(
            (processed.thumbnail.width, processed.thumbnail.height),
            (400, 400)
        );
    }
}

#[test]
fn an_interlaced_png_is_shrunk_as_it_arrives() {
    let _one = lock();
    let side = 4000u32;
    let row: Vec<u8> = (0..side)
        .flat_map(|x| [x as u8, 0, 255 - x as u8])
        .collect();
    let bytes = large::png_rows(
        side,
        side,
        png::ColorType::Rgb,
        png::BitDepth::Eight,
        None,
        true,
        &row,
    );
    ready_under("4000×4000 interlaced RGB PNG", &bytes, LOW_PEAK);
}

#[test]
fn baseline_jpegs_and_the_repository_photos_end_ready_under_128_mib() {
    let _one = lock();
    ready_under(
        "24 MP baseline 4:4:4 JPEG",
        &large::jpeg(6000, 4000, false, false),
        LOW_PEAK,
    );
    ready_under(
        "24 MP baseline 4:2:0 JPEG",
        &large::jpeg(6000, 4000, false, true),
        LOW_PEAK,
    );
    let mut names: Vec<String> = std::fs::read_dir(testkit::test_photos())
        .expect("the test photos")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| {
            [".jpg", ".png", ".webp"]
                .iter()
                .any(|ext| name.ends_with(ext))
        })
        .collect();
    names.sort();
    assert!(names.len() >= 14, "{names:?}");
    // HEIC sits in a folder of its own.
    for name in [
        "heic/landscape-8mp.heic",
        "heic/no-exif-9mp.heic",
        "heic/orientation-6.heic",
    ] {
        names.push(name.to_owned());
    }
    for name in names {
        ready_under(&name, &testkit::test_photo(&name), LOW_PEAK);
    }
}

/// An iPhone's 12 MP photo: 4032×3024 as a grid of 8×6 tiles of 512×512 (the last row cut),
/// here one picture coded by `heif-enc` and listed 48 times, which decodes as 48 tiles would.
fn iphone_like(ten_bit: bool, irot: Option<u8>) -> Vec<u8> {
    use testkit::heif::{Heif, Primary, heif_enc};
    let rgb = large::pattern_rgb(512, 512);
    let tile = if ten_bit {
        let rgb16: Vec<u8> = rgb
            .iter()
            .flat_map(|&v| (u16::from(v) * 257).to_be_bytes())
            .collect();
        heif_enc(512, 512, &rgb16, true, 60)
    } else {
        heif_enc(512, 512, &rgb, false, 60)
    };
    let mut file = Heif::new(Primary::Grid {
        columns: 8,
        rows: 6,
        width: 4032,
        height: 3024,
        tiles: vec![tile; 48],
    });
    file.irot = irot;
    file.to_bytes()
}

#[test]
fn a_12_megapixel_heic_grid_ends_ready_under_128_mib() {
    let _one = lock();
    for (name, bytes) in [
        ("12 MP HEIC grid", iphone_like(false, None)),
        ("12 MP HEIC grid, irot 1", iphone_like(false, Some(1))),
        ("12 MP 10-bit HEIC grid", iphone_like(true, None)),
    ] {
        let processed = ready_under(name, &bytes, LOW_PEAK);
        let (w, h) = (processed.metadata.width, processed.metadata.height);
        assert!(
            (w, h) == (4032, 3024) || (w, h) == (3024, 4032),
            "{name}: {w}×{h}"
        );
    }
}

/// What a HEIC needs is estimated from its headers: above the budget it is refused before any
/// tile is decoded.
#[test]
fn a_heic_over_a_smaller_budget_is_refused_before_decoding() {
    let _one = lock();
    let settings = Settings {
        max_alloc: 48 * MIB as u64,
        ..Settings::default()
    };
    // One coded picture of 8.7 MP: decoded whole, it needs about 100 MB.
    let single = testkit::test_photo("heic/landscape-8mp.heic");
    let err = refused_early(
        "8.7 MP single-picture HEIC, 48 MiB budget",
        &single,
        &settings,
    );
    assert!(matches!(err, ImagingError::TooMuchMemory { .. }), "{err:?}");
    // The 12 MP grid holds one row of tiles at a time: it fits.
    let grid = iphone_like(false, None);
    let (result, peak) = measure("12 MP HEIC grid, 48 MiB budget", &grid, &settings);
    result.expect("fits 48 MiB");
    assert!(peak <= 48 * MIB, "{peak}");
}

#[test]
fn a_24_megapixel_progressive_444_jpeg_is_processed_within_the_budget() {
    let _one = lock();
    let settings = Settings::default();
    ready_under(
        "24 MP progressive 4:4:4 JPEG",
        &large::jpeg(6000, 4000, true, false),
        settings.max_alloc as usize,
    );
}

/// A JPEG with the frame header of `jpeg` but claiming `width`×`height`: enough for
/// `memory_needed`, which reads headers only.
fn with_size(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let sof = out
        .windows(2)
        .position(|w| w == [0xFF, 0xC2])
        .expect("a progressive frame header");
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    out
}

/// Progressive JPEGs keep their coefficients: above the size the budget allows they are refused.
/// With the default 256 MiB budget that is about 41 megapixels at 4:4:4 (8000×5216 passes,
/// 8000×5224 does not); 4:2:0, with half the coefficients, goes further.
#[test]
fn progressive_jpegs_just_below_the_limit_pass_and_just_above_are_refused() {
    let _one = lock();
    let settings = Settings::default();
    // The tallest 8000-pixel-wide progressive 4:4:4 JPEG the budget takes, from headers alone.
    let header = large::jpeg(16, 16, true, false);
    let fits = |h: u16| {
        memory_needed(&with_size(&header, 8000, h), &settings).expect("estimate")
            <= settings.max_alloc
    };
    let (mut lo, mut hi) = (1u16, 20_000u16);
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if fits(mid) { lo = mid } else { hi = mid }
    }
    let megapixels = 8000 * u32::from(lo) / 1_000_000;
    println!("progressive 4:4:4 limit at 8000 wide: height {lo} ({megapixels} MP)");
    assert!((40..=48).contains(&megapixels), "{megapixels} MP");

    ready_under(
        &format!("8000×{lo} progressive 4:4:4 JPEG"),
        &large::jpeg(8000, lo, true, false),
        settings.max_alloc as usize,
    );
    let err = refused_early(
        &format!("8000×{} progressive 4:4:4 JPEG", lo + 8),
        &large::jpeg(8000, lo + 8, true, false),
        &settings,
    );
    assert!(
        matches!(err, ImagingError::TooMuchMemory { limit, .. } if limit == settings.max_alloc),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("image needs too much memory to process"),
        "{err}"
    );
}

/// WebP is decoded whole: its pixel limit follows from the budget (16.7 MP by default).
#[test]
fn lossless_webp_just_below_its_pixel_limit_passes_and_just_above_is_refused() {
    let _one = lock();
    let settings = Settings::default();
    let limit = settings.max_webp_pixels();
    assert_eq!(limit, 16_777_216);
    // 4096×4096 is exactly the limit; one more row is over it.
    ready_under(
        "4096×4096 lossless WebP with alpha",
        &large::webp_lossless(4096, 4096, true),
        settings.max_alloc as usize,
    );
    ready_under(
        "4096×4096 lossless WebP",
        &large::webp_lossless(4096, 4096, false),
        settings.max_alloc as usize,
    );
    let err = refused_early(
        "4096×4097 lossless WebP",
        &large::webp_lossless(4096, 4097, true),
        &settings,
    );
    assert_eq!(
        err,
        ImagingError::TooManyPixels {
            width: 4096,
            height: 4097,
            limit_megapixels: 16
        }
    );
}

/// A smaller budget is honoured the same way: what fits is processed within it, what does not
/// is refused before decoding.
#[test]
fn a_smaller_budget_refuses_early_and_holds_for_what_it_accepts() {
    let _one = lock();
    let settings = Settings {
        max_alloc: 48 * MIB as u64,
        ..Settings::default()
    };
    let png = large::rgba16_zeros(10_000);
    let (result, peak) = measure("RGBA16 PNG, 48 MiB budget", &png, &settings);
    result.expect("fits 48 MiB");
    assert!(peak <= 48 * MIB, "{peak}");
    let jpeg = large::jpeg(6000, 4000, true, false);
    let err = refused_early("progressive JPEG, 48 MiB budget", &jpeg, &settings);
    assert!(matches!(err, ImagingError::TooMuchMemory { .. }), "{err:?}");
    let webp = large::webp_lossless(2000, 2000, false);
    let err = refused_early("lossless WebP, 48 MiB budget", &webp, &settings);
    assert!(matches!(err, ImagingError::TooManyPixels { .. }), "{err:?}");
}
