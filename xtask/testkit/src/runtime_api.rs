//! A Lambda Runtime API served on 127.0.0.1, so a function's real `bootstrap` binary can be run
//! in a test and fed events, as Lambda would.
//!
//! It speaks the documented HTTP interface (`/2018-06-01/runtime/...`): a function polls
//! `invocation/next`, which blocks until the test queues an event, then posts a response or an
//! error for that request id. Only the standard library is used, so the harness adds nothing to
//! the build of the code under test.
//!
//! [`RuntimeApi::command`] and [`RuntimeApi::start_function`] run a `bootstrap` the way Lambda
//! does: a clean environment holding the runtime's variables, its output kept for log checks.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How one invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The function posted a response body.
    Response(String),
    /// The function reported an error (the body is Lambda's error JSON).
    Error(String),
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<(String, String)>,
    outcomes: HashMap<String, Outcome>,
    init_error: Option<String>,
    first_poll: Option<Instant>,
    next_id: u64,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

/// A Runtime API server on a free loopback port; it stops serving when dropped.
#[derive(Debug)]
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    started: Instant,
}

impl RuntimeApi {
    /// Starts serving on 127.0.0.1 and a free port.
    pub fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the runtime API");
        let addr = listener.local_addr().expect("runtime API address");
        let shared = Arc::new(Shared::default());
        let accept_shared = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let shared = Arc::clone(&accept_shared);
                thread::spawn(move || serve_connection(stream, &shared));
            }
        });
        RuntimeApi {
            addr,
            shared,
            started: Instant::now(),
        }
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`: `127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Queues `event` and waits up to `limit` for the function's answer.
    pub fn invoke(&self, event: &str, limit: Duration) -> Option<Outcome> {
        let id = {
            let mut state = self.shared.state.lock().unwrap();
            state.next_id += 1;
            let id = format!("req-{:04}-{}", state.next_id, std::process::id());
            state.queue.push_back((id.clone(), event.to_owned()));
            id
        };
        self.shared.changed.notify_all();
        self.wait_for(limit, |state| match state.outcomes.remove(&id) {
            Some(outcome) => Some(Some(outcome)),
            // A function that failed to start will never answer.
            None => state.init_error.as_ref().map(|_| None),
        })
        .flatten()
    }

    /// Waits up to `limit` for the function's first poll of `invocation/next`, and returns how
    /// long after [`RuntimeApi::start`] it came.
    pub fn wait_first_poll(&self, limit: Duration) -> Option<Duration> {
        self.wait_for(limit, |state| state.first_poll.map(|at| at - self.started))
    }

    /// Waits up to `limit` until `found` finds something in the state, woken at each change.
    fn wait_for<T>(
        &self,
        limit: Duration,
        mut found: impl FnMut(&mut State) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + limit;
        let mut state = self.shared.state.lock().unwrap();
        loop {
            if let Some(value) = found(&mut state) {
                return Some(value);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// The instant of the first poll, if the function has polled.
    pub fn first_poll_at(&self) -> Option<Instant> {
        self.shared.state.lock().unwrap().first_poll
    }

    /// The body of an `init/error` report, if the function failed to start.
    pub fn init_error(&self) -> Option<String> {
        self.shared.state.lock().unwrap().init_error.clone()
    }
}

impl RuntimeApi {
    /// The command Lambda would start the function binary `bin` with: nothing of the test's
    /// environment, only the runtime's variables for a function `name` of `memory_mb`. The
    /// caller adds the function's own settings.
    pub fn command(&self, bin: impl AsRef<OsStr>, name: &str, memory_mb: u32) -> Command {
        let mut command = Command::new(bin);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", self.endpoint())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/11/24/[$LATEST]0123456789abcdef",
            )
            .stdin(Stdio::null());
        command
    }

    /// Starts `command` (see [`RuntimeApi::command`]) keeping its output, and waits up to
    /// `limit` for its first poll; a function that never polls fails the test with its init
    /// error and its output.
    pub fn start_function(&self, command: &mut Command, limit: Duration) -> Function<'_> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting bootstrap");
        let logs = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().expect("piped stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("piped stderr")),
        ] {
            let logs = Arc::clone(&logs);
            thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    logs.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        let function = Function {
            runtime: self,
            child,
            logs,
        };
        assert!(
            self.wait_first_poll(limit).is_some(),
            "bootstrap never polled; init error: {:?}; logs: {}",
            self.init_error(),
            function.logs()
        );
        function
    }

    /// Runs the function binary `bin` with only the runtime's address and `env`, expecting it
    /// to fail to start: it must exit non-zero without ever asking for work. Returns the body
    /// it reported to `init/error`.
    pub fn init_failure(bin: impl AsRef<OsStr>, env: &[(&str, &str)]) -> String {
        let runtime = RuntimeApi::start();
        let status = Command::new(bin)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", runtime.endpoint())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("starting bootstrap");
        assert!(
            !status.success(),
            "a function that cannot start exits non-zero"
        );
        assert!(runtime.first_poll_at().is_none(), "it never asked for work");
        runtime.init_error().expect("an init error report")
    }
}

/// A function's `bootstrap` serving a [`RuntimeApi`]; killed when dropped.
#[derive(Debug)]
pub struct Function<'a> {
    runtime: &'a RuntimeApi,
    child: Child,
    logs: Arc<Mutex<String>>,
}

impl Function<'_> {
    /// Invokes the function with `event`; no answer within `limit` fails the test with the
    /// function's init error and output.
    pub fn invoke(&self, event: &str, limit: Duration) -> Outcome {
        self.runtime.invoke(event, limit).unwrap_or_else(|| {
            panic!(
                "no answer; init error {:?}; logs: {}",
                self.runtime.init_error(),
                self.logs()
            )
        })
    }

    /// Everything the function wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }
}

impl Drop for Function<'_> {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One parsed HTTP request.
struct Request {
    method: String,
    path: String,
    body: String,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().ok()?,
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                _ => {}
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).ok()?;
            let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some(Request {
        method,
        path,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &str) -> bool {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).is_ok() && stream.write_all(body.as_bytes()).is_ok()
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let ok = match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/2018-06-01/runtime/invocation/next") => {
                let (id, event) = next_event(shared);
                let deadline =
                    SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(60);
                respond(
                    &mut writer,
                    "200 OK",
                    &[
                        ("Content-Type", "application/json".to_owned()),
                        ("Lambda-Runtime-Aws-Request-Id", id),
                        ("Lambda-Runtime-Deadline-Ms", deadline.as_millis().to_string()),
                        (
                            "Lambda-Runtime-Invoked-Function-Arn",
                            "arn:aws:lambda:us-east-1:123456789012:function:under-test".to_owned(),
                        ),
                        (
                            "Lambda-Runtime-Trace-Id",
                            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".to_owned(),
                        ),
                    ],
                    &event,
                )
            }
            ("POST", "/2018-06-01/runtime/init/error") => {
                shared.state.lock().unwrap().init_error = Some(request.body);
                shared.changed.notify_all();
                respond(&mut writer, "202 Accepted", &[], "{}")
            }
            ("POST", path) => match parse_outcome_path(path) {
                Some((id, kind)) => {
                    let outcome = if kind == "response" {
                        Outcome::Response(request.body)
                    } else {
                        Outcome::Error(request.body)
                    };
                    shared.state.lock().unwrap().outcomes.insert(id, outcome);
                    shared.changed.notify_all();
                    respond(&mut writer, "202 Accepted", &[], "{}")
                }
                None => respond(&mut writer, "404 Not Found", &[], "{}"),
            },
            _ => respond(&mut writer, "404 Not Found", &[], "{}"),
        };
        if !ok {
            return;
        }
    }
}

/// Blocks until an event is queued, recording the first poll.
fn next_event(shared: &Shared) -> (String, String) {
    let mut state = shared.state.lock().unwrap();
    if state.first_poll.is_none() {
        state.first_poll = Some(Instant::now());
        shared.changed.notify_all();
    }
    loop {
        if let Some(item) = state.queue.pop_front() {
            return item;
        }
        state = shared.changed.wait(state).unwrap();
    }
}

/// `/2018-06-01/runtime/invocation/{id}/response` or `.../error` → (id, kind).
fn parse_outcome_path(path: &str) -> Option<(String, &str)> {
    let rest = path.strip_prefix("/2018-06-01/runtime/invocation/")?;
    let (id, kind) = rest.rsplit_once('/')?;
    matches!(kind, "response" | "error").then(|| (id.to_owned(), kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal client doing what a Lambda runtime does, over one keep-alive connection.
    fn poll_and_answer(endpoint: &str, answer: &str) {
        let stream = TcpStream::connect(endpoint).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        write!(
            writer,
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        .unwrap();
        let mut id = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end().to_owned();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Lambda-Runtime-Aws-Request-Id: ") {
                id = v.to_owned();
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = v.parse().unwrap();
            }
        }
        let mut event = vec![0; length];
        reader.read_exact(&mut event).unwrap();
        let body = format!("{answer}:{}", String::from_utf8(event).unwrap());
        write!(
            writer,
            "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        )
        .unwrap();
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 202"), "{status}");
    }

    #[test]
    fn an_event_goes_out_and_its_response_comes_back() {
        let api = RuntimeApi::start();
        let endpoint = api.endpoint();
        let client = thread::spawn(move || poll_and_answer(&endpoint, "echo"));
        assert!(api.wait_first_poll(Duration::from_secs(5)).is_some());
        let outcome = api.invoke(r#"{"n":1}"#, Duration::from_secs(5));
        assert_eq!(
            outcome,
            Some(Outcome::Response(r#"echo:{"n":1}"#.to_owned()))
        );
        client.join().unwrap();
    }

    #[test]
    fn an_unanswered_event_times_out() {
        let api = RuntimeApi::start();
        assert_eq!(api.invoke("{}", Duration::from_millis(100)), None);
    }
}
