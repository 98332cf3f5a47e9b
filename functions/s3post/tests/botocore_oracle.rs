//! Cross-checks our POST policy and signature with botocore's `S3SigV4PostAuth`, an independent
//! implementation, run from the moto oracle virtualenv with the clock frozen.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use s3post::{Credentials, Endpoint, PolicyLifetime, PostUpload, presign_post};
use serde_json::{Value, json};

/// 2026-11-24T20:30:45Z.
const NOW: u64 = 1_795_552_245;

/// Given our inputs, botocore builds its own form for the same conditions (time frozen at
/// `NOW`), and signs our policy with its own SigV4 code.
const SCRIPT: &str = r#"
import base64, datetime, json, sys
import botocore.auth as auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

given = json.load(sys.stdin)
auth.get_current_datetime = lambda *args, **kwargs: datetime.datetime(2026, 11, 24, 20, 30, 45)
signer = auth.S3SigV4PostAuth(
    Credentials(given["access_key"], given["secret"], given["token"]), "s3", given["region"])
request = AWSRequest(method="POST", url="https://example.invalid/")
request.context["s3-presign-post-fields"] = {"key": given["key"], "Content-Type": given["content_type"],
    "x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": given["checksum"]}
request.context["s3-presign-post-policy"] = {
    "expiration": given["expiration"], "conditions": given["conditions"]}
signer.add_auth(request)
fields = request.context["s3-presign-post-fields"]
print(json.dumps({
    "fields": fields,
    "policy": json.loads(base64.b64decode(fields["policy"])),
    "signature_of_our_policy": signer.signature(given["our_policy"], request),
}))
"#;

fn botocore(input: &Value) -> Value {
    let python = testkit::oracle_bin("moto", "python");
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the oracle's python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "botocore failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn check(token: Option<&str>) {
    let upload = PostUpload {
        bucket: "photos-dev".into(),
        key: "originals/user-1/photo-1".into(),
        content_type: "image/jpeg".into(),
        size: 25_000_000,
        sha256: Some([0xab; 32]),
        lifetime: PolicyLifetime::new(Duration::from_secs(900)).unwrap(),
    };
    let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    let credentials = Credentials::new("AKIAIOSFODNN7EXAMPLE", secret, token.map(str::to_owned));
    let at = UNIX_EPOCH + Duration::from_secs(NOW);
    let post = presign_post(&upload, "eu-west-1", &Endpoint::Aws, &credentials, at).unwrap();
    let field = |name: &str| {
        post.fields
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .clone()
    };
    let ours: Value = serde_json::from_slice(&STANDARD.decode(field("policy")).unwrap()).unwrap();

    let theirs = botocore(&json!({
        "access_key": "AKIAIOSFODNN7EXAMPLE",
        "secret": secret,
        "token": token,
        "region": "eu-west-1",
        "key": upload.key,
        "content_type": upload.content_type,
        "checksum": STANDARD.encode([0xab; 32]),
        "expiration": ours["expiration"],
        // The conditions botocore's caller supplies (bucket, key, size, content type and
        // checksum); it appends the x-amz-* signing ones itself.
        "conditions": ours["conditions"].as_array().unwrap()[..6],
        "our_policy": field("policy"),
    }));

    assert_eq!(
        theirs["policy"], ours,
        "botocore builds the same policy document"
    );
    assert_eq!(
        theirs["signature_of_our_policy"].as_str().unwrap(),
        field("x-amz-signature"),
        "botocore signs our policy to the same signature"
    );
    let mut their_fields: Vec<(String, String)> = theirs["fields"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "policy" | "x-amz-signature"))
        .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
        .collect();
    let mut our_fields: Vec<(String, String)> = post
        .fields
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "policy" | "x-amz-signature"))
        .cloned()
        .collect();
    their_fields.sort();
    our_fields.sort();
    assert_eq!(our_fields, their_fields, "the same form fields");
}

#[test]
fn botocore_agrees_with_temporary_credentials() {
    check(Some("IQoJb3JpZ2luX2VjEXAMPLE//session+token="));
}

#[test]
fn botocore_agrees_with_long_lived_credentials() {
    check(None);
}
