//! The local stage against hostile callers: forms that must not crash the upload endpoint, and
//! (in the modules' later tests) the user pool held to the deployed pool's rules.
//!
//! Every test starts the stage in-process and drives it as a browser or a script would: the
//! bucket's form over HTTP, the user pool with the JSON protocol Cognito speaks.

use serde_json::json;
use testkit::local::STEP;
use testkit::stage::InProcessStage;

/// The `<Code>` of an S3 error body.
fn s3_code(body: &str) -> &str {
    body.split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_form_with_a_non_ascii_date_is_refused_and_the_stage_keeps_answering() {
    let stage = InProcessStage::start().await;
    let form = json!({"url": format!("{}/_s3/photos-local", stage.base)});
    let scope = "AKIDLOCAL/20261124/us-east-1/s3/aws4_request";
    // Sixteen bytes with `T` and `Z` where `YYYYMMDDTHHMMSSZ` has them, and a three-byte
    // character where the month is: no token, no signature needed to send this.
    for date in [
        "2026\u{20ac}2T203045Z",
        "\u{e9}026112T203045Z",
        "20261124T2030\u{e9}Z",
    ] {
        let fields: Vec<(String, String)> = [
            ("key", "originals/x/y"),
            ("policy", "e30="),
            ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
            ("x-amz-credential", scope),
            ("x-amz-date", date),
            ("x-amz-signature", "00"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let (status, body) = testkit::local::bounded(
            "posting a hostile form",
            STEP,
            stage.post_form(&form, &fields, b"x"),
        )
        .await;
        assert_eq!(status, 400, "{date:?}: {body}");
        assert!(
            body.starts_with("<?xml") && body.contains("<Error><Code>"),
            "{body}"
        );
        assert_eq!(
            s3_code(&body),
            "AuthorizationQueryParametersError",
            "{body}"
        );
    }
    // Still serving: a sign-up goes through.
    stage
        .cognito_ok(
            "SignUp",
            json!({"ClientId": testkit::local::CLIENT_ID, "Username": "carol@example.com",
                   "Password": "Correct-Horse-9",
                   "UserAttributes": [{"Name": "email", "Value": "carol@example.com"}]}),
        )
        .await;
}
