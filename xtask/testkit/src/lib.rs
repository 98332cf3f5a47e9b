//! Test harness shared by the workspace's tests: finds the test oracles and runs a moto server.
//!
//! The oracles (moto, cfn-lint, checkov) are Python tools that stand in for AWS or check our
//! output. `cargo xtask oracles` installs each into its own virtualenv under
//! `<target-dir>/oracles/<name>/`; nothing here ever uses a globally installed copy.

pub mod runtime_api;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The directory holding the oracle virtualenvs: `$ORACLES_DIR`, or `<target-dir>/oracles`.
pub fn oracles_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ORACLES_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("oracles")
}

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    // This crate lives at `xtask/testkit`.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("testkit sits two levels below the workspace root")
        .to_path_buf()
}

/// The test photos checked into the repository (`testdata/photos`).
pub fn test_photos() -> PathBuf {
    workspace_root().join("testdata/photos")
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

/// Waits until something accepts TCP connections on `addr`, for at most `limit`.
pub fn wait_for_port(addr: SocketAddr, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A moto server on 127.0.0.1 and a free port, stopped when dropped.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    addr: SocketAddr,
}

impl MotoServer {
    /// Starts `moto_server` from the oracle virtualenv and waits until it answers.
    pub fn start() -> MotoServer {
        let bin = oracle_bin("moto", "moto_server");
        // A port can be taken between probing and binding; try a few times.
        for _ in 0..5 {
            let port = free_port();
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let mut child = Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("starting `{}`: {e}", bin.display()));
            if wait_for_port(addr, Duration::from_secs(30)) {
                let server = MotoServer { child, addr };
                server.reset();
                return server;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto server did not start on 127.0.0.1 after 5 attempts");
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL to give an AWS SDK client, such as `http://127.0.0.1:5123`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Forgets every resource the server holds (`POST /moto-api/reset`).
    pub fn reset(&self) {
        let status = http_post(self.addr, "/moto-api/reset");
        assert_eq!(status, 200, "resetting moto");
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a bodiless HTTP/1.1 POST and returns the status code.
fn http_post(addr: SocketAddr, path: &str) -> u16 {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connecting");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("setting a read timeout");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("writing the request");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in moto's answer: {response:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moto_starts_answers_and_stops() {
        let moto = MotoServer::start();
        let addr = moto.addr();
        moto.reset();
        drop(moto);
        // Once dropped, nothing listens there any more.
        assert!(!wait_for_port(addr, Duration::from_millis(500)));
    }
}
