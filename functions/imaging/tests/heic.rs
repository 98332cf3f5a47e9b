//! HEIC against libheif: every fixture in `testdata/photos/heic` and every generated variant
//! (a grid of tiles as iPhones write it, each `irot` and `imir`, 10-bit) is processed, and its
//! derivatives are compared with `heif-convert`'s decode of the same file reduced to the same
//! sizes. The variants are written by `testkit::heif` around tiles that Debian's `heif-enc`
//! encoded, since that `heif-enc` writes neither grids nor transforms.

use crate::common;

use std::sync::OnceLock;

use common::{assert_no_metadata, decode_jpeg, mean_abs_diff};
use imaging::{Format, Orientation, Processed, Settings, process, read_exif};
use testkit::heif::{self, Heif, Primary};
use testkit::test_photo as photo;

/// Mean absolute difference (0–255) within which our derivative shows what libheif decodes:
/// the decoders agree within half a level, the rest is resampling and JPEG.
const TOLERANCE: f64 = 3.0;

/// libheif's decode of `heic` reduced to the sizes of `out`'s derivatives: the preview whole,
/// the thumbnail from the centred square, with the `image` crate (an independent resizer).
fn reference(heic: &[u8], out: &Processed) -> (Vec<u8>, Vec<u8>) {
    let (w, h, rgb) = heif::heif_convert(heic);
    assert_eq!(
        (w, h),
        (out.metadata.width, out.metadata.height),
        "heif-convert's size"
    );
    let full = image::RgbImage::from_raw(w, h, rgb).expect("an RGB image");
    let filter = image::imageops::FilterType::Lanczos3;
    let preview = image::imageops::resize(&full, out.preview.width, out.preview.height, filter);
    let side = w.min(h);
    let square = image::imageops::crop_imm(&full, (w - side) / 2, (h - side) / 2, side, side);
    let thumbnail = image::imageops::resize(
        &square.to_image(),
        out.thumbnail.width,
        out.thumbnail.height,
        filter,
    );
    (preview.into_raw(), thumbnail.into_raw())
}

/// Processes `heic` and returns the mean differences of its preview and thumbnail from
/// libheif's decode of `reference_heic`.
fn differences(name: &str, heic: &[u8], reference_heic: &[u8]) -> (f64, f64) {
    let out = process(heic, &Settings::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(out.metadata.format, Format::Heic, "{name}");
    let (preview, thumbnail) = reference(reference_heic, &out);
    let ours = |jpeg: &[u8]| decode_jpeg(jpeg).2;
    (
        mean_abs_diff(&ours(&out.preview.bytes), &preview),
        mean_abs_diff(&ours(&out.thumbnail.bytes), &thumbnail),
    )
}

fn decodes_as_libheif(name: &str, heic: &[u8]) {
    let (preview, thumbnail) = differences(name, heic, heic);
    println!("{name}: preview differs by {preview:.2}, thumbnail by {thumbnail:.2}");
    assert!(
        preview < TOLERANCE,
        "{name}: preview differs by {preview:.2}"
    );
    assert!(
        thumbnail < TOLERANCE,
        "{name}: thumbnail differs by {thumbnail:.2}"
    );
}

/// The TIFF structure of a JPEG fixture's EXIF block.
fn exif_of(jpeg_name: &str) -> Vec<u8> {
    heif::jpeg_exif(&photo(jpeg_name)).expect("the fixture has EXIF")
}

/// The upright 1200×800 test picture.
fn upright() -> image::RgbImage {
    image::load_from_memory(&photo("orientation-upright.png"))
        .expect("the upright picture")
        .to_rgb8()
}

struct Coded {
    grid8: Primary,
    grid10: Primary,
    single10: heif::Coded,
}

/// The upright picture coded by `heif-enc` as 512×512 tiles (3×2, the last column and row cut
/// by the grid, as iPhones do), at 8 and 10 bits, and as one 10-bit picture. Made once.
fn coded() -> &'static Coded {
    static CODED: OnceLock<Coded> = OnceLock::new();
    CODED.get_or_init(|| {
        let img = upright();
        let (w, h) = img.dimensions();
        let rgb = img.into_raw();
        let rgb16: Vec<u8> = rgb
            .iter()
            .flat_map(|&v| (u16::from(v) * 257).to_be_bytes())
            .collect();
        std::thread::scope(|s| {
            let grid10 = s.spawn(|| heif::grid_of(w, h, &rgb16, true, 512, 80));
            let single10 = s.spawn(|| heif::heif_enc(w, h, &rgb16, true, 80));
            Coded {
                grid8: heif::grid_of(w, h, &rgb, false, 512, 80),
                grid10: grid10.join().expect("10-bit grid"),
                single10: single10.join().expect("10-bit picture"),
            }
        })
    })
}

fn with(primary: &Primary, irot: Option<u8>, imir: Option<u8>, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut file = Heif::new(primary.clone());
    file.irot = irot;
    file.imir = imir;
    file.exif = exif;
    file.to_bytes()
}

#[test]
fn every_heic_fixture_decodes_as_libheif_does() {
    for name in [
        "landscape-8mp.heic",
        "no-exif-9mp.heic",
        "orientation-6.heic",
    ] {
        decodes_as_libheif(name, &photo(&format!("heic/{name}")));
    }
}

#[test]
fn grids_transforms_and_ten_bits_decode_as_libheif_does() {
    let c = coded();
    let single10 = Primary::Single(c.single10.clone());
    let variants: Vec<(String, Vec<u8>)> = [
        ("grid", &c.grid8, None, None),
        ("grid, irot 1", &c.grid8, Some(1), None),
        ("grid, irot 2", &c.grid8, Some(2), None),
        ("grid, irot 3", &c.grid8, Some(3), None),
        ("grid, imir 0", &c.grid8, None, Some(0)),
        ("grid, imir 1", &c.grid8, None, Some(1)),
        ("grid, irot 1 then imir 0", &c.grid8, Some(1), Some(0)),
        ("grid, irot 3 then imir 1", &c.grid8, Some(3), Some(1)),
        ("10-bit grid", &c.grid10, None, None),
        ("10-bit grid, irot 1", &c.grid10, Some(1), None),
        ("10-bit picture", &single10, None, None),
        ("10-bit picture, irot 3", &single10, Some(3), None),
    ]
    .into_iter()
    .map(|(name, primary, irot, imir)| (name.to_owned(), with(primary, irot, imir, None)))
    .collect();
    for (name, heic) in &variants {
        decodes_as_libheif(name, heic);
    }
    // libheif 1.15 mirrors 8-bit images only: a mirrored 10-bit picture is compared with its
    // decode of the same picture coded at 8 bits, with the same transforms.
    for (irot, imir) in [(None, Some(0)), (Some(3), Some(1))] {
        let name = format!("10-bit picture, irot {irot:?}, imir {imir:?}");
        let (preview, thumbnail) = differences(
            &name,
            &with(&single10, irot, imir, None),
            &with(&c.grid8, irot, imir, None),
        );
        println!("{name}: preview differs by {preview:.2}, thumbnail by {thumbnail:.2}");
        assert!(preview < TOLERANCE && thumbnail < TOLERANCE, "{name}");
    }
}

/// The comparison above can fail: a transform left out, or applied on the wrong axis, is far
/// outside the tolerance.
#[test]
fn the_libheif_comparison_catches_a_wrong_transform() {
    let c = coded();
    for (name, ours, theirs) in [
        ("irot 2 shown as stored", (None, None), (Some(2), None)),
        (
            "imir 0 mirrored on the other axis",
            (None, Some(1)),
            (None, Some(0)),
        ),
        (
            "imir 1 mirrored on the other axis",
            (None, Some(0)),
            (None, Some(1)),
        ),
    ] {
        let (preview, thumbnail) = differences(
            name,
            &with(&c.grid8, ours.0, ours.1, None),
            &with(&c.grid8, theirs.0, theirs.1, None),
        );
        assert!(
            preview > 4.0 * TOLERANCE && thumbnail > 4.0 * TOLERANCE,
            "{name}: differs by only {preview:.2} / {thumbnail:.2}"
        );
    }
}

#[test]
fn orientation_comes_from_irot_and_imir_never_from_exif() {
    // The fixture's EXIF says orientation 6; it has no irot: it is shown as stored, 800×1200.
    let bytes = photo("heic/orientation-6.heic");
    let out = process(&bytes, &Settings::default()).expect("processes");
    assert_eq!(out.metadata.orientation, Orientation::Normal);
    assert_eq!((out.metadata.width, out.metadata.height), (800, 1200));
    assert_eq!((out.preview.width, out.preview.height), (800, 1200));
    let exif = exif::Reader::new()
        .read_raw(heif_exif(&bytes))
        .expect("the fixture's EXIF");
    let tag = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY);
    assert_eq!(tag.and_then(|f| f.value.get_uint(0)), Some(6));

    // The same EXIF in a grid turned by irot: irot decides, EXIF is ignored.
    let heic = with(
        &coded().grid8,
        Some(1),
        None,
        Some(exif_of("orientation-6.jpg")),
    );
    let summary = read_exif(&heic);
    assert_eq!(summary.orientation, Orientation::Rotate270);
    let out = process(&heic, &Settings::default()).expect("processes");
    assert_eq!((out.metadata.width, out.metadata.height), (800, 1200));
}

/// The `Exif` item of a file `heif-enc` wrote: after a 4-byte offset, the TIFF structure.
fn heif_exif(heic: &[u8]) -> Vec<u8> {
    let at = heic
        .windows(4)
        .position(|w| w == b"MM\0*" || w == b"II*\0")
        .expect("a TIFF header");
    heic[at..].to_vec()
}

#[test]
fn exif_is_read_from_the_exif_item_and_derivatives_carry_none() {
    // landscape-8mp.heic was made from landscape-8mp.jpg with its EXIF: the same facts.
    let jpeg = process(&photo("landscape-8mp.jpg"), &Settings::default()).expect("jpeg");
    let heic_bytes = photo("heic/landscape-8mp.heic");
    let heic = process(&heic_bytes, &Settings::default()).expect("heic");
    assert!(heic.metadata.taken_at.is_some(), "{:?}", heic.metadata);
    assert_eq!(heic.metadata.taken_at, jpeg.metadata.taken_at);
    assert_eq!(heic.metadata.camera, jpeg.metadata.camera);
    assert_eq!(heic.metadata.gps, jpeg.metadata.gps);
    assert_eq!(heic.metadata.bytes, heic_bytes.len() as u64);

    // A grid carrying a camera's EXIF with GPS: all of it read, none of it in the derivatives.
    let heic = with(&coded().grid8, None, None, Some(exif_of("camera-24mp.jpg")));
    let out = process(&heic, &Settings::default()).expect("processes");
    let camera = out.metadata.camera.as_ref().expect("camera");
    assert_eq!(camera.model.as_deref(), Some("Lumix DC-G9"));
    assert_eq!(
        out.metadata.taken_at.expect("taken at").to_string(),
        "2024-06-01T09:30:12"
    );
    let gps = out.metadata.gps.expect("gps");
    assert!((gps.latitude - 48.858_222).abs() < 1e-5, "{gps:?}");
    assert_no_metadata("grid thumbnail", &out.thumbnail.bytes);
    assert_no_metadata("grid preview", &out.preview.bytes);
    for name in ["landscape-8mp.heic", "orientation-6.heic"] {
        let out = process(&photo(&format!("heic/{name}")), &Settings::default()).expect(name);
        assert_no_metadata(name, &out.thumbnail.bytes);
        assert_no_metadata(name, &out.preview.bytes);
    }

    let none = process(&photo("heic/no-exif-9mp.heic"), &Settings::default()).expect("processes");
    assert_eq!((none.metadata.width, none.metadata.height), (3840, 2400));
    assert_eq!(none.metadata.taken_at, None);
    assert_eq!(none.metadata.camera, None);
    assert_eq!(none.metadata.gps, None);
}
