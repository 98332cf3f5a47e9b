//! `cargo xtask bench process`: how long the local stage takes to process 64 uploaded photos.
//!
//! A fresh stage takes 64 uploads (the test photos' JPEGs, each made distinct by a few bytes
//! after its end marker) while held back from processing them (`--processing-delay-ms`), and is
//! stopped. The measured run starts it again on that queue and ends when the API shows no photo
//! PENDING: start-up, recovery of the queue and processing, as after a batch upload.
//! `--deployer PATH` measures another build of the `deployer` (an older version, say), which
//! must have the same flags; by default the `local-release` build of this workspace runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::bench_stage::{Http, Scratch, account, local_release_deployer, start_stage};

const PHOTOS: usize = 64;
const EMAIL: &str = "process@example.com";
const PASSWORD: &str = "Correct-Horse-Battery-9";
/// The test photos uploaded, in turn.
const SOURCES: [&str; 11] = [
    "landscape-8mp.jpg",
    "no-exif-9mp.jpg",
    "camera-24mp.jpg",
    "orientation-1.jpg",
    "orientation-2.jpg",
    "orientation-3.jpg",
    "orientation-4.jpg",
    "orientation-5.jpg",
    "orientation-6.jpg",
    "orientation-7.jpg",
    "orientation-8.jpg",
];

pub fn run(args: &[String]) -> Result<()> {
    let mut deployer: Option<PathBuf> = None;
    let mut runs = 3;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match (arg.as_str(), rest.next()) {
            ("--deployer", Some(path)) => deployer = Some(PathBuf::from(path)),
            ("--runs", Some(n)) => {
                runs = n
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=20).contains(n))
                    .with_context(|| {
                        format!("--runs wants a whole number from 1 to 20, not `{n}`")
                    })?
            }
            _ => bail!("usage: cargo xtask bench process [--deployer PATH] [--runs N]"),
        }
    }
    let deployer = match deployer {
        Some(path) if path.is_file() => path,
        Some(path) => bail!("--deployer `{}` is not a file", path.display()),
        None => local_release_deployer()?,
    };
    let photos = photos()?;
    let mut times = Vec::new();
    for run in 1..=runs {
        let took = once(&deployer, &photos)?;
        println!("  run {run}: {:.2} s", took.as_secs_f64());
        times.push(took);
    }
    println!(
        "processing {PHOTOS} uploaded photos with `{}`: median {:.2} s over {runs} runs",
        deployer.display(),
        crate::bench::median(&times).as_secs_f64()
    );
    Ok(())
}

/// The 64 uploads: the sources in turn, each with its number after the JPEG's end marker.
fn photos() -> Result<Vec<Vec<u8>>> {
    let sources = SOURCES
        .iter()
        .map(|name| {
            let path = testkit::test_photos().join(name);
            std::fs::read(&path).with_context(|| format!("reading `{}`", path.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((0..PHOTOS)
        .map(|i| {
            let mut bytes = sources[i % sources.len()].clone();
            bytes.extend_from_slice(format!("bench {i}").as_bytes());
            bytes
        })
        .collect())
}

/// Uploads `bytes` the whole way: the API's form, then the bucket.
fn upload(http: &Http, token: &str, i: usize, bytes: &[u8]) -> Result<()> {
    let sha: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let body = json!({"file_name": format!("photo-{i:02}.jpg"), "content_type": "image/jpeg",
                      "size": bytes.len(), "sha256": sha});
    let (status, answer) = http.call("POST", "/api/photos/uploads", Some(token), Some(&body))?;
    if status != 201 {
        bail!("starting upload {i}: {status} {answer}");
    }
    let answer: Value = serde_json::from_str(&answer)?;
    let url = answer["upload"]["url"].as_str().context("an upload URL")?;
    let fields: Vec<(String, String)> = answer["upload"]["fields"]
        .as_object()
        .context("upload fields")?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let form = testkit::http::multipart(fields, "photo.jpg", "image/jpeg", bytes);
    let content_type = testkit::http::multipart_content_type();
    let sent = testkit::http::request("POST", url, &[("Content-Type", &content_type)], &form)
        .with_context(|| format!("uploading photo {i}"))?;
    if sent.status != 204 {
        bail!("uploading photo {i}: {} {}", sent.status, sent.text());
    }
    Ok(())
}

/// One measured run in a fresh data directory.
fn once(deployer: &Path, photos: &[Vec<u8>]) -> Result<Duration> {
    let scratch = Scratch::new("process")?;
    let data = scratch.0.join("stage");
    {
        let (_held, http, _) = start_stage(deployer, &data, &["--processing-delay-ms", "3600000"])?;
        let token = account(&http, &data.join("outbox"), EMAIL, PASSWORD)?;
        for (i, bytes) in photos.iter().enumerate() {
            upload(&http, &token, i, bytes)?;
        }
    }
    let started = Instant::now();
    let own_before = crate::bench_stage::cpu_seconds(std::process::id()).unwrap_or(0.0);
    let (stage, http, _) = start_stage(deployer, &data, &[])?;
    let token = crate::bench_stage::sign_in(&http, EMAIL, PASSWORD)?;
    let path = format!("/api/photos?limit={PHOTOS}");
    loop {
        let (status, answer) = http.call("GET", &path, Some(&token), None)?;
        if status != 200 {
            bail!("listing the photos: {status} {answer}");
        }
        // While photos are pending, a substring search is all the waiting costs: parsing the
        // page every 10 ms took a fifth of a core from the two the stage was measured on.
        if !answer.contains("\"PENDING\"") {
            let took = started.elapsed();
            let own = crate::bench_stage::cpu_seconds(std::process::id()).unwrap_or(0.0);
            if let Some(cpu) = crate::bench_stage::cpu_seconds(stage.0.id()) {
                println!(
                    "  stage CPU {cpu:.2} s in {:.2} s ({:.2} cores busy); this client {:.2} s",
                    took.as_secs_f64(),
                    cpu / took.as_secs_f64(),
                    own - own_before
                );
            }
            return check_all_ready(&answer).map(|()| took);
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("photos still PENDING after 600 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Checks the final listing: every one of the photos is there and READY.
fn check_all_ready(answer: &str) -> Result<()> {
    let page: Value = serde_json::from_str(answer).context("the listing's JSON")?;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    if items.len() != PHOTOS {
        bail!(
            "listing the photos: {} of {PHOTOS} listed: {answer}",
            items.len()
        );
    }
    let failed: Vec<&Value> = items.iter().filter(|p| p["status"] != "READY").collect();
    if !failed.is_empty() {
        bail!("photos not READY: {failed:?}");
    }
    Ok(())
}
