//! `cargo xtask bench api`: the API function's zip size and its cold start, measured as the time
//! from spawning `bootstrap` to its first poll of a Runtime API on loopback.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use testkit::runtime_api::RuntimeApi;

use crate::bench::{median, parse_runs};
use crate::{cargo, run_checked, target_dir, workspace_root};

const TARGET: &str = "x86_64-unknown-linux-musl";

/// Builds the release `bootstrap` for Lambda (musl, static), zips it as the deployer would,
/// and times `RUNS` (default 20) starts.
pub fn run(args: &[String]) -> Result<()> {
    let runs = parse_runs(args.first(), 20)?;
    crate::apt::ensure(&[("musl-gcc", "musl-tools")])?;
    run_checked(Command::new("rustup").args(["target", "add", TARGET]))?;
    // ring (the TLS stack's crypto) compiles C: the musl target needs `musl-gcc`
    // (Debian: `musl-tools`); cc-rs would otherwise look for `x86_64-linux-musl-gcc`.
    let mut build = Command::new(cargo());
    if std::env::var_os("CC_x86_64_unknown_linux_musl").is_none() {
        build.env("CC_x86_64_unknown_linux_musl", "musl-gcc");
    }
    run_checked(build.current_dir(workspace_root()).args([
        "build",
        "--quiet",
        "--release",
        "--target",
        TARGET,
        "-p",
        "photo-lambda",
        "--bin",
        "photo-api",
    ]))?;
    let binary = target_dir().join(TARGET).join("release/photo-api");
    let binary_size = std::fs::metadata(&binary)
        .with_context(|| format!("reading `{}`", binary.display()))?
        .len();
    let zip = zip_size(&binary)?;
    println!("photo-api bootstrap ({TARGET}, release)");
    println!(
        "  binary {:>10} bytes ({:.2} MiB)",
        binary_size,
        mib(binary_size)
    );
    println!(
        "  zip    {:>10} bytes ({:.2} MiB)   goal <= 5 MB",
        zip,
        mib(zip)
    );

    let mut samples = Vec::with_capacity(runs);
    // One warm-up start, so the page cache holds the binary as it would on a warm host.
    start_once(&binary)?;
    for _ in 0..runs {
        samples.push(start_once(&binary)?);
    }
    samples.sort();
    println!(
        "  start to first poll ({runs} runs): median {:.2} ms   min {:.2} ms   max {:.2} ms   goal <= 20 ms",
        ms(median(&samples)),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    );
    Ok(())
}

/// The size of a deflated zip holding the binary as `bootstrap`, mode 755.
fn zip_size(binary: &Path) -> Result<u64> {
    let bytes = std::fs::read(binary).with_context(|| format!("reading `{}`", binary.display()))?;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options)?;
    zip.write_all(&bytes)?;
    zip.finish()?;
    Ok(out.into_inner().len() as u64)
}

/// Spawns the binary against a fresh Runtime API and returns the time to its first poll.
fn start_once(binary: &Path) -> Result<Duration> {
    let runtime = RuntimeApi::start();
    let started = Instant::now();
    let mut child = runtime
        .command(binary, "bench-api", 256)
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_SESSION_TOKEN", "bench")
        .env("PHOTO_TABLE", "bench-table")
        .env("PHOTO_BUCKET", "bench-photos")
        .env("USER_POOL_ID", "eu-west-1_Bench1234")
        .env("USER_POOL_CLIENT_ID", "benchclient")
        .env("MAX_UPLOAD_BYTES", "52428800")
        .env("QUOTA_BYTES", "5368709120")
        .env("MAX_SHARE_DAYS", "30")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting `{}`", binary.display()))?;
    let polled = runtime.wait_first_poll(Duration::from_secs(10));
    let first = runtime.first_poll_at();
    let _ = child.kill();
    let _ = child.wait();
    match (polled, first) {
        (Some(_), Some(at)) => Ok(at.saturating_duration_since(started)),
        _ => bail!(
            "bootstrap did not poll within 10 s (init error: {:?})",
            runtime.init_error()
        ),
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
