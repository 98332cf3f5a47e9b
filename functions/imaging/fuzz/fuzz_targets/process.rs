//! Fuzzes the whole decode-and-resize path: sniff, header limits, decode, orient, resize, encode.
//! Any panic or crash is a bug (libfuzzer-sys aborts on panic, so `process`'s own panic guard
//! cannot hide one); errors are the expected answer to garbage.
//!
//! HEIC is left to its own target (`heic`): this is the open-ended run in CI, and a mutation
//! that happens to build a HEIF file must not turn a young decoder's bug into someone else's
//! failed build.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if imaging::sniff(data) == Ok(imaging::Format::Heic) {
        return;
    }
    // Small derivatives and a tight pixel budget keep each execution fast, so the fuzzer
    // explores more inputs per second; the code paths are the same as with the defaults.
    let settings = imaging::Settings {
        max_pixels: 4_000_000,
        max_alloc: 64 * 1024 * 1024,
        thumbnail_side: 32,
        preview_long_edge: 96,
        ..imaging::Settings::default()
    };
    if let Ok(out) = imaging::process(data, &settings) {
        assert!(out.thumbnail.bytes.starts_with(&[0xFF, 0xD8]));
        assert!(out.preview.width <= 96 && out.preview.height <= 96);
    }
});
