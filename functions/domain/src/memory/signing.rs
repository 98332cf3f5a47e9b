//! HMAC signing shared by the in-memory object store and the test identity verifier.

use hmac::{Hmac, KeyInit, Mac};

use crate::types::{Sha256, random_bytes};

pub(super) type HmacSha256 = Hmac<sha2::Sha256>;

pub(super) fn mac(secret: &[u8], data: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(secret).expect("hmac takes any key length");
    m.update(data);
    m
}

pub(super) fn sign_hex(secret: &[u8], data: &[u8]) -> String {
    mac(secret, data)
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn verify_hex(secret: &[u8], data: &[u8], hex: &str) -> bool {
    let Ok(sig) = Sha256::parse(hex) else {
        return false;
    };
    // `verify_slice` compares in constant time.
    mac(secret, data).verify_slice(sig.as_bytes()).is_ok()
}

pub(super) fn random_secret() -> [u8; 32] {
    let mut s = [0u8; 32];
    random_bytes(&mut s);
    s
}
