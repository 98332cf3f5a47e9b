//! The local user pool held to the deployed pool's rules, driven with Cognito's JSON protocol
//! against the started stage: the password policy and e-mail usernames of the stack's pool.

use serde_json::{Value, json};
use testkit::local::{CLIENT_ID, LocalClient};
use testkit::stage::InProcessStage;

const PASSWORD: &str = "Correct-Horse-9";

fn sign_up_body(username: &str, password: &str) -> Value {
    json!({"ClientId": CLIENT_ID, "Username": username, "Password": password,
           "UserAttributes": [{"Name": "email", "Value": username}]})
}

/// The call's refusal as `(status, __type, message)`.
async fn refusal(stage: &LocalClient, action: &str, body: Value) -> (u16, String, String) {
    let (status, answer) = stage.cognito(action, body).await;
    (
        status,
        answer["__type"].as_str().unwrap_or_default().to_owned(),
        answer["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_and_usernames_follow_the_deployed_pools_rules() {
    let stage = InProcessStage::start().await;
    let policy = photo_contract::users::PASSWORD_POLICY;
    assert_eq!(policy.minimum_length, 12);
    // Each rule of the stack's policy, refused as Cognito refuses it.
    for (password, rule) in [
        ("correct horse", "Password must have numeric characters"),
        ("Short-9a", "Password not long enough"),
        ("CorrectHorse99", "Password must have symbol characters"),
        ("correct-horse-9", "Password must have uppercase characters"),
        ("CORRECT-HORSE-9", "Password must have lowercase characters"),
    ] {
        let (status, kind, message) =
            refusal(&stage, "SignUp", sign_up_body("weak@example.com", password)).await;
        assert_eq!(
            (status, kind.as_str(), message.as_str()),
            (
                400,
                "InvalidPasswordException",
                format!("Password did not conform with policy: {rule}").as_str()
            ),
            "{password:?}"
        );
    }
    // A username that is not an e-mail address.
    for username in [
        "alice",
        "alice@",
        "@example.com",
        "alice@example",
        "al ice@example.com",
    ] {
        let (status, kind, _) = refusal(&stage, "SignUp", sign_up_body(username, PASSWORD)).await;
        assert_eq!(
            (status, kind.as_str()),
            (400, "InvalidParameterException"),
            "{username:?}"
        );
    }

    // `Alice@Example.COM` and `alice@example.com` are one account.
    let sub = stage.sign_up("Alice@Example.COM", PASSWORD).await;
    let (status, kind, _) = refusal(
        &stage,
        "SignUp",
        sign_up_body("alice@example.com", PASSWORD),
    )
    .await;
    assert_eq!((status, kind.as_str()), (400, "UsernameExistsException"));
    for spelling in [
        "alice@example.com",
        "ALICE@EXAMPLE.COM",
        "aLiCe@example.com",
    ] {
        let tokens = stage.sign_in_tokens(spelling, PASSWORD).await;
        let id_token = tokens["IdToken"].as_str().unwrap();
        let payload = id_token.split('.').nth(1).unwrap();
        use base64::Engine as _;
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["sub"], sub.as_str(), "{spelling}");
    }
}
