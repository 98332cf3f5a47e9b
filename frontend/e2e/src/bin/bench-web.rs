//! `cargo xtask bench web`: the SPA's first-load transfer, and how soon the first screen of
//! thumbnails is visible with 1,000 photos in the account, in headless Chromium on a local stage.
//!
//! The account is filled through the stage's public HTTP surface, as the SPA fills it (see
//! `web_e2e::seed`). The first visit is a new browser with an empty cache whose session is the
//! account's refresh token (a returning user on a new device); the repeat visits are the same
//! browser navigating to the gallery again within one link window, which should take every
//! thumbnail from its cache. Each visit reports the bytes its thumbnails took on the network
//! (resource timing's `transferSize`, 0 for a cache hit).

use std::io::Read as _;
use std::time::Duration;

use serde_json::Value;
use web_e2e::{Browser, Driver, Stage, bounded, http, seed, site};

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "Correct-Horse-Battery-Staple-9";
/// The budget: the first screen of thumbnails visible within a second of navigation.
const BUDGET_MS: f64 = 1000.0;
/// The first-load budget, gzipped.
const LOAD_BUDGET_BYTES: usize = 180 * 1024;

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
    const media = res.filter((r) => r.initiatorType === 'img');
    done({
      first_screen: Math.max(...imgs.map((i) => end(i.currentSrc) ?? performance.now())),
      seen_at: performance.now(),
      thumbnails: imgs.length,
      wasm: find('.wasm'),
      listing: find('/api/photos/timeline'),
      image_requests: media.length,
      image_bytes: media.reduce((sum, r) => sum + r.transferSize, 0),
      from_cache: media.filter((r) => r.transferSize === 0).length,
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

/// One measured navigation to the gallery, printed as `label`; its first-screen time.
async fn visit(b: &Browser, base: &str, min_tiles: usize, label: &str) -> f64 {
    let v = measure(b, base, min_tiles).await;
    if let Some(e) = v.get("error") {
        panic!("{label}: the first screen did not load: {e}");
    }
    let t = v["first_screen"].as_f64().expect("a time");
    // An image from the disk cache has an entry that transferred 0 bytes; one from the memory
    // cache has none.
    let (requests, cached) = (
        v["image_requests"].as_u64().unwrap_or_default(),
        v["from_cache"].as_u64().unwrap_or_default(),
    );
    println!(
        "  {label}: first screen {t:.0} ms ({} thumbnails; wasm {}, listing {}, seen {}); \
         images over the network: {} requests, {} B",
        v["thumbnails"],
        ms(&v["wasm"]),
        ms(&v["listing"]),
        ms(&v["seen_at"]),
        requests - cached,
        v["image_bytes"],
    );
    t
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
        seed::account_with_photos(&stage, EMAIL, PASSWORD, args.photos).await;
        let tokens = stage.sign_in_tokens(EMAIL, PASSWORD).await;
        let refresh = tokens["RefreshToken"]
            .as_str()
            .expect("sign-in gives a refresh token")
            .to_owned();

        let driver = Driver::start().await;
        let b = driver.browser().await;
        b.step("sizing the window", |c| async move {
            c.set_window_size(1440, 900).await
        })
        .await;
        // A returning user on a new device: the session is in storage, the cache is empty.
        b.goto(&format!("{}/signin", stage.base)).await;
        b.js(&format!(
            "localStorage.setItem('photos.refreshToken', {});",
            Value::String(refresh)
        ))
        .await;

        let min_tiles = args.photos;
        println!(
            "first screen of thumbnails on the timeline, {} photos, window 1440x900: a first visit (empty cache), then {} repeat visits within one link window:",
            args.photos, args.runs
        );
        visit(&b, &stage.base, min_tiles, "first visit").await;
        let mut times = Vec::new();
        for run in 1..=args.runs {
            times.push(visit(&b, &stage.base, min_tiles, &format!("repeat {run:>2}")).await);
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let worst = times[times.len() - 1];
        println!(
            "repeat visits' first screen: median {median:.0} ms, worst {worst:.0} ms; budget {BUDGET_MS:.0} ms (median is {:.2}x the budget)",
            median / BUDGET_MS
        );
        b.close().await;
    })
    .await;
}
