//! Writes the large fixtures of the memory-budget tests to a folder, to measure a whole process
//! on them (`/usr/bin/time -v` of the `thumbnail` example):
//! `cargo run --release -p imaging --example budget_fixtures -- DIR`.

use testkit::images as large;

use std::path::Path;

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "budget-fixtures".into());
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    let mut started = std::time::Instant::now();
    let mut write = |name: &str, bytes: Vec<u8>| {
        println!("{name}: {} bytes in {:?}", bytes.len(), started.elapsed());
        started = std::time::Instant::now();
        std::fs::write(dir.join(name), bytes)
    };
    write("rgba16-10000.png", large::rgba16_zeros(10_000))?;
    write("rgb16-10000.png", large::rgb16_zeros(10_000))?;
    write("palette-10000.png", large::palette(10_000))?;
    write(
        "progressive-444-24mp.jpg",
        large::jpeg(6000, 4000, true, false),
    )?;
    write(
        "baseline-444-24mp.jpg",
        large::jpeg(6000, 4000, false, false),
    )?;
    write("lossless-16mp.webp", large::webp_lossless(4000, 4000, true))?;
    Ok(())
}
