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
use std::path::{Path, PathBuf};
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
    deployer: PathBuf,
    config: PathBuf,
    template: PathBuf,
    artifacts: PathBuf,
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
/// build of the deployer, built first), or `cargo xtask bench up --readme [RUNS]` ([`readme`]).
pub fn run(args: &[String]) -> Result<()> {
    let mut runs_arg = None;
    let mut deployer = None;
    let mut as_readme = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--deployer" => {
                deployer = Some(PathBuf::from(
                    rest.next().context("`--deployer` needs a path")?,
                ));
            }
            "--readme" => as_readme = true,
            _ => runs_arg = Some(arg),
        }
    }
    if as_readme {
        return readme(parse_runs(runs_arg, 5)?);
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
    let mut synth = Command::new(&deployer);
    synth
        .arg("--config")
        .arg(&config)
        .args(["synth", "--stage", "dev"]);
    let template = moto_template(&mut synth, &dir)?;
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

/// What one `cargo run -p deployer -- up --json` reported in its `summary`.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Whether it succeeded.
    pub ok: bool,
    /// Artifacts uploaded.
    pub uploaded: u64,
    /// Change sets created.
    pub change_sets: u64,
    /// The deployer's own time, from its start (seconds).
    pub seconds: f64,
    /// Its `--verbose` steps, in milliseconds, in order.
    pub steps_ms: Vec<(String, f64)>,
}

/// The `summary` object among `up --json`'s lines.
pub fn summary_of(stdout: &str) -> Option<Summary> {
    let value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "summary")?;
    Some(Summary {
        ok: value["ok"].as_bool().unwrap_or(false),
        uploaded: value["uploaded"].as_u64().unwrap_or(0),
        change_sets: value["change_sets"].as_u64().unwrap_or(0),
        seconds: value["seconds"].as_f64().unwrap_or(0.0),
        steps_ms: value["steps_ms"]
            .as_object()
            .map(|steps| {
                steps
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_f64().unwrap_or(0.0)))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// One README run: wall time, the deployer's summary, and what moto saw.
struct ReadmeRun {
    took: Duration,
    summary: Summary,
    uploads: usize,
    change_sets: usize,
}

/// `cargo run -p deployer -- up --stage dev --no-site --json --verbose` from the repository, as
/// the README runs it (building the debug deployer if needed, building and zipping the
/// functions), against `moto` with `template` (`DEPLOYER_TEMPLATE`).
fn readme_once(moto: &MotoServer, template: &Path, out: &Path) -> Result<ReadmeRun> {
    let requests_before = requests(moto)?.len();
    let log = File::create(out).with_context(|| format!("creating `{}`", out.display()))?;
    let start = Instant::now();
    let output = Command::new(crate::cargo())
        .current_dir(workspace_root())
        .args(["run", "-q", "-p", "deployer", "--"])
        .args(["up", "--stage", "dev", "--no-site", "--json", "--verbose"])
        .env("AWS_ENDPOINT_URL", moto.endpoint_url())
        .env("DEPLOYER_TEMPLATE", template)
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
        .env_remove("DEPLOYER_CONFIG")
        .env_remove("DEPLOYER_STAGE")
        .env_remove("DEPLOYER_REGION")
        .env_remove("DEPLOYER_ARTIFACTS_DIR")
        .env_remove("DEPLOYER_NO_SITE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .output()
        .context("starting `cargo run -p deployer`")?;
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    std::fs::write(out.with_extension("jsonl"), stdout.as_bytes())?;
    if !output.status.success() {
        bail!(
            "`cargo run -p deployer -- up --stage dev` failed with {}; its output is in `{}`",
            output.status,
            out.display()
        );
    }
    let summary = summary_of(&stdout).context("`up --json` printed no summary")?;
    let requests = requests(moto)?;
    let new = &requests[requests_before.min(requests.len())..];
    Ok(ReadmeRun {
        took,
        summary,
        uploads: new.iter().filter(|(m, u, _)| is_upload(m, u)).count(),
        change_sets: new
            .iter()
            .filter(|(_, _, body)| is_create_change_set(body))
            .count(),
    })
}

/// Runs `synth` (a `deployer synth --stage dev`) and writes its template, cut down to what moto
/// creates, to `dir/template.json`: the path written.
fn moto_template(synth: &mut Command, dir: &Path) -> Result<PathBuf> {
    let out = synth
        .output()
        .context("running `deployer synth --stage dev`")?;
    if !out.status.success() {
        bail!(
            "`deployer synth --stage dev` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let template = dir.join("template.json");
    std::fs::write(&template, for_moto(&String::from_utf8_lossy(&out.stdout))?)?;
    Ok(template)
}

/// `cargo xtask bench up --readme [RUNS]`: the no-op `up` as the README runs it, `cargo run -p
/// deployer -- up --stage dev` with the repository's `deployer.toml`, building and packaging
/// included, against a moto server (with the template moto can create, `DEPLOYER_TEMPLATE`,
/// and `--no-site`: moto keeps no stack outputs to publish the SPA with). After a first,
/// deploying run, RUNS no-op runs (5 by default): the median wall time (goal: under 1 s), what
/// `cargo run` itself adds (its freshness check and start), uploads and change sets per run
/// (from `up --json`'s summary, checked against moto's recording; goal: 0) and the `--verbose`
/// steps of the median run.
pub fn readme(runs: usize) -> Result<()> {
    let dir = target_dir().join("bench-up-readme");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating `{}`", dir.display()))?;
    let mut synth = Command::new(crate::cargo());
    synth
        .current_dir(workspace_root())
        .args([
            "run", "-q", "-p", "deployer", "--", "synth", "--stage", "dev",
        ])
        .env_remove("DEPLOYER_CONFIG");
    let template = moto_template(&mut synth, &dir)?;
    let moto = MotoServer::start_recording(&dir.join("moto-recording.jsonl"));

    // The first `up` builds the functions and creates everything: not timed.
    let first = readme_once(&moto, &template, &dir.join("up-initial.log"))?;
    println!(
        "initial up: {:.1} s, {} uploads, {} change sets",
        first.took.as_secs_f64(),
        first.summary.uploaded,
        first.summary.change_sets
    );
    let mut done = Vec::with_capacity(runs);
    for i in 0..runs {
        done.push(readme_once(
            &moto,
            &template,
            &dir.join(format!("up-{i}.log")),
        )?);
    }
    let mut order: Vec<usize> = (0..runs).collect();
    order.sort_by_key(|&i| done[i].took);
    let mid = &done[order[runs / 2]];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let walls: Vec<Duration> = done.iter().map(|r| r.took).collect();
    let inside: Vec<Duration> = done
        .iter()
        .map(|r| Duration::from_secs_f64(r.summary.seconds))
        .collect();
    let outside: Vec<Duration> = done
        .iter()
        .map(|r| {
            r.took
                .saturating_sub(Duration::from_secs_f64(r.summary.seconds))
        })
        .collect();
    println!(
        "cargo run -p deployer -- up --stage dev --no-site, nothing changed, against moto ({runs} runs)"
    );
    println!(
        "  wall time        median {:.0} ms   min {:.0} ms   max {:.0} ms   goal: median < 1000 ms",
        ms(median(&walls)),
        ms(done[order[0]].took),
        ms(done[order[runs - 1]].took)
    );
    println!(
        "    in the deployer    median {:.0} ms (its summary's `seconds`)",
        ms(median(&inside))
    );
    println!(
        "    cargo run itself   median {:.0} ms (freshness check, process start)",
        ms(median(&outside))
    );
    let per_run = |f: fn(&ReadmeRun) -> u64| {
        done.iter()
            .map(|r| f(r).to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "  uploads per run      {}   (moto saw {})   goal: 0",
        per_run(|r| r.summary.uploaded),
        per_run(|r| r.uploads as u64)
    );
    println!(
        "  change sets per run  {}   (moto saw {})   goal: 0",
        per_run(|r| r.summary.change_sets),
        per_run(|r| r.change_sets as u64)
    );
    println!("  steps of the median run (`--verbose`):");
    for (step, took) in &mid.summary.steps_ms {
        println!("    {step:<24} {took:>7.1} ms");
    }
    println!("  (each run's output: {})", dir.display());
    if done
        .iter()
        .any(|r| !r.summary.ok || r.summary.uploaded > 0 || r.summary.change_sets > 0)
    {
        bail!("a no-op `up` uploaded something or created a change set");
    }
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

    #[test]
    fn the_summary_is_read_from_up_json() {
        let stdout = concat!(
            r#"{"event":"build","function":"api"}"#,
            "\n",
            r#"{"event":"summary","ok":true,"uploaded":0,"change_sets":0,"seconds":0.25,"steps_ms":{"build":120.5,"package":3.0}}"#,
            "\n"
        );
        assert_eq!(
            summary_of(stdout),
            Some(Summary {
                ok: true,
                uploaded: 0,
                change_sets: 0,
                seconds: 0.25,
                steps_ms: vec![("build".to_owned(), 120.5), ("package".to_owned(), 3.0)],
            })
        );
        assert_eq!(summary_of("not json\n"), None);
    }
}
