//! The subset of Cognito's user-pool JSON protocol the SPA speaks, answered by the local user pool.
//!
//! `POST /_cognito/` with `X-Amz-Target: AWSCognitoIdentityProviderService.{Action}` and a JSON
//! body, answered the way Cognito answers: a JSON body, or a 400 with
//! `{"__type": "NotAuthorizedException", "message": ...}`. Tokens are RS256, signed by
//! photo-auth's issuer; the JWKS is at `/_cognito/{pool_id}/.well-known/jwks.json`. Mail Cognito
//! would send goes to the data directory's `outbox/` and to the console.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use photo_auth::issuer::{Issuer, Subject};
use photo_auth::{TokenUse, Verifier};
use photo_domain::Clock;
use serde_json::{Value, json};

use crate::users::{CodePurpose, Delivery, Mail, User, UserError, UserPool};

/// Access and id tokens live as long as the stack's user-pool client makes them.
pub const TOKEN_SECS: u64 = photo_contract::users::TOKEN_MINUTES as u64 * 60;
const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// Where mailed codes go.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Self {
        Outbox { dir }
    }

    /// Writes the mail as a file named after the time, purpose and recipient's address, and prints
    /// it.
    fn deliver(&self, mail: &Mail, now_ms: i64) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let (purpose, subject) = match mail.purpose {
            CodePurpose::ConfirmSignUp => ("confirm", "Your verification code"),
            CodePurpose::ResetPassword => ("reset", "Your password reset code"),
        };
        let safe: String = mail
            .email
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = self.dir.join(format!("{now_ms:013}-{purpose}-{safe}.txt"));
        let body = format!(
            "To: {}\nSubject: {subject}\n\n{subject} is {}\n",
            mail.email, mail.code
        );
        crate::datadir::write_private(&path, body.as_bytes())?;
        println!(
            "mail to {} ({purpose}): code {} (saved in {})",
            mail.email,
            mail.code,
            path.display()
        );
        Ok(())
    }
}

/// What the Cognito endpoint needs.
#[derive(Debug, Clone)]
pub struct CognitoState {
    pub pool: Arc<UserPool>,
    pub issuer: Arc<Issuer>,
    /// Checks access tokens handed to `GlobalSignOut`.
    pub verifier: Arc<Verifier>,
    pub outbox: Outbox,
    pub clock: Arc<dyn Clock>,
}

/// A Cognito-shaped refusal.
#[derive(Debug)]
struct Refusal {
    kind: &'static str,
    message: String,
}

impl Refusal {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            kind,
            message: message.into(),
        }
    }
}

impl From<UserError> for Refusal {
    fn from(e: UserError) -> Self {
        Refusal::new(e.cognito_type(), e.to_string())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = if self.kind == "InternalErrorException" {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::BAD_REQUEST
        };
        amz_json(
            status,
            &json!({"__type": self.kind, "message": self.message}),
        )
    }
}

fn amz_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    response
}

fn string<'a>(body: &'a Value, field: &'static str) -> Result<&'a str, Refusal> {
    body.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Refusal::new(
                "InvalidParameterException",
                format!("Missing required parameter {field}"),
            )
        })
}

/// `a***@e***` as Cognito masks a delivery address.
fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!(
            "{}***@{}***",
            local.chars().next().unwrap_or('*'),
            domain.chars().next().unwrap_or('*')
        ),
        None => "***".into(),
    }
}

fn delivery(address: &str) -> Value {
    json!({
        "Destination": masked(address),
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    })
}

/// Runs a user-pool call off the async threads: password hashing takes a while on purpose.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, UserError> + Send + 'static,
) -> Result<T, Refusal> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Refusal::new("InternalErrorException", e.to_string()))?
        .map_err(Refusal::from)
}

impl CognitoState {
    fn now(&self) -> (i64, i64) {
        let now = self.clock.now();
        (now.secs(), now.millis())
    }

    fn check_client(&self, body: &Value) -> Result<(), Refusal> {
        let client = string(body, "ClientId")?;
        if client != self.issuer.client_id() {
            return Err(Refusal::new(
                "ResourceNotFoundException",
                format!("User pool client {client} does not exist."),
            ));
        }
        Ok(())
    }

    fn mail(&self, mail: &Mail) -> Result<(), Refusal> {
        self.outbox
            .deliver(mail, self.now().1)
            .map_err(|e| Refusal::new("InternalErrorException", format!("writing the outbox: {e}")))
    }

    /// The username of the request's `AccessToken`, which must be one this pool issued, live,
    /// and an access token (an id token is refused, as Cognito refuses it).
    async fn access_token_user(&self, body: &Value) -> Result<String, Refusal> {
        let token = string(body, "AccessToken")?;
        let claims = self
            .verifier
            .verify(token)
            .await
            .map_err(|_| Refusal::new("NotAuthorizedException", "Invalid Access Token"))?;
        Ok(claims.username.unwrap_or_default())
    }

    /// Sends a code request's mail, if any, and answers with its (masked) delivery.
    fn send(&self, sent: &Delivery) -> Result<Value, Refusal> {
        if let Some(mail) = &sent.mail {
            self.mail(mail)?;
        }
        Ok(json!({"CodeDeliveryDetails": delivery(&sent.destination)}))
    }

    fn tokens(&self, user: &User, refresh: Option<String>) -> Result<Value, Refusal> {
        let subject = Subject {
            sub: user.sub.clone(),
            username: user.username.clone(),
            email: Some(user.email.clone()),
        };
        let now = self.now().0.max(0) as u64;
        let lifetime = Duration::from_secs(TOKEN_SECS);
        let issue = |use_| {
            self.issuer
                .issue(use_, &subject, now, lifetime)
                .map_err(|e| Refusal::new("InternalErrorException", e.to_string()))
        };
        let mut result = json!({
            "AccessToken": issue(TokenUse::Access)?,
            "IdToken": issue(TokenUse::Id)?,
            "ExpiresIn": TOKEN_SECS,
            "TokenType": "Bearer",
        });
        if let Some(refresh) = refresh {
            result["RefreshToken"] = Value::String(refresh);
        }
        Ok(json!({"AuthenticationResult": result, "ChallengeParameters": {}}))
    }

    async fn dispatch(&self, action: &str, body: Value) -> Result<Value, Refusal> {
        let pool = self.pool.clone();
        let (now, _) = self.now();
        match action {
            "SignUp" => {
                self.check_client(&body)?;
                let username = string(&body, "Username")?.to_owned();
                let password = string(&body, "Password")?.to_owned();
                let email = body
                    .get("UserAttributes")
                    .and_then(Value::as_array)
                    .and_then(|attrs| {
                        attrs.iter().find(|a| a["Name"] == "email")?["Value"]
                            .as_str()
                            .map(str::to_owned)
                    })
                    .unwrap_or_else(|| username.clone());
                let (user, mail) =
                    blocking(move || pool.sign_up(&username, &password, &email, now)).await?;
                self.mail(&mail)?;
                Ok(json!({
                    "UserConfirmed": false,
                    "UserSub": user.sub,
                    "CodeDeliveryDetails": delivery(&mail.email),
                }))
            }
            "ConfirmSignUp" => {
                self.check_client(&body)?;
                let username = string(&body, "Username")?.to_owned();
                let code = string(&body, "ConfirmationCode")?.to_owned();
                blocking(move || pool.confirm_sign_up(&username, &code, now)).await?;
                Ok(json!({}))
            }
            "ResendConfirmationCode" => {
                self.check_client(&body)?;
                let username = string(&body, "Username")?.to_owned();
                let sent = blocking(move || pool.resend_confirmation_code(&username, now)).await?;
                self.send(&sent)
            }
            "InitiateAuth" => {
                self.check_client(&body)?;
                let params = body.get("AuthParameters").cloned().unwrap_or(Value::Null);
                match string(&body, "AuthFlow")? {
                    "USER_PASSWORD_AUTH" => {
                        let username = string(&params, "USERNAME")?.to_owned();
                        let password = string(&params, "PASSWORD")?.to_owned();
                        let (user, refresh) =
                            blocking(move || pool.sign_in(&username, &password, now)).await?;
                        self.tokens(&user, Some(refresh))
                    }
                    "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => {
                        let refresh = string(&params, "REFRESH_TOKEN")?.to_owned();
                        let user = blocking(move || pool.refresh(&refresh, now)).await?;
                        self.tokens(&user, None)
                    }
                    other => Err(Refusal::new(
                        "InvalidParameterException",
                        format!("AuthFlow {other} is not supported by the local user pool"),
                    )),
                }
            }
            "GetUser" => {
                let username = self.access_token_user(&body).await?;
                let (user, confirmed) = blocking(move || pool.get_user(&username)).await?;
                Ok(json!({
                    "Username": user.username,
                    "UserAttributes": [
                        {"Name": "sub", "Value": user.sub},
                        {"Name": "email_verified", "Value": confirmed.to_string()},
                        {"Name": "email", "Value": user.email},
                    ],
                }))
            }
            "GlobalSignOut" => {
                let username = self.access_token_user(&body).await?;
                blocking(move || pool.sign_out_everywhere(&username)).await?;
                Ok(json!({}))
            }
            "ForgotPassword" => {
                self.check_client(&body)?;
                let username = string(&body, "Username")?.to_owned();
                let sent = blocking(move || pool.forgot_password(&username, now)).await?;
                self.send(&sent)
            }
            "ConfirmForgotPassword" => {
                self.check_client(&body)?;
                let username = string(&body, "Username")?.to_owned();
                let code = string(&body, "ConfirmationCode")?.to_owned();
                let password = string(&body, "Password")?.to_owned();
                blocking(move || pool.confirm_forgot_password(&username, &code, &password, now))
                    .await?;
                Ok(json!({}))
            }
            other => Err(Refusal::new(
                "UnknownOperationException",
                format!("operation {other} is not served by the local user pool"),
            )),
        }
    }
}

/// `POST /_cognito/`.
pub async fn handle(
    State(state): State<CognitoState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(action) = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix(TARGET_PREFIX))
    else {
        return Refusal::new(
            "UnknownOperationException",
            "missing or unknown X-Amz-Target",
        )
        .into_response();
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return Refusal::new("SerializationException", "the body is not JSON").into_response();
    };
    match state.dispatch(action, body).await {
        Ok(value) => amz_json(StatusCode::OK, &value),
        Err(refusal) => refusal.into_response(),
    }
}

/// `GET /_cognito/{pool_id}/.well-known/jwks.json`.
pub async fn jwks(State(state): State<CognitoState>) -> Response {
    Json(state.issuer.jwks()).into_response()
}
