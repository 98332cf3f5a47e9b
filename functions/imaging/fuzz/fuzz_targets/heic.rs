//! Fuzzes HEIC alone: the container, the HEVC decoder (`heifer`), the tile row shrink, the
//! transforms and EXIF. Inputs that do not sniff as HEIC return at once, so libFuzzer's
//! mutations stay inside the format. CI replays the checked-in corpus (`-runs=0`, see
//! `cargo xtask fuzz --replay`); open-ended runs happen outside CI, where a crash found does not
//! fail anyone's build.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if imaging::sniff(data) != Ok(imaging::Format::Heic) {
        return;
    }
    let settings = imaging::Settings {
        max_pixels: 4_000_000,
        max_alloc: 64 * 1024 * 1024,
        max_tiles: 256,
        // One thread: LeakSanitizer checks right after each input, and a tile thread that was
        // joined may still be exiting (a false "leak" of its handle, seen once in 160,000 runs).
        decode_threads: 1,
        thumbnail_side: 32,
        preview_long_edge: 96,
        ..imaging::Settings::default()
    };
    let _ = imaging::read_exif(data);
    let estimate = imaging::memory_needed(data, &settings);
    if let Ok(out) = imaging::process(data, &settings) {
        assert!(estimate.is_ok(), "processed without an estimate");
        assert!(out.thumbnail.bytes.starts_with(&[0xFF, 0xD8]));
        assert!(out.preview.width <= 96 && out.preview.height <= 96);
    }
});
