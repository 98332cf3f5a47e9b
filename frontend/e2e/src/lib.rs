//! Harness for driving the web app in a real browser: the SPA built once, a local stage run
//! in-process on 127.0.0.1, and headless Chromium through chromedriver.
//!
//! Like `testkit`, this is test support: a broken environment is a panic with a message that
//! says what to install or what did not answer, never a skipped test. Every wait is bounded.

use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use spa_build::{BuildOptions, BuiltSite, RuntimeConfig};

pub use fantoccini;

/// The local stage's user pool and app client (see `local_stage::server`).
pub use local_stage::server::{CLIENT_ID, POOL_ID};

/// Chromium's flags: headless, and nothing that reaches for the network on its own (without
/// these it tries to reach Google's services and stalls).
pub const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// The longest any single browser or HTTP step may take before the test fails.
pub const STEP: Duration = Duration::from_secs(60);

/// The workspace root: this crate sits at `frontend/e2e`.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("web-e2e sits two levels below the workspace root")
        .to_path_buf()
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding an ephemeral port on 127.0.0.1")
        .port()
}

/// Runs `f`, failing the test when it takes longer than `limit`.
pub async fn bounded<T>(what: &str, limit: Duration, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no answer within {limit:?}"),
    }
}

/// Polls `check` until it gives a value, failing after `limit` with `what` and the last state.
pub async fn poll<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + limit;
    loop {
        let last = match tokio::time::timeout(STEP, check()).await {
            Ok(Ok(v)) => return v,
            Ok(Err(state)) => state,
            Err(_) => format!("a check took longer than {STEP:?}"),
        };
        if Instant::now() >= deadline {
            panic!("{what}: still not so after {limit:?} ({last})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The SPA, built once per process in its release profile. Its target directory is the one
/// `spa-build`'s own test uses, so a full test run compiles the wasm once.
pub fn site() -> &'static BuiltSite {
    static SITE: OnceLock<BuiltSite> = OnceLock::new();
    SITE.get_or_init(|| {
        let out = target_dir().join("web-e2e").join("site");
        let opts = BuildOptions {
            // The outer `cargo test` holds the lock of the default target directory.
            target_dir: Some(target_dir().join("spa-build-test")),
            ..BuildOptions::new(workspace_root(), &out)
        };
        let started = Instant::now();
        let site = spa_build::build(&opts).unwrap_or_else(|e| panic!("building the SPA: {e}"));
        eprintln!("built the SPA in {:.1?}", started.elapsed());
        site
    })
}

/// A local stage running in this process, stopped when dropped.
#[derive(Debug)]
pub struct Stage {
    pub base: String,
    data: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: std::sync::mpsc::Receiver<String>,
}

impl Stage {
    /// Starts a stage on a free port with a fresh data directory, serving the built SPA with a
    /// `config.json` for this stage, the same as `deployer up --stage local` writes.
    pub async fn start() -> Stage {
        let site = site();
        let data = tempfile::tempdir().expect("creating the stage's data directory");
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        copy_site(site, &data.path().join("site"), &base);

        let defaults = stack::config::StageConfig::with_defaults(
            "local".parse().expect("`local` is a stage name"),
            "us-east-1".parse().expect("`us-east-1` is a region"),
        );
        let options = local_stage::server::UpOptions {
            port,
            data_dir: data.path().to_owned(),
            upload_policy_secs: None,
            password_cost: photo_domain::PasswordCost::Minimal,
            limits: defaults.limits,
            // Served from the copy made above; building is `site()`'s job.
            site_workspace: None,
            processing_delay: Duration::ZERO,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let result = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(anyhow_free)
                .and_then(|rt| {
                    rt.block_on(local_stage::server::up(options, async {
                        let _ = stopped.await;
                    }))
                    .map_err(|e| format!("{e:#}"))
                });
            let _ = done_tx.send(result.err().unwrap_or_default());
        });
        let stage = Stage {
            base,
            data,
            stop: Some(stop),
            done,
        };
        let http = http();
        let url = format!("{}/config.json", stage.base);
        poll("the local stage serving its config", STEP, || async {
            if let Ok(error) = stage.done.try_recv() {
                panic!("the local stage stopped: {error}");
            }
            match http.get(&url).send().await {
                Ok(r) if r.status() == 200 => Ok(()),
                Ok(r) => Err(format!("HTTP {}", r.status())),
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
        stage
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// The newest code mailed to `email` for `purpose` (`confirm` or `reset`), waiting for it.
    pub async fn mailed_code(&self, email: &str, purpose: &str) -> String {
        let outbox = self.data_dir().join("outbox");
        let safe: String = email
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let suffix = format!("-{purpose}-{safe}.txt");
        poll(&format!("a {purpose} mail to {email}"), STEP, || {
            let (outbox, suffix) = (outbox.clone(), suffix.clone());
            async move {
                let mut names: Vec<PathBuf> = std::fs::read_dir(&outbox)
                    .map_err(|e| e.to_string())?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.to_string_lossy().ends_with(&suffix))
                    .collect();
                names.sort();
                let newest = names.pop().ok_or("no mail yet")?;
                let text = std::fs::read_to_string(&newest).map_err(|e| e.to_string())?;
                code_in(&text).ok_or_else(|| format!("no code in {text:?}"))
            }
        })
        .await
    }
}

/// A String error for the runtime builder, so the thread reports one type.
fn anyhow_free(e: std::io::Error) -> String {
    format!("starting the stage's runtime: {e}")
}

/// The code in a mail body: the last word of its last line (`... is 123456`).
fn code_in(mail: &str) -> Option<String> {
    let word = mail.lines().rev().find(|l| !l.trim().is_empty())?;
    let code = word.split_whitespace().last()?;
    (!code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric())).then(|| code.to_owned())
}

impl Drop for Stage {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Graceful shutdown waits for open connections; a browser that keeps one alive must
        // not hold the test up, so the wait is bounded and the thread is left to the process.
        let _ = self.done.recv_timeout(Duration::from_secs(10));
    }
}

/// Copies the built SPA into a stage's site directory and writes its `config.json`.
fn copy_site(site: &BuiltSite, dest: &Path, base: &str) {
    let mut copy = BuiltSite {
        out_dir: dest.to_owned(),
        files: Vec::new(),
    };
    for file in &site.files {
        if file.path == "config.json" {
            continue;
        }
        let to = dest.join(&file.path);
        std::fs::create_dir_all(to.parent().expect("site files live in a directory"))
            .and_then(|()| std::fs::copy(site.disk_path(file), &to))
            .unwrap_or_else(|e| panic!("copying `{}` into the stage: {e}", file.path));
        copy.files.push(file.clone());
    }
    let config = RuntimeConfig {
        api_url: format!("{base}/api"),
        region: "us-east-1".to_owned(),
        user_pool_id: POOL_ID.to_owned(),
        user_pool_client_id: CLIENT_ID.to_owned(),
        cognito_endpoint: format!("{base}/_cognito/"),
    };
    spa_build::write_config(&mut copy, &config)
        .unwrap_or_else(|e| panic!("writing the stage's config.json: {e}"));
}

/// An HTTP client whose every request is bounded.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("building an HTTP client")
}

/// Where a program is on `PATH`.
fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// A chromedriver on a free loopback port, killed when dropped. It hosts any number of
/// browser sessions, each a separate Chromium with its own fresh profile.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    url: String,
    chromium: PathBuf,
}

impl Driver {
    /// Starts chromedriver. Chromium missing is a failure that says how to install it.
    pub async fn start() -> Driver {
        let install = "install Debian's `chromium` and `chromium-driver` (`cargo xtask test` does)";
        let chromium = which("chromium")
            .or_else(|| which("chromium-browser"))
            .unwrap_or_else(|| panic!("no `chromium` on PATH: {install}"));
        let chromedriver =
            which("chromedriver").unwrap_or_else(|| panic!("no `chromedriver` on PATH: {install}"));
        let port = free_port();
        let mut command = Command::new(&chromedriver);
        // A process group of its own, so that dropping the driver also ends every Chromium it
        // started, even when a failed test never closed its session.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting `{}`: {e}", chromedriver.display()));
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            chromium,
        };
        let http = http();
        let status = format!("{}/status", driver.url);
        poll(
            "chromedriver answering",
            Duration::from_secs(30),
            || async {
                match http.get(&status).send().await {
                    Ok(r) if r.status() == 200 => Ok(()),
                    Ok(r) => Err(format!("HTTP {}", r.status())),
                    Err(e) => Err(e.to_string()),
                }
            },
        )
        .await;
        driver
    }

    /// A new Chromium with a fresh, empty profile: no cookies, no storage, no cache.
    pub async fn browser(&self) -> Browser {
        let profile = tempfile::tempdir().expect("creating a browser profile directory");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let caps: Capabilities = match json!({
            "browserName": "chrome",
            // Dialogs (delete and revoke confirmations) are answered by the test, explicitly.
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {
                "binary": self.chromium.to_string_lossy(),
                "args": args,
            },
        }) {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object literal"),
        };
        let client = bounded("starting Chromium", STEP, async {
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps)
                .connect(&self.url)
                .await
        })
        .await
        .unwrap_or_else(|e| panic!("starting a Chromium session: {e}"));
        let browser = Browser {
            client,
            _profile: profile,
        };
        // A laptop-sized window; the flags above are kept exactly as they are.
        browser
            .step("sizing the window", |c| async move {
                c.set_window_size(1280, 900).await
            })
            .await;
        browser
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One Chromium session.
#[derive(Debug)]
pub struct Browser {
    pub client: Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Runs one WebDriver command, bounded, failing the test with `what` on error.
    pub async fn step<T, E: std::fmt::Display, Fut>(
        &self,
        what: &str,
        f: impl FnOnce(Client) -> Fut,
    ) -> T
    where
        Fut: Future<Output = Result<T, E>>,
    {
        bounded(what, STEP, f(self.client.clone()))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    pub async fn goto(&self, url: &str) {
        let url = url.to_owned();
        self.step(
            &format!("opening {url}"),
            |c| async move { c.goto(&url).await },
        )
        .await
    }

    /// Waits until `css` matches an element, and returns it.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        let client = self.client.clone();
        poll(&format!("an element `{css}`"), STEP, || {
            let client = client.clone();
            async move {
                client
                    .find(Locator::Css(css))
                    .await
                    .map_err(|e| e.to_string())
            }
        })
        .await
    }

    /// Waits until `css` matches at least `n` elements, and returns them all.
    pub async fn find_at_least(
        &self,
        css: &str,
        n: usize,
        limit: Duration,
    ) -> Vec<fantoccini::elements::Element> {
        let client = self.client.clone();
        poll(&format!("{n} elements `{css}`"), limit, || {
            let client = client.clone();
            async move {
                let all = client
                    .find_all(Locator::Css(css))
                    .await
                    .map_err(|e| e.to_string())?;
                if all.len() >= n {
                    Ok(all)
                } else {
                    Err(format!("{} so far", all.len()))
                }
            }
        })
        .await
    }

    /// Waits until the page's text contains `needle`.
    pub async fn see(&self, needle: &str) {
        let client = self.client.clone();
        poll(&format!("the text {needle:?} on the page"), STEP, || {
            let client = client.clone();
            async move {
                let body = client
                    .find(Locator::Css("body"))
                    .await
                    .map_err(|e| e.to_string())?;
                let text = body.text().await.map_err(|e| e.to_string())?;
                if text.contains(needle) {
                    Ok(())
                } else {
                    Err(format!("page text: {text:?}"))
                }
            }
        })
        .await
    }

    /// Types into the input named `name` (clearing it first).
    pub async fn fill(&self, name: &str, value: &str) {
        let input = self.find(&format!("input[name=\"{name}\"]")).await;
        self.step(&format!("typing into `{name}`"), |_| async move {
            input.clear().await?;
            input.send_keys(value).await
        })
        .await
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.step(&format!("clicking `{css}`"), |_| async move {
            element.click().await
        })
        .await
    }

    /// Clicks the button whose text is `label`.
    pub async fn click_button(&self, label: &str) {
        let client = self.client.clone();
        let button = poll(&format!("a button {label:?}"), STEP, || {
            let client = client.clone();
            async move {
                for b in client
                    .find_all(Locator::Css("button"))
                    .await
                    .map_err(|e| e.to_string())?
                {
                    if b.text().await.map_err(|e| e.to_string())?.trim() == label {
                        return Ok(b);
                    }
                }
                Err("not on the page".to_owned())
            }
        })
        .await;
        self.step(&format!("clicking {label:?}"), |_| async move {
            button.click().await
        })
        .await
    }

    /// Accepts the confirmation dialog the last click opened.
    pub async fn accept_dialog(&self) {
        let client = self.client.clone();
        poll("a confirmation dialog", STEP, || {
            let client = client.clone();
            async move { client.accept_alert().await.map_err(|e| e.to_string()) }
        })
        .await
    }

    /// The current URL's path.
    pub async fn path(&self) -> String {
        self.step("reading the URL", |c| async move { c.current_url().await })
            .await
            .path()
            .to_owned()
    }

    /// Waits until the location's path is `path`.
    pub async fn at(&self, path: &str) {
        let client = self.client.clone();
        poll(&format!("the page {path}"), STEP, || {
            let client = client.clone();
            async move {
                let url = client.current_url().await.map_err(|e| e.to_string())?;
                if url.path() == path {
                    Ok(())
                } else {
                    Err(format!("at {url}"))
                }
            }
        })
        .await
    }

    /// Runs a script in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.step("running a script in the page", |c| async move {
            c.execute(script, Vec::new()).await
        })
        .await
    }

    /// Saves a PNG screenshot of the window as `<target>/e2e-screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .step(
                "taking a screenshot",
                |c| async move { c.screenshot().await },
            )
            .await;
        let dir = target_dir().join("e2e-screenshots");
        std::fs::create_dir_all(&dir).expect("creating the screenshot directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("writing a screenshot");
        path
    }

    /// Ends the session and Chromium, bounded.
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(20), self.client.close()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_from_mails() {
        fn check(mail: &str, expected: Option<&str>) {
            assert_eq!(code_in(mail).as_deref(), expected, "{mail:?}");
        }
        check(
            "To: a@b.c\nSubject: Your verification code\n\nYour verification code is 123456\n",
            Some("123456"),
        );
        check("", None);
        check("code is 12-34\n", None);
    }
}
