//! The SigV4 pieces a POST policy needs: the signing key chain and the hex HMAC signature.

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The SigV4 signing key: HMAC chain over `AWS4{secret}`, the day (`YYYYMMDD`), the region, the
/// service and `aws4_request`.
pub(crate) fn signing_key(secret: &str, day: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), day.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// The POST signature: lowercase hex HMAC-SHA256 of the base64 policy under the signing key.
pub(crate) fn sign_policy(secret: &str, day: &str, region: &str, policy_base64: &str) -> String {
    let key = signing_key(secret, day, region, "s3");
    hex::encode(hmac_sha256(&key, policy_base64.as_bytes()))
}

/// Compares two signatures in time independent of where they first differ.
pub(crate) fn same_signature(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_key_matches_the_aws_documentation_example() {
        // "Examples of how to derive a signing key for Signature Version 4" (AWS General Reference).
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn signature_comparison() {
        assert!(same_signature("abcd", "abcd"));
        assert!(!same_signature("abcd", "abce"));
        assert!(!same_signature("abcd", "abc"));
    }
}
