//! `cargo xtask bench up [RUNS]`: `deployer up` with nothing changed, against a moto server:
//! median wall time, uploads and change sets per run (goal: median <= 1 s, 0 uploads, 0 change
//! sets).
//!
//! The counts come from moto, not from the deployer's own report, so a deployer that
//! miscounts cannot pass: moto's request recorder writes down every request, and uploads are
//! the object writes among them (`PUT` of a key, or the start of a multipart upload), change
//! sets the `CreateChangeSet` calls.
//!
//! Runs the deployer as an operator would: `deployer up --stage dev --endpoint-url URL --yes`,
//! with moto's fake credentials in the environment, plus what moto needs: the stage's template
//! without the resource types moto cannot create (`--template`; references to them become
//! placeholder strings), stand-in function zips (`--artifacts-dir`: moto never runs them, and
//! building the real ones is `cargo xtask bench api`'s business), and `--no-site` (a stack made
//! through a change set has no outputs on moto, so there is nothing to publish the SPA with).

use std::fs::File;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use testkit::MotoServer;

use crate::bench::{median, parse_runs, release_deployer};
use crate::{target_dir, workspace_root};

/// Every request moto recorded so far: method, URL and decoded body.
fn requests(moto: &MotoServer) -> Result<Vec<(String, String, String)>> {
    use base64::Engine as _;
    let recording = moto.recording().context("moto is not recording")?;
    let text = std::fs::read_to_string(recording).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let entry: serde_json::Value =
                serde_json::from_str(line).context("parsing moto's recording")?;
            let body = entry["body"].as_str().unwrap_or_default();
            let body = base64::engine::general_purpose::STANDARD
                .decode(body)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            Ok((
                entry["method"].as_str().unwrap_or_default().to_owned(),
                entry["url"].as_str().unwrap_or_default().to_owned(),
                body,
            ))
        })
        .collect()
}

/// Whether a CloudFormation query-protocol body is a `CreateChangeSet` call.
pub fn is_create_change_set(body: &str) -> bool {
    body.split('&').any(|p| p == "Action=CreateChangeSet")
}

/// Whether a request is an object upload: `PUT /bucket/key` (path-style, not a bucket
/// sub-resource such as `?policy`), or `POST /bucket/key?uploads` starting a multipart one.
pub fn is_upload(method: &str, url: &str) -> bool {
    // The recording holds absolute URLs; the path starts after the authority.
    let target = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(url);
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

/// The stage's template without the resources moto cannot create; references to them become
/// placeholder strings.
pub fn for_moto(template: &str) -> Result<String> {
    let value = serde_json::from_str(template).context("parsing the synthesized template")?;
    Ok(serde_json::to_string_pretty(&testkit::template::for_moto(
        value,
    ))?)
}

/// Writes a stand-in `NAME.zip` (one `bootstrap` entry) for each function.
fn stand_in_zips(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    for name in ["api", "thumbnail"] {
        let path = dir.join(format!("{name}.zip"));
        let mut zip = zip::ZipWriter::new(
            File::create(&path).with_context(|| format!("creating `{}`", path.display()))?,
        );
        let options = zip::write::SimpleFileOptions::default()
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o755);
        zip.start_file("bootstrap", options)?;
        zip.write_all(format!("stand-in {name} function").as_bytes())?;
        zip.finish()?;
    }
    Ok(())
}

/// What every run of the deployer gets besides `up --stage dev`.
struct Setup {
    deployer: std::path::PathBuf,
    config: std::path::PathBuf,
    template: std::path::PathBuf,
    artifacts: std::path::PathBuf,
}

/// One `deployer up`: its wall time, uploads and change sets.
struct Run {
    took: Duration,
    uploads: usize,
    change_sets: usize,
}

fn up_once(setup: &Setup, moto: &MotoServer, out: &Path) -> Result<Run> {
    let requests_before = requests(moto)?.len();
    let log = File::create(out).with_context(|| format!("creating `{}`", out.display()))?;
    let start = Instant::now();
    let status = Command::new(&setup.deployer)
        .current_dir(workspace_root())
        .arg("--config")
        .arg(&setup.config)
        .args([
            "up",
            "--stage",
            "dev",
            "--endpoint-url",
            &moto.endpoint_url(),
            "--yes",
        ])
        .arg("--template")
        .arg(&setup.template)
        .arg("--artifacts-dir")
        .arg(&setup.artifacts)
        .arg("--no-site")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_CONFIG_FILE", out.with_extension("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            out.with_extension("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("DEPLOYER_REGION")
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
    let requests = requests(moto)?;
    let new = &requests[requests_before.min(requests.len())..];
    Ok(Run {
        took,
        uploads: new.iter().filter(|(m, u, _)| is_upload(m, u)).count(),
        change_sets: new
            .iter()
            .filter(|(_, _, body)| is_create_change_set(body))
            .count(),
    })
}

/// Runs the benchmark: `cargo xtask bench up [RUNS] [--deployer PATH]` (by default the release
/// build of the deployer, built first).
pub fn run(args: &[String]) -> Result<()> {
    let mut runs_arg = None;
    let mut deployer = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--deployer" => {
                deployer = Some(std::path::PathBuf::from(
                    rest.next().context("`--deployer` needs a path")?,
                ));
            }
            _ => runs_arg = Some(arg),
        }
    }
    let runs = parse_runs(runs_arg, 10)?;
    let deployer = match deployer {
        Some(path) => path,
        None => release_deployer()?,
    };
    let dir = target_dir().join("bench-up");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let config = dir.join("deployer.toml");
    std::fs::write(
        &config,
        "[stages.dev]\nregion = \"eu-west-1\"\narchitecture = \"arm64\"\n",
    )?;
    let synth = Command::new(&deployer)
        .arg("--config")
        .arg(&config)
        .args(["synth", "--stage", "dev"])
        .output()
        .context("running `deployer synth`")?;
    if !synth.status.success() {
        bail!(
            "`deployer synth --stage dev` failed: {}",
            String::from_utf8_lossy(&synth.stderr)
        );
    }
    let template = dir.join("template.json");
    std::fs::write(
        &template,
        for_moto(&String::from_utf8_lossy(&synth.stdout))?,
    )?;
    let artifacts = dir.join("artifacts");
    stand_in_zips(&artifacts)?;
    let setup = Setup {
        deployer,
        config,
        template,
        artifacts,
    };
    let moto = MotoServer::start_recording(&dir.join("moto-recording.jsonl"));

    // The first `up` creates everything: not timed.
    let first = up_once(&setup, &moto, &dir.join("up-initial.log"))?;
    println!(
        "initial deployer up: {:.1} s, {} uploads, {} change sets",
        first.took.as_secs_f64(),
        first.uploads,
        first.change_sets
    );
    let mut samples = Vec::with_capacity(runs);
    let (mut uploads, mut change_sets) = (0, 0);
    for i in 0..runs {
        let run = up_once(&setup, &moto, &dir.join(format!("up-{i}.log")))?;
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

    fn check(method: &str, url: &str, expected: bool) {
        assert_eq!(is_upload(method, url), expected, "{method} {url}");
    }

    #[test]
    fn uploads_are_object_writes() {
        let at = "http://127.0.0.1:5000";
        check(
            "PUT",
            &format!("{at}/artifacts/abc.zip?x-id=PutObject"),
            true,
        );
        check("PUT", &format!("{at}/site/assets/app-1.js"), true);
        check("POST", &format!("{at}/artifacts/big.json?uploads"), true);
        check("PUT", &format!("{at}/artifacts"), false);
        check("PUT", &format!("{at}/artifacts/"), false);
        check("PUT", &format!("{at}/artifacts?policy"), false);
        check("PUT", &format!("{at}/artifacts/k?tagging"), false);
        check(
            "PUT",
            &format!("{at}/artifacts/k?partNumber=2&uploadId=x"),
            false,
        );
        check("GET", &format!("{at}/artifacts/abc.zip"), false);
        check("HEAD", &format!("{at}/artifacts/abc.zip"), false);
        check("POST", &format!("{at}/"), false);
        assert!(is_create_change_set(
            "Action=CreateChangeSet&Version=2010-05-15&StackName=s"
        ));
        assert!(!is_create_change_set(
            "Action=DescribeChangeSet&ChangeSetName=Action%3DCreateChangeSet"
        ));
    }
}
