//! End to end: the real `deployer up --stage local` binary, driven over HTTP like the browser does.

use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use photo_auth::TokenUse;
use photo_auth::issuer::{Issuer, Subject};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_deployer");
const POOL: &str = "us-east-1_local";
const CLIENT: &str = "localclient";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn up_command(port: u16, data_dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["up", "--stage", "local", "--port", &port.to_string()])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--fast-password-hashing")
        // Building the SPA takes minutes; its serving has unit tests.
        .arg("--no-site")
        .args(extra)
        .env_remove("DEPLOYER_STAGE")
        .env_remove("DEPLOYER_LOCAL_UPLOAD_POLICY_SECS")
        .stdin(Stdio::null());
    cmd
}

/// A running stage, killed when dropped.
struct Stage {
    child: Child,
    base: String,
    data_dir: PathBuf,
    http: reqwest::Client,
}

impl Drop for Stage {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Stage {
    async fn start(data_dir: &Path, extra: &[&str]) -> Stage {
        let port = free_port();
        let child = up_command(port, data_dir, extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stage = Stage {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
        };
        // Generating the token key on first start takes a moment in a debug build.
        let deadline = Instant::now() + Duration::from_secs(120);
        let jwks = format!("{}/_cognito/{POOL}/.well-known/jwks.json", stage.base);
        loop {
            if let Some(status) = stage.child.try_wait().unwrap() {
                let mut err = String::new();
                stage
                    .child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("the stage exited with {status}: {err}");
            }
            if let Ok(r) = stage.http.get(&jwks).send().await
                && r.status() == 200
            {
                return stage;
            }
            assert!(Instant::now() < deadline, "the stage did not start in time");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn cognito(&self, action: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/_cognito/", self.base))
            .header(
                "x-amz-target",
                format!("AWSCognitoIdentityProviderService.{action}"),
            )
            .header("content-type", "application/x-amz-json-1.1")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (
            status,
            serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
        )
    }

    async fn api(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}/api{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let bytes = r.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// The latest code mailed to `email`, from the outbox.
    fn code_for(&self, email: &str) -> String {
        let mut mails: Vec<_> = std::fs::read_dir(self.data_dir.join("outbox"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        mails.sort();
        let text = mails
            .iter()
            .rev()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .find(|t| t.starts_with(&format!("To: {email}\n")))
            .expect("a mail to this address");
        text.trim_end().rsplit(' ').next().unwrap().to_owned()
    }

    /// Signs up, confirms with the mailed code, signs in: the access token and the user's sub.
    async fn account(&self, email: &str) -> (String, String) {
        let (status, body) = self
            .cognito(
                "SignUp",
                json!({"ClientId": CLIENT, "Username": email, "Password": "correct horse",
                       "UserAttributes": [{"Name": "email", "Value": email}]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let sub = body["UserSub"].as_str().unwrap().to_owned();
        let code = self.code_for(email);
        let (status, body) = self
            .cognito(
                "ConfirmSignUp",
                json!({"ClientId": CLIENT, "Username": email, "ConfirmationCode": code}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        (self.sign_in(email).await, sub)
    }

    async fn sign_in(&self, email: &str) -> String {
        let (status, body) = self
            .cognito(
                "InitiateAuth",
                json!({"ClientId": CLIENT, "AuthFlow": "USER_PASSWORD_AUTH",
                       "AuthParameters": {"USERNAME": email, "PASSWORD": "correct horse"}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["AuthenticationResult"]["AccessToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Starts an upload of `bytes`: the photo id and the form.
    async fn start_upload(&self, token: &str, bytes: &[u8]) -> (String, Value) {
        self.start_named_upload(token, "beach.jpg", bytes).await
    }

    async fn start_named_upload(&self, token: &str, name: &str, bytes: &[u8]) -> (String, Value) {
        let sha = hex(&Sha256::digest(bytes));
        let (status, body) = self
            .api(
                "POST",
                "/photos/uploads",
                token,
                Some(json!({"file_name": name, "content_type": "image/jpeg",
                            "size": bytes.len(), "sha256": sha})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (
            body["photo"]["id"].as_str().unwrap().to_owned(),
            body["upload"].clone(),
        )
    }

    /// Posts a form as a browser does: the fields, then the file.
    async fn post_form(
        &self,
        form: &Value,
        fields: &[(String, String)],
        file: &[u8],
    ) -> (u16, String) {
        let boundary = "----localstageboundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"beach.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let r = self
            .http
            .post(form["url"].as_str().unwrap())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    fn stored(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.data_dir.join("objects/data").join(key)).ok()
    }

    /// Uploads `bytes` through the API's form: the photo id.
    async fn upload(&self, token: &str, name: &str, bytes: &[u8]) -> String {
        let (id, form) = self.start_named_upload(token, name, bytes).await;
        let (status, body) = self.post_form(&form, &fields_of(&form), bytes).await;
        assert_eq!(status, 204, "{name}: {body}");
        id
    }

    /// Polls a photo until it leaves PENDING (bounded): the photo as the API shows it.
    async fn settled(&self, token: &str, id: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let (status, photo) = self.api("GET", &format!("/photos/{id}"), token, None).await;
            assert_eq!(status, 200, "{photo}");
            if photo["status"] != "PENDING" {
                return photo;
            }
            assert!(
                Instant::now() < deadline,
                "photo {id} still PENDING after {limit:?}; queue: {:?}",
                jobs(&self.data_dir)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The processing queue's jobs as `(key, state)`, read from the stage's database.
fn jobs(data_dir: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(data_dir.join("stage.sqlite3")).unwrap();
    let mut stmt = conn
        .prepare("SELECT key, state FROM jobs ORDER BY key")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Rows of the stage's database that mention `needle` anywhere (the photo table and the queue).
fn rows_mentioning(data_dir: &Path, needle: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(data_dir.join("stage.sqlite3")).unwrap();
    let pattern = format!("%{needle}%");
    let mut stmt = conn
        .prepare(
            "SELECT pk || ' ' || sk FROM items \
               WHERE pk LIKE ?1 OR sk LIKE ?1 OR gsi1pk LIKE ?1 OR gsi1sk LIKE ?1 OR body LIKE ?1 \
             UNION ALL SELECT key FROM jobs WHERE key LIKE ?1",
        )
        .unwrap();
    stmt.query_map([&pattern], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Every file under `dir` whose path mentions `needle`.
fn files_mentioning(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.to_string_lossy().contains(needle) {
                found.push(path.clone());
            }
            if path.is_dir() {
                todo.push(path);
            }
        }
    }
    found
}

fn fixture(name: &str) -> Vec<u8> {
    let path = testkit::test_photos().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading `{}`: {e}", path.display()))
}

/// One hostile form: what it is, its fields, its file, and S3's expected status and code.
type HostileCase<'a> = (&'a str, Vec<(String, String)>, Vec<u8>, u16, &'a str);

/// Signs a media URL with the stage's secret, as its object store does.
fn media_signature(data_dir: &Path, key: &str, expires: u64) -> String {
    use hmac::{KeyInit as _, Mac as _};
    let secrets: Value =
        serde_json::from_str(&std::fs::read_to_string(data_dir.join("secrets.json")).unwrap())
            .unwrap();
    let media = secrets["media"].as_str().unwrap();
    let secret: Vec<u8> = (0..media.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&media[i..i + 2], 16).unwrap())
        .collect();
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&secret).unwrap();
    mac.update(format!("GET\nphotos-local\n{key}\n{expires}").as_bytes());
    hex(&mac.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn fields_of(form: &Value) -> Vec<(String, String)> {
    form["fields"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn with_field(fields: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| {
            if k == name {
                (k.clone(), value.to_owned())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect()
}

fn s3_code(body: &str) -> &str {
    body.split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_up_upload_and_every_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Forms live 2 s, so the expiry case needs no long wait.
    let stage = Stage::start(&data, &["--upload-policy-secs", "2"]).await;
    let (alice, alice_sub) = stage.account("alice@example.com").await;
    let (bob, _) = stage.account("bob@example.com").await;

    // The happy path: the form from the API stores the file under alice's original key.
    let photo = fixture("orientation-1.jpg");
    let (id, form) = stage.start_upload(&alice, &photo).await;
    let key = format!("originals/{alice_sub}/{id}");
    assert_eq!(form["fields"]["key"], key.as_str());
    let fields = fields_of(&form);
    let (status, body) = stage.post_form(&form, &fields, &photo).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(stage.stored(&key), Some(photo.clone()));
    let (status, got) = stage
        .api("GET", &format!("/photos/{id}"), &alice, None)
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        stage
            .api("GET", &format!("/photos/{id}"), &bob, None)
            .await
            .0,
        404
    );

    // Media: a signed URL serves the object until it expires; a forged or stale one is refused.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let media = |key: &str, expires: u64, sig: &str| {
        format!(
            "{}/_media/photos-local/{key}?expires={expires}&signature={sig}",
            stage.base
        )
    };
    let good = media_signature(&data, &key, now + 60);
    let r = stage
        .http
        .get(media(&key, now + 60, &good))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.bytes().await.unwrap().as_ref(), photo.as_slice());
    let stale = media_signature(&data, &key, now - 1);
    for url in [
        media(&key, now - 1, &stale),
        media(&key, now + 61, &good),
        media(&format!("originals/{alice_sub}/other"), now + 60, &good),
    ] {
        let r = stage.http.get(url).send().await.unwrap();
        assert_eq!(r.status(), 403);
    }

    // Each hostile form is refused as S3 refuses it, and nothing is stored.
    let other = b"\xff\xd8\xff\xe0 another photo".to_vec();
    let (id2, form2) = stage.start_upload(&alice, &other).await;
    let key2 = format!("originals/{alice_sub}/{id2}");
    let fields2 = fields_of(&form2);
    let policy = fields2
        .iter()
        .find(|(k, _)| k == "policy")
        .unwrap()
        .1
        .clone();
    let tampered_policy = {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::STANDARD;
        let text = String::from_utf8(engine.decode(&policy).unwrap()).unwrap();
        let bigger = text.replace(
            &format!("\"content-length-range\",1,{}", other.len()),
            "\"content-length-range\",1,99999999",
        );
        assert_ne!(bigger, text, "the policy names the size range");
        engine.encode(bigger)
    };
    let cases: Vec<HostileCase> = vec![
        (
            "tampered policy",
            with_field(&fields2, "policy", &tampered_policy),
            other.clone(),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "oversize body",
            fields2.clone(),
            [other.as_slice(), b"+"].concat(),
            400,
            "EntityTooLarge",
        ),
        (
            "wrong content type",
            with_field(&fields2, "Content-Type", "text/html"),
            other.clone(),
            403,
            "AccessDenied",
        ),
    ];
    for (what, fields, file, status, code) in cases {
        let (got, body) = stage.post_form(&form2, &fields, &file).await;
        assert_eq!((got, s3_code(&body)), (status, code), "{what}: {body}");
        assert_eq!(stage.stored(&key2), None, "{what}");
        assert!(!jobs(&data).iter().any(|(k, _)| *k == key2), "{what}");
    }

    // Bob's valid form cannot be pointed at alice's key.
    let (_, bob_form) = stage.start_upload(&bob, &other).await;
    let hijack = with_field(&fields_of(&bob_form), "key", &key2);
    let (got, body) = stage.post_form(&bob_form, &hijack, &other).await;
    assert_eq!((got, s3_code(&body)), (403, "AccessDenied"), "{body}");
    assert_eq!(stage.stored(&key2), None);

    // An expired form.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (got, body) = stage.post_form(&form2, &fields2, &other).await;
    assert_eq!((got, s3_code(&body)), (403, "AccessDenied"), "{body}");
    assert!(body.contains("expired"), "{body}");
    assert_eq!(stage.stored(&key2), None);

    // Forged and expired tokens get 401 from the API.
    let mut parts: Vec<String> = alice.split('.').map(str::to_owned).collect();
    {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = String::from_utf8(engine.decode(&parts[1]).unwrap()).unwrap();
        parts[1] =
            engine.encode(payload.replace(&alice_sub, "00000000-0000-4000-8000-000000000000"));
    }
    let forged = parts.join(".");
    assert_eq!(stage.api("GET", "/photos", &forged, None).await.0, 401);
    let other_key = Issuer::generate(format!("{}/_cognito/{POOL}", stage.base), CLIENT).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let subject = Subject {
        sub: alice_sub.clone(),
        username: "alice@example.com".into(),
        email: None,
    };
    let foreign = other_key
        .issue(TokenUse::Access, &subject, now, Duration::from_secs(600))
        .unwrap();
    assert_eq!(stage.api("GET", "/photos", &foreign, None).await.0, 401);
    let pem = std::fs::read_to_string(data.join("cognito-key.pem")).unwrap();
    let own_key =
        Issuer::from_pkcs8_pem(&pem, format!("{}/_cognito/{POOL}", stage.base), CLIENT).unwrap();
    let expired = own_key
        .issue(
            TokenUse::Access,
            &subject,
            now - 7200,
            Duration::from_secs(600),
        )
        .unwrap();
    assert_eq!(stage.api("GET", "/photos", &expired, None).await.0, 401);
    let fresh = own_key
        .issue(TokenUse::Access, &subject, now, Duration::from_secs(600))
        .unwrap();
    assert_eq!(stage.api("GET", "/photos", &fresh, None).await.0, 200);
    assert_eq!(stage.api("GET", "/photos", "", None).await.0, 401);

    // Cognito's refusals have Cognito's shape.
    let (status, body) = stage
        .cognito(
            "InitiateAuth",
            json!({"ClientId": CLIENT, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "alice@example.com", "PASSWORD": "wrong horse"}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "NotAuthorizedException");
    let (status, body) = stage
        .cognito(
            "ForgotPassword",
            json!({"ClientId": "someone-else", "Username": "alice@example.com"}),
        )
        .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("ResourceNotFoundException"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_sign_out_and_password_reset_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let stage = Stage::start(&dir.path().join("data"), &[]).await;
    let email = "carol@example.com";
    stage.account(email).await;
    let (status, body) = stage
        .cognito(
            "InitiateAuth",
            json!({"ClientId": CLIENT, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": email, "PASSWORD": "correct horse"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let refresh = body["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let access = body["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let renew = json!({"ClientId": CLIENT, "AuthFlow": "REFRESH_TOKEN_AUTH",
                       "AuthParameters": {"REFRESH_TOKEN": refresh}});
    let (status, body) = stage.cognito("InitiateAuth", renew.clone()).await;
    assert_eq!(status, 200, "{body}");
    let renewed = body["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();
    assert_eq!(stage.api("GET", "/me", renewed, None).await.0, 200);
    assert!(body["AuthenticationResult"].get("RefreshToken").is_none());

    let (status, body) = stage
        .cognito("GlobalSignOut", json!({"AccessToken": access}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = stage.cognito("InitiateAuth", renew).await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("NotAuthorizedException"))
    );

    let (status, body) = stage
        .cognito(
            "ForgotPassword",
            json!({"ClientId": CLIENT, "Username": email}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let code = stage.code_for(email);
    let (status, body) = stage
        .cognito(
            "ConfirmForgotPassword",
            json!({"ClientId": CLIENT, "Username": email, "ConfirmationCode": code,
                   "Password": "battery staple"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = stage
        .cognito(
            "InitiateAuth",
            json!({"ClientId": CLIENT, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": email, "PASSWORD": "battery staple"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Runs `deployer up` expecting it to fail at once.
fn fails_at_once(cmd: &mut Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("`deployer up` kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn one_line_error(out: &Output) -> String {
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).trim_end().to_owned();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[tokio::test(flavor = "multi_thread")]
async fn data_survives_a_restart_and_the_data_dir_and_port_are_exclusive() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let stage = Stage::start(&data, &[]).await;
    let (alice, _) = stage.account("alice@example.com").await;
    let photo = b"\xff\xd8\xff\xe0 kept photo".to_vec();
    let (id, form) = stage.start_upload(&alice, &photo).await;
    assert_eq!(
        stage.post_form(&form, &fields_of(&form), &photo).await.0,
        204
    );

    let out = fails_at_once(&mut up_command(free_port(), &data, &[]));
    let err = one_line_error(&out);
    assert!(err.contains("is in use by another `deployer up`"), "{err}");

    let port = stage.base.rsplit(':').next().unwrap().to_owned();
    let other = dir.path().join("other");
    let out = fails_at_once(&mut up_command(port.parse().unwrap(), &other, &[]));
    let err = one_line_error(&out);
    assert!(
        err.contains(&format!("port {port} on 127.0.0.1 is already in use")),
        "{err}"
    );

    let wrong_stage = Command::new(BIN)
        .args(["up", "--stage", "dev", "--data-dir"])
        .arg(&other)
        .output()
        .unwrap();
    // Any other stage is an AWS stage: it needs its `deployer.toml` entry, not the data dir.
    let err = one_line_error(&wrong_stage);
    assert!(err.contains("cannot read `deployer.toml`"), "{err}");

    // Ctrl-C stops it cleanly; everything is there after a restart.
    let mut stage = stage;
    stop_with(&mut stage, "-INT");
    drop(stage);

    let stage = Stage::start(&data, &[]).await;
    let alice = stage.sign_in("alice@example.com").await;
    let (status, body) = stage.api("GET", "/photos", &alice, None).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id.as_str()]);

    // SIGTERM, as a service manager sends it, stops it cleanly too.
    let mut stage = stage;
    stop_with(&mut stage, "-TERM");
}

/// Sends a signal and waits (bounded) for a clean exit.
fn stop_with(stage: &mut Stage, signal: &str) {
    let pid = stage.child.id().to_string();
    let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = stage.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no graceful stop on {signal}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{signal}: {status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn three_real_photos_from_sign_up_to_deletion() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let stage = Stage::start(&data, &[]).await;
    let (alice, alice_sub) = stage.account("alice@example.com").await;
    let (bob, _) = stage.account("bob@example.com").await;

    let names = ["landscape-8mp.jpg", "no-exif-9mp.jpg", "orientation-6.jpg"];
    let mut ids = Vec::new();
    for name in names {
        ids.push(stage.upload(&alice, name, &fixture(name)).await);
    }
    for (id, name) in ids.iter().zip(names) {
        let photo = stage.settled(&alice, id, Duration::from_secs(120)).await;
        assert_eq!(photo["status"], "READY", "{name}: {photo}");
        assert!(
            photo["dimensions"]["width"].as_u64().unwrap() > 0,
            "{photo}"
        );
        for derivative in ["thumb.jpg", "preview.jpg"] {
            let bytes = stage
                .stored(&format!("derivatives/{alice_sub}/{id}/{derivative}"))
                .unwrap_or_else(|| panic!("{name}: no {derivative}"));
            assert_eq!(&bytes[..2], b"\xff\xd8", "{name}: {derivative} is a JPEG");
        }
        let thumb = stage
            .http
            .get(photo["thumbnail_url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(thumb.status(), 200);
        assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    }
    assert!(jobs(&data).is_empty(), "{:?}", jobs(&data));

    // Pagination: two, then the third with no further cursor.
    let (status, first) = stage.api("GET", "/photos?limit=2", &alice, None).await;
    assert_eq!(status, 200, "{first}");
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let (status, second) = stage
        .api(
            "GET",
            &format!("/photos?limit=2&cursor={cursor}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert!(second["next_cursor"].is_null(), "{second}");
    let mut listed: Vec<String> = [&first, &second]
        .iter()
        .flat_map(|page| page["items"].as_array().unwrap())
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed.len(), 3);
    listed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(listed, expected);
    // Bob sees none of it and cannot use alice's cursor.
    let (status, page) = stage.api("GET", "/photos", &bob, None).await;
    assert_eq!((status, page["items"].as_array().unwrap().len()), (200, 0));
    let (status, _) = stage
        .api(
            "GET",
            &format!("/photos?limit=2&cursor={cursor}"),
            &bob,
            None,
        )
        .await;
    assert_eq!(status, 400);

    // An album holding the first photo.
    let (status, album) = stage
        .api("POST", "/albums", &alice, Some(json!({"name": "Holidays"})))
        .await;
    assert_eq!(status, 201, "{album}");
    let album_id = album["id"].as_str().unwrap();
    let member = format!("/albums/{album_id}/photos/{}", ids[0]);
    assert_eq!(stage.api("PUT", &member, &alice, None).await.0, 204);
    assert_eq!(stage.api("PUT", &member, &bob, None).await.0, 404);
    let (status, members) = stage
        .api("GET", &format!("/albums/{album_id}/photos"), &alice, None)
        .await;
    assert_eq!(status, 200, "{members}");
    assert_eq!(members["items"][0]["id"], ids[0].as_str(), "{members}");

    // A share link of the album works without a token, until it is revoked.
    let (status, share) = stage
        .api(
            "POST",
            "/shares",
            &alice,
            Some(json!({"album_id": album_id})),
        )
        .await;
    assert_eq!(status, 201, "{share}");
    let token = share["token"].as_str().unwrap();
    let public = format!("{}/api/public/shares/{token}", stage.base);
    let r = stage.http.get(&public).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let shared: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(shared["album_name"], "Holidays", "{shared}");
    assert_eq!(shared["photos"][0]["id"], ids[0].as_str(), "{shared}");
    let thumb = stage
        .http
        .get(shared["photos"][0]["thumbnail_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(thumb.status(), 200);
    assert_eq!(
        stage
            .api("DELETE", &format!("/shares/{token}"), &bob, None)
            .await
            .0,
        404
    );
    assert_eq!(
        stage
            .api("DELETE", &format!("/shares/{token}"), &alice, None)
            .await
            .0,
        204
    );
    let r = stage.http.get(&public).send().await.unwrap();
    assert_eq!(r.status(), 410);

    // A photo share too, then the photo is deleted: nothing of it is left anywhere.
    let gone = &ids[0];
    let (status, share) = stage
        .api("POST", "/shares", &alice, Some(json!({"photo_id": gone})))
        .await;
    assert_eq!(status, 201, "{share}");
    assert_eq!(
        stage
            .api("DELETE", &format!("/photos/{gone}"), &bob, None)
            .await
            .0,
        404
    );
    assert!(!files_mentioning(&data.join("objects"), gone).is_empty());
    assert!(!rows_mentioning(&data, gone).is_empty());
    assert_eq!(
        stage
            .api("DELETE", &format!("/photos/{gone}"), &alice, None)
            .await
            .0,
        204
    );
    assert_eq!(
        files_mentioning(&data.join("objects"), gone),
        Vec::<PathBuf>::new()
    );
    assert_eq!(rows_mentioning(&data, gone), Vec::<String>::new());
    assert_eq!(
        stage
            .api("GET", &format!("/photos/{gone}"), &alice, None)
            .await
            .0,
        404
    );
    let (_, page) = stage.api("GET", "/photos", &alice, None).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");
    let (_, members) = stage
        .api("GET", &format!("/albums/{album_id}/photos"), &alice, None)
        .await;
    assert_eq!(members["items"].as_array().unwrap().len(), 0, "{members}");
    // The other photos are untouched.
    for id in &ids[1..] {
        assert!(
            stage
                .stored(&format!("originals/{alice_sub}/{id}"))
                .is_some()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stage_killed_while_processing_finishes_the_photo_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Processing waits 60 s before it starts: the kill lands while the job is in hand.
    let mut stage = Stage::start(&data, &["--processing-delay-ms", "60000"]).await;
    let (alice, alice_sub) = stage.account("alice@example.com").await;
    let id = stage
        .upload(&alice, "landscape-8mp.jpg", &fixture("landscape-8mp.jpg"))
        .await;
    let key = format!("originals/{alice_sub}/{id}");
    let bytes = fixture("orientation-6.jpg");
    let (orphan, _) = stage
        .start_named_upload(&alice, "orientation-6.jpg", &bytes)
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while jobs(&data) != vec![(key.clone(), "running".to_owned())] {
        assert!(
            Instant::now() < deadline,
            "never running: {:?}",
            jobs(&data)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = stage.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = stage.child.wait().unwrap();
    assert!(!status.success(), "{status}");
    drop(stage);
    assert_eq!(jobs(&data), vec![(key.clone(), "running".to_owned())]);
    // The crash also cut the second upload between storing the file and queueing it: its file
    // is in the bucket, but no job names it.
    for (area, contents) in [("data", bytes.as_slice()), ("meta", b"image/jpeg")] {
        let path = data
            .join("objects")
            .join(area)
            .join(format!("originals/{alice_sub}/{orphan}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    let stage = Stage::start(&data, &[]).await;
    let alice = stage.sign_in("alice@example.com").await;
    for id in [&id, &orphan] {
        let photo = stage.settled(&alice, id, Duration::from_secs(120)).await;
        assert_eq!(photo["status"], "READY", "{photo}");
        assert!(
            stage
                .stored(&format!("derivatives/{alice_sub}/{id}/thumb.jpg"))
                .is_some()
        );
    }
    assert!(jobs(&data).is_empty(), "{:?}", jobs(&data));
}
