//! `deployer smoke --stage S`: checks a deployed stage end to end, as a user would use it.
//!
//! A temporary user is made with the Cognito admin API and signs in; then, over the HTTP API,
//! a photo is uploaded through its pre-signed POST, its thumbnail awaited, the photo listed,
//! shared, fetched through the public share link, and deleted. The user is removed whatever
//! happens, Ctrl-C included. The HTTP part ([`api_checks`]) takes only an API URL and a token,
//! so the local stage can run it too.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use aws_sdk_cognitoidentityprovider::error::DisplayErrorContext;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, MessageActionType};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use photo_contract::stack::outputs;

use super::ops_sdk;
use crate::args::{AwsArgs, SmokeArgs};
use crate::config::LOCAL_STAGE;
use crate::synth::stack_name;

/// The photo the smoke test uploads: a small, real JPEG (480×300), so the thumbnail function
/// has something to decode.
pub const SMOKE_PHOTO: &[u8] = include_bytes!("../assets/smoke-photo.jpg");

/// What a smoke run can fail on. Every message names the step.
#[derive(Debug, thiserror::Error)]
pub enum SmokeError {
    /// A Cognito call failed.
    #[error("cognito `{action}`: {message}")]
    Cognito {
        /// The API action.
        action: &'static str,
        /// The SDK's error chain.
        message: String,
    },
    /// An HTTP request could not be made or answered.
    #[error("`{step}`: {message}")]
    Http {
        /// The request.
        step: String,
        /// Why.
        message: String,
    },
    /// An HTTP request got an unexpected answer.
    #[error("`{step}` answered {status}, expected {expected}: {body}")]
    Status {
        /// The request.
        step: String,
        /// The status received.
        status: u16,
        /// The status expected.
        expected: u16,
        /// The start of the body, for the error code.
        body: String,
    },
    /// An answer lacked what the API promises.
    #[error("`{step}`: {message}")]
    Unexpected {
        /// The request.
        step: String,
        /// What was wrong.
        message: String,
    },
    /// The thumbnail function marked the photo FAILED.
    #[error("photo `{id}` failed processing: {reason}")]
    ProcessingFailed {
        /// The photo.
        id: String,
        /// The reason recorded.
        reason: String,
    },
    /// The photo was not READY in time.
    #[error(
        "photo `{id}` was still `{status}` after {waited_secs} s: see `deployer logs thumbnail`"
    )]
    NotReady {
        /// The photo.
        id: String,
        /// Its last status.
        status: String,
        /// How long we waited.
        waited_secs: u64,
    },
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// The system's random source failed.
    #[error("no randomness for the temporary user's password: {0}")]
    Random(String),
    /// The temporary user could not be removed.
    #[error(
        "the temporary user `{username}` could not be removed ({message}); remove it with \
         `aws cognito-idp admin-delete-user --user-pool-id {pool} --username {username}`{}",
        .first.as_ref().map(|e| format!(", after: {e}")).unwrap_or_default()
    )]
    UserNotRemoved {
        /// The user.
        username: String,
        /// The pool.
        pool: String,
        /// Why.
        message: String,
        /// The failure that came before, if the checks failed too.
        first: Option<Box<SmokeError>>,
    },
}

/// How long to wait for the thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyWait {
    /// Give up after this long.
    pub limit: Duration,
    /// Ask this often.
    pub poll: Duration,
    /// Whether a photo still PENDING at the limit fails the run. Only a stage without a
    /// thumbnail step (the local stage before it had one) passes `false`.
    pub required: bool,
}

impl Default for ReadyWait {
    fn default() -> Self {
        ReadyWait {
            // A cold thumbnail function plus a large-ish decode stays well under a minute.
            limit: Duration::from_secs(90),
            poll: Duration::from_secs(2),
            required: true,
        }
    }
}

/// What the HTTP checks saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiReport {
    /// The photo uploaded (and deleted again).
    pub photo_id: String,
    /// Whether it reached READY.
    pub ready: bool,
    /// Each step and how long it took.
    pub steps: Vec<(String, Duration)>,
}

/// The deployed stage, as its stack outputs describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmokeTarget {
    /// The HTTP API's base URL.
    pub api_url: String,
    /// The user pool.
    pub user_pool_id: String,
    /// The SPA's app client (USER_PASSWORD_AUTH is allowed on it).
    pub client_id: String,
}

/// One HTTP answer.
struct Answer {
    status: u16,
    body: Value,
    text: String,
}

/// Calls the API: `method path`, with the token when given, and a JSON body when given.
async fn call(
    http: &reqwest::Client,
    api_url: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<Answer, SmokeError> {
    let step = format!("{method} {path}");
    let mut req = http.request(method, format!("{}{path}", api_url.trim_end_matches('/')));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    let response = req.send().await.map_err(|e| SmokeError::Http {
        step: step.clone(),
        message: error_chain(&e),
    })?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| SmokeError::Http {
        step,
        message: error_chain(&e),
    })?;
    Ok(Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
    })
}

/// An error and its sources on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn expect(answer: &Answer, step: &str, expected: u16) -> Result<(), SmokeError> {
    if answer.status == expected {
        Ok(())
    } else {
        Err(SmokeError::Status {
            step: step.to_owned(),
            status: answer.status,
            expected,
            body: answer.text.clone(),
        })
    }
}

fn field<'a>(body: &'a Value, pointer: &str, step: &str) -> Result<&'a str, SmokeError> {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| SmokeError::Unexpected {
            step: step.to_owned(),
            message: format!("no `{pointer}` in the answer"),
        })
}

/// The multipart body a browser sends for a pre-signed POST: the fields, then the file last
/// (S3 ignores anything after the file).
fn form_body(boundary: &str, fields: &[(String, String)], file: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(file.len() + 2048);
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"smoke.jpg\"\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// Runs the HTTP API checks as the user holding `token`: upload, wait for the thumbnail, list,
/// share, fetch the share without a token, delete. `progress` hears each step as it ends.
///
/// A photo this run created is deleted even when a later step fails, so a failed run leaves
/// nothing in the user's account.
pub async fn api_checks(
    http: &reqwest::Client,
    api_url: &str,
    token: &str,
    photo: &[u8],
    wait: ReadyWait,
    progress: &mut (dyn FnMut(&str, Duration) + Send),
) -> Result<ApiReport, SmokeError> {
    let mut steps = Vec::new();
    // The photo this run created and has not deleted yet.
    let mut created = None;
    let result = checks(
        http,
        api_url,
        token,
        photo,
        wait,
        &mut |name, took| {
            progress(name, took);
            steps.push((name.to_owned(), took));
        },
        &mut created,
    )
    .await;
    match result {
        Ok((photo_id, ready)) => Ok(ApiReport {
            photo_id,
            ready,
            steps,
        }),
        Err(e) => {
            if let Some(id) = created {
                // Best effort: the original failure is what the operator needs to see.
                let _ = call(
                    http,
                    api_url,
                    reqwest::Method::DELETE,
                    &format!("/photos/{id}"),
                    Some(token),
                    None,
                )
                .await;
            }
            Err(e)
        }
    }
}

async fn checks(
    http: &reqwest::Client,
    api: &str,
    token: &str,
    photo: &[u8],
    wait: ReadyWait,
    done: &mut (dyn FnMut(&str, Duration) + Send),
    created: &mut Option<String>,
) -> Result<(String, bool), SmokeError> {
    use reqwest::Method;

    let t = Instant::now();
    let step = "POST /photos/uploads";
    let sha256: String = Sha256::digest(photo)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let answer = call(
        http,
        api,
        Method::POST,
        "/photos/uploads",
        Some(token),
        Some(
            json!({"file_name": "smoke.jpg", "content_type": "image/jpeg",
                    "size": photo.len(), "sha256": sha256}),
        ),
    )
    .await?;
    expect(&answer, step, 201)?;
    let id = field(&answer.body, "/photo/id", step)?.to_owned();
    *created = Some(id.clone());
    let url = field(&answer.body, "/upload/url", step)?.to_owned();
    let fields: Vec<(String, String)> = answer
        .body
        .pointer("/upload/fields")
        .and_then(Value::as_object)
        .ok_or_else(|| SmokeError::Unexpected {
            step: step.to_owned(),
            message: "no `/upload/fields` in the answer".to_owned(),
        })?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    done(step, t.elapsed());

    let t = Instant::now();
    let step = "POST upload form";
    let boundary = format!("----deployersmoke{}", &sha256[..16]);
    let response = http
        .post(&url)
        .header(
            reqwest::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(form_body(&boundary, &fields, photo))
        .send()
        .await
        .map_err(|e| SmokeError::Http {
            step: step.to_owned(),
            message: error_chain(&e),
        })?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        let body = response.text().await.unwrap_or_default();
        return Err(SmokeError::Status {
            step: step.to_owned(),
            status,
            expected: 204,
            body: body.chars().take(300).collect(),
        });
    }
    done(step, t.elapsed());

    let t = Instant::now();
    let step = "GET /photos/{id} until READY";
    let path = format!("/photos/{id}");
    let ready = loop {
        let answer = call(http, api, Method::GET, &path, Some(token), None).await?;
        expect(&answer, step, 200)?;
        let status = field(&answer.body, "/status", step)?;
        match status {
            "READY" => break true,
            "FAILED" => {
                return Err(SmokeError::ProcessingFailed {
                    id,
                    reason: answer.body["failure_reason"]
                        .as_str()
                        .unwrap_or("no reason recorded")
                        .to_owned(),
                });
            }
            _ if t.elapsed() >= wait.limit => {
                if wait.required {
                    return Err(SmokeError::NotReady {
                        id,
                        status: status.to_owned(),
                        waited_secs: wait.limit.as_secs(),
                    });
                }
                break false;
            }
            _ => tokio::time::sleep(wait.poll.min(wait.limit.saturating_sub(t.elapsed()))).await,
        }
    };
    done(step, t.elapsed());

    let t = Instant::now();
    let step = "GET /photos";
    let answer = call(http, api, Method::GET, "/photos", Some(token), None).await?;
    expect(&answer, step, 200)?;
    let listed = answer.body["items"]
        .as_array()
        .is_some_and(|items| items.iter().any(|p| p["id"] == id.as_str()));
    if !listed {
        return Err(SmokeError::Unexpected {
            step: step.to_owned(),
            message: format!("photo `{id}` is not in the list"),
        });
    }
    done(step, t.elapsed());

    let t = Instant::now();
    let step = "POST /shares";
    let answer = call(
        http,
        api,
        Method::POST,
        "/shares",
        Some(token),
        Some(json!({"photo_id": id, "expires_in_days": 1})),
    )
    .await?;
    expect(&answer, step, 201)?;
    let share = field(&answer.body, "/token", step)?.to_owned();
    done(step, t.elapsed());

    let t = Instant::now();
    let step = "GET /public/shares/{token} (no sign-in)";
    let answer = call(
        http,
        api,
        Method::GET,
        &format!("/public/shares/{share}"),
        None,
        None,
    )
    .await?;
    expect(&answer, step, 200)?;
    // Only READY photos are shown through a share.
    if ready {
        let shown = answer.body["photos"].as_array().is_some_and(|photos| {
            photos
                .iter()
                .any(|p| p["id"] == id.as_str() && p["thumbnail_url"].is_string())
        });
        if !shown {
            return Err(SmokeError::Unexpected {
                step: step.to_owned(),
                message: format!("the share does not show photo `{id}` with a thumbnail"),
            });
        }
    }
    done(step, t.elapsed());

    let t = Instant::now();
    let step = "DELETE /shares/{token}";
    let answer = call(
        http,
        api,
        Method::DELETE,
        &format!("/shares/{share}"),
        Some(token),
        None,
    )
    .await?;
    expect(&answer, step, 204)?;
    done(step, t.elapsed());

    let t = Instant::now();
    let step = "DELETE /photos/{id}";
    let answer = call(http, api, Method::DELETE, &path, Some(token), None).await?;
    expect(&answer, step, 204)?;
    let answer = call(http, api, Method::GET, &path, Some(token), None).await?;
    expect(&answer, "GET /photos/{id} after delete", 404)?;
    // Deleted: nothing left for the caller to clean up.
    *created = None;
    done(step, t.elapsed());
    Ok((id, ready))
}

/// A temporary user's name and password: random, and meeting the pool's password policy
/// (upper, lower, digit, symbol, 12+ characters).
fn temporary_user() -> Result<(String, String), SmokeError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| SmokeError::Random(e.to_string()))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok((
        format!("smoke-{}@example.com", &hex[..12]),
        format!("Sm0ke!{}", &hex[12..]),
    ))
}

fn cognito_error<E>(action: &'static str) -> impl Fn(E) -> SmokeError
where
    E: std::error::Error,
{
    move |e| SmokeError::Cognito {
        action,
        message: DisplayErrorContext(&e).to_string(),
    }
}

/// Signs in with USER_PASSWORD_AUTH (the flow the SPA's client allows): the access token, which
/// the API's authorizer checks.
async fn sign_in(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    client_id: &str,
    username: &str,
    password: &str,
) -> Result<String, SmokeError> {
    let out = cognito
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .map_err(cognito_error("InitiateAuth"))?;
    out.authentication_result()
        .and_then(|r| r.access_token())
        .map(str::to_owned)
        .ok_or_else(|| SmokeError::Cognito {
            action: "InitiateAuth",
            message: format!(
                "no tokens, but challenge `{}`",
                out.challenge_name().map(|c| c.as_str()).unwrap_or("none")
            ),
        })
}

/// Makes the user, signs in and runs [`api_checks`].
async fn as_temporary_user(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    http: &reqwest::Client,
    target: &SmokeTarget,
    username: &str,
    password: &str,
    wait: ReadyWait,
    progress: &mut (dyn FnMut(&str, Duration) + Send),
) -> Result<ApiReport, SmokeError> {
    let t = Instant::now();
    cognito
        .admin_create_user()
        .user_pool_id(&target.user_pool_id)
        .username(username)
        .message_action(MessageActionType::Suppress)
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value(username)
                .build()
                .map_err(cognito_error("AdminCreateUser"))?,
        )
        .user_attributes(
            AttributeType::builder()
                .name("email_verified")
                .value("true")
                .build()
                .map_err(cognito_error("AdminCreateUser"))?,
        )
        .send()
        .await
        .map_err(cognito_error("AdminCreateUser"))?;
    cognito
        .admin_set_user_password()
        .user_pool_id(&target.user_pool_id)
        .username(username)
        .password(password)
        .permanent(true)
        .send()
        .await
        .map_err(cognito_error("AdminSetUserPassword"))?;
    progress("create temporary user", t.elapsed());
    let t = Instant::now();
    let token = sign_in(cognito, &target.client_id, username, password).await?;
    progress("sign in (USER_PASSWORD_AUTH)", t.elapsed());
    api_checks(http, &target.api_url, &token, SMOKE_PHOTO, wait, progress).await
}

/// The whole smoke run: the checks as a temporary user, who is deleted on every way out,
/// including Ctrl-C (`interrupt`).
pub async fn run(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    http: &reqwest::Client,
    target: &SmokeTarget,
    wait: ReadyWait,
    interrupt: impl Future<Output = ()>,
    progress: &mut (dyn FnMut(&str, Duration) + Send),
) -> Result<ApiReport, SmokeError> {
    let (username, password) = temporary_user()?;
    let checks = as_temporary_user(cognito, http, target, &username, &password, wait, progress);
    let result = tokio::select! {
        r = checks => r,
        () = interrupt => Err(SmokeError::Interrupted),
    };
    let removed = cognito
        .admin_delete_user()
        .user_pool_id(&target.user_pool_id)
        .username(&username)
        .send()
        .await;
    match removed {
        Ok(_) => result,
        // Never created (AdminCreateUser itself failed): nothing to remove.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_user_not_found_exception()) =>
        {
            result
        }
        Err(e) => Err(SmokeError::UserNotRemoved {
            username,
            pool: target.user_pool_id.clone(),
            message: DisplayErrorContext(&e).to_string(),
            first: result.err().map(Box::new),
        }),
    }
}

/// Runs `deployer smoke`, reaching AWS as the global flags say.
pub fn run_command(config_file: &Path, args: &SmokeArgs, aws: &AwsArgs) -> anyhow::Result<()> {
    if args.stage == LOCAL_STAGE {
        bail!("the local stage has no Cognito admin API: `smoke` checks stages deployed to AWS");
    }
    let stage = super::load_stage(config_file, &args.stage, aws)?;
    let sdk_target = &aws.sdk_target();
    let wait = ReadyWait {
        limit: Duration::from_secs(args.ready_timeout),
        ..ReadyWait::default()
    };
    let runtime = ops_sdk::runtime().context("starting the async runtime")?;
    runtime.block_on(async {
        let sdk = ops_sdk::load(sdk_target, stage.region.as_str()).await?;
        let cloudformation = crate::client!(aws_sdk_cloudformation, &sdk);
        let outputs = ops_sdk::stack_outputs(&cloudformation, &stack_name(&args.stage)).await?;
        let get = |key: &str| {
            outputs
                .get(key)
                .cloned()
                .with_context(|| format!("the stack has no output `{key}`"))
        };
        let target = SmokeTarget {
            api_url: get(outputs::API_URL)?,
            user_pool_id: get(outputs::USER_POOL_ID)?,
            client_id: get(outputs::USER_POOL_CLIENT_ID)?,
        };
        let cognito = crate::client!(aws_sdk_cognitoidentityprovider, &sdk);
        let http = photo_auth::tls::http_client()
            .timeout(Duration::from_secs(30))
            .build()
            .context("building the HTTP client")?;
        let interrupt = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let started = Instant::now();
        let report = run(
            &cognito,
            &http,
            &target,
            wait,
            interrupt,
            &mut |step, took| eprintln!("ok  {step} ({} ms)", took.as_millis()),
        )
        .await
        .with_context(|| format!("smoke test of stage `{}`", args.stage))?;
        println!(
            "smoke test of stage `{}` passed in {:.1} s (photo {} uploaded, processed and deleted; temporary user removed)",
            args.stage,
            started.elapsed().as_secs_f64(),
            report.photo_id
        );
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_photo_is_a_small_jpeg() {
        assert!(SMOKE_PHOTO.starts_with(&[0xff, 0xd8, 0xff]));
        assert!(SMOKE_PHOTO.len() < 100 * 1024);
    }

    #[test]
    fn temporary_users_are_random_and_meet_the_policy() {
        let (a, pa) = temporary_user().unwrap();
        let (b, _) = temporary_user().unwrap();
        assert_ne!(a, b);
        assert!(
            a.starts_with("smoke-") && a.ends_with("@example.com"),
            "{a}"
        );
        assert!(pa.len() >= 12);
        assert!(pa.chars().any(|c| c.is_ascii_uppercase()));
        assert!(pa.chars().any(|c| c.is_ascii_lowercase()));
        assert!(pa.chars().any(|c| c.is_ascii_digit()));
        assert!(pa.chars().any(|c| !c.is_ascii_alphanumeric()));
    }

    #[test]
    fn the_form_puts_the_file_last() {
        let body = form_body(
            "b",
            &[("key".into(), "uploads/u/p".into())],
            b"\xff\xd8data",
        );
        let text = String::from_utf8_lossy(&body);
        let key = text.find("name=\"key\"").unwrap();
        let file = text.find("name=\"file\"").unwrap();
        assert!(key < file);
        assert!(text.ends_with("data\r\n--b--\r\n"), "{text}");
    }

    #[test]
    fn a_user_left_behind_says_how_to_remove_it() {
        let err = SmokeError::UserNotRemoved {
            username: "smoke-1@example.com".into(),
            pool: "eu-west-1_x".into(),
            message: "throttled".into(),
            first: Some(Box::new(SmokeError::Interrupted)),
        };
        assert_eq!(
            err.to_string(),
            "the temporary user `smoke-1@example.com` could not be removed (throttled); remove it \
             with `aws cognito-idp admin-delete-user --user-pool-id eu-west-1_x --username \
             smoke-1@example.com`, after: interrupted"
        );
    }
}
