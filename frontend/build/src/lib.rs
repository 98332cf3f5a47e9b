//! Builds the single-page app with cargo alone: the app crate to wasm, wasm-bindgen as a
//! library, then content-hashed assets and an `index.html` that references them.
//!
//! The output directory holds exactly what the site bucket (or the local stage) serves:
//!
//! ```text
//! index.html                  revalidated: it names the current assets
//! assets/app-<hash>.wasm      immutable
//! assets/app-<hash>.js        immutable (wasm-bindgen glue, an ES module)
//! assets/boot-<hash>.js       immutable (imports the glue and starts the wasm)
//! assets/app-<hash>.css       immutable
//! config.json                 revalidated, written per stage by [`write_config`]
//! ```
//!
//! No script is inline: the site's CSP is `script-src 'self' 'wasm-unsafe-eval'`.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs, io};

use sha2::{Digest, Sha256};

pub use photo_app::config::RuntimeConfig;

/// The rustc target the app is compiled for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The package name of the app crate.
pub const APP_PACKAGE: &str = "photo-app";
/// Where the app crate lives, relative to the workspace root.
pub const APP_DIR: &str = "frontend/app";
/// The `Content-Security-Policy` `script-src` the site needs: same-origin modules and wasm.
pub const SCRIPT_SRC: &str = "'self' 'wasm-unsafe-eval'";

/// Everything that can go wrong while building the site.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the `{WASM_TARGET}` target is not installed and rustup was not found; install it with `rustup target add {WASM_TARGET}`"
    )]
    RustupMissing,
    #[error("`rustup target add {WASM_TARGET}` failed with {status}")]
    TargetAdd { status: std::process::ExitStatus },
    #[error("running `{program}`")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("`cargo build` of `{APP_PACKAGE}` failed with {status}")]
    Cargo { status: std::process::ExitStatus },
    #[error("the wasm module `{0}` was not produced by cargo")]
    MissingWasm(PathBuf),
    #[error("wasm-bindgen failed: {0}")]
    Bindgen(String),
    #[error(
        "the app uses JS snippets or local modules (`{0}`), which the site does not ship; use web-sys instead"
    )]
    Snippets(String),
    #[error("reading `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("writing `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("serialising the runtime config")]
    Config(#[source] serde_json::Error),
}

/// The cargo profile the app is compiled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// `[profile.wasm-release]`: size-tuned (opt-level "z", fat LTO, one codegen unit, panic abort).
    #[default]
    Release,
    /// The dev profile: fast to compile, large, for local iteration only.
    Dev,
}

impl Profile {
    /// The name given to `cargo --profile`.
    pub fn cargo_name(self) -> &'static str {
        match self {
            Profile::Release => "wasm-release",
            Profile::Dev => "dev",
        }
    }

    /// The directory cargo writes the profile's artifacts to.
    fn dir_name(self) -> &'static str {
        match self {
            Profile::Release => "wasm-release",
            Profile::Dev => "debug",
        }
    }
}

/// What to build and where.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The workspace root (the directory holding the root `Cargo.toml`).
    pub workspace_root: PathBuf,
    /// Where the site is written. `index.html` and `assets/` in it are replaced; nothing else
    /// is touched, so a `config.json` already there survives.
    pub out_dir: PathBuf,
    pub profile: Profile,
    /// Cargo's target directory; `None` means `$CARGO_TARGET_DIR`, else `<workspace>/target`.
    pub target_dir: Option<PathBuf>,
}

impl BuildOptions {
    /// Release build of the workspace at `workspace_root` into `out_dir`.
    pub fn new(workspace_root: impl Into<PathBuf>, out_dir: impl Into<PathBuf>) -> Self {
        BuildOptions {
            workspace_root: workspace_root.into(),
            out_dir: out_dir.into(),
            profile: Profile::Release,
            target_dir: None,
        }
    }

    fn target_dir(&self) -> PathBuf {
        match (&self.target_dir, env::var_os("CARGO_TARGET_DIR")) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => PathBuf::from(dir),
            (None, None) => self.workspace_root.join("target"),
        }
    }
}

/// How a file may be cached by browsers and the CDN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// Named by content hash: the same name never holds different bytes.
    Immutable,
    /// Fixed name, changing content (`index.html`, `config.json`): always revalidated.
    Revalidate,
}

impl CachePolicy {
    /// The `Cache-Control` header value for this policy.
    pub fn cache_control(self) -> &'static str {
        match self {
            CachePolicy::Immutable => "public, max-age=31536000, immutable",
            CachePolicy::Revalidate => "no-cache",
        }
    }

    /// The policy for a site path (relative, `/`-separated).
    pub fn for_path(path: &str) -> Self {
        if path.starts_with("assets/") {
            CachePolicy::Immutable
        } else {
            CachePolicy::Revalidate
        }
    }
}

/// One file of the built site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFile {
    /// Path relative to the site root, `/`-separated: it is also the S3 key and the URL path.
    pub path: String,
    pub content_type: &'static str,
    pub cache: CachePolicy,
}

impl SiteFile {
    fn new(path: impl Into<String>) -> Self {
        let path = path.into();
        SiteFile {
            content_type: content_type(&path),
            cache: CachePolicy::for_path(&path),
            path,
        }
    }
}

/// The site written by [`build`].
#[derive(Debug, Clone)]
pub struct BuiltSite {
    pub out_dir: PathBuf,
    /// Every file written, `index.html` first.
    pub files: Vec<SiteFile>,
}

impl BuiltSite {
    /// The file at a site path, if this build wrote it.
    pub fn file(&self, path: &str) -> Option<&SiteFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The absolute path of a site file on disk.
    pub fn disk_path(&self, file: &SiteFile) -> PathBuf {
        self.out_dir.join(&file.path)
    }
}

/// The `Content-Type` for a site path, by extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// Builds the site: compiles the app to wasm, runs wasm-bindgen, writes hashed assets and
/// `index.html` into `opts.out_dir`.
pub fn build(opts: &BuildOptions) -> Result<BuiltSite, Error> {
    ensure_wasm_target()?;
    let wasm = compile_app(opts)?;
    let (glue_js, wasm_bytes) = bindgen(&wasm)?;
    let css_path = opts.workspace_root.join(APP_DIR).join("static/style.css");
    let css = fs::read(&css_path).map_err(|source| Error::Read {
        path: css_path,
        source,
    })?;
    write_site(&opts.out_dir, glue_js.as_bytes(), &wasm_bytes, &css)
}

/// Writes `config.json` into a built site and records it in the file list.
pub fn write_config(site: &mut BuiltSite, config: &RuntimeConfig) -> Result<SiteFile, Error> {
    let json = serde_json::to_vec_pretty(config).map_err(Error::Config)?;
    let file = SiteFile::new("config.json");
    write(&site.out_dir.join(&file.path), &json)?;
    site.files.retain(|f| f.path != file.path);
    site.files.push(file.clone());
    Ok(file)
}

/// Makes sure rustc can build for [`WASM_TARGET`], installing it with rustup when missing.
pub fn ensure_wasm_target() -> Result<(), Error> {
    if target_installed() {
        return Ok(());
    }
    let status = match Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
    {
        Ok(status) => status,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Error::RustupMissing),
        Err(source) => {
            return Err(Error::Spawn {
                program: "rustup".into(),
                source,
            });
        }
    };
    if status.success() {
        Ok(())
    } else {
        Err(Error::TargetAdd { status })
    }
}

/// Whether the active toolchain's sysroot has the wasm standard library. Asking rustc rather
/// than rustup also works for toolchains rustup does not manage.
fn target_installed() -> bool {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .join("lib")
        .is_dir()
}

fn compile_app(opts: &BuildOptions) -> Result<PathBuf, Error> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let target_dir = opts.target_dir();
    let status = Command::new(&cargo)
        .arg("build")
        .arg("--manifest-path")
        .arg(opts.workspace_root.join("Cargo.toml"))
        .args(["--package", APP_PACKAGE, "--lib", "--target", WASM_TARGET])
        .args(["--profile", opts.profile.cargo_name()])
        .arg("--target-dir")
        .arg(&target_dir)
        // Host-only flags (coverage, sanitizers) set for an outer cargo must not leak into wasm.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .map_err(|source| Error::Spawn {
            program: cargo.to_string_lossy().into_owned(),
            source,
        })?;
    if !status.success() {
        return Err(Error::Cargo { status });
    }
    let wasm = target_dir
        .join(WASM_TARGET)
        .join(opts.profile.dir_name())
        .join(format!("{}.wasm", APP_PACKAGE.replace('-', "_")));
    if wasm.is_file() {
        Ok(wasm)
    } else {
        Err(Error::MissingWasm(wasm))
    }
}

/// Runs wasm-bindgen for the web target and returns the JS glue and the final wasm bytes.
fn bindgen(wasm: &Path) -> Result<(String, Vec<u8>), Error> {
    let mut output = wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .out_name("app")
        .web(true)
        .map_err(bindgen_err)?
        .typescript(false)
        .debug(false)
        .keep_debug(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        // The boot module passes the hashed wasm URL; the default `app_bg.wasm` would not exist.
        .omit_default_module_path(true)
        .generate_output()
        .map_err(bindgen_err)?;
    // Every crate gets an entry in `snippets`, usually empty; only real snippets need files.
    let extra: Vec<&str> = output
        .snippets()
        .iter()
        .filter(|(_, snippets)| !snippets.is_empty())
        .map(|(name, _)| name.as_str())
        .chain(output.local_modules().keys().map(String::as_str))
        .collect();
    if !extra.is_empty() {
        return Err(Error::Snippets(extra.join("`, `")));
    }
    let js = output.js().to_owned();
    let wasm_bytes = output.wasm_mut().emit_wasm();
    Ok((js, wasm_bytes))
}

/// wasm-bindgen reports `anyhow` errors; keep their whole chain as text.
fn bindgen_err(e: impl std::fmt::Display) -> Error {
    Error::Bindgen(format!("{e:#}"))
}

/// The first 16 hex digits (64 bits) of the SHA-256 of `bytes`: enough to never collide
/// between two versions of one asset.
pub fn content_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(16);
    for b in &digest[..8] {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn hashed_name(stem: &str, ext: &str, bytes: &[u8]) -> String {
    format!("assets/{stem}-{}.{ext}", content_hash(bytes))
}

/// Writes the hashed assets and `index.html`. Separate from [`build`] so it is testable
/// without a wasm compile.
fn write_site(out_dir: &Path, glue_js: &[u8], wasm: &[u8], css: &[u8]) -> Result<BuiltSite, Error> {
    let assets = out_dir.join("assets");
    if assets.exists() {
        fs::remove_dir_all(&assets).map_err(|source| Error::Write {
            path: assets.clone(),
            source,
        })?;
    }
    fs::create_dir_all(&assets).map_err(|source| Error::Write {
        path: assets.clone(),
        source,
    })?;

    let wasm_name = hashed_name("app", "wasm", wasm);
    let js_name = hashed_name("app", "js", glue_js);
    let css_name = hashed_name("app", "css", css);
    let boot = boot_js(file_name(&js_name), file_name(&wasm_name));
    let boot_name = hashed_name("boot", "js", boot.as_bytes());
    let html = index_html(&css_name, &js_name, &wasm_name, &boot_name);

    let mut files = vec![SiteFile::new("index.html")];
    for (name, bytes) in [
        (&wasm_name, wasm),
        (&js_name, glue_js),
        (&css_name, css),
        (&boot_name, boot.as_bytes()),
    ] {
        write(&out_dir.join(name), bytes)?;
        files.push(SiteFile::new(name.clone()));
    }
    write(&out_dir.join("index.html"), html.as_bytes())?;
    Ok(BuiltSite {
        out_dir: out_dir.to_owned(),
        files,
    })
}

fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}

/// The boot module: imports the glue and starts the wasm from its hashed URL. Relative URLs
/// resolve against the module itself, so they hold under any deep-link path. When the wasm
/// cannot start (old browser, failed download) it says so rather than leave "Loading…".
fn boot_js(js_file: &str, wasm_file: &str) -> String {
    format!(
        "import init from \"./{js_file}\";\n\
         init({{ module_or_path: new URL(\"./{wasm_file}\", import.meta.url) }}).catch(() => {{\n\
         \x20 const app = document.getElementById(\"app\");\n\
         \x20 if (app) app.textContent = \"The app could not start. Check your connection and reload; \
         it needs a browser with WebAssembly.\";\n\
         }});\n"
    )
}

/// The app's icon, the four-colour square of its header, inline (the CSP allows `data:` images).
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='8' height='8' fill='%23ea4335'/%3E%3Crect x='8' width='8' height='8' fill='%23fbbc04'/%3E%3Crect y='8' width='8' height='8' fill='%234285f4'/%3E%3Crect x='8' y='8' width='8' height='8' fill='%2334a853'/%3E%3C/svg%3E";

/// `index.html`: absolute `/assets/` URLs because it is also served for deep links such as
/// `/albums/123`, where relative URLs would resolve under `/albums/`.
fn index_html(css: &str, js: &str, wasm: &str, boot: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Photos</title>
<link rel="icon" href="{FAVICON}">
<link rel="stylesheet" href="/{css}">
<link rel="modulepreload" href="/{js}">
<link rel="preload" href="/{wasm}" as="fetch" type="application/wasm" crossorigin>
<script type="module" src="/{boot}"></script>
</head>
<body>
<div id="app"><p class="loading">Loading…</p></div>
<noscript><p class="error">This app needs JavaScript and WebAssembly enabled.</p></noscript>
</body>
</html>
"#
    )
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    fs::write(path, bytes).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_and_cache_policies() {
        fn check(path: &str, ty: &str, cache: CachePolicy) {
            assert_eq!(content_type(path), ty, "{path}");
            assert_eq!(CachePolicy::for_path(path), cache, "{path}");
        }
        check(
            "index.html",
            "text/html; charset=utf-8",
            CachePolicy::Revalidate,
        );
        check("config.json", "application/json", CachePolicy::Revalidate);
        check(
            "assets/app-0123.wasm",
            "application/wasm",
            CachePolicy::Immutable,
        );
        check(
            "assets/boot-0123.js",
            "text/javascript; charset=utf-8",
            CachePolicy::Immutable,
        );
        check(
            "assets/app-0123.css",
            "text/css; charset=utf-8",
            CachePolicy::Immutable,
        );
        check(
            "README",
            "application/octet-stream",
            CachePolicy::Revalidate,
        );
    }

    #[test]
    fn missing_rustup_names_the_command() {
        assert_eq!(
            Error::RustupMissing.to_string(),
            "the `wasm32-unknown-unknown` target is not installed and rustup was not found; \
             install it with `rustup target add wasm32-unknown-unknown`"
        );
    }

    #[test]
    fn hash_changes_with_content() {
        assert_eq!(content_hash(b"abc"), "ba7816bf8f01cfea");
        assert_ne!(content_hash(b"abc"), content_hash(b"abd"));
    }

    #[test]
    fn write_site_names_assets_by_hash_and_keeps_config() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("config.json"), "{}").unwrap();
        fs::create_dir_all(dir.path().join("assets")).unwrap();
        fs::write(dir.path().join("assets/app-stale.js"), "old").unwrap();
        let site = write_site(dir.path(), b"glue", b"\0asm", b"body{}").unwrap();
        let paths: Vec<&str> = site.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "index.html",
                &*format!("assets/app-{}.wasm", content_hash(b"\0asm")),
                &*format!("assets/app-{}.js", content_hash(b"glue")),
                &*format!("assets/app-{}.css", content_hash(b"body{}")),
                site.files[4].path.as_str(),
            ]
        );
        assert!(!dir.path().join("assets/app-stale.js").exists());
        assert!(dir.path().join("config.json").exists());
        let boot = fs::read_to_string(site.disk_path(&site.files[4])).unwrap();
        assert!(boot.contains(&format!("./app-{}.js", content_hash(b"glue"))));
        assert!(boot.contains(&format!("./app-{}.wasm", content_hash(b"\0asm"))));
        assert!(
            boot.contains(".catch("),
            "boot must report a failed start: {boot}"
        );
    }

    #[test]
    fn write_config_adds_the_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut site = write_site(dir.path(), b"glue", b"\0asm", b"body{}").unwrap();
        let config = RuntimeConfig {
            api_url: "https://api.example.com".into(),
            region: "eu-west-1".into(),
            user_pool_id: "eu-west-1_abc".into(),
            user_pool_client_id: "client".into(),
            cognito_endpoint: "https://cognito-idp.eu-west-1.amazonaws.com/".into(),
        };
        write_config(&mut site, &config).unwrap();
        write_config(&mut site, &config).unwrap();
        let file = site.file("config.json").unwrap();
        assert_eq!(file.cache, CachePolicy::Revalidate);
        assert_eq!(
            site.files
                .iter()
                .filter(|f| f.path == "config.json")
                .count(),
            1
        );
        let text = fs::read_to_string(site.disk_path(file)).unwrap();
        assert_eq!(RuntimeConfig::parse(&text).unwrap(), config);
    }
}
