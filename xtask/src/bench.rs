//! `cargo xtask bench <what>`: benchmarks reported against a peer measured in the same run.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::{cargo, run_checked, target_dir, workspace_root};

const USAGE: &str = "usage: cargo xtask bench synth [RUNS] | cargo xtask bench thumbnail [--runs N] [--input PATH | --heic] [--check] | cargo xtask bench api [RUNS] | cargo xtask bench local [SECONDS] [--deployer PATH] | cargo xtask bench scale [--sizes 1000,10000,100000] | cargo xtask bench process [--deployer PATH] [--runs N] | cargo xtask bench up [--readme] [RUNS] | cargo xtask bench web [--photos N] [--runs N] | cargo xtask bench cost [RUNS]";

/// Dispatches `cargo xtask bench ...`.
pub fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("synth") => synth(parse_runs(args.get(1), 50)?),
        Some("thumbnail") => crate::bench_thumbnail::run(&args[1..]),
        Some("api") => crate::bench_api::run(&args[1..]),
        Some("web") => crate::bench_web::run(&args[1..]),
        Some("local") => crate::bench_local::run(&args[1..]),
        Some("scale") => crate::bench_scale::run(&args[1..]),
        Some("process") => crate::bench_process::run(&args[1..]),
        Some("up") => crate::bench_up::run(&args[1..]),
        Some("cost") => crate::bench_cost::run(&args[1..]),
        Some(other) => bail!("unknown benchmark `{other}`\n{USAGE}"),
        None => bail!("{USAGE}"),
    }
}

/// Parses an optional run count.
pub fn parse_runs(arg: Option<&String>, default: usize) -> Result<usize> {
    match arg {
        None => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n >= 3 => Ok(n),
            _ => bail!("RUNS must be a whole number of at least 3, not `{s}`"),
        },
    }
}

/// `deployer synth --stage prod` as a whole process, against `cat` printing the same template:
/// the floor of starting a process and writing those bytes.
fn synth(runs: usize) -> Result<()> {
    let root = workspace_root();
    let deployer = release_deployer()?;
    let golden = root.join("stack/tests/golden/prod.json");

    let ours = || {
        let mut c = Command::new(&deployer);
        c.current_dir(&root).args(["synth", "--stage", "prod"]);
        c
    };
    let peer = || {
        let mut c = Command::new("cat");
        c.arg(&golden);
        c
    };
    let (ours, peer) = alternate(runs, ours, peer)?;
    println!("deployer synth --stage prod ({runs} runs, alternating with the peer)");
    report("deployer synth", &ours);
    report("cat prod.json (peer)", &peer);
    println!(
        "ratio of medians: {:.2}x the peer",
        median(&ours).as_secs_f64() / median(&peer).as_secs_f64()
    );
    Ok(())
}

/// Builds the release `deployer` (what operators run) and returns its path.
pub fn release_deployer() -> Result<PathBuf> {
    run_checked(Command::new(cargo()).current_dir(workspace_root()).args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "deployer",
    ]))?;
    Ok(target_dir().join("release/deployer"))
}

/// Runs two commands `runs` times each, alternating so that machine noise hits both alike,
/// after one warm-up run of each. Output is discarded; a failing run fails the benchmark.
pub fn alternate(
    runs: usize,
    mut ours: impl FnMut() -> Command,
    mut peer: impl FnMut() -> Command,
) -> Result<(Vec<Duration>, Vec<Duration>)> {
    time_once(&mut ours())?;
    time_once(&mut peer())?;
    let mut a = Vec::with_capacity(runs);
    let mut b = Vec::with_capacity(runs);
    for _ in 0..runs {
        a.push(time_once(&mut ours())?);
        b.push(time_once(&mut peer())?);
    }
    Ok((a, b))
}

fn time_once(cmd: &mut Command) -> Result<Duration> {
    let start = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()?;
    let elapsed = start.elapsed();
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(elapsed)
}

/// The median of some durations.
pub fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn report(name: &str, samples: &[Duration]) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let p90 = sorted[(sorted.len() * 9 / 10).min(sorted.len() - 1)];
    println!(
        "  {name:<24} median {:>8.2} ms   min {:>8.2} ms   p90 {:>8.2} ms",
        ms(median(samples)),
        ms(sorted[0]),
        ms(p90)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
