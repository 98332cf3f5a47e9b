//! `cargo xtask bench scale`: the local stage as its library grows. A data directory is filled
//! with 1,000, then 10,000, then 100,000 photos of one user (plus a tenth as many again over
//! other users, with albums and share links), written through the stage's repository with a
//! small original and two derivatives on disk each (`fill_library`, an example of local-stage).
//! At each size the release `deployer` is started on it and measured over HTTP: starting an
//! upload, listing 50 photos newest first, getting one photo, opening a single-photo share; its
//! peak resident memory (`VmHWM`) after those; and its start-up time, from launching the binary
//! to its first answered request.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::bench_stage::{Http, Scratch, account, local_release_deployer, sign_in, start_stage};
use crate::{cargo, run_checked, target_dir, workspace_root};

const SIZES: [u64; 3] = [1_000, 10_000, 100_000];
const EMAIL: &str = "scale@example.com";
const PASSWORD: &str = "Correct-Horse-Battery-9";
/// Timed requests per operation and size, after a tenth as many untimed.
const RUNS: usize = 200;
/// Starts timed per size.
const STARTS: usize = 3;

/// One size's measurements.
struct Row {
    photos: u64,
    fill: Duration,
    /// Median and 90th percentile of each operation, in [`OPS`] order.
    ops: Vec<(Duration, Duration)>,
    vm_hwm_kib: u64,
    startup: Duration,
}

const OPS: [&str; 4] = [
    "start an upload",
    "list 50 newest",
    "get one photo",
    "open a photo share",
];

pub fn run(args: &[String]) -> Result<()> {
    let sizes = match args {
        [] => SIZES.to_vec(),
        [flag, list] if flag == "--sizes" => list
            .split(',')
            .map(|s| s.parse::<u64>().ok().filter(|n| *n > 0))
            .collect::<Option<Vec<_>>>()
            .filter(|v| v.is_sorted())
            .with_context(|| format!("--sizes wants ascending whole numbers, not `{list}`"))?,
        _ => bail!("usage: cargo xtask bench scale [--sizes 1000,10000,100000]"),
    };
    let deployer = local_release_deployer()?;
    run_checked(Command::new(cargo()).current_dir(workspace_root()).args([
        "build",
        "--quiet",
        "--profile",
        "local-release",
        "-p",
        "local-stage",
        "--example",
        "fill_library",
    ]))?;
    let filler = target_dir().join("local-release/examples/fill_library");
    let scratch = Scratch::new("scale")?;
    let data = scratch.0.join("stage");

    let owner = {
        let (stage, http, _) = start_stage(&deployer, &data, &[])?;
        let token = account(&http, &data.join("outbox"), EMAIL, PASSWORD)?;
        let (_, me) = http.call("GET", "/api/me", Some(&token), None)?;
        drop(stage);
        serde_json::from_str::<Value>(&me)?["user_id"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no user id in {me}"))?
    };

    let mut rows = Vec::new();
    let mut filled = 0;
    for size in sizes {
        println!("filling to {size} photos");
        let started = Instant::now();
        run_checked(
            Command::new(&filler)
                .arg("--data-dir")
                .arg(&data)
                .args(["--owner", &owner, "--from", &filled.to_string()])
                .args(["--photos", &(size - filled).to_string()]),
        )?;
        let fill = started.elapsed();
        filled = size;
        let mut startups = Vec::new();
        for _ in 0..STARTS {
            let (stage, _, took) = start_stage(&deployer, &data, &[])?;
            startups.push(took);
            drop(stage);
        }
        let (stage, http, _) = start_stage(&deployer, &data, &[])?;
        let ops = measure(&http, size)?;
        let vm_hwm_kib = vm_hwm_kib(stage.0.id())?;
        drop(stage);
        rows.push(Row {
            photos: size,
            fill,
            ops,
            vm_hwm_kib,
            startup: crate::bench::median(&startups),
        });
    }
    print_table(&rows);
    Ok(())
}

/// Starts the stage on `data`: the process, its HTTP surface, and the time from launching it to
/// its first answered request.
/// Times `f` [`RUNS`] times after a tenth as many warm-ups: the median and 90th percentile.
fn timed(mut f: impl FnMut(usize) -> Result<()>) -> Result<(Duration, Duration)> {
    for i in 0..RUNS / 10 {
        f(i)?;
    }
    let mut samples = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        let started = Instant::now();
        f(RUNS / 10 + i)?;
        samples.push(started.elapsed());
    }
    samples.sort();
    Ok((samples[RUNS / 2], samples[RUNS * 9 / 10]))
}

/// Expects `status` from the call, failing with the answer otherwise.
fn expect(
    http: &Http,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
    status: u16,
) -> Result<String> {
    let (got, answer) = http.call(method, path, Some(token), body)?;
    if got != status {
        bail!("{method} {path}: {got} {answer}");
    }
    Ok(answer)
}

fn measure(http: &Http, size: u64) -> Result<Vec<(Duration, Duration)>> {
    let token = sign_in(http, EMAIL, PASSWORD)?;
    let listing: Value = serde_json::from_str(&expect(
        http,
        "GET",
        "/api/photos?limit=50",
        &token,
        None,
        200,
    )?)?;
    let ids: Vec<String> = listing["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|p| p["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if ids.len() != 50 {
        bail!("the first page holds {} photos, not 50", ids.len());
    }
    let share: Value = serde_json::from_str(&expect(
        http,
        "POST",
        "/api/shares",
        &token,
        Some(&json!({"photo_id": ids[7]})),
        201,
    )?)?;
    let public = format!(
        "/api/public/shares/{}",
        share["token"].as_str().context("a share token")?
    );
    let upload = |i: usize| {
        // Distinct declared checksums: the API refuses a second upload of the same bytes.
        let body = json!({"file_name": format!("new-{i}.jpg"), "content_type": "image/jpeg",
                          "size": 1000, "sha256": format!("{:064x}", size * 1_000_000 + i as u64)});
        expect(
            http,
            "POST",
            "/api/photos/uploads",
            &token,
            Some(&body),
            201,
        )
        .map(drop)
    };
    Ok(vec![
        timed(upload)?,
        timed(|_| expect(http, "GET", "/api/photos?limit=50", &token, None, 200).map(drop))?,
        timed(|i| {
            expect(
                http,
                "GET",
                &format!("/api/photos/{}", ids[i % ids.len()]),
                &token,
                None,
                200,
            )
            .map(drop)
        })?,
        timed(|_| {
            let (status, answer) = http.call("GET", &public, None, None)?;
            if status != 200 {
                bail!("GET {public}: {status} {answer}");
            }
            Ok(())
        })?,
    ])
}

/// The process's peak resident set (`VmHWM` of `/proc/{pid}/status`), in KiB.
fn vm_hwm_kib(pid: u32) -> Result<u64> {
    let path = PathBuf::from(format!("/proc/{pid}/status"));
    let status =
        std::fs::read_to_string(&path).with_context(|| format!("reading `{}`", path.display()))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no VmHWM in `{}`", path.display()))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn print_table(rows: &[Row]) {
    println!();
    print!("| photos | fill |");
    for op in OPS {
        print!(" {op} (median / p90 ms) |");
    }
    println!(" VmHWM (MiB) | start-up (ms) |");
    println!("|---:|---:|{}---:|---:|", "---:|".repeat(OPS.len()));
    for r in rows {
        print!("| {} | {:.0} s |", r.photos, r.fill.as_secs_f64());
        for (median, p90) in &r.ops {
            print!(" {:.2} / {:.2} |", ms(*median), ms(*p90));
        }
        println!(
            " {:.1} | {:.0} |",
            r.vm_hwm_kib as f64 / 1024.0,
            ms(r.startup)
        );
    }
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return;
    };
    println!();
    for (i, op) in OPS.iter().enumerate() {
        let ratio = last.ops[i].0.as_secs_f64() / first.ops[i].0.as_secs_f64();
        println!(
            "{op}: {ratio:.2}x from {} to {} photos (goal <= 1.5x): {}",
            first.photos,
            last.photos,
            verdict(ratio <= 1.5)
        );
    }
    let grew = (last.vm_hwm_kib as f64 - first.vm_hwm_kib as f64) / 1024.0;
    println!(
        "peak memory grew {grew:.1} MiB (goal <= 50 MB): {}",
        verdict(grew * 1.048_576 <= 50.0)
    );
    let slowest = rows.iter().map(|r| r.startup).max().unwrap_or_default();
    println!(
        "slowest start-up {:.0} ms (goal < 1 s): {}",
        ms(slowest),
        verdict(slowest < Duration::from_secs(1))
    );
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}
