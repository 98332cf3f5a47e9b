//! Test harness shared by the workspace's tests and benchmarks: where things are, the test
//! oracles, a moto server, a Lambda Runtime API, and (by feature) AWS and local-stage clients.
//!
//! The oracles (moto, cfn-lint, checkov) are Python tools that stand in for AWS or check our
//! output. `cargo xtask oracles` installs each into its own virtualenv under
//! `<target-dir>/oracles/<name>/`; nothing here ever uses a globally installed copy.
//!
//! Features, so that each crate compiles only what its tests drive:
//! - default: the standard library only (paths, oracles, [`MotoServer`], [`free_port`], waits,
//!   a one-shot HTTP client, [`runtime_api`]);
//! - `aws`: SDK configuration for moto, buckets and user pools ([`aws`]);
//! - `lambda`: the functions' static Lambda builds for either architecture, run under
//!   `qemu-user` when foreign ([`lambda`]);
//! - `local`: a client of a running local stage ([`local`]);
//! - `stage`: a local stage run in the test's own process ([`stage`]);
//! - `template`: the synthesized template with what moto cannot create removed ([`template`]);
//! - `images`: large test images ([`images`]) and HEIF files around `heif-enc`'s pictures, with
//!   `heif-convert` as the oracle ([`heif`]).
//!
//! Like every harness, a broken environment is a panic that says what is missing, never a
//! skipped test, and every wait is bounded.

pub mod http;
mod moto;
pub mod runtime_api;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "images")]
pub mod heif;
#[cfg(feature = "images")]
pub mod images;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "local")]
pub mod local;
#[cfg(feature = "stage")]
pub mod stage;
#[cfg(feature = "template")]
pub mod template;

pub use moto::MotoServer;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    // This crate lives at `xtask/testkit`.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("testkit sits two levels below the workspace root")
        .to_path_buf()
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// The directory holding the oracle virtualenvs: `$ORACLES_DIR`, or `<target-dir>/oracles`.
pub fn oracles_dir() -> PathBuf {
    std::env::var_os("ORACLES_DIR").map_or_else(|| target_dir().join("oracles"), PathBuf::from)
}

/// The test photos checked into the repository (`testdata/photos`).
pub fn test_photos() -> PathBuf {
    workspace_root().join("testdata/photos")
}

/// The bytes of one test photo, such as `landscape-8mp.jpg`.
pub fn test_photo(name: &str) -> Vec<u8> {
    read(&test_photos().join(name))
}

/// The bytes of one hostile image (truncated, bombs, lies in headers), kept with the imaging
/// crate's tests in `functions/imaging/tests/hostile`.
pub fn hostile_file(name: &str) -> Vec<u8> {
    read(
        &workspace_root()
            .join("functions/imaging/tests/hostile")
            .join(name),
    )
}

/// The bytes of one hostile HEIC file (`functions/imaging/tests/hostile-heic`), kept apart from
/// the other hostile files, which seed the open-ended fuzz run.
pub fn hostile_heic(name: &str) -> Vec<u8> {
    read(
        &workspace_root()
            .join("functions/imaging/tests/hostile-heic")
            .join(name),
    )
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading fixture `{}`: {e}", path.display()))
}

/// The path of `tool` in the oracle virtualenv `venv`, or a panic that says how to install it.
///
/// Panicking is right here: a test that needs an oracle must fail, not skip, when it is missing.
pub fn oracle_bin(venv: &str, tool: &str) -> PathBuf {
    let path = oracles_dir().join(venv).join("bin").join(tool);
    assert!(
        path.is_file(),
        "test oracle `{tool}` is not installed at `{}`: run `cargo xtask oracles` (or `cargo xtask test`)",
        path.display()
    );
    path
}

/// A free TCP port on 127.0.0.1, as the kernel hands it out.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral port on 127.0.0.1")
}

/// Polls `ready` every 50 ms until it says yes (`true`) or `limit` has passed (`false`).
pub fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if ready() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until something accepts TCP connections on `addr`, for at most `limit`.
pub fn wait_for_port(addr: SocketAddr, limit: Duration) -> bool {
    wait_until(limit, || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_bounded_and_end_when_ready() {
        let start = Instant::now();
        assert!(!wait_until(Duration::from_millis(120), || false));
        assert!(start.elapsed() >= Duration::from_millis(120));
        let mut calls = 0;
        assert!(wait_until(Duration::from_secs(5), || {
            calls += 1;
            calls == 3
        }));
        assert_eq!(calls, 3);
    }

    #[test]
    fn fixtures_are_read_from_the_repository() {
        let photo = test_photo("orientation-1.jpg");
        assert!(photo.starts_with(&[0xFF, 0xD8]), "a JPEG");
        assert!(!hostile_file("truncated.jpg").is_empty());
    }
}
