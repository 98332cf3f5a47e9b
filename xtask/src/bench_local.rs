//! `cargo xtask bench local`: the local stage listing 50 photos for 50 concurrent clients, against
//! nginx serving the same JSON body as a static file, measured with `wrk` in the same run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::bench_stage::{
    Guard, Http, Scratch, account, local_release_deployer, start_stage, wait_until,
};

const PHOTOS: usize = 50;
const CLIENTS: usize = 50;
/// Rounds of the two servers in turn; an odd number, so the median is one of them.
const ROUNDS: usize = 3;
const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "Correct-Horse-Battery-9";

/// Builds the `deployer` with the speed-optimised `local-release` profile (the release profile
/// is tuned for Lambda's package size), fills a fresh local stage with one user and 50 photos, and
/// loads `GET /api/photos?limit=50` and nginx in turn, for `SECONDS` (default 5) each, in
/// [`ROUNDS`] rounds. `--deployer PATH` measures another build instead (an older version, say).
pub fn run(args: &[String]) -> Result<()> {
    let mut seconds = 5;
    let mut deployer = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--deployer" {
            let path = rest.next().map(std::path::PathBuf::from);
            match path {
                Some(path) if path.is_file() => deployer = Some(path),
                _ => bail!("--deployer wants the path of a `deployer` binary"),
            }
            continue;
        }
        seconds = match arg.parse::<u64>() {
            Ok(n) if (1..=600).contains(&n) => n,
            _ => bail!("SECONDS must be a whole number from 1 to 600, not `{arg}`"),
        };
    }
    crate::apt::ensure(&[("wrk", "wrk"), ("nginx", "nginx")])?;
    let deployer = match deployer {
        Some(path) => path,
        None => local_release_deployer()?,
    };

    let scratch = Scratch::new("local")?;
    let (stage, http, _) = start_stage(&deployer, &scratch.0.join("stage"), &[])?;
    let port = http.port;
    let token = account(&http, &scratch.0.join("stage/outbox"), EMAIL, PASSWORD)?;
    for i in 0..PHOTOS {
        // Distinct declared checksums: the API refuses a second upload of the same bytes.
        let body = json!({"file_name": format!("photo-{i:02}.jpg"), "content_type": "image/jpeg",
                          "size": 1_000_000 + i, "sha256": format!("{:064x}", i + 1)});
        let (status, answer) =
            http.call("POST", "/api/photos/uploads", Some(&token), Some(&body))?;
        if status != 201 {
            bail!("creating photo {i}: {status} {answer}");
        }
    }
    let path = format!("/api/photos?limit={PHOTOS}");
    let (status, listing) = http.call("GET", &path, Some(&token), None)?;
    let items = serde_json::from_str::<Value>(&listing)
        .ok()
        .and_then(|v| v["items"].as_array().map(Vec::len));
    if status != 200 || items != Some(PHOTOS) {
        bail!("listing the photos: {status} {listing}");
    }

    let www = scratch.0.join("www");
    std::fs::create_dir_all(&www)?;
    std::fs::write(www.join("photos.json"), &listing)?;
    let nginx_port = testkit::free_port();
    let conf = nginx_config(&scratch.0, nginx_port);
    std::fs::write(scratch.0.join("nginx.conf"), conf)?;
    open_to_workers(&scratch.0)?;
    let nginx = Guard::spawn(
        Command::new("nginx")
            .arg("-p")
            .arg(&scratch.0)
            .arg("-c")
            .arg(scratch.0.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    )?;
    let nginx_http = Http { port: nginx_port };
    wait_until(Duration::from_secs(10), "nginx to start", || {
        nginx_http
            .call("GET", "/photos.json", None, None)
            .is_ok_and(|(status, body)| status == 200 && body == listing)
    })?;

    let auth = format!("Authorization: Bearer {token}");
    let ours_url = format!("http://127.0.0.1:{port}{path}");
    let peer_url = format!("http://127.0.0.1:{nginx_port}/photos.json");
    // A short warm-up of each, then rounds of the two in turn: this machine's speed drifts
    // from minute to minute, nginx's as much as ours, so each round's ratio compares runs made
    // side by side, and the median of the rounds is what is judged.
    wrk(&ours_url, &auth, 1)?;
    wrk(&peer_url, &auth, 1)?;
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let cpu_before = crate::bench_stage::cpu_seconds(stage.0.id());
        let ours = wrk(&ours_url, &auth, seconds)?;
        let cpu_after = crate::bench_stage::cpu_seconds(stage.0.id());
        let peer = wrk(&peer_url, &auth, seconds)?;
        let cpu = cpu_before.zip(cpu_after).map(|(b, a)| a - b);
        rounds.push((ours, peer, cpu));
    }
    drop(nginx);
    drop(stage);

    println!(
        "GET /api/photos?limit={PHOTOS} ({} byte JSON body), {CLIENTS} connections, wrk -t2, {ROUNDS} rounds of {seconds} s each",
        listing.len()
    );
    let mut ratios = Vec::with_capacity(ROUNDS);
    for (i, (ours, peer, cpu)) in rounds.iter().enumerate() {
        println!("round {}:", i + 1);
        ours.print("local stage");
        peer.print("nginx static (peer)");
        if let Some(busy) = cpu {
            println!(
                "  local stage CPU: {:.0} us a request ({:.2} cores busy)",
                busy / (ours.requests_per_sec * seconds as f64) * 1e6,
                busy / seconds as f64
            );
        }
        let ratio = ours.requests_per_sec / peer.requests_per_sec;
        println!("  ratio: {ratio:.2}x");
        ratios.push(ratio);
    }
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios[ROUNDS / 2];
    let worst_p99 = rounds.iter().map(|r| r.0.p99_ms).fold(0.0, f64::max);
    let errors: u64 = rounds.iter().map(|r| r.0.errors).sum();
    println!("throughput ratio (median of {ROUNDS}): {ratio:.2}x nginx   goal >= 0.40x");
    println!(
        "goals: throughput {}, p99 {} (worst round {worst_p99:.2} ms, goal <= 20 ms), errors {}",
        verdict(ratio >= 0.4),
        verdict(worst_p99 <= 20.0),
        verdict(errors == 0)
    );
    Ok(())
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

#[cfg(unix)]
fn open_to_workers(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    for (path, mode) in [
        (dir.to_owned(), 0o755),
        (dir.join("www"), 0o755),
        (dir.join("www/photos.json"), 0o644),
    ] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("opening `{}` to nginx", path.display()))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn open_to_workers(_dir: &Path) -> Result<()> {
    Ok(())
}

/// nginx in the foreground, one worker per core, keep-alive, no access log: the static-file floor.
fn nginx_config(prefix: &Path, port: u16) -> String {
    let p = prefix.display();
    format!(
        "daemon off;
worker_processes auto;
pid {p}/nginx.pid;
error_log {p}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {p}/client_body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        root {p}/www;
        default_type application/json;
    }}
}}
"
    )
}

/// What `wrk --latency` measured.
#[derive(Debug, Clone, PartialEq)]
struct WrkResult {
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

impl WrkResult {
    fn print(&self, name: &str) {
        println!(
            "  {name:<22} {:>10.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   errors {}",
            self.requests_per_sec, self.p50_ms, self.p99_ms, self.errors
        );
    }
}

fn wrk(url: &str, header: &str, seconds: u64) -> Result<WrkResult> {
    let out = Command::new("wrk")
        .args(["-t2", &format!("-c{CLIENTS}"), &format!("-d{seconds}s")])
        .args(["--latency", "--timeout", "5s", "-H", header, url])
        .stderr(Stdio::inherit())
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("wrk failed with {}: {text}", out.status);
    }
    parse_wrk(&text).with_context(|| format!("reading wrk's report:\n{text}"))
}

/// `620.00us`, `1.23ms`, `1.01s` in milliseconds.
fn duration_ms(text: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * scale)
}

fn parse_wrk(text: &str) -> Option<WrkResult> {
    let mut result = WrkResult {
        requests_per_sec: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        errors: 0,
    };
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => result.requests_per_sec = n.parse().ok()?,
            ["50%", d] => result.p50_ms = duration_ms(d)?,
            ["99%", d] => result.p99_ms = duration_ms(d)?,
            ["Non-2xx", "or", "3xx", "responses:", n] => result.errors += n.parse::<u64>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                // `connect 0, read 0, write 0, timeout 0`
                for count in rest.iter().skip(1).step_by(2) {
                    result.errors += count.trim_end_matches(',').parse::<u64>().ok()?;
                }
            }
            _ => {}
        }
    }
    let complete =
        !result.requests_per_sec.is_nan() && !result.p50_ms.is_nan() && !result.p99_ms.is_nan();
    complete.then_some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(report: &str, expected: Option<WrkResult>) {
        assert_eq!(parse_wrk(report), expected);
    }

    const REPORT: &str = "Running 10s test @ http://127.0.0.1:8080/api/photos?limit=50
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.12ms    1.02ms  20.11ms   80.00%
    Req/Sec     8.01k   500.00     9.00k    70.00%
  Latency Distribution
     50%  620.00us
     75%    3.50ms
     90%    4.10ms
     99%    1.20s
  160000 requests in 10.00s, 4.00GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  16000.50
Transfer/sec:    400.00MB
";

    #[test]
    fn reads_throughput_latency_and_every_kind_of_error() {
        check(
            REPORT,
            Some(WrkResult {
                requests_per_sec: 16000.5,
                p50_ms: 0.62,
                p99_ms: 1200.0,
                errors: 7,
            }),
        );
        let clean = REPORT
            .lines()
            .filter(|l| !l.contains("errors") && !l.contains("Non-2xx"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(parse_wrk(&clean).map(|r| r.errors), Some(0));
    }

    #[test]
    fn a_report_without_latency_is_refused() {
        check("Requests/sec:  16000.50\n", None);
        check("", None);
    }
}
