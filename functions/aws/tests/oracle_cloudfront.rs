//! CloudFront signed URLs against an independent implementation: botocore's `CloudFrontSigner`
//! (in the moto oracle's private virtualenv), signing with RSA-SHA1 through `cryptography`.
//!
//! The oracle makes a fresh key, signs canned and custom (wildcard) policies with it, and hands
//! back the key and its URLs; ours, given the same key, policy and expiry, must agree byte for
//! byte. PKCS#1 v1.5 signatures are deterministic, so any difference in the policy's text, the
//! hash, the padding or the encoding shows.

use std::process::Command;

use photo_aws::cloudfront::{Policy, UrlSigner};
use serde_json::{Value, json};

const ORACLE: &str = r#"
import datetime, json, sys
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

args = json.loads(sys.argv[1])
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
).decode()
signer = CloudFrontSigner(
    args["key_pair_id"], lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1())
)
at = lambda s: datetime.datetime.fromtimestamp(s, datetime.timezone.utc)
canned = [signer.generate_presigned_url(u, date_less_than=at(args["expires"])) for u in args["urls"]]
policy = signer.build_policy(
    args["resource"], at(args["expires"]), date_greater_than=at(args["not_before"]),
    ip_address=args["ip"],
)
wildcard = signer.build_policy(args["resource"], at(args["expires"]))
print(json.dumps({
    "pem": pem,
    "canned": canned,
    "policy": policy,
    "custom": [signer.generate_presigned_url(u, policy=policy) for u in args["urls"]],
    "wildcard_policy": wildcard,
    "wildcard": [signer.generate_presigned_url(u, policy=wildcard) for u in args["urls"]],
}))
"#;

#[test]
fn signed_urls_agree_with_botocore_byte_for_byte() {
    let key_pair_id = "K2JCJMDEHXQW5F";
    let urls = [
        "https://d111111abcdef8.cloudfront.net/media/u1/p1/thumbnail.jpg",
        "https://d111111abcdef8.cloudfront.net/media/u1/p2/original.heic?response-content-disposition=attachment",
    ];
    let resource = "https://d111111abcdef8.cloudfront.net/media/u1/*";
    let (expires, not_before, ip) = (1_767_225_600_u64, 1_767_000_000_u64, "192.0.2.0/24");
    let args = json!({"key_pair_id": key_pair_id, "urls": urls, "resource": resource,
                      "expires": expires, "not_before": not_before, "ip": ip});
    let out = Command::new(testkit::oracle_bin("moto", "python3"))
        .args(["-c", ORACLE, &args.to_string()])
        .output()
        .expect("running botocore");
    assert!(
        out.status.success(),
        "botocore failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let oracle: Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = |name: &str| -> Vec<String> {
        oracle[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };

    let signer = UrlSigner::from_pkcs8_pem(key_pair_id, oracle["pem"].as_str().unwrap()).unwrap();
    // Canned: one URL, one expiry.
    let canned: Vec<String> = urls
        .iter()
        .map(|u| signer.canned(u, expires).unwrap())
        .collect();
    assert_eq!(canned, list("canned"));

    // Custom, with every condition botocore writes.
    let policy = Policy {
        not_before: Some(not_before),
        source_ip: Some(ip.into()),
        ..Policy::until(resource, expires)
    };
    assert_eq!(
        policy.to_json().unwrap(),
        oracle["policy"].as_str().unwrap()
    );
    let signed = signer.custom(&policy).unwrap();
    let custom: Vec<String> = urls.iter().map(|u| signed.apply(u)).collect();
    assert_eq!(custom, list("custom"));

    // A wildcard over the owner's prefix: signed once, applied to each of its URLs.
    let wildcard = Policy::until(resource, expires);
    assert_eq!(
        wildcard.to_json().unwrap(),
        oracle["wildcard_policy"].as_str().unwrap()
    );
    let signed = signer.custom(&wildcard).unwrap();
    let applied: Vec<String> = urls.iter().map(|u| signed.apply(u)).collect();
    assert_eq!(applied, list("wildcard"));
}
