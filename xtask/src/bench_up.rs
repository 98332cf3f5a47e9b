//! `cargo xtask bench up [RUNS]`: `deployer up` with nothing changed, against a moto server:
//! median wall time, uploads and change sets per run (goal: median <= 1 s, 0 uploads, 0 change
//! sets).
//!
//! The counts come from moto, not from the deployer's own report, so a deployer that
//! miscounts cannot pass: uploads are the object writes in moto's request log (`PUT` of a key,
//! or the start of a multipart upload), change sets are the `ChangeSet` instances moto's
//! model dump (`/moto-api/data.json`) has seen, which includes change sets deleted again.
//!
//! Runs the deployer as an operator would: `deployer up --stage dev --endpoint-url URL --yes`
//! from the workspace root, with moto's fake credentials in the environment.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench::{median, parse_runs};
use crate::{cargo, run_checked, target_dir, workspace_root};

/// A moto server whose request log goes to a file, killed when dropped.
struct LoggedMoto {
    child: Child,
    addr: SocketAddr,
    log: std::path::PathBuf,
}

impl Drop for LoggedMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LoggedMoto {
    fn start(dir: &Path) -> Result<LoggedMoto> {
        let bin = testkit::oracle_bin("moto", "moto_server");
        let port = testkit::free_port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let log = dir.join("moto-requests.log");
        let file = File::create(&log).with_context(|| format!("creating `{}`", log.display()))?;
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // werkzeug logs one line per request to stderr.
            .stderr(file)
            .spawn()
            .with_context(|| format!("starting `{}`", bin.display()))?;
        let moto = LoggedMoto { child, addr, log };
        if !testkit::wait_for_port(addr, Duration::from_secs(30)) {
            bail!("moto did not start on {addr}");
        }
        Ok(moto)
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request log so far.
    fn requests(&self) -> Result<Vec<String>> {
        let text = std::fs::read_to_string(&self.log)
            .with_context(|| format!("reading `{}`", self.log.display()))?;
        Ok(text.lines().map(str::to_owned).collect())
    }

    /// How many change sets moto has ever held (its model dump keeps every instance).
    fn change_sets(&self) -> Result<usize> {
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "GET /moto-api/data.json HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let text = String::from_utf8_lossy(&response);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .context("moto's model dump has no body")?;
        let data: serde_json::Value =
            serde_json::from_str(body).context("parsing moto's model dump")?;
        Ok(data["cloudformation"]["ChangeSet"]
            .as_array()
            .map_or(0, Vec::len))
    }
}

/// Whether a werkzeug request-log line is an object upload: `PUT /bucket/key` (path-style, not a
/// bucket sub-resource such as `?policy`), or `POST /bucket/key?uploads` starting a multipart one.
pub fn is_upload(line: &str) -> bool {
    let Some(request) = line.split('"').nth(1) else {
        return false;
    };
    let mut parts = request.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return false;
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let has_key = path
        .trim_start_matches('/')
        .split_once('/')
        .is_some_and(|(_, key)| !key.is_empty());
    let params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    match method {
        "PUT" if has_key => params
            .iter()
            .all(|p| p.starts_with("x-id=PutObject") || p.starts_with("X-Amz-")),
        "POST" if has_key => params
            .iter()
            .any(|p| *p == "uploads" || p.starts_with("uploads=")),
        _ => false,
    }
}

/// One `deployer up`: its wall time, uploads and change sets.
struct Run {
    took: Duration,
    uploads: usize,
    change_sets: usize,
}

fn up_once(deployer: &Path, moto: &LoggedMoto, out: &Path) -> Result<Run> {
    let requests_before = moto.requests()?.len();
    let change_sets_before = moto.change_sets()?;
    let log = File::create(out).with_context(|| format!("creating `{}`", out.display()))?;
    let start = Instant::now();
    let status = Command::new(deployer)
        .current_dir(workspace_root())
        .args([
            "up",
            "--stage",
            "dev",
            "--endpoint-url",
            &moto.url(),
            "--yes",
        ])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .context("starting the deployer")?;
    let took = start.elapsed();
    if !status.success() {
        bail!(
            "`deployer up --stage dev` failed with {status}; its output is in `{}`",
            out.display()
        );
    }
    let uploads = moto.requests()?[requests_before..]
        .iter()
        .filter(|l| is_upload(l))
        .count();
    Ok(Run {
        took,
        uploads,
        change_sets: moto.change_sets()? - change_sets_before,
    })
}

/// Runs the benchmark.
pub fn run(args: &[String]) -> Result<()> {
    let runs = parse_runs(args.first(), 10)?;
    run_checked(Command::new(cargo()).current_dir(workspace_root()).args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "deployer",
    ]))?;
    let deployer = target_dir().join("release/deployer");
    let dir = target_dir().join("bench-up");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let moto = LoggedMoto::start(&dir)?;

    // The first `up` creates everything (and builds the functions and the SPA): not timed.
    let first = up_once(&deployer, &moto, &dir.join("up-initial.log"))?;
    println!(
        "initial deployer up: {:.1} s, {} uploads, {} change sets",
        first.took.as_secs_f64(),
        first.uploads,
        first.change_sets
    );
    let mut samples = Vec::with_capacity(runs);
    let (mut uploads, mut change_sets) = (0, 0);
    for i in 0..runs {
        let run = up_once(&deployer, &moto, &dir.join(format!("up-{i}.log")))?;
        samples.push(run.took);
        uploads += run.uploads;
        change_sets += run.change_sets;
    }
    let mut sorted = samples.clone();
    sorted.sort();
    println!("deployer up --stage dev with nothing changed, against moto ({runs} runs)");
    println!(
        "  wall time   median {:.0} ms   min {:.0} ms   max {:.0} ms   goal: median <= 1000 ms",
        median(&samples).as_secs_f64() * 1000.0,
        sorted[0].as_secs_f64() * 1000.0,
        sorted[sorted.len() - 1].as_secs_f64() * 1000.0
    );
    println!("  uploads     {uploads} in {runs} runs   goal: 0");
    println!("  change sets {change_sets} in {runs} runs   goal: 0");
    println!("  (each run's output: {})", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expected: bool) {
        assert_eq!(is_upload(line), expected, "{line}");
    }

    #[test]
    fn uploads_are_object_writes() {
        let at = "127.0.0.1 - - [24/Nov/2026 22:30:51]";
        check(
            &format!("{at} \"PUT /artifacts/abc.zip?x-id=PutObject HTTP/1.1\" 200 -"),
            true,
        );
        check(
            &format!("{at} \"PUT /site/assets/app-1.js HTTP/1.1\" 200 -"),
            true,
        );
        check(
            &format!("{at} \"POST /artifacts/big.json?uploads HTTP/1.1\" 200 -"),
            true,
        );
        check(&format!("{at} \"PUT /artifacts HTTP/1.1\" 200 -"), false);
        check(&format!("{at} \"PUT /artifacts/ HTTP/1.1\" 200 -"), false);
        check(
            &format!("{at} \"PUT /artifacts?policy HTTP/1.1\" 204 -"),
            false,
        );
        check(
            &format!("{at} \"PUT /artifacts/k?tagging HTTP/1.1\" 200 -"),
            false,
        );
        check(
            &format!("{at} \"PUT /artifacts/k?partNumber=2&uploadId=x HTTP/1.1\" 200 -"),
            false,
        );
        check(
            &format!("{at} \"GET /artifacts/abc.zip HTTP/1.1\" 200 -"),
            false,
        );
        check(
            &format!("{at} \"HEAD /artifacts/abc.zip HTTP/1.1\" 200 -"),
            false,
        );
        check(&format!("{at} \"POST / HTTP/1.1\" 200 -"), false);
        check("not a request line", false);
    }
}
