//! Every credential source an operator's profile may name, end to end: the real binary, a
//! profile in a scratch home directory, and moto on 127.0.0.1.
//!
//! What proves that the deployer's calls carry the source's credentials: the keys each source
//! hands out are real moto keys, minted with moto's `AssumeRole` into account `111111111111`
//! (moto answers `GetCallerIdentity`, and runs every call, in the account of the key's role),
//! and moto records every request with its headers, so each request's SigV4 `Credential=` is
//! checked too. The stage pins `account_id = "111111111111"`: other keys would be refused with
//! exit code 7.
//!
//! IAM Identity Center has no emulator in moto: a small portal on 127.0.0.1 here answers
//! `GetRoleCredentials` (`GET /federation/credentials`) and SSO OIDC's `CreateToken`
//! (`POST /token`), reached through the SDK's documented per-service endpoint variables
//! (`AWS_ENDPOINT_URL_SSO`, `AWS_ENDPOINT_URL_SSO_OIDC`). The MFA prompt is driven through a
//! pseudo-terminal.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, SystemTime};

use base64::Engine;
use testkit::MotoServer;

const BIN: &str = env!("CARGO_BIN_EXE_deployer");
/// The account the sources' keys belong to, pinned by the stage.
const ACCOUNT: &str = "111111111111";
const CONFIG: &str = "[stages.dev]\nregion = \"eu-west-1\"\naccount_id = \"111111111111\"\n";

/// Temporary keys of a role in [`ACCOUNT`], minted by moto.
#[derive(Clone)]
struct Keys {
    id: String,
    secret: String,
    token: String,
}

/// moto, recording every request, and keys for [`ACCOUNT`] minted before the deployer runs.
struct Moto {
    server: MotoServer,
    _dir: tempfile::TempDir,
    keys: Keys,
}

impl Moto {
    fn start() -> Moto {
        let dir = tempfile::tempdir().unwrap();
        let server = MotoServer::start_recording(&dir.path().join("requests.jsonl"));
        let rt = tokio::runtime::Runtime::new().unwrap();
        let keys = rt.block_on(async {
            let sdk = testkit::aws::sdk_config(&server).await;
            let out = aws_sdk_sts::Client::new(&sdk)
                .assume_role()
                .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/sso-deployer"))
                .role_session_name("minted-by-the-test")
                .send()
                .await
                .unwrap();
            let c = out.credentials().unwrap();
            Keys {
                id: c.access_key_id().to_owned(),
                secret: c.secret_access_key().to_owned(),
                token: c.session_token().to_owned(),
            }
        });
        Moto {
            server,
            _dir: dir,
            keys,
        }
    }

    /// Every request recorded so far: (URL, `Authorization` header, decoded body).
    fn requests(&self) -> Vec<(String, String, String)> {
        let text = std::fs::read_to_string(self.server.recording().unwrap()).unwrap_or_default();
        text.lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let body = v["body"].as_str().unwrap_or_default();
                let body = if v["body_encoded"].as_bool() == Some(true) {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(body)
                        .unwrap();
                    String::from_utf8_lossy(&bytes).into_owned()
                } else {
                    body.to_owned()
                };
                (
                    v["url"].as_str().unwrap_or_default().to_owned(),
                    v["headers"]["Authorization"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    body,
                )
            })
            .collect()
    }

    /// Checks that the requests from `from` on were all signed with `key_id`, and returns them.
    fn signed_with(&self, from: usize, key_id: &str) -> Vec<(String, String, String)> {
        let requests: Vec<_> = self.requests().into_iter().skip(from).collect();
        assert!(
            requests.len() >= 2,
            "expected GetCallerIdentity and DescribeStacks: {requests:?}"
        );
        for (url, auth, _) in &requests {
            assert!(
                auth.contains(&format!("Credential={key_id}/")),
                "{url} was signed with another key: {auth}"
            );
        }
        requests
    }
}

/// A scratch home directory holding `deployer.toml` and `~/.aws`.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new(aws_config: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("deployer.toml"), CONFIG).unwrap();
        let home = Home { dir };
        home.write(".aws/config", aws_config);
        home
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// `deployer status --stage dev --profile PROFILE` against moto, with nothing of the
    /// machine's own AWS set-up and no terminal.
    fn status(&self, moto: &Moto, profile: &str) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .args(["status", "--stage", "dev", "--profile", profile])
            .arg("--endpoint-url")
            .arg(moto.server.endpoint_url());
        cmd
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A successful `status` of a stack that does not exist, in the pinned account.
fn check_in_account(out: &Output) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "failed: {stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("does not exist in eu-west-1 (account {ACCOUNT})")),
        "{stdout}"
    );
}

/// A failure with exit code 5 on one line containing `message` and none of `secrets`.
fn check_refused(out: &Output, message: &str, secrets: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(
        stderr.contains(message),
        "expected {message:?} in {stderr:?}"
    );
    for secret in secrets {
        assert!(!stderr.contains(secret), "{secret:?} leaked: {stderr}");
    }
    assert!(out.stdout.is_empty());
}

fn rfc3339_in(seconds: i64) -> String {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    aws_smithy_types::DateTime::from_secs(now + seconds)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// IAM Identity Center

/// A request the fake portal served.
#[derive(Debug, Clone)]
struct Served {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

/// IAM Identity Center's portal and OIDC token endpoint on 127.0.0.1: `GetRoleCredentials`
/// hands out `keys` for `token`; `CreateToken` trades `refresh_token` for `refreshed-token`.
struct Portal {
    url: String,
    served: Arc<Mutex<Vec<Served>>>,
    stop: Arc<AtomicBool>,
}

impl Portal {
    fn start(keys: &Keys, token: &str) -> Portal {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (keys, token) = (keys.clone(), token.to_owned());
        let (log, done) = (served.clone(), stop.clone());
        std::thread::spawn(move || {
            // Bounded: the test drops the portal within seconds; at most ten minutes.
            for _ in 0..60_000 {
                if done.load(Ordering::Relaxed) {
                    return;
                }
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, &keys, &token, &log),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Portal { url, served, stop }
    }

    fn served(&self) -> Vec<Served> {
        self.served.lock().unwrap().clone()
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one request, writes it down in `log`, and answers it as the portal would. The request
/// is logged before the answer is sent: the deployer may exit, and the test read the log, as
/// soon as the answer arrives.
fn serve(stream: TcpStream, keys: &Keys, token: &str, log: &Mutex<Vec<Served>>) {
    let _ = answer(stream, keys, token, log);
}

fn answer(stream: TcpStream, keys: &Keys, token: &str, log: &Mutex<Vec<Served>>) -> Option<()> {
    stream.set_nonblocking(false).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let Some((name, value)) = header.trim_end().split_once(':') else {
            break;
        };
        headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
    }
    let length = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let body = text(&body);
    let (status, error, answer) = if method == "GET" && path.starts_with("/federation/credentials")
    {
        let bearer = headers.get("x-amz-sso_bearer_token").map(String::as_str);
        let wanted = format!("role_name=Deployer&account_id={ACCOUNT}");
        if bearer != Some(token) || !path.contains(&wanted) {
            (
                401,
                "UnauthorizedException",
                r#"{"message":"Session token not found or invalid"}"#.to_owned(),
            )
        } else {
            let expires = (SystemTime::now() + Duration::from_secs(3600))
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_millis();
            let credentials = serde_json::json!({ "roleCredentials": {
                "accessKeyId": keys.id, "secretAccessKey": keys.secret,
                "sessionToken": keys.token, "expiration": expires as u64,
            }});
            (200, "", credentials.to_string())
        }
    } else if method == "POST"
        && path == "/token"
        && body.contains("\"refreshToken\":\"refresh-me\"")
    {
        let answer = r#"{"accessToken":"refreshed-token","expiresIn":3600,"refreshToken":"refresh-again","tokenType":"Bearer"}"#;
        (200, "", answer.to_owned())
    } else {
        (
            400,
            "InvalidRequestException",
            r#"{"message":"no"}"#.to_owned(),
        )
    };
    log.lock().unwrap().push(Served {
        method,
        path,
        headers,
        body,
    });
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nx-amzn-errortype: {error}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    Some(())
}

/// An `sso-session` profile and a legacy one, both for role `Deployer` in [`ACCOUNT`].
const SSO_CONFIG: &str = "\
[profile corp]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Deployer
region = eu-west-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = eu-west-1
sso_account_id = 111111111111
sso_role_name = Deployer
";

/// Where `aws sso login` keeps a session's token: `~/.aws/sso/cache/` and the SHA-1 of the
/// session's name, or of the start URL for a legacy profile (computed with `sha1sum`).
const CORP_TOKEN_FILE: &str = ".aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json";
const LEGACY_TOKEN_FILE: &str = ".aws/sso/cache/79e435d7a515078e81c9dffc35f38d5687ebd3a7.json";

fn token_cache(start_url: &str, access_token: &str, expires_in: i64, refresh: bool) -> String {
    let mut token = serde_json::json!({
        "startUrl": start_url, "region": "eu-west-1",
        "accessToken": access_token, "expiresAt": rfc3339_in(expires_in),
    });
    if refresh {
        token["refreshToken"] = "refresh-me".into();
        token["clientId"] = "client-id".into();
        token["clientSecret"] = "client-secret".into();
        token["registrationExpiresAt"] = rfc3339_in(30 * 86_400).into();
    }
    token.to_string()
}

fn with_portal(cmd: &mut Command, portal: &Portal) -> Output {
    cmd.env("AWS_ENDPOINT_URL_SSO", &portal.url)
        .env("AWS_ENDPOINT_URL_SSO_OIDC", &portal.url)
        .output()
        .unwrap()
}

#[test]
fn sso_profiles_sign_every_call_with_the_portals_keys() {
    let moto = Moto::start();
    let portal = Portal::start(&moto.keys, "portal-token");
    let home = Home::new(SSO_CONFIG);
    let corp = "https://corp.awsapps.com/start";
    home.write(
        CORP_TOKEN_FILE,
        &token_cache(corp, "portal-token", 3600, false),
    );
    let legacy = "https://legacy.awsapps.com/start";
    home.write(
        LEGACY_TOKEN_FILE,
        &token_cache(legacy, "portal-token", 3600, false),
    );

    for profile in ["corp", "legacy"] {
        let before = moto.requests().len();
        let out = with_portal(&mut home.status(&moto, profile), &portal);
        check_in_account(&out);
        moto.signed_with(before, &moto.keys.id);
    }
    let served = portal.served();
    assert_eq!(served.len(), 2, "{served:?}");
    for request in &served {
        assert_eq!(request.method, "GET");
        assert!(request.path.starts_with("/federation/credentials?"));
        assert_eq!(
            request
                .headers
                .get("x-amz-sso_bearer_token")
                .map(String::as_str),
            Some("portal-token")
        );
    }
}

#[test]
fn an_expiring_sso_token_is_refreshed_and_saved_for_the_next_run() {
    let moto = Moto::start();
    let portal = Portal::start(&moto.keys, "refreshed-token");
    let home = Home::new(SSO_CONFIG);
    let start = "https://corp.awsapps.com/start";
    // Two minutes left: inside the SDK's five-minute refresh window.
    home.write(CORP_TOKEN_FILE, &token_cache(start, "old-token", 120, true));

    let before = moto.requests().len();
    check_in_account(&with_portal(&mut home.status(&moto, "corp"), &portal));
    moto.signed_with(before, &moto.keys.id);
    let served = portal.served();
    assert_eq!(served[0].path, "/token", "{served:?}");
    assert!(served[0].body.contains("\"grantType\":\"refresh_token\""));
    assert_eq!(
        served[1]
            .headers
            .get("x-amz-sso_bearer_token")
            .map(String::as_str),
        Some("refreshed-token")
    );
    // The refreshed token is written back where `aws sso login` keeps it.
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path(CORP_TOKEN_FILE)).unwrap())
            .unwrap();
    assert_eq!(saved["accessToken"], "refreshed-token");
    assert_eq!(saved["refreshToken"], "refresh-again");
}

#[test]
fn an_sso_session_that_cannot_be_renewed_says_to_log_in() {
    let moto = Moto::start();
    let portal = Portal::start(&moto.keys, "valid-token");
    let home = Home::new(SSO_CONFIG);
    // Never logged in: no token at all.
    let out = with_portal(&mut home.status(&moto, "corp"), &portal);
    check_refused(&out, "run `aws sso login --profile corp`", &[]);
    assert!(text(&out.stderr).contains("profile `corp` signs in through IAM Identity Center"));
    // Expired, with nothing to refresh it with.
    let start = "https://corp.awsapps.com/start";
    home.write(
        CORP_TOKEN_FILE,
        &token_cache(start, "expired-secret-token", -60, false),
    );
    let out = with_portal(&mut home.status(&moto, "corp"), &portal);
    check_refused(
        &out,
        "run `aws sso login --profile corp`",
        &["expired-secret-token"],
    );
    // A legacy token the portal no longer accepts.
    let legacy = "https://legacy.awsapps.com/start";
    home.write(
        LEGACY_TOKEN_FILE,
        &token_cache(legacy, "revoked-secret-token", 600, false),
    );
    let out = with_portal(&mut home.status(&moto, "legacy"), &portal);
    check_refused(
        &out,
        "run `aws sso login --profile legacy`",
        &["revoked-secret-token"],
    );
    // Only the legacy token reached the portal; moto saw no call from the deployer.
    assert_eq!(portal.served().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// credential_process

/// A profile whose `credential_process` runs `print-credentials.sh` with an argument, as the
/// AWS CLI would run a real broker.
fn process_home(script: &str) -> Home {
    let home = Home::new("");
    home.write("bin/print-credentials.sh", script);
    let script = home.path("bin/print-credentials.sh");
    home.write(
        ".aws/config",
        &format!(
            "[profile broker]\ncredential_process = sh {} --account prod\n",
            script.display()
        ),
    );
    home
}

fn process_output(keys: &Keys, expires_in: i64) -> String {
    serde_json::json!({
        "Version": 1, "AccessKeyId": keys.id, "SecretAccessKey": keys.secret,
        "SessionToken": keys.token, "Expiration": rfc3339_in(expires_in),
    })
    .to_string()
}

#[test]
fn credential_process_output_signs_every_call() {
    let moto = Moto::start();
    let json = process_output(&moto.keys, 3600);
    let home = process_home(&format!(
        "[ \"$1\" = --account ] && [ \"$2\" = prod ] || exit 9\ncat <<'EOF'\n{json}\nEOF\n"
    ));
    let before = moto.requests().len();
    check_in_account(&home.status(&moto, "broker").output().unwrap());
    moto.signed_with(before, &moto.keys.id);
}

#[test]
fn an_expired_or_failing_credential_process_is_one_line_and_exit_code_5() {
    let moto = Moto::start();
    let before = moto.requests().len();
    let json = process_output(&moto.keys, -60);
    let home = process_home(&format!("cat <<'EOF'\n{json}\nEOF\n"));
    let out = home.status(&moto, "broker").output().unwrap();
    check_refused(
        &out,
        "the `credential_process` of profile `broker` gave no usable credentials: ",
        &[&moto.keys.secret, &moto.keys.token],
    );
    assert!(
        text(&out.stderr).contains("expired at `"),
        "{}",
        text(&out.stderr)
    );

    let home = process_home("echo 'the token broker is unreachable' >&2\nexit 3\n");
    let out = home.status(&moto, "broker").output().unwrap();
    check_refused(&out, "the token broker is unreachable", &[]);
    assert!(text(&out.stderr).contains("`credential_process` of profile `broker`"));

    // Output that is not the expected JSON is refused without printing it.
    let home = process_home("echo '{\"Version\": 1, \"SecretAccessKey\": \"printed-secret\"'\n");
    let out = home.status(&moto, "broker").output().unwrap();
    check_refused(
        &out,
        "`credential_process` of profile `broker`",
        &["printed-secret"],
    );
    // No call reached moto with any of these.
    assert_eq!(moto.requests().len(), before);
}

// ---------------------------------------------------------------------------------------------
// A role assumed with MFA

const MFA_SERIAL: &str = "arn:aws:iam::123456789012:mfa/operator";

fn mfa_home() -> Home {
    Home::new(&format!(
        "[profile keys]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n\
         [profile ops]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/deployer\n\
         source_profile = keys\nmfa_serial = {MFA_SERIAL}\n",
        testkit::aws::ACCESS_KEY_ID,
        testkit::aws::SECRET_ACCESS_KEY
    ))
}

/// The AWS CLI's cache file for the `ops` role: the SHA-1 of
/// `{"RoleArn": "arn:aws:iam::111111111111:role/deployer", "SerialNumber": "arn:aws:iam::123456789012:mfa/operator"}`
/// (Python's `json.dumps(args, sort_keys=True)`, as botocore hashes it).
const OPS_CACHE_FILE: &str = ".aws/cli/cache/31c4a7bb5843cb589703099c3c76eaeea2c24495.json";

/// A pseudo-terminal: the child gets the terminal side as standard input and error.
struct Pty {
    master: std::fs::File,
    terminal: std::fs::File,
}

impl Pty {
    fn open() -> Pty {
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        // Close-on-exec, so that no other test's child holds the terminal open.
        let master =
            openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let terminal = rustix::fs::open(
            name.as_c_str(),
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
        Pty {
            master: master.into(),
            terminal: terminal.into(),
        }
    }
}

/// Reads what the terminal shows into a channel, until the child has closed it.
fn screen(master: &std::fs::File) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let mut master = master.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        // Ends when the last terminal side closes (EIO) or the test is gone.
        while let Ok(n @ 1..) = master.read(&mut buf) {
            if tx.send(text(&buf[..n])).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn an_mfa_role_asks_on_the_terminal_then_reuses_the_aws_cli_cache() {
    let moto = Moto::start();
    let home = mfa_home();
    let before = moto.requests().len();

    // At a terminal: the prompt, the code typed without echo, the role's keys on every call.
    let pty = Pty::open();
    let mut cmd = home.status(&moto, "ops");
    cmd.stdin(pty.terminal.try_clone().unwrap())
        .stderr(pty.terminal.try_clone().unwrap())
        .stdout(Stdio::piped());
    let child = cmd.spawn().unwrap();
    drop(cmd);
    let Pty {
        mut master,
        terminal,
    } = pty;
    drop(terminal);
    let shown = screen(&master);
    let prompt = format!("Enter MFA code for {MFA_SERIAL}: ");
    let mut seen = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !seen.contains(&prompt) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match shown.recv_timeout(left) {
            Ok(chunk) => seen.push_str(&chunk),
            Err(_) => panic!("no MFA prompt within a minute; the terminal showed {seen:?}"),
        }
    }
    master.write_all(b"123456\n").unwrap();
    let out = child.wait_with_output().unwrap();
    // Everything the terminal showed after the prompt, until the child closed it.
    let mut after = String::new();
    while let Ok(chunk) = shown.recv_timeout(Duration::from_secs(5)) {
        after.push_str(&chunk);
    }
    assert!(!after.contains("123456"), "the code was echoed: {after:?}");
    check_in_account(&out);

    let requests = moto.requests();
    let assume: Vec<_> = requests[before..]
        .iter()
        .filter(|(_, _, body)| body.contains("Action=AssumeRole"))
        .collect();
    assert_eq!(assume.len(), 1, "{requests:?}");
    let (_, auth, body) = assume[0];
    assert!(auth.contains(&format!("Credential={}/", testkit::aws::ACCESS_KEY_ID)));
    assert!(body.contains("TokenCode=123456"), "{body}");
    assert!(body.contains("SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Foperator"));
    assert!(body.contains("RoleSessionName=botocore-session-"), "{body}");
    // Every other call carries the role's session key, which moto minted in the response.
    let session = requests[before..]
        .iter()
        .find(|(_, auth, _)| !auth.contains(testkit::aws::ACCESS_KEY_ID))
        .map(|(_, auth, _)| {
            auth.split("Credential=")
                .nth(1)
                .unwrap()
                .split('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .expect("no call with the role's session");
    let cache = std::fs::read_to_string(home.path(OPS_CACHE_FILE)).unwrap();
    assert!(cache.contains(&session), "{cache}");
    moto.signed_with(before + 1, &session);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.path(OPS_CACHE_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Without a terminal, the cached session is used and no code is asked for.
    let before = moto.requests().len();
    check_in_account(&home.status(&moto, "ops").output().unwrap());
    let requests = moto.signed_with(before, &session);
    assert!(
        requests
            .iter()
            .all(|(_, _, body)| !body.contains("AssumeRole"))
    );

    // Without a terminal or a cached session: refused at once, naming the next step.
    std::fs::remove_file(home.path(OPS_CACHE_FILE)).unwrap();
    let out = home.status(&moto, "ops").output().unwrap();
    check_refused(
        &out,
        &format!(
            "profile `ops` assumes role `arn:aws:iam::{ACCOUNT}:role/deployer` with an MFA code: there is no terminal to ask for the code of `{MFA_SERIAL}` on"
        ),
        &[testkit::aws::SECRET_ACCESS_KEY],
    );
}

#[test]
fn help_names_every_credential_source() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = text(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for source in [
        "--profile",
        "sso_session",
        "sso_start_url",
        "aws sso login --profile NAME",
        "credential_process",
        "source_profile",
        "mfa_serial",
        "~/.aws/cli/cache",
    ] {
        assert!(help.contains(source), "{source:?} missing from --help");
    }
}
