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

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench::{median, parse_runs};
use crate::{cargo, run_checked, target_dir, workspace_root};

/// A moto server recording every request it serves (method, URL, body) to a file, killed when
/// dropped.
struct RecordedMoto {
    child: Child,
    addr: SocketAddr,
    recording: std::path::PathBuf,
}

impl Drop for RecordedMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RecordedMoto {
    fn start(dir: &Path) -> Result<RecordedMoto> {
        let bin = testkit::oracle_bin("moto", "moto_server");
        let port = testkit::free_port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let recording = dir.join("moto-recording.jsonl");
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting `{}`", bin.display()))?;
        let moto = RecordedMoto {
            child,
            addr,
            recording,
        };
        if !testkit::wait_for_port(addr, Duration::from_secs(30)) {
            bail!("moto did not start on {addr}");
        }
        moto.post("/moto-api/recorder/start-recording")?;
        Ok(moto)
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn post(&self, path: &str) -> Result<()> {
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "POST {path} HTTP/1.0\r\nHost: {}\r\nContent-Length: 0\r\n\r\n",
            self.addr
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        if !response.starts_with("HTTP/1.1 200") && !response.starts_with("HTTP/1.0 200") {
            bail!("moto answered `{path}` with {response}");
        }
        Ok(())
    }

    /// Every request recorded so far: method, URL and decoded body.
    fn requests(&self) -> Result<Vec<(String, String, String)>> {
        use base64::Engine as _;
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
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

/// The resource types of the stack moto 5 has no CloudFormation model for.
const MOTO_CANNOT_CREATE: [&str; 13] = [
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
    "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::S3::BucketPolicy",
];

/// The stage's template without the resources moto cannot create; references to them become
/// placeholder strings.
pub fn for_moto(template: &str) -> Result<String> {
    let mut value: serde_json::Value =
        serde_json::from_str(template).context("parsing the synthesized template")?;
    let resources = value["Resources"]
        .as_object_mut()
        .context("the template has no `Resources`")?;
    let removed: HashSet<String> = resources
        .iter()
        .filter(|(_, r)| {
            r["Type"]
                .as_str()
                .is_some_and(|t| MOTO_CANNOT_CREATE.contains(&t))
        })
        .map(|(id, _)| id.clone())
        .collect();
    resources.retain(|id, _| !removed.contains(id));
    replace_references(&mut value, &removed);
    Ok(serde_json::to_string_pretty(&value)?)
}

fn placeholder(id: &str) -> serde_json::Value {
    serde_json::Value::String(format!("{id}-not-in-moto"))
}

fn replace_references(value: &mut serde_json::Value, removed: &HashSet<String>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if let Some(Value::String(id)) = map.get("Ref")
                && removed.contains(id)
            {
                *value = placeholder(id);
                return;
            }
            if let Some(Value::Array(att)) = map.get("Fn::GetAtt")
                && let Some(Value::String(id)) = att.first()
                && removed.contains(id)
            {
                *value = placeholder(id);
                return;
            }
            if let Some(Value::Array(deps)) = map.get_mut("DependsOn") {
                deps.retain(|d| !d.as_str().is_some_and(|d| removed.contains(d)));
            }
            if let Some(Value::String(d)) = map.get("DependsOn")
                && removed.contains(d)
            {
                map.remove("DependsOn");
            }
            match map.get_mut("Fn::Sub") {
                Some(Value::String(text)) => *text = substitute(text, removed),
                Some(Value::Array(parts)) => {
                    if let Some(Value::String(text)) = parts.first_mut() {
                        *text = substitute(text, removed);
                    }
                }
                _ => {}
            }
            for v in map.values_mut() {
                replace_references(v, removed);
            }
        }
        Value::Array(items) => {
            for v in items {
                replace_references(v, removed);
            }
        }
        _ => {}
    }
}

/// Replaces `${Id}` and `${Id.Attr}` of removed resources in a `Fn::Sub` string.
fn substitute(text: &str, removed: &HashSet<String>) -> String {
    let mut out = text.to_owned();
    for id in removed {
        let pattern = format!("${{{id}");
        let mut from = 0;
        while let Some(found) = out[from..].find(&pattern) {
            let start = from + found;
            let Some(len) = out[start..].find('}') else {
                break;
            };
            let end = start + len;
            let name = &out[start + 2..end];
            if name == id.as_str() || name.starts_with(&format!("{id}.")) {
                out.replace_range(start..=end, &format!("{id}-not-in-moto"));
            } else {
                from = end;
            }
        }
    }
    out
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

fn up_once(setup: &Setup, moto: &RecordedMoto, out: &Path) -> Result<Run> {
    let requests_before = moto.requests()?.len();
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
            &moto.url(),
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
    let requests = moto.requests()?;
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
        None => {
            run_checked(Command::new(cargo()).current_dir(workspace_root()).args([
                "build",
                "--quiet",
                "--release",
                "-p",
                "deployer",
            ]))?;
            target_dir().join("release/deployer")
        }
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
    let moto = RecordedMoto::start(&dir)?;

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

    #[test]
    fn moto_templates_lose_what_moto_cannot_create() {
        let template = r#"{"Resources": {
            "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}},
            "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": ["Api"], "Properties": {
                "A": {"Ref": "Api"}, "B": {"Fn::GetAtt": ["Api", "ApiEndpoint"]},
                "C": {"Fn::Sub": "${Api}/x/${Api.ApiEndpoint}/${Fn}"}}}}}"#;
        let out: serde_json::Value = serde_json::from_str(&for_moto(template).unwrap()).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"Resources": {"Fn": {"Type": "AWS::Lambda::Function",
                "DependsOn": [], "Properties": {"A": "Api-not-in-moto", "B": "Api-not-in-moto",
                "C": {"Fn::Sub": "Api-not-in-moto/x/Api-not-in-moto/${Fn}"}}}}})
        );
    }
}
