//! `cargo xtask fuzz`: runs a fuzz target (cargo-fuzz and libFuzzer, in `functions/imaging/fuzz`
//! or `functions/s3post/fuzz`) for a bounded time, or replays its checked-in seeds once
//! (`--replay`).
//!
//! `s3post` (the upload form's verifier and policy parser, seeded with `fuzz/seeds/verify/`)
//! takes unauthenticated input on the local stage; `cargo xtask test` fuzzes it open-ended for
//! 20 s. The imaging targets: `process` (the whole pipeline, seeded with `tests/hostile/` and a few photos,
//! HEIC inputs skipped) is what `cargo xtask test` fuzzes open-ended for 60 s; `heic` (HEIC only,
//! seeded with `tests/hostile-heic/`, `fuzz/seeds/heic/` and a HEIC photo) is replayed there
//! deterministically, every seed once (`-runs=0`), and fuzzed open-ended only by hand: a young
//! decoder's bug found by chance must not fail an unrelated build.
//!
//! cargo-fuzz passes nightly-only flags (`-Zsanitizer=address`, coverage instrumentation) to
//! rustc; on the stable toolchain `RUSTC_BOOTSTRAP=1` unlocks them for this build only.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

const HELP: &str = "\
usage: cargo xtask fuzz [--seconds N] [--target NAME] [--replay]

  --seconds N    how long libFuzzer runs (-max_total_time, default 60)
  --target NAME  `process` (default) or `heic` (functions/imaging/fuzz), or `s3post` (the
                 upload form verifier, functions/s3post/fuzz)
  --replay       run every checked-in seed of the target once (-runs=0) instead of fuzzing

Crashes are written to the fuzz directory's artifacts/<target>/ and fail the task.
";

/// How long `cargo xtask test` fuzzes: long enough to run every seed through the mutators many
/// times (thousands of executions a second), short enough for the CI budget.
pub const CI_SECONDS: u64 = 60;

/// How long `cargo xtask test` fuzzes the upload form verifier: its inputs are small text, tens
/// of thousands of executions a second.
pub const S3POST_CI_SECONDS: u64 = 20;

/// A target name as `--target` takes it: its fuzz directory (relative to the workspace), the
/// cargo-fuzz binary, and the largest input worth mutating.
struct Target {
    name: &'static str,
    fuzz_dir: &'static str,
    bin: &'static str,
    max_len: usize,
}

const TARGETS: [Target; 3] = [
    Target {
        name: "process",
        fuzz_dir: "functions/imaging/fuzz",
        bin: "process",
        // Seeds are photos of ~130 KB; allow mutations of that size.
        max_len: 262_144,
    },
    Target {
        name: "heic",
        fuzz_dir: "functions/imaging/fuzz",
        bin: "heic",
        max_len: 262_144,
    },
    Target {
        name: "s3post",
        fuzz_dir: "functions/s3post/fuzz",
        bin: "verify",
        // A form's fields and policy: a few KB at most.
        max_len: 8192,
    },
];

/// Shared photos small enough to be useful seeds (libFuzzer mutates every byte of a seed).
const PHOTO_SEEDS: [&str; 3] = ["orientation-6.jpg", "texture.webp", "orientation-1.jpg"];

/// The HEIC target's seed folders (relative to `functions/imaging`) and photos.
const HEIC_SEED_DIRS: [&str; 2] = ["tests/hostile-heic", "fuzz/seeds/heic"];
const HEIC_PHOTO_SEEDS: [&str; 1] = ["heic/orientation-6.heic"];

/// Entry point: parses `args` (after the task name), installs cargo-fuzz if needed, fuzzes.
pub fn run(args: &[String]) -> Result<()> {
    let mut seconds = 60u64;
    let mut target = "process".to_owned();
    let mut replay = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = it.next().context("--seconds needs a number")?;
                seconds = value
                    .parse()
                    .with_context(|| format!("--seconds `{value}`"))?;
                ensure!(seconds > 0, "--seconds must be at least 1");
            }
            "--target" => target = it.next().context("--target needs a name")?.clone(),
            "--replay" => replay = true,
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(());
            }
            other => bail!("unknown argument `{other}`\n\n{HELP}"),
        }
    }
    let Some(spec) = TARGETS.iter().find(|t| t.name == target) else {
        bail!("unknown fuzz target `{target}`\n\n{HELP}");
    };
    ensure_cargo_fuzz()?;
    let root = crate::workspace_root();
    let fuzz_dir = root.join(spec.fuzz_dir);
    // The corpus grows as libFuzzer finds new paths; keep it in the target dir, out of git. A
    // replay starts from the seeds alone.
    let corpus = crate::target_dir()
        .join(if replay { "fuzz-replay" } else { "fuzz-corpus" })
        .join(&target);
    if replay && corpus.exists() {
        std::fs::remove_dir_all(&corpus)
            .with_context(|| format!("removing `{}`", corpus.display()))?;
    }
    let seeds = seed_corpus(&corpus, &root, &target)?;
    let budget = if replay {
        "-runs=0".to_owned()
    } else {
        format!("-max_total_time={seconds}")
    };

    let mut cmd = Command::new(crate::cargo());
    cmd.current_dir(&root)
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", "--fuzz-dir"])
        .arg(&fuzz_dir)
        // Instrumented builds live beside the others, not in the source tree.
        .arg("--target-dir")
        .arg(crate::target_dir().join("fuzz"))
        .arg(spec.bin)
        .arg(&corpus)
        .arg("--")
        .arg(&budget)
        .arg(format!("-max_len={}", spec.max_len))
        .arg("-rss_limit_mb=1024")
        .arg("-print_final_stats=1");
    let shown = format!("{cmd:?}");
    let output = cmd.output().with_context(|| format!("starting {shown}"))?;
    let log = String::from_utf8_lossy(&output.stderr);
    let log_path = crate::target_dir().join(format!("fuzz-{target}.log"));
    std::fs::write(&log_path, log.as_bytes())
        .with_context(|| format!("writing `{}`", log_path.display()))?;
    if !output.status.success() {
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "fuzzing `{target}` failed ({}); full log in `{}`:\n{}",
            output.status,
            log_path.display(),
            tail.join("\n")
        );
    }
    // libFuzzer ends with `Done N runs in S second(s)` and `stat::number_of_executed_units: N`.
    let summary = log
        .lines()
        .filter(|l| {
            l.starts_with("Done ")
                || l.starts_with("stat::number_of_executed_units")
                || l.starts_with("stat::peak_rss_mb")
        })
        .collect::<Vec<_>>()
        .join("\n");
    if replay {
        // `Done N runs`: every seed was executed (libFuzzer also runs an empty input).
        let runs: Option<usize> = log.lines().find_map(|l| {
            l.strip_prefix("Done ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        });
        ensure!(
            runs.is_some_and(|n| n >= seeds),
            "replaying `{target}` ran {runs:?} inputs, fewer than its {seeds} seeds; log in `{}`",
            log_path.display()
        );
        println!("fuzz target `{target}`: {seeds} seeds replayed, no crash\n{summary}");
    } else {
        println!("fuzz target `{target}`: no crash in {seconds} s\n{summary}");
    }
    Ok(())
}

/// Builds every fuzz target's instrumented binary as `cargo fuzz run` builds it (so that the
/// runs after it build nothing), at the lowest CPU priority: `cargo xtask test` starts it while
/// the test suite runs, whose waits (emulators, the browser, processes starting) leave a core
/// idle much of the time, and which must not be slowed by it.
pub fn prebuild_all() -> Result<()> {
    ensure_cargo_fuzz()?;
    let root = crate::workspace_root();
    for spec in &TARGETS {
        crate::run_checked(
            Command::new("nice")
                .args(["-n", "19"])
                .arg(crate::cargo())
                .current_dir(&root)
                .env("RUSTC_BOOTSTRAP", "1")
                .args(["fuzz", "build", "--fuzz-dir"])
                .arg(root.join(spec.fuzz_dir))
                .arg("--target-dir")
                .arg(crate::target_dir().join("fuzz"))
                .arg(spec.bin)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null()),
        )?;
    }
    Ok(())
}

/// Installs cargo-fuzz from crates.io when `cargo fuzz` is not available.
pub fn ensure_cargo_fuzz() -> Result<()> {
    let present = Command::new(crate::cargo())
        .args(["fuzz", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if present {
        return Ok(());
    }
    eprintln!("installing cargo-fuzz");
    crate::run_checked(Command::new(crate::cargo()).args(["install", "cargo-fuzz", "--locked"]))
}

/// Copies the seeds of `target` into the corpus directory and returns how many there are:
/// for `process` the hostile inputs and a few small photos, for `heic` the hostile HEIC files,
/// the HEIC seeds and a HEIC photo, for `s3post` its checked-in forms.
fn seed_corpus(corpus: &Path, root: &Path, target: &str) -> Result<usize> {
    std::fs::create_dir_all(corpus).with_context(|| format!("creating `{}`", corpus.display()))?;
    let imaging = root.join("functions/imaging");
    let (dirs, photos): (Vec<PathBuf>, &[&str]) = match target {
        "s3post" => (vec![root.join("functions/s3post/fuzz/seeds/verify")], &[]),
        "heic" => (
            HEIC_SEED_DIRS.iter().map(|d| imaging.join(d)).collect(),
            &HEIC_PHOTO_SEEDS,
        ),
        _ => (vec![imaging.join("tests/hostile")], &PHOTO_SEEDS),
    };
    let mut seeds = Vec::new();
    for dir in dirs {
        seeds.extend(
            std::fs::read_dir(&dir)
                .with_context(|| format!("listing `{}`", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x != "md")),
        );
    }
    let photo_dir = root.join("testdata/photos");
    for name in photos {
        let path = photo_dir.join(name);
        ensure!(path.is_file(), "seed photo `{}` is missing", path.display());
        seeds.push(path);
    }
    for seed in &seeds {
        let name = seed.file_name().context("seed without a file name")?;
        std::fs::copy(seed, corpus.join(name))
            .with_context(|| format!("copying seed `{}`", seed.display()))?;
    }
    Ok(seeds.len())
}
