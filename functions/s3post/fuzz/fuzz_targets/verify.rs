//! Fuzzes what the local stage's upload endpoint runs on an unauthenticated form: the field
//! checks, the `x-amz-date` and credential-scope parsing, the signature check, and (when the
//! input asks the harness to sign its policy) the policy document's parser and every condition.
//! Any panic is a bug: a refusal is the expected answer to garbage.
//!
//! Input: the first byte holds flags (bit 0: sign the policy), the rest is text, one
//! `name=value` field a line. In signed mode the `policy` field is taken as the policy's JSON,
//! base64-encoded and signed with the secret of `AKIDEXAMPLE` for the day and region the
//! `x-amz-credential` field names, so mutations reach the policy parser instead of stopping at
//! the signature. A `#len=N` line sets the file's length (its bytes are the input's, repeated).

#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, KeyInit as _, Mac as _};
use libfuzzer_sys::fuzz_target;
use s3post::{PostSubmission, verify_post};
use sha2::Sha256;

/// 2026-11-24T20:30:45Z, the instant the seeds are signed for.
const NOW: u64 = 1_795_552_245;
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn sign(day: &str, region: &str, policy: &str) -> String {
    let key = [day, region, "s3", "aws4_request"]
        .iter()
        .fold(format!("AWS4{SECRET}").into_bytes(), |key, part| {
            hmac(&key, part.as_bytes())
        });
    hex::encode(hmac(&key, policy.as_bytes()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut file_len = 0usize;
    for line in text.split('\n') {
        let (name, value) = line.split_once('=').unwrap_or((line, ""));
        if name == "#len" {
            // Bounded, so a mutated length cannot ask for gigabytes.
            file_len = value.parse::<usize>().unwrap_or(0).min(1 << 16);
        } else {
            fields.push((name.to_owned(), value.to_owned()));
        }
    }
    if flags & 1 == 1 {
        let credential = fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-credential"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let scope: Vec<&str> = credential.split('/').collect();
        let (day, region) = (
            scope.get(1).copied().unwrap_or(""),
            scope.get(2).copied().unwrap_or(""),
        );
        let mut signature = None;
        for (name, value) in &mut fields {
            if name.eq_ignore_ascii_case("policy") {
                *value = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
                signature = Some(sign(day, region, value));
            }
        }
        if let Some(signature) = signature {
            for (name, value) in &mut fields {
                if name.eq_ignore_ascii_case("x-amz-signature") {
                    value.clone_from(&signature);
                }
            }
        }
    }
    // The file is the input's own bytes, cycled to the asked length, so a checksum field can
    // match it (a seed carries the digest of its bytes) or not.
    let file: Vec<u8> = data.iter().copied().cycle().take(file_len).collect();
    let submission = PostSubmission {
        bucket: "photos-local",
        region: "us-east-1",
        fields: &fields,
        file: &file,
        now: UNIX_EPOCH + Duration::from_secs(NOW),
    };
    match verify_post(&submission, |id| {
        (id == "AKIDEXAMPLE").then(|| SECRET.to_owned())
    }) {
        Ok(verified) => {
            // Whatever passed was signed by the key's owner and names the key it stores.
            let key = fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("key"))
                .map(|(_, v)| v.as_str());
            assert_eq!(Some(verified.key.as_str()), key);
            assert_eq!(verified.access_key_id, "AKIDEXAMPLE");
        }
        Err(e) => {
            // The refusal's S3 rendering must hold for any input too.
            let _ = (e.s3_code(), e.s3_message(), e.http_status(), e.to_string());
        }
    }
});
