//! Cognito user-pool requests and responses (the JSON protocol of `cognito-idp`), as data:
//! the browser side only sends them. The same protocol is served by the local stage.

use serde::Deserialize;
use serde_json::{Value, json};

/// One call to the Cognito JSON API: POST to the endpoint with these headers and body.
#[derive(Debug, Clone, PartialEq)]
pub struct CognitoRequest {
    /// The action, e.g. `InitiateAuth`.
    pub action: &'static str,
    pub body: Value,
}

impl CognitoRequest {
    /// The `X-Amz-Target` header value.
    pub fn target(&self) -> String {
        format!("AWSCognitoIdentityProviderService.{}", self.action)
    }

    /// The `Content-Type` header value.
    pub const CONTENT_TYPE: &'static str = "application/x-amz-json-1.1";
}

fn request(action: &'static str, body: Value) -> CognitoRequest {
    CognitoRequest { action, body }
}

pub fn sign_up(client_id: &str, email: &str, password: &str) -> CognitoRequest {
    request(
        "SignUp",
        json!({
            "ClientId": client_id,
            "Username": email,
            "Password": password,
            "UserAttributes": [{"Name": "email", "Value": email}],
        }),
    )
}

pub fn confirm_sign_up(client_id: &str, email: &str, code: &str) -> CognitoRequest {
    request(
        "ConfirmSignUp",
        json!({"ClientId": client_id, "Username": email, "ConfirmationCode": code.trim()}),
    )
}

pub fn resend_confirmation_code(client_id: &str, email: &str) -> CognitoRequest {
    request(
        "ResendConfirmationCode",
        json!({"ClientId": client_id, "Username": email}),
    )
}

pub fn sign_in(client_id: &str, email: &str, password: &str) -> CognitoRequest {
    request(
        "InitiateAuth",
        json!({
            "ClientId": client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": email, "PASSWORD": password},
        }),
    )
}

pub fn refresh(client_id: &str, refresh_token: &str) -> CognitoRequest {
    request(
        "InitiateAuth",
        json!({
            "ClientId": client_id,
            "AuthFlow": "REFRESH_TOKEN_AUTH",
            "AuthParameters": {"REFRESH_TOKEN": refresh_token},
        }),
    )
}

pub fn global_sign_out(access_token: &str) -> CognitoRequest {
    request("GlobalSignOut", json!({"AccessToken": access_token}))
}

pub fn forgot_password(client_id: &str, email: &str) -> CognitoRequest {
    request(
        "ForgotPassword",
        json!({"ClientId": client_id, "Username": email}),
    )
}

pub fn confirm_forgot_password(
    client_id: &str,
    email: &str,
    code: &str,
    new_password: &str,
) -> CognitoRequest {
    request(
        "ConfirmForgotPassword",
        json!({
            "ClientId": client_id,
            "Username": email,
            "ConfirmationCode": code.trim(),
            "Password": new_password,
        }),
    )
}

/// Tokens from a successful `InitiateAuth`. `Debug` is hand-written so a token can never
/// reach a log through `{:?}`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tokens {
    pub access_token: String,
    pub id_token: String,
    /// Present after a password sign-in; a refresh answers without one (the old one stays valid).
    #[serde(default)]
    pub refresh_token: Option<String>,
    pub expires_in: u32,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// What an `InitiateAuth` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    Tokens(Tokens),
    /// A challenge the app does not handle (e.g. `NEW_PASSWORD_REQUIRED` for admin-created users).
    Challenge(String),
}

/// Parses an `InitiateAuth` answer.
pub fn parse_auth(body: &str) -> Result<AuthOutcome, CognitoError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        authentication_result: Option<Tokens>,
        challenge_name: Option<String>,
    }
    let answer: Answer = serde_json::from_str(body).map_err(|_| CognitoError::malformed())?;
    match (answer.authentication_result, answer.challenge_name) {
        (Some(tokens), _) => Ok(AuthOutcome::Tokens(tokens)),
        (None, Some(challenge)) => Ok(AuthOutcome::Challenge(challenge)),
        (None, None) => Err(CognitoError::malformed()),
    }
}

/// A Cognito error answer: `{"__type": "...Exception", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CognitoError {
    /// The exception name without any `namespace#` prefix.
    pub kind: String,
    pub message: String,
}

impl CognitoError {
    fn malformed() -> Self {
        CognitoError {
            kind: "MalformedResponse".into(),
            message: String::new(),
        }
    }

    /// Parses an error body; anything unreadable becomes a generic error, never a panic.
    pub fn parse(body: &str) -> Self {
        let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let kind = value["__type"].as_str().unwrap_or("UnknownError");
        let kind = kind.rsplit_once('#').map_or(kind, |(_, k)| k);
        let message = value["message"]
            .as_str()
            .or_else(|| value["Message"].as_str())
            .unwrap_or_default();
        CognitoError {
            kind: kind.to_owned(),
            message: message.to_owned(),
        }
    }

    /// A sentence for the user. Cognito's own message is kept for password-policy failures,
    /// where it says what the policy wants.
    pub fn user_message(&self) -> String {
        match self.kind.as_str() {
            "NotAuthorizedException" => "Wrong e-mail or password.".into(),
            "UserNotFoundException" => "Wrong e-mail or password.".into(),
            "UserNotConfirmedException" => {
                "Your account is not confirmed yet: enter the code we e-mailed you.".into()
            }
            "UsernameExistsException" => "An account with this e-mail already exists.".into(),
            "CodeMismatchException" => "That code is not right; check the e-mail.".into(),
            "ExpiredCodeException" => "That code has expired; ask for a new one.".into(),
            "InvalidPasswordException" if !self.message.is_empty() => self.message.clone(),
            "InvalidPasswordException" => "This password is too weak.".into(),
            "InvalidParameterException" if !self.message.is_empty() => self.message.clone(),
            "LimitExceededException"
            | "TooManyRequestsException"
            | "TooManyFailedAttemptsException" => {
                "Too many attempts; wait a few minutes and try again.".into()
            }
            "MalformedResponse" => "The sign-in service sent an unexpected answer.".into(),
            _ => "Something went wrong with the sign-in service; try again.".into(),
        }
    }

    /// Whether the refresh token is no longer usable and the user must sign in again.
    pub fn is_session_over(&self) -> bool {
        self.kind == "NotAuthorizedException"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_the_action_and_fields() {
        let r = sign_in("client", "a@b.c", "pw");
        assert_eq!(r.target(), "AWSCognitoIdentityProviderService.InitiateAuth");
        assert_eq!(
            r.body,
            json!({"ClientId":"client","AuthFlow":"USER_PASSWORD_AUTH",
                   "AuthParameters":{"USERNAME":"a@b.c","PASSWORD":"pw"}})
        );
        let r = refresh("client", "rt");
        assert_eq!(r.body["AuthFlow"], "REFRESH_TOKEN_AUTH");
        assert_eq!(r.body["AuthParameters"]["REFRESH_TOKEN"], "rt");
        let r = sign_up("client", "a@b.c", "pw");
        assert_eq!(r.action, "SignUp");
        assert_eq!(r.body["UserAttributes"][0]["Value"], "a@b.c");
        assert_eq!(
            confirm_sign_up("c", "a@b.c", " 123456\n").body["ConfirmationCode"],
            "123456"
        );
        assert_eq!(
            resend_confirmation_code("c", "e").action,
            "ResendConfirmationCode"
        );
        assert_eq!(global_sign_out("at").body, json!({"AccessToken": "at"}));
        assert_eq!(forgot_password("c", "e").action, "ForgotPassword");
        let r = confirm_forgot_password("c", "e", "1", "new");
        assert_eq!(
            (r.action, &r.body["Password"]),
            ("ConfirmForgotPassword", &json!("new"))
        );
    }

    #[test]
    fn parses_auth_answers() {
        let ok = r#"{"AuthenticationResult":{"AccessToken":"a","IdToken":"i","RefreshToken":"r","ExpiresIn":3600,"TokenType":"Bearer"},"ChallengeParameters":{}}"#;
        let AuthOutcome::Tokens(t) = parse_auth(ok).unwrap() else {
            panic!("expected tokens")
        };
        assert_eq!(
            (t.access_token.as_str(), t.refresh_token.as_deref()),
            ("a", Some("r"))
        );
        let refreshed =
            r#"{"AuthenticationResult":{"AccessToken":"a","IdToken":"i","ExpiresIn":3600}}"#;
        assert!(matches!(
            parse_auth(refreshed),
            Ok(AuthOutcome::Tokens(Tokens {
                refresh_token: None,
                ..
            }))
        ));
        assert_eq!(
            parse_auth(r#"{"ChallengeName":"NEW_PASSWORD_REQUIRED","Session":"s"}"#),
            Ok(AuthOutcome::Challenge("NEW_PASSWORD_REQUIRED".into()))
        );
        assert_eq!(parse_auth("{}").unwrap_err().kind, "MalformedResponse");
        assert_eq!(parse_auth("<html>").unwrap_err().kind, "MalformedResponse");
    }

    #[test]
    fn token_debug_hides_secrets() {
        let t = Tokens {
            access_token: "SECRET-A".into(),
            id_token: "SECRET-I".into(),
            refresh_token: Some("SECRET-R".into()),
            expires_in: 60,
        };
        assert!(!format!("{t:?}").contains("SECRET"));
        assert!(!format!("{:?}", AuthOutcome::Tokens(t)).contains("SECRET"));
    }

    #[test]
    fn errors_map_to_messages() {
        fn check(body: &str, kind: &str, message: &str) {
            let e = CognitoError::parse(body);
            assert_eq!(
                (e.kind.as_str(), e.user_message().as_str()),
                (kind, message)
            );
        }
        check(
            r#"{"__type":"NotAuthorizedException","message":"Incorrect username or password."}"#,
            "NotAuthorizedException",
            "Wrong e-mail or password.",
        );
        check(
            r#"{"__type":"com.amazonaws#CodeMismatchException","message":"x"}"#,
            "CodeMismatchException",
            "That code is not right; check the e-mail.",
        );
        check(
            r#"{"__type":"InvalidPasswordException","message":"Password must have numeric characters"}"#,
            "InvalidPasswordException",
            "Password must have numeric characters",
        );
        check(
            "garbage",
            "UnknownError",
            "Something went wrong with the sign-in service; try again.",
        );
        assert!(CognitoError::parse(r#"{"__type":"NotAuthorizedException"}"#).is_session_over());
    }
}
