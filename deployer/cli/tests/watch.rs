//! `deployer watch --stage local`, the real binary on a scratch workspace: an edit restarts the
//! stage with its data and fires the reload channel; a build that fails leaves the stage up.
//!
//! The build step is injected (`--build-command`, `--stage-binary`): a shell line that fails
//! while `src/lib.rs` says BROKEN, and the `deployer` under test as the stage. Building the real
//! workspace would take minutes; what is tested is the supervisor around the build.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use testkit::local::{LocalClient, STEP, poll};
use testkit::{free_port, wait_until};

const BIN: &str = env!("CARGO_BIN_EXE_deployer");
const PASSWORD: &str = "Correct-Horse-9";
const BUILD: &str =
    "if grep -q BROKEN src/lib.rs; then echo 'error: src/lib.rs does not compile' >&2; exit 1; fi";

/// A running `deployer watch`, killed with its stage when dropped.
struct Watch {
    child: Child,
    log: PathBuf,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        if !wait_until(Duration::from_secs(30), || {
            self.child.try_wait().ok().flatten().is_some()
        }) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Watch {
    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A workspace as `find_workspace` knows one: the SPA's crate beside the sources.
fn workspace(root: &Path) {
    std::fs::create_dir_all(root.join("frontend/app")).unwrap();
    std::fs::write(root.join("frontend/app/Cargo.toml"), "[package]\n").unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/lib.rs"), "pub fn version() -> u32 { 1 }\n").unwrap();
}

/// Opens the reload channel and reads the build it announces, keeping the stream open.
fn announced_build(port: u16) -> Result<(u64, BufReader<TcpStream>), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /_watch/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        line.clear();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("the stream ended before announcing a build".into());
        }
        if line.starts_with("HTTP/1.1 ") && !line.starts_with("HTTP/1.1 200") {
            return Err(line.trim().to_owned());
        }
        // The body is chunked: the event's lines arrive whole inside one chunk.
        if let Some(build) = line.trim().strip_prefix("data: ") {
            return build
                .parse()
                .map(|b| (b, reader))
                .map_err(|e| format!("`{build}`: {e}"));
        }
    }
    Err("no build announced in 10 s".into())
}

/// Waits until the stage announces build `build` on a fresh connection.
async fn wait_for_build(port: u16, build: u64) -> BufReader<TcpStream> {
    poll(
        &format!("build {build} on the reload channel"),
        4 * STEP,
        || {
            let got = announced_build(port);
            async move {
                match got {
                    Ok((b, reader)) if b == build => Ok(reader),
                    Ok((b, _)) => Err(format!("build {b}")),
                    Err(e) => Err(e),
                }
            }
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_restarts_the_stage_with_its_data_and_a_failed_build_keeps_it_up() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("workspace");
    workspace(&root);
    // Inside the workspace: what the stage writes there (`secrets.json` among it) is no source.
    let data = root.join("data");
    let port = free_port();
    let log = dir.path().join("watch.log");
    let child = Command::new(BIN)
        .args(["watch", "--stage", "local", "--port", &port.to_string()])
        .arg("--data-dir")
        .arg(&data)
        .args(["--fast-password-hashing", "--no-site"])
        .args(["--build-command", BUILD, "--stage-binary", BIN])
        .current_dir(&root)
        .env_remove("DEPLOYER_STAGE")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut watch = Watch { child, log };
    let stage = LocalClient::new(format!("http://127.0.0.1:{port}"), &data);
    stage
        .wait_ready(2 * STEP, || {
            let status = watch.child.try_wait().unwrap()?;
            Some(format!("watch exited {status}: {}", watch.output()))
        })
        .await;
    let (alice, _) = stage.account("alice@example.com", PASSWORD).await;
    let photo = b"\xff\xd8\xff\xe0 kept across builds".to_vec();
    let id = stage.upload(&alice, "kept.jpg", &photo).await;
    let mut first = wait_for_build(port, 1).await;

    // An editor saving twice in a row: one rebuild, not two.
    std::fs::write(root.join("src/lib.rs"), "pub fn version() -> u32 { 2 }\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    std::fs::write(root.join("src/lib.rs"), "pub fn version() -> u32 { 3 }\n").unwrap();
    // The page's stream breaks when build 1 stops: that is what makes it reconnect.
    let mut rest = Vec::new();
    let ended = first.read_to_end(&mut rest);
    assert!(
        ended.is_ok(),
        "the stream did not end with the stage: {ended:?}"
    );
    let _stream = wait_for_build(port, 2).await;

    // The data directory is the same one: the account and the photo are there.
    let alice = stage.sign_in("alice@example.com", PASSWORD).await;
    let (status, body) = stage
        .api("GET", &format!("/photos/{id}"), &alice, None)
        .await;
    assert_eq!(status, 200, "{body}");

    // A change that does not build: the message, and build 2 keeps serving.
    std::fs::write(root.join("src/lib.rs"), "BROKEN\n").unwrap();
    poll("the failed build reported", 2 * STEP, || {
        let out = watch.output();
        async move {
            if out.contains("the build failed") {
                Ok(())
            } else {
                Err(out)
            }
        }
    })
    .await;
    assert!(
        watch.output().contains("build 2 keeps running"),
        "{}",
        watch.output()
    );
    let (again, _) = announced_build(port).expect("build 2 still serving");
    assert_eq!(again, 2);
    let starts = watch.output().matches("watch: started build").count();
    assert_eq!(
        starts,
        2,
        "one start per successful build: {}",
        watch.output()
    );

    // Fixing it starts build 3; the stage's own files were never taken for sources.
    std::fs::write(root.join("src/lib.rs"), "pub fn version() -> u32 { 4 }\n").unwrap();
    let _stream = wait_for_build(port, 3).await;

    // SIGTERM stops the watch and its stage, cleanly.
    let sent = Command::new("kill")
        .args(["-TERM", &watch.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut status = None;
    assert!(
        wait_until(Duration::from_secs(30), || {
            status = watch.child.try_wait().unwrap();
            status.is_some()
        }),
        "watch did not stop"
    );
    assert!(status.unwrap().success(), "{}", watch.output());
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the stage outlived its watch"
    );
}
