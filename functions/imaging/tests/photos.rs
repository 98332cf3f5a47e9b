//! Acceptance tests on the test photos in `testdata/photos`: orientation, alpha, WebP, metadata, stripping.

use crate::common;

use common::{assert_no_metadata, decode_jpeg, mean_abs_diff, without_app1};
use imaging::{Format, Orientation, Settings, process};
use testkit::test_photo as photo;

/// Mean absolute difference (0–255) below which two thumbnails show the same picture: JPEG
/// round trips and resampling of the same scene stay within a few levels.
const SAME_PICTURE: f64 = 6.0;

fn thumbnail_pixels(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let processed = process(bytes, &Settings::default()).expect("processes");
    decode_jpeg(&processed.thumbnail.bytes)
}

#[test]
fn every_exif_orientation_comes_out_upright() {
    let upright = photo("orientation-upright.png");
    let reference = process(&upright, &Settings::default()).expect("reference processes");
    let (_, _, ref_thumb) = decode_jpeg(&reference.thumbnail.bytes);
    let (_, _, ref_preview) = decode_jpeg(&reference.preview.bytes);
    for n in 1..=8u8 {
        let bytes = photo(&format!("orientation-{n}.jpg"));
        let out = process(&bytes, &Settings::default()).expect("processes");
        assert_eq!(out.metadata.orientation.exif_value(), n);
        assert_eq!(
            (out.metadata.width, out.metadata.height),
            (1200, 800),
            "orientation {n}"
        );
        assert_eq!(
            (out.preview.width, out.preview.height),
            (1200, 800),
            "orientation {n}"
        );
        assert_eq!(
            (out.thumbnail.width, out.thumbnail.height),
            (400, 400),
            "orientation {n}"
        );
        let (_, _, thumb) = decode_jpeg(&out.thumbnail.bytes);
        let (_, _, preview) = decode_jpeg(&out.preview.bytes);
        let diff = mean_abs_diff(&thumb, &ref_thumb);
        assert!(
            diff < SAME_PICTURE,
            "orientation {n}: thumbnail differs by {diff:.2}"
        );
        let diff = mean_abs_diff(&preview, &ref_preview);
        assert!(
            diff < SAME_PICTURE,
            "orientation {n}: preview differs by {diff:.2}"
        );
    }
}

#[test]
fn the_orientation_comparison_fails_when_orientation_is_not_applied() {
    let (_, _, ref_thumb) = thumbnail_pixels(&photo("orientation-upright.png"));
    for n in 2..=8u8 {
        // The same file without its EXIF block: the stored pixels, not turned upright.
        let stripped = without_app1(&photo(&format!("orientation-{n}.jpg")));
        let out = process(&stripped, &Settings::default()).expect("processes");
        assert_eq!(out.metadata.orientation, Orientation::Normal);
        let (_, _, thumb) = decode_jpeg(&out.thumbnail.bytes);
        let diff = mean_abs_diff(&thumb, &ref_thumb);
        assert!(
            diff > 2.0 * SAME_PICTURE,
            "orientation {n} unapplied differs by only {diff:.2}"
        );
    }
}

#[test]
fn camera_photo_metadata_and_derivatives() {
    let bytes = photo("camera-24mp.jpg");
    let out = process(&bytes, &Settings::default()).expect("processes");
    let m = &out.metadata;
    assert_eq!(m.format, Format::Jpeg);
    assert_eq!((m.width, m.height), (6000, 3750));
    assert_eq!(m.bytes, bytes.len() as u64);
    let camera = m.camera.as_ref().expect("camera present");
    assert_eq!(camera.make.as_deref(), Some("Panasonic"));
    assert_eq!(camera.model.as_deref(), Some("Lumix DC-G9"));
    assert_eq!(
        m.taken_at.expect("taken_at present").to_string(),
        "2024-06-01T09:30:12"
    );
    let gps = m.gps.expect("gps present");
    assert!((gps.latitude - 48.858_222).abs() < 1e-5, "{gps:?}");
    assert!((gps.longitude - 2.2945).abs() < 1e-5, "{gps:?}");
    // `sha256sum camera-24mp.jpg`
    assert_eq!(
        m.sha256.to_hex(),
        "acb1f70ae7788b65019667d02e46a8533c103743993b38dd141083e76e5e96a6"
    );
    assert_eq!((out.thumbnail.width, out.thumbnail.height), (400, 400));
    assert_eq!((out.preview.width, out.preview.height), (1600, 1000));
    assert_eq!(decode_jpeg(&out.preview.bytes).0, 1600);
}

#[test]
fn no_derivative_carries_metadata() {
    let mut checked = 0;
    for name in [
        "camera-24mp.jpg",
        "landscape-8mp.jpg",
        "orientation-6.jpg",
        "alpha.png",
        "texture.webp",
    ] {
        let original = photo(name);
        let out = process(&original, &Settings::default()).expect("processes");
        assert_no_metadata(&format!("{name} thumbnail"), &out.thumbnail.bytes);
        assert_no_metadata(&format!("{name} preview"), &out.preview.bytes);
        checked += 1;
    }
    assert_eq!(checked, 5);
    // The check itself must be able to fail: the originals do carry EXIF with GPS.
    let original = photo("camera-24mp.jpg");
    let caught = std::panic::catch_unwind(|| assert_no_metadata("original", &original));
    assert!(
        caught.is_err(),
        "the metadata check passed an EXIF-laden original"
    );
}

#[test]
fn photos_without_exif_have_no_exif_facts() {
    let out = process(&photo("no-exif-9mp.jpg"), &Settings::default()).expect("processes");
    assert_eq!((out.metadata.width, out.metadata.height), (3840, 2400));
    assert_eq!(out.metadata.taken_at, None);
    assert_eq!(out.metadata.camera, None);
    assert_eq!(out.metadata.gps, None);
    assert_eq!((out.preview.width, out.preview.height), (1600, 1000));
}

/// `source` resized with the `image` crate (an independent implementation) to `width`×`height`.
fn independent_resize(source: &image::RgbImage, width: u32, height: u32) -> Vec<u8> {
    image::imageops::resize(source, width, height, image::imageops::FilterType::Triangle).into_raw()
}

/// The RGBA image composited on a solid `background` level.
fn composite(rgba: &image::RgbaImage, background: u8) -> image::RgbImage {
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = f32::from(p[3]) / 255.0;
        let mix = |c: u8| (f32::from(c) * a + f32::from(background) * (1.0 - a)).round() as u8;
        image::Rgb([mix(p[0]), mix(p[1]), mix(p[2])])
    })
}

#[test]
fn png_alpha_is_composited_on_white() {
    // The test set's alpha.png has an alpha channel but is opaque everywhere, so give it a real
    // transparency ramp (opaque at the left edge, fully transparent at the right).
    let mut rgba = image::load_from_memory(&photo("alpha.png"))
        .expect("decodes")
        .into_rgba8();
    let width = rgba.width();
    for (x, _, p) in rgba.enumerate_pixels_mut() {
        p.0[3] = (255 - x * 255 / (width - 1)) as u8;
    }
    let mut png = std::io::Cursor::new(Vec::new());
    rgba.write_to(&mut png, image::ImageFormat::Png)
        .expect("encodes");
    let out = process(png.get_ref(), &Settings::default()).expect("processes");
    assert_eq!(out.metadata.format, Format::Png);
    let (w, h, preview) = decode_jpeg(&out.preview.bytes);
    let on_white = mean_abs_diff(&preview, &independent_resize(&composite(&rgba, 255), w, h));
    let on_black = mean_abs_diff(&preview, &independent_resize(&composite(&rgba, 0), w, h));
    assert!(
        on_white < SAME_PICTURE,
        "differs from white compositing by {on_white:.2}"
    );
    assert!(
        on_black > 2.0 * SAME_PICTURE,
        "as close to black compositing: {on_black:.2}"
    );
}

#[test]
fn opaque_png_with_alpha_channel_keeps_its_colours() {
    let bytes = photo("alpha.png");
    let out = process(&bytes, &Settings::default()).expect("processes");
    assert_eq!(out.metadata.format, Format::Png);
    assert_eq!((out.preview.width, out.preview.height), (1600, 1038));
    let source = image::load_from_memory(&bytes)
        .expect("decodes")
        .into_rgb8();
    let (w, h, thumb) = decode_jpeg(&out.preview.bytes);
    let diff = mean_abs_diff(&thumb, &independent_resize(&source, w, h));
    assert!(
        diff < SAME_PICTURE,
        "alpha.png preview differs by {diff:.2}"
    );
}

#[test]
fn webp_is_decoded_and_derived() {
    let bytes = photo("texture.webp");
    let out = process(&bytes, &Settings::default()).expect("processes");
    assert_eq!(out.metadata.format, Format::WebP);
    assert_eq!((out.metadata.width, out.metadata.height), (2048, 2048));
    assert_eq!((out.preview.width, out.preview.height), (1600, 1600));
    assert_eq!((out.thumbnail.width, out.thumbnail.height), (400, 400));
    let source = image::load_from_memory(&bytes)
        .expect("decodes")
        .into_rgb8();
    let (w, h, thumb) = decode_jpeg(&out.thumbnail.bytes);
    let diff = mean_abs_diff(&thumb, &independent_resize(&source, w, h));
    assert!(
        diff < 2.0 * SAME_PICTURE,
        "webp thumbnail differs by {diff:.2}"
    );
}

#[test]
fn small_photos_are_never_upscaled() {
    let out = process(&common::small_png(), &Settings::default()).expect("processes");
    assert_eq!((out.preview.width, out.preview.height), (120, 80));
    assert_eq!((out.thumbnail.width, out.thumbnail.height), (80, 80));
}
