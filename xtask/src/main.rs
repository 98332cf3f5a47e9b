//! Developer automation: `cargo xtask <task>`. The product is `deployer`; this serves developers.

use std::process::Command;

use anyhow::{Context, Result, bail};

mod apt;
mod bench;
mod bench_api;
mod bench_cost;
mod bench_local;
mod bench_process;
mod bench_scale;
mod bench_stage;
mod bench_thumbnail;
mod bench_up;
mod bench_web;
mod fuzz;
mod oracles;
mod toolchain;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  test      install what the tests need, run the whole test suite, then fuzz the image
            pipeline for 60 s, replay the HEIC fuzz seeds and fuzz the upload form
            verifier for 20 s (what CI runs)
  oracles   install the test oracles (moto, cfn-lint, checkov) into private virtualenvs
  toolchain install what building the functions for Lambda needs: the musl Rust targets
            (rustup) and their C compilers (apt-get: musl-tools, gcc-aarch64-linux-gnu)
  bench synth [RUNS]
            time `deployer synth --stage prod` as a process, against `cat` of the same template
  bench thumbnail [--runs N] [--input PATH] [--check]
            time our thumbnails against vipsthumbnail on the same photo and sizes
  fuzz [--seconds N] [--target process|heic|s3post] [--replay]
            fuzz the image decode-and-resize path (or HEIC alone, or the upload form
            verifier) for a bounded time, or replay a target's checked-in seeds once
  bench api [RUNS]
            the API function's zip size and its start-to-first-poll time on a loopback Runtime API
  bench web [--photos N] [--runs N]
            the SPA's first-load size, and the first screen of thumbnails with 1,000 photos in Chromium
  bench local [SECONDS] [--deployer PATH]
            the local stage listing 50 photos for 50 clients, against nginx serving the same JSON
  bench scale [--sizes 1000,10000,100000]
            the local stage with 1,000, 10,000 and 100,000 photos: each operation's time, peak
            memory and start-up (fills a data directory: minutes)
  bench process [--deployer PATH] [--runs N]
            the local stage processing 64 uploaded photos (PATH: another build to compare)
  bench up [RUNS]
            `deployer up --stage dev` with nothing changed against moto: median time, uploads
            and change sets per run
  bench up --readme [RUNS]
            the same as the README runs it, `cargo run -p deployer -- up --stage dev` building
            the functions: median time, cargo's share, uploads, change sets, each step's time
  bench cost [RUNS]
            what a stage costs: the functions' work measured here (a photo's thumbnails, the
            API's requests on a local stage), scaled to Lambda and priced from a dated table
";

fn main() {
    if let Err(err) = run() {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(task) = args.first() else {
        eprint!("{USAGE}");
        std::process::exit(2);
    };
    match task.as_str() {
        "test" => test(&args[1..]),
        "bench" => bench::run(&args[1..]),
        "oracles" => oracles::install_all(&target_dir()),
        "toolchain" => toolchain::install(),
        "fuzz" => fuzz::run(&args[1..]),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}

/// Installs the oracles, then runs every test in the workspace.
fn test(extra: &[String]) -> Result<()> {
    let target = target_dir();
    // The test oracles (pip), the Debian packages (apt) and the Rust targets (rustup) download
    // and install while the workspace's tests compile: neither needs the other until the tests
    // run, and on a fresh machine the installs take minutes that the build would otherwise wait.
    let setup = {
        let target = target.clone();
        std::thread::spawn(move || setup_for_tests(&target))
    };
    let cargo_test = |run: bool| {
        let mut cmd = Command::new(cargo());
        cmd.current_dir(workspace_root())
            .args(["test", "--workspace", "--locked"])
            .args((!run).then_some("--no-run"))
            .args(extra)
            .env("ORACLES_DIR", target.join("oracles"));
        if std::env::var_os("CI").is_some() {
            // A CI run builds once from cold: incremental state would only cost disk and time.
            cmd.env("CARGO_INCREMENTAL", "0");
        }
        run_checked(&mut cmd)
    };
    let built = cargo_test(false);
    setup
        .join()
        .map_err(|_| anyhow::anyhow!("installing what the tests need panicked"))??;
    built?;
    // The fuzz targets' instrumented builds take minutes of CPU: they go beside the tests, at
    // the lowest priority, filling the cores the tests leave idle while they wait. A failure
    // here is left for the fuzz runs below to meet and report.
    let prebuild = std::thread::spawn(fuzz::prebuild_all);
    let tested = cargo_test(true);
    if let Ok(Err(e)) = prebuild.join() {
        eprintln!("building the fuzz targets beside the tests failed ({e:#}); the runs build them");
    }
    tested?;
    // The fuzz targets are part of the suite: a bounded run of the whole pipeline and a
    // deterministic replay of the HEIC seeds, failing on any crash; cargo-fuzz is installed first
    // if missing, so neither is ever silently skipped. libFuzzer runs on one core: the upload
    // form verifier's run (it takes unauthenticated input on the local stage) goes beside the
    // pipeline's, each with the whole of its time.
    fuzz::ensure_cargo_fuzz()?;
    let s3post = std::thread::spawn(|| {
        fuzz::run(&[
            "--target".to_owned(),
            "s3post".to_owned(),
            "--seconds".to_owned(),
            fuzz::S3POST_CI_SECONDS.to_string(),
        ])
    });
    let pipeline =
        fuzz::run(&["--seconds".to_owned(), fuzz::CI_SECONDS.to_string()]).and_then(|()| {
            fuzz::run(&[
                "--target".to_owned(),
                "heic".to_owned(),
                "--replay".to_owned(),
            ])
        });
    let s3post = s3post
        .join()
        .map_err(|_| anyhow::anyhow!("fuzzing the upload form verifier panicked"))?;
    pipeline.and(s3post)
}

/// What the tests need beside the workspace: the test oracles, the Debian packages and the Rust
/// targets.
fn setup_for_tests(target: &std::path::Path) -> Result<()> {
    oracles::install_all(target)?;
    // The web app's end-to-end tests (`web-e2e`) drive a real headless Chromium; the imaging
    // tests write HEIC tiles with `heif-enc` and compare every HEIC decode with libheif's
    // `heif-convert` (both in libheif-examples). The functions' tests build both functions for
    // both Lambda architectures, which takes the C compilers of `cargo xtask toolchain`, and run
    // the arm64 build under `qemu-aarch64-static`.
    let mut tools = vec![
        ("chromium", "chromium"),
        ("chromedriver", "chromium-driver"),
        ("heif-convert", "libheif-examples"),
        ("heif-enc", "libheif-examples"),
        ("qemu-aarch64-static", "qemu-user-static"),
    ];
    tools.extend(toolchain::C_COMPILERS);
    apt::ensure(&tools)?;
    // The deployer's build tests and the functions' tests compile static binaries for both
    // Lambda architectures.
    toolchain::rust_targets()
}

// Where the workspace and its target directory are: the same answer as every test's.
pub use testkit::{target_dir, workspace_root};

/// The cargo that runs this xtask.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Runs a command, failing with the command line when it does not exit 0.
pub fn run_checked(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}
