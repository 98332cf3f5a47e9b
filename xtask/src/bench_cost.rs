//! `cargo xtask bench cost`: what a stage costs, from durations measured here and a dated price
//! table.
//!
//! Measured (medians):
//! - per photo, the thumbnail step's work: the release `imaging` example decoding a JPEG and
//!   writing the thumbnail and the preview, with its peak memory, for camera JPEGs of 8.7 MP
//!   (3640×2400) and 22.5 MP (6000×3750); the bill uses their time interpolated linearly by pixel
//!   count to a 12 MP photo (4032×3024), since decoding and resizing are linear in pixels. A
//!   12 MP JPEG made here (a smooth pattern, which decodes faster than a camera's noise) is
//!   measured too, as a lower bound;
//! - per request, the API's work: `POST /photos/uploads` (the upload form) and
//!   `GET /photos?limit=50` (a gallery page) against a local stage (`local-release` build): the
//!   same router and domain code as the Lambda function, over SQLite instead of DynamoDB.
//!
//! Scaled to Lambda: Lambda gives a function CPU in proportion to its memory, one vCPU at
//! 1,769 MB, so CPU-bound work measured on one core here takes `1769 / memory` times as long
//! (at most 1,769 MB counts; this assumes one core here is worth one Lambda vCPU). The calls to
//! DynamoDB and S3 a request or a photo makes are counted from the code and billed at an
//! assumed round trip each ([`ROUND_TRIP_MS`]), since no emulator here has AWS's latency.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::json;

use crate::bench_stage::{Scratch, account, local_release_deployer, start_stage};

/// The date the prices below were read, and where: list prices of `us-east-1`, on-demand, no
/// free tier. Check them before relying on the figures.
const PRICES_AS_OF: &str = "2026-11 (us-east-1 list prices, no free tier)";

/// Lambda, arm64 (the `dev` default), per GB-second.
const LAMBDA_ARM_GB_SECOND: f64 = 0.000_013_333_4;
/// Lambda, per request.
const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
/// API Gateway HTTP API, per request (first 300 million a month).
const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
/// S3 Standard and Intelligent-Tiering (frequent tier): PUT, COPY, POST, LIST per request.
const S3_PUT: f64 = 0.005 / 1e3;
/// S3: GET per request.
const S3_GET: f64 = 0.0004 / 1e3;
/// S3 Standard storage, per GB-month (Intelligent-Tiering's frequent tier costs the same).
const S3_GB_MONTH: f64 = 0.023;
/// DynamoDB on-demand: per write request unit and per read request unit.
const DYNAMODB_WRU: f64 = 0.625 / 1e6;
const DYNAMODB_RRU: f64 = 0.125 / 1e6;
/// Data out to the internet, per GB (first 10 TB), S3 or CloudFront alike.
const TRANSFER_OUT_GB: f64 = 0.09;
/// CloudWatch: a standard alarm per month; a dashboard beyond the account's first three.
const ALARM_MONTH: f64 = 0.10;
const DASHBOARD_MONTH: f64 = 3.00;

/// The assumed round trip of one DynamoDB or S3 call from Lambda in the same region, billed as
/// function time while the function waits.
const ROUND_TRIP_MS: f64 = 8.0;
/// The functions' memory (the stage defaults).
const API_MEMORY_MB: f64 = 512.0;
const THUMBNAIL_MEMORY_MB: f64 = 1024.0;
/// A 12 MP camera JPEG weighs about this much, and its derivatives together about this.
const ORIGINAL_MB: f64 = 4.0;
const DERIVATIVES_KB: f64 = 250.0;
/// A grid thumbnail as a gallery page loads it.
const THUMBNAIL_KB: f64 = 30.0;

const EMAIL: &str = "cost@example.com";
const PASSWORD: &str = "Correct-Horse-Battery-9";

/// The pixel counts of the two camera photos measured and of the photo billed.
const SMALL_PIXELS: f64 = 3640.0 * 2400.0;
const LARGE_PIXELS: f64 = 6000.0 * 3750.0;
const TWELVE_MP_PIXELS: f64 = 4032.0 * 3024.0;

/// The straight line through two measured points, at `x`.
fn interpolate((x0, y0): (f64, f64), (x1, y1): (f64, f64), x: f64) -> f64 {
    y0 + (y1 - y0) * (x - x0) / (x1 - x0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Lambda's CPU share at `memory_mb`: how much longer CPU-bound work takes than on one vCPU.
fn cpu_slowdown(memory_mb: f64) -> f64 {
    1769.0 / memory_mb.min(1769.0)
}

fn billed_seconds(cpu_ms: f64, round_trips: f64, memory_mb: f64) -> f64 {
    // Lambda bills by the millisecond.
    let ms = (cpu_ms * cpu_slowdown(memory_mb) + round_trips * ROUND_TRIP_MS).ceil();
    ms / 1000.0
}

pub fn run(args: &[String]) -> Result<()> {
    let runs = crate::bench::parse_runs(args.first(), 5)?;
    let scratch = Scratch::new("cost")?;

    // Per photo: the thumbnail step's work, on two camera JPEGs around 12 MP and a 12 MP JPEG
    // made here.
    let synthetic = scratch.0.join("12mp.jpg");
    std::fs::write(&synthetic, testkit::images::jpeg(4032, 3024, false, true))?;
    let small = scratch.0.join("8mp.jpg");
    std::fs::write(&small, testkit::test_photo("landscape-8mp.jpg"))?;
    let large = scratch.0.join("24mp.jpg");
    std::fs::write(&large, testkit::test_photo("camera-24mp.jpg"))?;
    let example = crate::bench_thumbnail::build_ours()?;
    let mut measured = Vec::new();
    for photo in [&synthetic, &small, &large] {
        let mut ms = Vec::new();
        let mut kib = Vec::new();
        for _ in 0..runs {
            let (seconds, peak) = timed(&example, photo, &scratch.0)?;
            ms.push(seconds * 1000.0);
            kib.push(peak as f64);
        }
        measured.push((median(ms), median(kib) / 1024.0));
    }
    let (synthetic_ms, synthetic_mb) = measured[0];
    let (small_ms, small_mb) = measured[1];
    let (large_ms, large_mb) = measured[2];
    let photo_ms = interpolate(
        (SMALL_PIXELS, small_ms),
        (LARGE_PIXELS, large_ms),
        TWELVE_MP_PIXELS,
    );

    // Per request: the API's work on the local stage.
    let (upload_ms, page_ms) = api_requests(&scratch.0, runs.max(20))?;

    // A photo: the upload request (API: a checksum lookup, the usage read, one transaction of
    // three items, one after the other), the thumbnail function (its attempt, which answers the
    // record; the upload read; the three PUTs, sent together; the outcome; the upload's delete).
    let upload_request = billed_seconds(upload_ms, 3.0, API_MEMORY_MB);
    let thumbnail = billed_seconds(photo_ms, 5.0, THUMBNAIL_MEMORY_MB);
    let photo_lambda = (upload_request * API_MEMORY_MB + thumbnail * THUMBNAIL_MEMORY_MB) / 1024.0
        * LAMBDA_ARM_GB_SECOND
        + 2.0 * LAMBDA_REQUEST;
    let photo_requests = HTTP_API_REQUEST
        // The browser's POST, the copy to `originals/`, two derivatives; one GET.
        + 4.0 * S3_PUT
        + S3_GET
        // The transaction writes three items twice over (transactions cost double); the attempt
        // and the outcome one each; two reads (the checksum lookup and the usage).
        + 8.0 * DYNAMODB_WRU
        + 2.0 * DYNAMODB_RRU;
    // A gallery view: one page of 50 from the API (one query), 50 thumbnails from the bucket.
    let page_request = billed_seconds(page_ms, 1.0, API_MEMORY_MB);
    let view_lambda = page_request * API_MEMORY_MB / 1024.0 * LAMBDA_ARM_GB_SECOND + LAMBDA_REQUEST;
    let view_requests = HTTP_API_REQUEST + 50.0 * S3_GET + 13.0 * DYNAMODB_RRU;
    let view_transfer = 50.0 * THUMBNAIL_KB / 1024.0 / 1024.0 * TRANSFER_OUT_GB;

    println!("bench cost: prices {PRICES_AS_OF}; functions on arm64 at their default memory");
    println!(
        "measured here (median of {runs}): camera JPEGs of 8.7 MP {small_ms:.0} ms and \
         {small_mb:.0} MB peak, 22.5 MP {large_ms:.0} ms and {large_mb:.0} MB peak, so 12 MP \
         {photo_ms:.0} ms (billed per photo); made 12 MP JPEG {synthetic_ms:.0} ms and \
         {synthetic_mb:.0} MB peak; upload form {upload_ms:.1} ms, page of 50 {page_ms:.1} ms \
         (local stage, SQLite)"
    );
    println!(
        "billed on Lambda: thumbnail {:.0} ms at {THUMBNAIL_MEMORY_MB} MB, upload request {:.0} ms \
         and page {:.0} ms at {API_MEMORY_MB} MB (CPU x {:.2} and x {:.2} for the memory's CPU \
         share, {ROUND_TRIP_MS} ms per DynamoDB or S3 call)",
        thumbnail * 1000.0,
        upload_request * 1000.0,
        page_request * 1000.0,
        cpu_slowdown(THUMBNAIL_MEMORY_MB),
        cpu_slowdown(API_MEMORY_MB),
    );
    println!();
    println!("per 1,000 uploaded 12 MP photos:");
    println!(
        "  Lambda (duration and invocations)   USD {:.4}",
        photo_lambda * 1000.0
    );
    println!(
        "  requests (API, S3, DynamoDB)        USD {:.4}",
        photo_requests * 1000.0
    );
    println!(
        "  Lambda and requests together        USD {:.4}  (goal: under 0.03)",
        (photo_lambda + photo_requests) * 1000.0
    );
    println!(
        "  storage, per month after            USD {:.4}  ({} MB original + {} KB derivatives each)",
        (ORIGINAL_MB + DERIVATIVES_KB / 1024.0) / 1024.0 * S3_GB_MONTH * 1000.0,
        ORIGINAL_MB,
        DERIVATIVES_KB
    );
    println!("per 1,000 gallery views (a page of 50 thumbnails each):");
    println!(
        "  Lambda                              USD {:.4}",
        view_lambda * 1000.0
    );
    println!(
        "  requests (API, S3 GETs, DynamoDB)   USD {:.4}",
        view_requests * 1000.0
    );
    println!(
        "  data out ({THUMBNAIL_KB} KB a thumbnail)          USD {:.4}",
        view_transfer * 1000.0
    );
    println!("fixed, per stage and month at rest:");
    println!(
        "  7 CloudWatch alarms                 USD {:.2}",
        7.0 * ALARM_MONTH
    );
    println!(
        "  the dashboard                       USD {DASHBOARD_MONTH:.2} (0 for the account's first three)"
    );
    println!(
        "  everything else                     USD 0.00 (Lambda, API Gateway, S3 and DynamoDB \
         requests, Cognito LITE, SQS, SNS: per use; AWS-managed KMS keys: no monthly fee; storage: \
         as above)"
    );
    Ok(())
}

/// Runs the example on `photo` under GNU time: wall seconds and peak RSS in KiB.
fn timed(example: &Path, photo: &Path, dir: &Path) -> Result<(f64, u64)> {
    let mut cmd = Command::new(example);
    cmd.arg(photo)
        .arg(dir.join("thumb.jpg"))
        .arg(dir.join("preview.jpg"));
    let sample = crate::bench_thumbnail::measure(cmd, dir)?;
    Ok((sample.seconds, sample.rss_kib))
}

/// Median milliseconds of `POST /api/photos/uploads` and of `GET /api/photos?limit=50` (with 50
/// photos listed) on a local stage. The photos stay PENDING (processing 50 photos is not what is
/// measured), so the page signs no links: signing is a few HMACs a photo on the local stage and
/// is left out.
fn api_requests(dir: &Path, runs: usize) -> Result<(f64, f64)> {
    let deployer = local_release_deployer()?;
    let (_stage, http, _) = start_stage(&deployer, &dir.join("stage"), &[])?;
    let token = account(&http, &dir.join("stage/outbox"), EMAIL, PASSWORD)?;
    let mut uploads = Vec::new();
    for i in 0..runs.max(50) {
        let body = json!({"file_name": format!("photo-{i:03}.jpg"), "content_type": "image/jpeg",
                          "size": 4_000_000 + i, "sha256": format!("{:064x}", i + 1)});
        let start = Instant::now();
        let (status, answer) =
            http.call("POST", "/api/photos/uploads", Some(&token), Some(&body))?;
        uploads.push(start.elapsed().as_secs_f64() * 1000.0);
        if status != 201 {
            bail!("starting upload {i}: {status} {answer}");
        }
    }
    let mut pages = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let (status, answer) = http.call("GET", "/api/photos?limit=50", Some(&token), None)?;
        pages.push(start.elapsed().as_secs_f64() * 1000.0);
        if status != 200 {
            bail!("listing: {status} {answer}");
        }
    }
    Ok((median(uploads), median(pages)))
}
