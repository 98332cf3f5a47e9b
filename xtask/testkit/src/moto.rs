//! A moto server on 127.0.0.1, started from the oracle virtualenv.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::{free_port, http, oracle_bin, wait_for_port};

/// A moto server on 127.0.0.1 and a free port, stopped when dropped.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    addr: SocketAddr,
    recording: Option<PathBuf>,
}

impl MotoServer {
    /// Starts `moto_server` from the oracle virtualenv, waits until it answers, and empties it.
    pub fn start() -> MotoServer {
        let server = Self::spawn(None);
        server.reset();
        server
    }

    /// Starts a server that writes down every request it serves (method, URL, base64 body; one
    /// JSON object a line) to `file`, for counting what a client did.
    pub fn start_recording(file: &Path) -> MotoServer {
        let server = Self::spawn(Some(file.to_owned()));
        server.control("/moto-api/recorder/start-recording");
        server
    }

    fn spawn(recording: Option<PathBuf>) -> MotoServer {
        let bin = oracle_bin("moto", "moto_server");
        // Two tests of one binary starting servers at once could probe the same free port: one
        // server binds it, the other exits, and both tests find the first answering there and
        // share it (one's reset empties the other's tables). So a process starts one at a time,
        // holding this until its server answers, when the port is no longer free to probe.
        static STARTING: Mutex<()> = Mutex::new(());
        let _starting = STARTING.lock().unwrap_or_else(PoisonError::into_inner);
        // A port can be taken between probing and binding; try a few times.
        for _ in 0..5 {
            let port = free_port();
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let mut command = Command::new(&bin);
            command
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some(file) = &recording {
                command.env("MOTO_RECORDER_FILEPATH", file);
            }
            let child = command
                .spawn()
                .unwrap_or_else(|e| panic!("starting `{}`: {e}", bin.display()));
            // Built before the wait, so that a failed start is killed by `Drop`.
            let server = MotoServer {
                child,
                addr,
                recording: recording.clone(),
            };
            if wait_for_port(addr, Duration::from_secs(30)) {
                return server;
            }
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

    /// The file the requests are recorded to, for a server from [`MotoServer::start_recording`].
    pub fn recording(&self) -> Option<&Path> {
        self.recording.as_deref()
    }

    /// Forgets every resource the server holds (`POST /moto-api/reset`).
    pub fn reset(&self) {
        self.control("/moto-api/reset");
    }

    /// A bodiless `POST` to moto's own API, which must answer 200.
    fn control(&self, path: &str) {
        let url = format!("{}{path}", self.endpoint_url());
        let answer = http::request("POST", &url, &[], b"")
            .unwrap_or_else(|e| panic!("calling moto's `{path}`: {e}"));
        assert_eq!(answer.status, 200, "moto's `{path}`: {}", answer.text());
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

    #[test]
    fn a_recording_server_writes_down_each_request() {
        let dir = std::env::temp_dir().join(format!("testkit-moto-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("recording.jsonl");
        let moto = MotoServer::start_recording(&file);
        assert_eq!(moto.recording(), Some(file.as_path()));
        let list = http::request("GET", &format!("{}/", moto.endpoint_url()), &[], b"").unwrap();
        assert_eq!(list.status, 200, "{}", list.text());
        let recorded = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(recorded.contains("\"method\": \"GET\""), "{recorded}");
        drop(moto);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
