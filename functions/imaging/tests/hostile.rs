//! Hostile inputs (`tests/hostile/`, see its README): each is refused with the right error,
//! nothing panics, and a decompression bomb is refused before its pixels are allocated.

use crate::common;

use imaging::{Format, ImagingError, Settings, process};
use testkit::hostile_file as hostile;

fn check(name: &str, expected: impl Fn(&ImagingError) -> bool) {
    let err = process(&hostile(name), &Settings::default()).expect_err(name);
    assert!(expected(&err), "{name}: unexpected error {err:?}");
    // Every refusal reads as a sentence for the uploader.
    assert!(
        !err.to_string().is_empty() && !err.to_string().ends_with('.'),
        "{name}: {err}"
    );
}

#[test]
fn each_hostile_file_gets_its_error() {
    check("empty.jpg", |e| *e == ImagingError::Empty);
    check("truncated.jpg", |e| {
        matches!(
            e,
            ImagingError::Corrupt {
                format: Format::Jpeg,
                ..
            }
        ) && e.to_string().starts_with("image is truncated or corrupt")
    });
    check("absurd-side.jpg", |e| {
        *e == ImagingError::SideTooLong {
            width: 65_000,
            height: 8,
            limit: 40_000,
        }
    });
    check("absurd-area.jpg", |e| {
        *e == ImagingError::TooManyPixels {
            width: 20_000,
            height: 20_000,
            limit_megapixels: 100,
        }
    });
    check("zero-height.jpg", |e| {
        matches!(
            e,
            ImagingError::Corrupt {
                format: Format::Jpeg,
                ..
            }
        )
    });
    check("bomb.png", |e| {
        e.to_string() == "image is too large: 60000×60000 pixels exceeds the 100 megapixel limit"
    });
    check("text.jpg", |e| {
        *e == ImagingError::Unsupported("text, not an image")
    });
    check("elf.png", |e| *e == ImagingError::Unsupported("executable"));
}

fn check_heic(name: &str, expected: impl Fn(&ImagingError) -> bool) {
    let settings = Settings::default();
    let bytes = testkit::hostile_heic(name);
    let started = std::time::Instant::now();
    let err = process(&bytes, &settings).expect_err(name);
    assert!(expected(&err), "{name}: unexpected error {err:?}");
    assert!(
        !err.to_string().is_empty() && !err.to_string().ends_with('.'),
        "{name}: {err}"
    );
    // Refused from the headers: no estimate either, and no time spent decoding.
    assert!(imaging::memory_needed(&bytes, &settings).is_err(), "{name}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{name}: {:?}",
        started.elapsed()
    );
}

fn corrupt_heic(detail: &'static str) -> impl Fn(&ImagingError) -> bool {
    move |e| {
        matches!(e, ImagingError::Corrupt { format: Format::Heic, detail: d } if d.contains(detail))
            && e.to_string().starts_with("image is truncated or corrupt")
    }
}

/// `tests/hostile-heic/` (see its README): truncated files, absurd sizes, oversized grids and
/// tile bombs end with an error that says why, never a panic.
#[test]
fn each_hostile_heic_gets_its_error() {
    check_heic("truncated.heic", corrupt_heic("unexpected end of data"));
    check_heic(
        "truncated-header.heic",
        corrupt_heic("the heif container is unreadable: unexpected end of data"),
    );
    check_heic("ftyp-only.heic", corrupt_heic("no primary image"));
    check_heic("absurd-side.heic", |e| {
        *e == ImagingError::SideTooLong {
            width: 65_000,
            height: 8,
            limit: 40_000,
        }
    });
    check_heic("absurd-area.heic", |e| {
        *e == ImagingError::TooManyPixels {
            width: 20_000,
            height: 20_000,
            limit_megapixels: 100,
        }
    });
    check_heic("zero-size.heic", corrupt_heic("0×0"));
    check_heic(
        "lying-size.heic",
        corrupt_heic("do not make a 4000×3000 image"),
    );
    check_heic("oversized-grid.heic", |e| {
        e.to_string() == "image is too large: 30000×30000 pixels exceeds the 100 megapixel limit"
    });
    check_heic(
        "grid-gaps.heic",
        corrupt_heic("2×2 tiles of 64×64 do not make a 5000×4000 image"),
    );
    check_heic("tile-bomb.heic", |e| {
        *e == ImagingError::TooManyTiles {
            tiles: 1600,
            limit: 1024,
        } && e.to_string() == "image has too many tiles: `1600` exceeds the `1024` tile limit"
    });
    check_heic("item-bomb.heic", |e| {
        *e == ImagingError::TooManyTiles {
            tiles: 3001,
            limit: 1024,
        }
    });
    check_heic("avif.heic", |e| *e == ImagingError::Unsupported("avif"));
    check_heic("sequence.heic", |e| {
        e.to_string()
            == "unsupported image type: image sequence or video (heif sequences, live photos and movies are not photos)"
    });
}

#[test]
fn every_prefix_of_a_real_photo_is_refused_or_processed_without_panic() {
    // Truncation at every few hundred bytes walks through every marker segment and the scan.
    let original = testkit::test_photo("orientation-1.jpg");
    for len in (0..original.len()).step_by(997) {
        let _ = process(&original[..len], &Settings::default());
    }
    let png = common::small_png();
    for len in 0..png.len() {
        let _ = process(&png[..len], &Settings::default());
    }
    // A HEIC's header byte by byte, then its coded pictures every few hundred bytes.
    for name in ["heic/orientation-6.heic", "heic/landscape-8mp.heic"] {
        let heic = testkit::test_photo(name);
        let cuts = (0..1024).chain((1024..heic.len()).step_by(4999));
        for len in cuts {
            let err = process(&heic[..len], &Settings::default()).expect_err(name);
            assert!(!err.to_string().is_empty());
        }
    }
}

/// Peak resident memory of this process, from `/proc/self/status` (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs only `bomb_alone` in a fresh process of this test binary, where peak memory is the
/// bomb's alone (the other tests decode real photos in parallel threads).
#[test]
fn a_decompression_bomb_is_refused_before_memory_is_spent() {
    let exe = std::env::current_exe().expect("test binary path");
    // The test's name in this binary: its module path without the binary's own name.
    let alone = match module_path!().split_once("::") {
        Some((_, module)) => format!("{module}::bomb_alone"),
        None => "bomb_alone".to_owned(),
    };
    let output = std::process::Command::new(exe)
        .args(["--exact", &alone, "--nocapture", "--test-threads", "1"])
        .env("IMAGING_BOMB_ALONE", "1")
        .output()
        .expect("running the bomb test alone");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "bomb_alone failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "bomb_alone did not run:\n{stdout}"
    );
}

#[test]
fn bomb_alone() {
    let bomb = hostile("bomb.png");
    assert!(bomb.len() < 1024, "the bomb is tiny on disk");
    // Ten times over, so a leak or a partial allocation per attempt would show.
    for _ in 0..10 {
        let err = process(&bomb, &Settings::default()).expect_err("bomb refused");
        assert!(matches!(
            err,
            ImagingError::TooManyPixels {
                width: 60_000,
                height: 60_000,
                ..
            }
        ));
    }
    if std::env::var_os("IMAGING_BOMB_ALONE").is_some() {
        let peak = peak_rss_kib().expect("VmHWM in /proc/self/status");
        // Decoding would need 10.8 GB; the test harness itself needs a few MB.
        assert!(
            peak < 64 * 1024,
            "peak RSS {peak} KiB after refusing the bomb"
        );
        println!("peak RSS after refusing the bomb: {peak} KiB");
    }
}
