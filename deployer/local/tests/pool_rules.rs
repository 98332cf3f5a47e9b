//! The local user pool held to the deployed pool's rules, driven with Cognito's JSON protocol
//! against the started stage: the password policy and e-mail usernames of the stack's pool, and
//! answers that do not tell whether an account exists, and attempt limits.

use local_stage::users::HashWork;
use serde_json::{Value, json};
use testkit::local::{CLIENT_ID, LocalClient};
use testkit::stage::InProcessStage;

const PASSWORD: &str = "Correct-Horse-9";

fn sign_up_body(username: &str, password: &str) -> Value {
    json!({"ClientId": CLIENT_ID, "Username": username, "Password": password,
           "UserAttributes": [{"Name": "email", "Value": username}]})
}

fn password_auth(username: &str, password: &str) -> Value {
    json!({"ClientId": CLIENT_ID, "AuthFlow": "USER_PASSWORD_AUTH",
           "AuthParameters": {"USERNAME": username, "PASSWORD": password}})
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

/// The answer's shape: its keys, recursively, with every string value replaced by its shape
/// (masked addresses keep their mask, other strings become "").
fn shape(answer: &Value) -> Value {
    match answer {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::String(s) if s.contains("***") => json!("a***@e***"),
        Value::String(_) => json!(""),
        other => other.clone(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_user_is_answered_as_a_known_one() {
    let work = HashWork::new(4);
    let stage = InProcessStage::start_with(|options, _| {
        options.password_hashing = Some(work.clone());
    })
    .await;
    let known = "alice@example.com";
    let unknown = "adam@example.com";
    stage.sign_up(known, PASSWORD).await;
    // Bob signs up and stays unconfirmed: the other state a code request can find.
    stage
        .cognito_ok("SignUp", sign_up_body("bob@example.com", PASSWORD))
        .await;
    let client = |username: &str| json!({"ClientId": CLIENT_ID, "Username": username});

    // Code requests: the same answer, masked the same way; no mail for the unknown user.
    for (action, real) in [
        ("ForgotPassword", known),
        ("ResendConfirmationCode", "bob@example.com"),
    ] {
        let for_real = stage.cognito_ok(action, client(real)).await;
        let for_none = stage.cognito_ok(action, client(unknown)).await;
        assert_eq!(shape(&for_real), shape(&for_none), "{action}: {for_none}");
        assert_eq!(
            for_none["CodeDeliveryDetails"]["Destination"], "a***@e***",
            "{for_none}"
        );
    }
    let outbox: Vec<String> = std::fs::read_dir(stage.data_dir.join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !outbox.iter().any(|name| name.contains("adam")),
        "{outbox:?}"
    );

    // Codes: a wrong code for a real user and any code for an unknown one are one refusal.
    let confirm = |username: &str| json!({"ClientId": CLIENT_ID, "Username": username, "ConfirmationCode": "000000"});
    let reset = |username: &str| {
        json!({"ClientId": CLIENT_ID, "Username": username, "ConfirmationCode": "000000",
               "Password": "Battery-Staple-9"})
    };
    for (action, real, none) in [
        (
            "ConfirmSignUp",
            confirm("bob@example.com"),
            confirm(unknown),
        ),
        ("ConfirmForgotPassword", reset(known), reset(unknown)),
    ] {
        let for_real = refusal(&stage, action, real).await;
        let for_none = refusal(&stage, action, none).await;
        assert_eq!(for_real, for_none, "{action}");
        assert_eq!(for_none.1, "CodeMismatchException", "{action}");
    }

    // Sign-in: the same refusal, and the same work: one password hash each.
    let before = work.computed();
    let wrong = refusal(
        &stage,
        "InitiateAuth",
        password_auth(known, "Wrong-Horse-9"),
    )
    .await;
    let after_wrong = work.computed();
    let nobody = refusal(&stage, "InitiateAuth", password_auth(unknown, PASSWORD)).await;
    let after_nobody = work.computed();
    assert_eq!(wrong, nobody);
    assert_eq!(wrong.1, "NotAuthorizedException");
    assert_eq!(
        (after_wrong - before, after_nobody - after_wrong),
        (1, 1),
        "hashes for a wrong password, then for an unknown user"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn codes_run_out_after_five_wrong_tries_and_sign_in_failures_lock_out() {
    let work = HashWork::new(2);
    let stage = InProcessStage::start_with(|options, _| {
        options.password_hashing = Some(work.clone());
        // An hour, so the lockout outlasts the test whatever the machine's speed.
        options.sign_in_lockout_secs = 3600;
    })
    .await;
    let alice = "alice@example.com";
    stage.sign_up(alice, PASSWORD).await;

    // A reset code: five wrong tries, each refused before any hash; then even the right code is
    // spent.
    stage
        .cognito_ok(
            "ForgotPassword",
            json!({"ClientId": CLIENT_ID, "Username": alice}),
        )
        .await;
    let code = stage.mailed_code(alice, "reset").await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let reset = |code: &str| {
        json!({"ClientId": CLIENT_ID, "Username": alice, "ConfirmationCode": code,
               "Password": "Battery-Staple-9"})
    };
    let before = work.computed();
    for _ in 0..5 {
        let (_, kind, _) = refusal(&stage, "ConfirmForgotPassword", reset(wrong)).await;
        assert_eq!(kind, "CodeMismatchException");
    }
    let (_, kind, _) = refusal(&stage, "ConfirmForgotPassword", reset(&code)).await;
    assert_eq!(kind, "ExpiredCodeException");
    assert_eq!(
        work.computed(),
        before,
        "no code was right: no password was hashed"
    );

    // A confirmation code the same way; a new one works.
    let bob = "bob@example.com";
    stage
        .cognito_ok("SignUp", sign_up_body(bob, PASSWORD))
        .await;
    let code = stage.mailed_code(bob, "confirm").await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let confirm =
        |code: &str| json!({"ClientId": CLIENT_ID, "Username": bob, "ConfirmationCode": code});
    for _ in 0..5 {
        let (_, kind, _) = refusal(&stage, "ConfirmSignUp", confirm(wrong)).await;
        assert_eq!(kind, "CodeMismatchException");
    }
    let (_, kind, _) = refusal(&stage, "ConfirmSignUp", confirm(&code)).await;
    assert_eq!(kind, "ExpiredCodeException");
    // An unknown user's codes run out after as many tries.
    for expected in ["CodeMismatchException"; 5]
        .into_iter()
        .chain(["ExpiredCodeException"])
    {
        let body = json!({"ClientId": CLIENT_ID, "Username": "adam@example.com",
                          "ConfirmationCode": wrong});
        let (_, kind, _) = refusal(&stage, "ConfirmSignUp", body).await;
        assert_eq!(kind, expected);
    }

    // Sign-in: five failures, then locked out, even with the right password, at no hash; an
    // unknown user the same.
    for user in [alice, "adam@example.com"] {
        for _ in 0..5 {
            let (_, kind, message) =
                refusal(&stage, "InitiateAuth", password_auth(user, "Wrong-Horse-9")).await;
            assert_eq!(
                (kind.as_str(), message.as_str()),
                ("NotAuthorizedException", "Incorrect username or password.")
            );
        }
        let before = work.computed();
        let (_, kind, message) =
            refusal(&stage, "InitiateAuth", password_auth(user, PASSWORD)).await;
        assert_eq!(
            (kind.as_str(), message.as_str()),
            ("NotAuthorizedException", "Password attempts exceeded"),
            "{user}"
        );
        assert_eq!(
            work.computed(),
            before,
            "{user}: a locked-out sign-in hashes nothing"
        );
    }

    // Hashes run at most two at once (the bound this stage was given), however many sign-ins
    // arrive together.
    let carol = "carol@example.com";
    stage.sign_up(carol, PASSWORD).await;
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let stage = (*stage).clone();
            tokio::spawn(async move {
                stage
                    .cognito("InitiateAuth", password_auth(carol, PASSWORD))
                    .await
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().0, 200);
    }
    assert!(
        (1..=work.limit()).contains(&work.peak()),
        "peak {} with a bound of {}",
        work.peak(),
        work.limit()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn get_user_answers_with_the_access_tokens_user() {
    let stage = InProcessStage::start().await;
    let sub = stage.sign_up("Dora@Example.com", PASSWORD).await;
    let tokens = stage.sign_in_tokens("dora@example.com", PASSWORD).await;
    let access = tokens["AccessToken"].as_str().unwrap();
    let answer = stage
        .cognito_ok("GetUser", json!({"AccessToken": access}))
        .await;
    assert_eq!(answer["Username"], "dora@example.com", "{answer}");
    let attributes: std::collections::BTreeMap<&str, &str> = answer["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["Name"].as_str().unwrap(), a["Value"].as_str().unwrap()))
        .collect();
    assert_eq!(attributes["sub"], sub);
    assert_eq!(attributes["email"], "Dora@Example.com");
    assert_eq!(attributes["email_verified"], "true");
    // Not with an id token, nor with a forged one.
    for token in [tokens["IdToken"].as_str().unwrap(), "not.a.token"] {
        let (status, kind, _) = refusal(&stage, "GetUser", json!({"AccessToken": token})).await;
        assert_eq!((status, kind.as_str()), (400, "NotAuthorizedException"));
    }
}
