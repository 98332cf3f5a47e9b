//! What the benchmarks that run a local stage share: a scratch directory, child processes
//! stopped on drop, the stage's HTTP surface over testkit's one-shot client, and an account.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::{cargo, run_checked, target_dir, workspace_root};

/// Builds the `deployer` with the speed-optimised `local-release` profile (the release profile
/// is tuned for Lambda's package size) and returns its path.
pub fn local_release_deployer() -> Result<PathBuf> {
    run_checked(Command::new(cargo()).current_dir(workspace_root()).args([
        "build",
        "--quiet",
        "--profile",
        "local-release",
        "-p",
        "deployer",
    ]))?;
    Ok(target_dir().join("local-release/deployer"))
}

/// A scratch directory under the system temp dir, removed when done. It is world-readable:
/// nginx's workers run as an unprivileged user when the bench runs as root.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating `{}`", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process stopped with SIGTERM (graceful for both nginx and the stage) when dropped.
pub struct Guard(pub Child);

impl Guard {
    pub fn spawn(cmd: &mut Command) -> Result<Self> {
        let shown = format!("{cmd:?}");
        Ok(Guard(
            cmd.spawn().with_context(|| format!("starting {shown}"))?,
        ))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let stopped = testkit::wait_until(Duration::from_secs(10), || {
            matches!(self.0.try_wait(), Ok(Some(_)))
        });
        if stopped {
            return;
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the local stage of `deployer` on a free port with its data in `data` (no site, cheap
/// password hashing: signing in is not what is measured; `extra` arguments after), and waits
/// until it answers: the stage, its HTTP surface, and the time from launch to its first answer.
pub fn start_stage(
    deployer: &Path,
    data: &Path,
    extra: &[&str],
) -> Result<(Guard, Http, Duration)> {
    let port = testkit::free_port();
    let launched = Instant::now();
    let stage = Guard::spawn(
        Command::new(deployer)
            .args(["up", "--stage", "local", "--no-site"])
            .args(["--port", &port.to_string()])
            .arg("--data-dir")
            .arg(data)
            .arg("--fast-password-hashing")
            .args(extra)
            .env_remove("DEPLOYER_STAGE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    )?;
    let http = Http { port };
    // Polled often, so start-up is timed closely; bounded so a stage that never answers stops it.
    let deadline = launched + Duration::from_secs(120);
    loop {
        if http
            .call("GET", "/api/openapi.json", None, None)
            .is_ok_and(|(status, _)| status == 200)
        {
            return Ok((stage, http, launched.elapsed()));
        }
        if Instant::now() > deadline {
            bail!(
                "the stage on `{}` did not answer within 120 s",
                data.display()
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub fn wait_until(limit: Duration, what: &str, ready: impl FnMut() -> bool) -> Result<()> {
    if !testkit::wait_until(limit, ready) {
        bail!("timed out waiting for {what}");
    }
    Ok(())
}

/// The stage's HTTP surface for setting the bench up, over testkit's one-shot HTTP client.
pub struct Http {
    pub port: u16,
}

impl Http {
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<(u16, String)> {
        let json = [("Content-Type", "application/json")];
        let headers: &[(&str, &str)] = if body.is_some() { &json } else { &[] };
        self.raw(method, path, token, headers, body.map(Value::to_string))
    }

    pub fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Result<(u16, String)> {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut all = headers.to_vec();
        all.extend(auth.as_deref().map(|a| ("Authorization", a)));
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let answer =
            testkit::http::request(method, &url, &all, body.unwrap_or_default().as_bytes())
                .with_context(|| format!("{method} {path}"))?;
        let body = String::from_utf8(answer.body).context("a response that is not UTF-8")?;
        Ok((answer.status, body))
    }

    pub fn cognito(&self, action: &str, body: &Value) -> Result<Value> {
        let target = format!("AWSCognitoIdentityProviderService.{action}");
        let (status, answer) = self.raw(
            "POST",
            "/_cognito/",
            None,
            &[
                ("X-Amz-Target", &target),
                ("Content-Type", "application/x-amz-json-1.1"),
            ],
            Some(body.to_string()),
        )?;
        if status != 200 {
            bail!("{action}: {status} {answer}");
        }
        serde_json::from_str(&answer).with_context(|| format!("{action}: {answer}"))
    }
}

/// Signs up, confirms with the code from the outbox and signs in, all over HTTP: an access token.
pub fn account(http: &Http, outbox: &Path, email: &str, password: &str) -> Result<String> {
    http.cognito(
        "SignUp",
        &json!({"ClientId": "localclient", "Username": email, "Password": password,
                "UserAttributes": [{"Name": "email", "Value": email}]}),
    )?;
    let mail = std::fs::read_dir(outbox)
        .with_context(|| format!("reading `{}`", outbox.display()))?
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .find(|text| text.starts_with(&format!("To: {email}\n")))
        .context("no confirmation mail in the outbox")?;
    let code = mail.trim_end().rsplit(' ').next().unwrap_or_default();
    http.cognito(
        "ConfirmSignUp",
        &json!({"ClientId": "localclient", "Username": email, "ConfirmationCode": code}),
    )?;
    let signed_in = http.cognito(
        "InitiateAuth",
        &json!({"ClientId": "localclient", "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": email, "PASSWORD": password}}),
    )?;
    signed_in["AuthenticationResult"]["AccessToken"]
        .as_str()
        .map(str::to_owned)
        .context("no access token in the sign-in answer")
}

/// Signs in an existing account over HTTP: an access token.
pub fn sign_in(http: &Http, email: &str, password: &str) -> Result<String> {
    let signed_in = http.cognito(
        "InitiateAuth",
        &json!({"ClientId": "localclient", "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": email, "PASSWORD": password}}),
    )?;
    signed_in["AuthenticationResult"]["AccessToken"]
        .as_str()
        .map(str::to_owned)
        .context("no access token in the sign-in answer")
}

/// The CPU time, user and system, the process `pid` has used so far (Linux's `/proc`, in
/// `USER_HZ` ticks of 1/100 s); `None` where there is no such file.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}
