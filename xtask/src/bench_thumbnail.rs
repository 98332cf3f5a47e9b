//! `cargo xtask bench thumbnail`: our thumbnail pipeline against libvips' `vipsthumbnail` on the
//! same photo and the same two output sizes, wall time and peak memory, medians over N runs.
//!
//! What is compared, exactly:
//! - ours: one process (`functions/imaging/examples/thumbnail.rs`, release build) reading the
//!   photo and writing both the 400×400 center-cropped thumbnail and the 1600-pixel preview,
//!   EXIF orientation applied, metadata stripped, JPEG quality 80 / 82;
//! - vipsthumbnail: the two invocations it takes to make the same two files:
//!   `vipsthumbnail IN -s 1600 -o preview.jpg[Q=82,strip]` and
//!   `vipsthumbnail IN -s 400x400 -m centre -o thumb.jpg[Q=80,strip]`; its wall time is their
//!   sum, its peak memory the larger of the two.
//!
//! Runs alternate (ours, vips, ours, vips, …) so that cache and frequency effects hit both
//! alike. Peak RSS comes from GNU time's `%M`; wall time from the parent's clock.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};

/// Our goals from the issue: no slower than vipsthumbnail, at most 128 MB peak RSS.
const MAX_RATIO: f64 = 1.0;
const MAX_RSS_KIB: u64 = 128 * 1024;

const HELP: &str = "\
usage: cargo xtask bench thumbnail [--runs N] [--input PATH | --heic] [--check]

  --runs N      measured runs of each side (default 15)
  --input PATH  photo to thumbnail (default: the 24-megapixel camera JPEG in testdata/photos)
  --heic        thumbnail a 12 MP HEIC as an iPhone writes it (4032x3024, a grid of 48 tiles of
                512x512, with EXIF), made once from the camera JPEG with vips and heif-enc into
                <target-dir>/bench-thumbnail/iphone-12mp.heic
  --check       exit non-zero when a goal (time ratio <= 1.0, peak RSS <= 128 MB) is missed
";

/// One measured process: wall seconds and peak resident set in KiB.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) seconds: f64,
    pub(crate) rss_kib: u64,
}

/// Entry point: parses `args` (after the task name), installs missing tools, builds, measures.
pub fn run(args: &[String]) -> Result<()> {
    let mut runs = 15usize;
    let mut input = crate::workspace_root().join("testdata/photos/camera-24mp.jpg");
    let mut check = false;
    let mut heic = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--runs" => {
                let value = it.next().context("--runs needs a number")?;
                runs = value.parse().with_context(|| format!("--runs `{value}`"))?;
                ensure!(runs > 0, "--runs must be at least 1");
            }
            "--input" => input = PathBuf::from(it.next().context("--input needs a path")?),
            "--check" => check = true,
            "--heic" => heic = true,
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(());
            }
            other => bail!("unknown argument `{other}`\n\n{HELP}"),
        }
    }
    ensure_tools()?;
    let out = crate::target_dir().join("bench-thumbnail");
    std::fs::create_dir_all(&out).with_context(|| format!("creating `{}`", out.display()))?;
    if heic {
        input = iphone_heic(&input, &out)?;
    }
    ensure!(
        input.is_file(),
        "input photo `{}` does not exist",
        input.display()
    );

    let ours = build_ours()?;

    // One unmeasured round each to warm the page cache and the binaries.
    run_ours(&ours, &input, &out)?;
    run_vips(&input, &out)?;
    let mut our_samples = Vec::with_capacity(runs);
    let mut vips_samples = Vec::with_capacity(runs);
    for i in 0..runs {
        if i % 2 == 0 {
            our_samples.push(run_ours(&ours, &input, &out)?);
            vips_samples.push(run_vips(&input, &out)?);
        } else {
            vips_samples.push(run_vips(&input, &out)?);
            our_samples.push(run_ours(&ours, &input, &out)?);
        }
    }

    let our_time = median(our_samples.iter().map(|s| s.seconds));
    let vips_time = median(vips_samples.iter().map(|s| s.seconds));
    let our_rss = median(our_samples.iter().map(|s| s.rss_kib as f64));
    let vips_rss = median(vips_samples.iter().map(|s| s.rss_kib as f64));
    let our_max_rss = our_samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let ratio = our_time / vips_time;
    println!(
        "input: {} ({} runs each, alternating)",
        input.display(),
        runs
    );
    println!(
        "outputs: 400x400 center-cropped thumbnail + 1600px-long-edge preview, JPEG, metadata stripped"
    );
    println!(
        "ours          median wall {:7.1} ms   median peak RSS {:6.1} MB   (max {:.1} MB)",
        our_time * 1e3,
        our_rss / 1024.0,
        our_max_rss as f64 / 1024.0
    );
    println!(
        "vipsthumbnail median wall {:7.1} ms   median peak RSS {:6.1} MB   (two invocations)",
        vips_time * 1e3,
        vips_rss / 1024.0
    );
    println!(
        "ratio ours/vips: time {ratio:.2}x (goal <= {MAX_RATIO:.1}x), RSS {:.2}x (goal <= 128 MB)",
        our_rss / vips_rss
    );
    let missed = ratio > MAX_RATIO || our_max_rss > MAX_RSS_KIB;
    if missed {
        println!("goal missed");
        if check {
            bail!("thumbnail benchmark goals missed");
        }
    } else {
        println!("goals met");
    }
    Ok(())
}

/// Installs `vipsthumbnail` (libvips-tools, which reads HEIC through libheif), `heif-enc`
/// (libheif-examples) and GNU time with apt-get when missing.
fn ensure_tools() -> Result<()> {
    crate::apt::ensure(&[
        ("vipsthumbnail", "libvips-tools"),
        ("heif-enc", "libheif-examples"),
        ("/usr/bin/time", "time"),
    ])
}

/// A 12 MP HEIC as an iPhone writes it, made from `jpeg` (cropped to 4:3 and reduced to
/// 4032x3024 by vips, cut into 512x512 tiles coded by `heif-enc`, its EXIF kept), once.
fn iphone_heic(jpeg: &Path, out: &Path) -> Result<PathBuf> {
    let heic = out.join("iphone-12mp.heic");
    if heic.is_file() {
        return Ok(heic);
    }
    let png = out.join("iphone-12mp.png");
    crate::run_checked(
        Command::new("vipsthumbnail")
            .arg(jpeg)
            .args(["-s", "4032x3024", "-m", "centre", "-o"])
            .arg(format!("{}[strip]", png.display())),
    )?;
    let png_bytes = std::fs::read(&png).with_context(|| format!("reading `{}`", png.display()))?;
    let jpeg_bytes =
        std::fs::read(jpeg).with_context(|| format!("reading `{}`", jpeg.display()))?;
    eprintln!("coding 48 tiles with heif-enc");
    let bytes =
        testkit::heif::iphone_like_from_png(&png_bytes, 60, testkit::heif::jpeg_exif(&jpeg_bytes));
    std::fs::write(&heic, bytes).with_context(|| format!("writing `{}`", heic.display()))?;
    Ok(heic)
}

/// Builds the release example and returns its path.
pub(crate) fn build_ours() -> Result<PathBuf> {
    crate::run_checked(
        Command::new(crate::cargo())
            .current_dir(crate::workspace_root())
            .args([
                "build",
                "--release",
                "--locked",
                "-p",
                "imaging",
                "--example",
                "thumbnail",
            ]),
    )?;
    Ok(crate::target_dir().join("release/examples/thumbnail"))
}

fn run_ours(bin: &Path, input: &Path, out: &Path) -> Result<Sample> {
    let mut cmd = Command::new(bin);
    cmd.arg(input)
        .arg(out.join("ours-thumb.jpg"))
        .arg(out.join("ours-preview.jpg"));
    measure(cmd, out)
}

fn run_vips(input: &Path, out: &Path) -> Result<Sample> {
    let mut preview = Command::new("vipsthumbnail");
    preview.arg(input).args(["-s", "1600", "-o"]).arg(format!(
        "{}[Q=82,strip]",
        out.join("vips-preview.jpg").display()
    ));
    let mut thumb = Command::new("vipsthumbnail");
    thumb
        .arg(input)
        .args(["-s", "400x400", "-m", "centre", "-o"])
        .arg(format!(
            "{}[Q=80,strip]",
            out.join("vips-thumb.jpg").display()
        ));
    let a = measure(preview, out)?;
    let b = measure(thumb, out)?;
    Ok(Sample {
        seconds: a.seconds + b.seconds,
        rss_kib: a.rss_kib.max(b.rss_kib),
    })
}

/// Runs `cmd` under GNU time, returning the wall time (parent clock) and peak RSS (`%M`, KiB).
pub(crate) fn measure(cmd: Command, out: &Path) -> Result<Sample> {
    let report = out.join("time.txt");
    let mut timed = Command::new("/usr/bin/time");
    timed
        .args(["-f", "%M", "-o"])
        .arg(&report)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdout(std::process::Stdio::null());
    let shown = format!("{cmd:?}");
    let start = Instant::now();
    let status = timed
        .status()
        .with_context(|| format!("starting {shown}"))?;
    let seconds = start.elapsed().as_secs_f64();
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    let text = std::fs::read_to_string(&report)
        .with_context(|| format!("reading `{}`", report.display()))?;
    let rss_kib = text
        .lines()
        .rev()
        .find_map(|l| l.trim().parse().ok())
        .with_context(|| format!("no peak RSS in GNU time's report: {text:?}"))?;
    Ok(Sample { seconds, rss_kib })
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
