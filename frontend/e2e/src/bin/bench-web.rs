//! `cargo xtask bench web`: the SPA's first-load transfer, and how soon the first screen of
//! thumbnails is visible with 1,000 photos in the account, in headless Chromium on a local stage.
//!
//! Seeding goes through the stage's public HTTP surface, as the SPA does (the Cognito endpoint,
//! `POST /photos/uploads`, the S3-style POST, then the stage's own thumbnail processing), so the
//! listing and the media the browser then loads are exactly what a real account produces. The
//! photos are small generated JPEGs, each different, so every one is a distinct upload.

use std::io::Read as _;
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::local::LocalClient;
use web_e2e::{Browser, Driver, Stage, bounded, http, poll, site};

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "Correct-Horse-Battery-Staple-9";
/// The budget: the first screen of thumbnails visible within a second of navigation.
const BUDGET_MS: f64 = 1000.0;
/// The first-load budget, gzipped.
const LOAD_BUDGET_BYTES: usize = 300 * 1024;

struct Args {
    photos: usize,
    runs: usize,
}

fn args() -> Args {
    let mut out = Args {
        photos: 1000,
        runs: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let value = it.next().and_then(|v| v.parse::<usize>().ok());
        match (a.as_str(), value) {
            ("--photos", Some(n)) if n > 0 => out.photos = n,
            ("--runs", Some(n)) if n > 0 => out.runs = n,
            _ => {
                eprintln!("usage: bench-web [--photos N] [--runs N]");
                std::process::exit(2);
            }
        }
    }
    out
}

/// `url`'s body as the stage sends it, asking with `accept_encoding` (reqwest decompresses
/// nothing here: these are the bytes on the wire), and its `Content-Encoding`.
async fn fetch(client: &reqwest::Client, url: &str, accept_encoding: &str) -> (Vec<u8>, String) {
    let response = client
        .get(url)
        .header("accept-encoding", accept_encoding)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("fetching {url}: {e}"));
    let encoding = response
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .to_owned();
    let body = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("reading {url}: {e}"));
    (body.to_vec(), encoding)
}

/// The first load: `index.html` and every asset it names, plus `config.json`, each asked for
/// as Chromium asks (`gzip, deflate, br, zstd`) and without compression.
async fn first_load(stage: &Stage) {
    let site = site();
    let client = http();
    let mut total = (0usize, 0usize);
    println!("first load (each file as the stage sends it: plain, and to a browser):");
    let paths = site
        .files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| *p != "config.json")
        .chain(["config.json"]);
    for path in paths {
        let url = format!("{}/{path}", stage.base);
        let (plain, _) = fetch(&client, &url, "identity").await;
        let (sent, encoding) = fetch(&client, &url, "gzip, deflate, br, zstd").await;
        if encoding == "gzip" {
            let mut unpacked = Vec::new();
            flate2::read::GzDecoder::new(&sent[..])
                .read_to_end(&mut unpacked)
                .unwrap_or_else(|e| panic!("{url}: the stage's gzip does not decode: {e}"));
            assert!(unpacked == plain, "{url}: gzipped, it is another file");
        }
        println!(
            "  {path:<40} {:>9} B  {:>8} B {encoding}",
            plain.len(),
            sent.len()
        );
        total.0 += plain.len();
        total.1 += sent.len();
    }
    println!(
        "  total {} B plain, {} B to a browser = {:.1} KB ({:.0}% of the {} KB budget)",
        total.0,
        total.1,
        total.1 as f64 / 1024.0,
        100.0 * total.1 as f64 / LOAD_BUDGET_BYTES as f64,
        LOAD_BUDGET_BYTES / 1024
    );
}

/// A small JPEG that differs from every other `i`: a colour gradient with a moving band.
fn photo(i: usize) -> Vec<u8> {
    let (w, h) = (320u16, 240u16);
    let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    let hue = (i * 37 % 256) as u8;
    for y in 0..h {
        for x in 0..w {
            let band = (usize::from(x) + i * 7) % 64 < 8;
            let r = hue.wrapping_add((x / 2) as u8);
            let g = (y as u8).wrapping_mul(2).wrapping_add((i / 256) as u8 * 40);
            let b = if band { 255 } else { 255 - hue };
            rgb.extend_from_slice(&[r, g, b]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 80)
        .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("encoding a generated JPEG");
    out
}

/// How many of the account's photos are READY.
async fn ready_count(client: &LocalClient, token: &str) -> Result<usize, String> {
    let (mut ready, mut cursor) = (0, None::<String>);
    loop {
        let mut path = "/photos?limit=100".to_owned();
        if let Some(c) = &cursor {
            path.push_str("&cursor=");
            path.push_str(&urlencode(c));
        }
        let (status, page) = client.api("GET", &path, token, None).await;
        if status != 200 {
            return Err(format!("GET {path}: {status} {page}"));
        }
        let items = page["items"].as_array().cloned().unwrap_or_default();
        ready += items.iter().filter(|p| p["status"] == "READY").count();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(ready),
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Creates the account and uploads `photos` photos over HTTP as the SPA does (ask the API, then
/// POST the form to the bucket), eight at a time; then waits until all are processed.
async fn seed(stage: &Stage, photos: usize) {
    let (token, _) = stage.account(EMAIL, PASSWORD).await;
    let client: LocalClient = (**stage).clone();
    let started = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, token, next) = (client.clone(), token.clone(), next.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= photos {
                    return;
                }
                client
                    .upload(&token, &format!("photo-{i:04}.jpg"), &photo(i))
                    .await;
            }
        });
    }
    while let Some(r) = workers.join_next().await {
        r.expect("an upload worker");
    }
    println!(
        "seeded {photos} photos over HTTP in {:.1?}",
        started.elapsed()
    );
    let limit = Duration::from_secs(60 + photos as u64 / 2);
    poll("every seeded photo processed", limit, || async {
        match ready_count(&client, &token).await? {
            n if n >= photos => Ok(()),
            n => Err(format!("{n} of {photos} ready")),
        }
    })
    .await;
    println!(
        "all {photos} thumbnails ready {:.1?} after seeding started",
        started.elapsed()
    );
}

/// In the page: waits until the first screen of thumbnails has loaded, then reports when the
/// last of them finished loading (resource timing, ms since navigation start), how many there
/// were, and when the listing and the wasm arrived.
const FIRST_SCREEN: &str = r#"
const done = arguments[arguments.length - 1];
const started = Date.now();
const end = (url) => {
  const e = performance.getEntriesByName(url)[0];
  return e ? e.responseEnd : null;
};
(function check() {
  const tiles = document.querySelectorAll('.grid .tile');
  const imgs = [...document.querySelectorAll('.grid .tile img')].filter((i) => {
    const r = i.getBoundingClientRect();
    return r.top < innerHeight && r.bottom > 0;
  });
  // The screen is full when the grid reaches the bottom of the window (or every photo is in).
  const grid = document.querySelector('.grid');
  const full = grid && (grid.getBoundingClientRect().bottom >= innerHeight || tiles.length >= arguments_min);
  if (full && imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0)) {
    const res = performance.getEntriesByType('resource');
    const find = (part) => { const e = res.find((r) => r.name.includes(part)); return e ? e.responseEnd : null; };
    done({
      first_screen: Math.max(...imgs.map((i) => end(i.currentSrc) ?? performance.now())),
      seen_at: performance.now(),
      thumbnails: imgs.length,
      wasm: find('.wasm'),
      listing: find('/api/photos'),
    });
    return;
  }
  if (Date.now() - started > 20000) { done({ error: `tiles ${tiles.length}, visible images ${imgs.length}` }); return; }
  requestAnimationFrame(check);
})();
"#;

async fn measure(b: &Browser, base: &str, min_tiles: usize) -> Value {
    b.goto(&format!("{base}/")).await;
    let script = FIRST_SCREEN.replace("arguments_min", &min_tiles.to_string());
    b.step("waiting for the first screen", |c| async move {
        c.execute_async(&script, Vec::new()).await
    })
    .await
}

fn ms(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "-".into(), |x| format!("{x:.0} ms"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    tokio::task::spawn_blocking(site)
        .await
        .expect("building the SPA");
    bounded("the web benchmark", Duration::from_secs(1800), async {
        let stage = Stage::start().await;
        first_load(&stage).await;
        seed(&stage, args.photos).await;

        let driver = Driver::start().await;
        let b = driver.browser().await;
        // Sign in once through the page, so each measured navigation restores the session from
        // the refresh token as a returning user's does.
        b.goto(&format!("{}/signin", stage.base)).await;
        b.fill("email", EMAIL).await;
        b.fill("password", PASSWORD).await;
        b.click("button[type=submit]").await;
        b.at("/").await;

        let min_tiles = args.photos;
        let mut times = Vec::new();
        println!(
            "first screen of thumbnails, {} photos, window 1280x900, {} navigations to / (assets cached, media URLs fresh each time):",
            args.photos, args.runs
        );
        for run in 1..=args.runs {
            let v = measure(&b, &stage.base, min_tiles).await;
            if let Some(e) = v.get("error") {
                panic!("run {run}: the first screen did not load: {e}");
            }
            let t = v["first_screen"].as_f64().expect("a time");
            println!(
                "  run {run:>2}: first screen {t:.0} ms ({} thumbnails; wasm {}, listing {}, seen {})",
                v["thumbnails"],
                ms(&v["wasm"]),
                ms(&v["listing"]),
                ms(&v["seen_at"])
            );
            times.push(t);
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let worst = times[times.len() - 1];
        println!(
            "first screen: median {median:.0} ms, worst {worst:.0} ms; budget {BUDGET_MS:.0} ms (median is {:.2}x the budget)",
            median / BUDGET_MS
        );
        b.close().await;
    })
    .await;
}
