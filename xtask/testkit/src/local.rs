//! A client of a running local stage, speaking to it as the SPA and a browser do: Cognito's JSON
//! API at `/_cognito/`, the HTTP API at `/api`, and the bucket's upload form. Mail goes to the
//! stage's `outbox/`, which the client reads for confirmation and reset codes.
//!
//! The stage itself is started by the test: the real `deployer` binary, or in-process with the
//! `stage` feature ([`crate::stage`]). Every request and every wait is bounded.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::Digest as _;

/// The local stage's user pool and app client (`local_stage::server::{POOL_ID, CLIENT_ID}`).
pub const POOL_ID: &str = "us-east-1_local";
pub const CLIENT_ID: &str = "localclient";

/// The longest any single HTTP step, or any check of a [`poll`], may take.
pub const STEP: Duration = Duration::from_secs(60);

/// Runs `f`, failing the test when it takes longer than `limit`.
pub async fn bounded<T>(what: &str, limit: Duration, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no answer within {limit:?}"),
    }
}

/// Polls `check` every 100 ms until it gives a value, failing after `limit` with `what` and
/// the last state it reported.
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

/// The SHA-256 of `bytes` in lower-case hex, as the API wants it declared.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The fields of an upload form the API handed out (`upload.fields`), in its order.
pub fn fields_of(form: &Value) -> Vec<(String, String)> {
    form["fields"]
        .as_object()
        .expect("an upload form with fields")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// `fields` with the field `name` set to `value` (a tampered form).
pub fn with_field(fields: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| {
            let v = if k == name { value } else { v.as_str() };
            (k.clone(), v.to_owned())
        })
        .collect()
}

/// The code in a mail body: the last word of its last line (`... is 123456`).
pub fn code_in(mail: &str) -> Option<String> {
    let line = mail.lines().rev().find(|l| !l.trim().is_empty())?;
    let code = line.split_whitespace().last()?;
    (!code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric())).then(|| code.to_owned())
}

/// A stage at `base` (`http://127.0.0.1:PORT`) keeping its data in `data_dir`.
#[derive(Debug, Clone)]
pub struct LocalClient {
    pub base: String,
    pub data_dir: PathBuf,
    /// Bounded requests; for what the helpers below do not cover (media, public links).
    pub http: reqwest::Client,
}

impl LocalClient {
    pub fn new(base: String, data_dir: &Path) -> LocalClient {
        LocalClient {
            base,
            data_dir: data_dir.to_owned(),
            http: photo_auth::tls::http_client()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("building an HTTP client"),
        }
    }

    /// Waits up to `limit` until the stage serves its user pool's keys; `exited` says whether
    /// (and how) the stage stopped meanwhile, which fails the test at once.
    pub async fn wait_ready(&self, limit: Duration, mut exited: impl FnMut() -> Option<String>) {
        let jwks = format!("{}/_cognito/{POOL_ID}/.well-known/jwks.json", self.base);
        poll("the local stage serving its keys", limit, || {
            if let Some(how) = exited() {
                panic!("the local stage stopped: {how}");
            }
            let request = self.http.get(&jwks).send();
            async move {
                match request.await {
                    Ok(r) if r.status() == 200 => Ok(()),
                    Ok(r) => Err(format!("HTTP {}", r.status())),
                    Err(e) => Err(e.to_string()),
                }
            }
        })
        .await;
    }

    /// One call of the Cognito JSON API: the status and the JSON answer.
    pub async fn cognito(&self, action: &str, body: Value) -> (u16, Value) {
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
            .unwrap_or_else(|e| panic!("{action}: {e}"));
        let status = r.status().as_u16();
        let bytes = r.bytes().await.unwrap_or_else(|e| panic!("{action}: {e}"));
        let answer = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{action}: an answer that is not JSON ({e})"));
        (status, answer)
    }

    /// A Cognito call that must succeed: its answer.
    pub async fn cognito_ok(&self, action: &str, body: Value) -> Value {
        let (status, answer) = self.cognito(action, body).await;
        assert_eq!(status, 200, "{action} answered {status}: {answer}");
        answer
    }

    /// One call of the HTTP API (`path` below `/api`): the status and the JSON answer, or null
    /// for an empty or non-JSON body.
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(
                method.parse().expect("an HTTP method"),
                format!("{}/api{path}", self.base),
            )
            .bearer_auth(token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let r = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = r.status().as_u16();
        let bytes = r
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A GET of a full URL (media, public share links) that needs no token: the response.
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// The newest code mailed to `email` for `purpose` (`confirm` or `reset`), waiting for it.
    pub async fn mailed_code(&self, email: &str, purpose: &str) -> String {
        let outbox = self.data_dir.join("outbox");
        // The stage names each mail `{time}-{purpose}-{address with [^A-Za-z0-9] as _}.txt`.
        let safe: String = email
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let suffix = format!("-{purpose}-{safe}.txt");
        poll(&format!("a {purpose} mail to {email}"), STEP, || {
            let newest = newest_mail(&outbox, &suffix);
            async move {
                let text = newest?;
                code_in(&text).ok_or_else(|| format!("no code in {text:?}"))
            }
        })
        .await
    }

    /// Signs `email` up with `password`, confirms it with the mailed code: the user's sub.
    pub async fn sign_up(&self, email: &str, password: &str) -> String {
        let answer = self
            .cognito_ok(
                "SignUp",
                json!({"ClientId": CLIENT_ID, "Username": email, "Password": password,
                       "UserAttributes": [{"Name": "email", "Value": email}]}),
            )
            .await;
        let code = self.mailed_code(email, "confirm").await;
        self.cognito_ok(
            "ConfirmSignUp",
            json!({"ClientId": CLIENT_ID, "Username": email, "ConfirmationCode": code}),
        )
        .await;
        answer["UserSub"]
            .as_str()
            .expect("a sub in the sign-up answer")
            .to_owned()
    }

    /// Signs in with a password: the whole `AuthenticationResult` (access, id, refresh token).
    pub async fn sign_in_tokens(&self, email: &str, password: &str) -> Value {
        let answer = self
            .cognito_ok(
                "InitiateAuth",
                json!({"ClientId": CLIENT_ID, "AuthFlow": "USER_PASSWORD_AUTH",
                       "AuthParameters": {"USERNAME": email, "PASSWORD": password}}),
            )
            .await;
        answer["AuthenticationResult"].clone()
    }

    /// Signs in with a password: an access token.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        self.sign_in_tokens(email, password).await["AccessToken"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// Signs up, confirms and signs in: the access token and the user's sub.
    pub async fn account(&self, email: &str, password: &str) -> (String, String) {
        let sub = self.sign_up(email, password).await;
        (self.sign_in(email, password).await, sub)
    }

    /// Starts an upload of `bytes` as the JPEG `name`, which must be granted: the photo id and
    /// the form (`upload`: `url` and `fields`).
    pub async fn start_upload(&self, token: &str, name: &str, bytes: &[u8]) -> (String, Value) {
        self.start_upload_as(token, name, "image/jpeg", bytes).await
    }

    /// Starts an upload of `bytes` as `name` of `content_type` (`image/heic`, …), which must be
    /// granted: the photo id and the form.
    pub async fn start_upload_as(
        &self,
        token: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> (String, Value) {
        let (status, body) = self
            .api(
                "POST",
                "/photos/uploads",
                token,
                Some(json!({"file_name": name, "content_type": content_type,
                            "size": bytes.len(), "sha256": sha256_hex(bytes)})),
            )
            .await;
        assert_eq!(status, 201, "starting the upload of {name}: {body}");
        (
            body["photo"]["id"].as_str().expect("a photo id").to_owned(),
            body["upload"].clone(),
        )
    }

    /// Posts `form` with `fields` and `file` as a browser does: the status and the body.
    pub async fn post_form(
        &self,
        form: &Value,
        fields: &[(String, String)],
        file: &[u8],
    ) -> (u16, String) {
        let url = form["url"].as_str().expect("a form URL");
        let body = crate::http::multipart(fields.iter().cloned(), "beach.jpg", "image/jpeg", file);
        let r = self
            .http
            .post(url)
            .header("content-type", crate::http::multipart_content_type())
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        let status = r.status().as_u16();
        (status, r.text().await.unwrap_or_default())
    }

    /// Uploads `bytes` the whole way (API, then the form), which must succeed: the photo id.
    pub async fn upload(&self, token: &str, name: &str, bytes: &[u8]) -> String {
        self.upload_as(token, name, "image/jpeg", bytes).await
    }

    /// Uploads `bytes` as `name` of `content_type` the whole way, which must succeed: the id.
    pub async fn upload_as(
        &self,
        token: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> String {
        let (id, form) = self.start_upload_as(token, name, content_type, bytes).await;
        let (status, body) = self.post_form(&form, &fields_of(&form), bytes).await;
        assert_eq!(status, 204, "{name}: {body}");
        id
    }

    /// The stored bytes of the bucket's object `key`, read from the data directory.
    pub fn stored(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.data_dir.join("objects/data").join(key)).ok()
    }
}

/// The text of the newest mail in `outbox` whose name ends in `suffix`.
fn newest_mail(outbox: &Path, suffix: &str) -> Result<String, String> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(outbox)
        .map_err(|e| format!("reading `{}`: {e}", outbox.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    // Names start with the time in zero-padded milliseconds.
    names.sort();
    let newest = names.pop().ok_or("no mail yet")?;
    std::fs::read_to_string(&newest).map_err(|e| e.to_string())
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

    #[test]
    fn forms_can_be_tampered_with_one_field_at_a_time() {
        let form = json!({"url": "http://x", "fields": {"key": "a", "policy": "p"}});
        let fields = fields_of(&form);
        assert_eq!(
            fields,
            [("key".into(), "a".into()), ("policy".into(), "p".into())]
        );
        assert_eq!(
            with_field(&fields, "key", "b"),
            [("key".into(), "b".into()), ("policy".into(), "p".into())]
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[tokio::test]
    async fn the_newest_mail_of_a_purpose_gives_the_code() {
        let dir = std::env::temp_dir().join(format!("testkit-outbox-{}", std::process::id()));
        let outbox = dir.join("outbox");
        std::fs::create_dir_all(&outbox).unwrap();
        for (name, code) in [
            ("0000000000001-confirm-a_b_c.txt", "111111"),
            ("0000000000002-confirm-a_b_c.txt", "222222"),
            ("0000000000003-reset-a_b_c.txt", "333333"),
        ] {
            let text = format!("To: a@b.c\nSubject: x\n\nx is {code}\n");
            std::fs::write(outbox.join(name), text).unwrap();
        }
        let client = LocalClient::new("http://127.0.0.1:9".into(), &dir);
        assert_eq!(client.mailed_code("a@b.c", "confirm").await, "222222");
        assert_eq!(client.mailed_code("a@b.c", "reset").await, "333333");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
