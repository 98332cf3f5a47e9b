//! Writes the hostile HEIC inputs (`tests/hostile-heic/`) and the small valid HEIC seeds of the
//! HEIC fuzz target (`fuzz/seeds/heic/`), run once and the bytes committed:
//! `cargo run -p imaging --example make_hostile_heic` (needs `heif-enc`, from Debian's
//! `libheif-examples`). The pictures inside are 64×64 tiles coded by `heif-enc`; the files around
//! them are written by `testkit::heif` and lie where each name says.

use std::path::Path;

use testkit::heif::{self, Coded, Heif, Primary};

fn main() -> std::io::Result<()> {
    let root = testkit::workspace_root().join("functions/imaging");
    let hostile = root.join("tests/hostile-heic");
    let seeds = root.join("fuzz/seeds/heic");
    std::fs::create_dir_all(&hostile)?;
    std::fs::create_dir_all(&seeds)?;
    let put = |dir: &Path, name: &str, bytes: &[u8]| {
        println!("{name}: {} bytes", bytes.len());
        std::fs::write(dir.join(name), bytes)
    };

    let photo = testkit::test_photo("heic/orientation-6.heic");
    put(&hostile, "truncated.heic", &photo[..photo.len() * 3 / 5])?;
    put(&hostile, "truncated-header.heic", &photo[..400])?;
    // An HEIC `ftyp` box and nothing else (once the whole story of HEIC here).
    let mut ftyp_only = vec![0, 0, 0, 0x18];
    ftyp_only.extend(b"ftypheic\0\0\0\0mif1heic");
    ftyp_only.resize(64, 0);
    put(&hostile, "ftyp-only.heic", &ftyp_only)?;

    let tile = heif::heif_enc(64, 64, &testkit::images::pattern_rgb(64, 64), false, 60);
    let single = |width: u32, height: u32| {
        let mut lying = tile.clone();
        lying.width = width;
        lying.height = height;
        Heif::new(Primary::Single(lying)).to_bytes()
    };
    put(&hostile, "absurd-side.heic", &single(65_000, 8))?;
    put(&hostile, "absurd-area.heic", &single(20_000, 20_000))?;
    put(&hostile, "zero-size.heic", &single(0, 0))?;
    // A 64×64 picture claiming to be 4000×3000: the decoder would read past its planes.
    put(&hostile, "lying-size.heic", &single(4000, 3000))?;
    let grid = |columns: u32, rows: u32, width: u32, height: u32| {
        let tiles: Vec<Coded> = vec![tile.clone(); (columns * rows) as usize];
        Heif::new(Primary::Grid {
            columns,
            rows,
            width,
            height,
            tiles,
        })
        .to_bytes()
    };
    put(&hostile, "oversized-grid.heic", &grid(2, 2, 30_000, 30_000))?;
    put(&hostile, "grid-gaps.heic", &grid(2, 2, 5000, 4000))?;
    // Legal sizes, but more tiles than any camera writes; the second more items than are parsed.
    put(&hostile, "tile-bomb.heic", &grid(40, 40, 2560, 2560))?;
    put(&hostile, "item-bomb.heic", &grid(60, 50, 3840, 3200))?;
    // AVIF: the same container, AV1 items.
    let mut avif = Heif::new(Primary::Single(tile.clone()));
    avif.brands = (b"avif", vec![b"mif1", b"avif", b"miaf"]);
    put(
        &hostile,
        "avif.heic",
        &replace(&avif.to_bytes(), b"hvc1", b"av01"),
    )?;
    // An image sequence: its main brand says so, with a still image beside the track.
    let mut sequence = Heif::new(Primary::Single(tile.clone()));
    sequence.brands = (b"msf1", vec![b"msf1", b"heic", b"mif1"]);
    let mut sequence = sequence.to_bytes();
    sequence.extend([0, 0, 0, 8, b'm', b'o', b'o', b'v']);
    put(&hostile, "sequence.heic", &sequence)?;

    // Valid seeds: a 3×2 grid cut to 160×100, turned and mirrored, with EXIF; a 10-bit picture.
    let rgb = testkit::images::pattern_rgb(160, 100);
    let mut file = Heif::new(heif::grid_of(160, 100, &rgb, false, 64, 50));
    file.irot = Some(1);
    file.imir = Some(0);
    file.exif = heif::jpeg_exif(&testkit::test_photo("orientation-6.jpg"));
    put(&seeds, "grid-irot-imir-exif.heic", &file.to_bytes())?;
    let rgb16: Vec<u8> = testkit::images::pattern_rgb(96, 64)
        .iter()
        .flat_map(|&v| (u16::from(v) * 257).to_be_bytes())
        .collect();
    let ten = heif::heif_enc(96, 64, &rgb16, true, 50);
    put(
        &seeds,
        "ten-bit.heic",
        &Heif::new(Primary::Single(ten)).to_bytes(),
    )?;
    Ok(())
}

/// `bytes` with every occurrence of `from` replaced by `to` (same length).
fn replace(bytes: &[u8], from: &[u8; 4], to: &[u8; 4]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut at = 0;
    while let Some(i) = out[at..].windows(4).position(|w| w == from) {
        out[at + i..at + i + 4].copy_from_slice(to);
        at += i + 4;
    }
    out
}
