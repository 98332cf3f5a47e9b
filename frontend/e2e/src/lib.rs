//! Harness for driving the web app in a real browser: the SPA built once, a local stage run
//! in-process on 127.0.0.1, and headless Chromium through chromedriver.
//!
//! Like `testkit`, this is test support: a broken environment is a panic with a message that
//! says what to install or what did not answer, never a skipped test. Every wait is bounded.

use std::future::Future;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use local_stage::server::UpOptions;
use serde_json::{Value, json};
use spa_build::{BuildOptions, BuiltSite, RuntimeConfig};
use testkit::local::LocalClient;
use testkit::stage::InProcessStage;

pub use fantoccini;

pub mod seed;
/// Waiting, bounded: the same helpers as every other test's.
pub use testkit::local::{STEP, bounded, poll};
pub use testkit::{free_port, target_dir, workspace_root};

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

/// A local stage running in this process and serving the built SPA, stopped when dropped; it
/// derefs to the stage's HTTP client (`base`, `mailed_code`, ...).
#[derive(Debug)]
pub struct Stage(InProcessStage);

impl Stage {
    /// Starts a stage on a free port with a fresh data directory, serving the built SPA with a
    /// `config.json` for this stage, the same as `deployer up --stage local` writes.
    pub async fn start() -> Stage {
        Self::start_with(|_| {}).await
    }

    /// [`Stage::start`] with its options changed by `configure` first (its clock, say).
    pub async fn start_with(configure: impl FnOnce(&mut UpOptions)) -> Stage {
        let site = site();
        Stage(
            InProcessStage::start_with(|options, base| {
                configure(options);
                // Served from this copy; building is `site()`'s job.
                copy_site(site, &options.data_dir.join("site"), base);
            })
            .await,
        )
    }
}

impl Deref for Stage {
    type Target = LocalClient;

    fn deref(&self) -> &LocalClient {
        &self.0
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
    photo_auth::tls::http_client()
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

    /// Waits until the script `script` returns `true` in the page (`what` names it in a
    /// failure).
    pub async fn until(&self, what: &str, script: &str) {
        poll(what, Duration::from_secs(30), || async {
            match self.js(script).await {
                Value::Bool(true) => Ok(()),
                other => Err(format!("{other}")),
            }
        })
        .await;
    }

    /// Waits until every image `css` matches (at least `n`) has loaded and has pixels.
    pub async fn images_loaded(&self, css: &str, n: usize) {
        let script = format!(
            "const i = [...document.querySelectorAll('{css}')];\
             return i.length >= {n} && i.every((x) => x.complete && x.naturalWidth > 0);"
        );
        self.until(&format!("{n} images `{css}` loaded"), &script)
            .await;
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
