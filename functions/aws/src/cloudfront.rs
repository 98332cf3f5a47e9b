//! CloudFront signed URLs: the policy, its RSA signature and the query string that carries them.
//!
//! CloudFront checks a signed request against a policy (which resource, until when, from when,
//! from where) signed with a key of the distribution's trusted key group: RSA over SHA-1,
//! PKCS#1 v1.5, as CloudFront requires. A *canned* policy names one URL and an expiry and is not
//! sent (CloudFront rebuilds it from the URL and `Expires`); a *custom* policy is sent along, and
//! its resource may end in a wildcard, so that one signature covers every object under a prefix:
//! [`SignedPolicy::query`] is then appended to each URL under it, and a page of photos costs one
//! RSA signature, not one per link.
//!
//! The policy's text is what gets signed, so it is written exactly as CloudFront's documentation
//! and botocore's `CloudFrontSigner` write it (compact JSON, `Resource` before `Condition`,
//! conditions in botocore's order); the tests hold this module to botocore byte for byte.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::PrivateKey;
use rsa::pkcs8::DecodePrivateKey as _;
use sha1::Sha1;

/// Why a URL could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the CloudFront signing key is unusable: {0}")]
    Key(String),
    #[error("the CloudFront key pair id must be a key id such as K2JCJMDEHXQW5F, not `{0}`")]
    KeyPairId(String),
    #[error("a signed resource must be printable ASCII without quotes or backslashes: `{0}`")]
    Resource(String),
    #[error("the source IP range must be an IPv4 address or CIDR block, not `{0}`")]
    SourceIp(String),
    #[error("signing failed: {0}")]
    Signing(String),
}

/// What a custom policy allows: requests for `resource` (an URL, possibly ending in `*`) until
/// `expires`, and optionally not before `not_before` and only from `source_ip`. Times are Unix
/// seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub resource: String,
    pub expires: u64,
    pub not_before: Option<u64>,
    /// An IPv4 address (`192.0.2.10`, taken as `/32`) or CIDR block (`192.0.2.0/24`).
    pub source_ip: Option<String>,
}

impl Policy {
    /// Requests for `resource` until `expires`.
    pub fn until(resource: impl Into<String>, expires: u64) -> Policy {
        Policy {
            resource: resource.into(),
            expires,
            not_before: None,
            source_ip: None,
        }
    }

    /// The policy statement as it is signed (and, for a custom policy, sent).
    pub fn to_json(&self) -> Result<String, SignError> {
        let resource = &self.resource;
        let printable = |s: &str| s.bytes().all(|b| (b' '..=b'~').contains(&b));
        if resource.is_empty() || !printable(resource) || resource.contains(['"', '\\']) {
            return Err(SignError::Resource(clip(resource)));
        }
        let mut condition = format!(r#""DateLessThan":{{"AWS:EpochTime":{}}}"#, self.expires);
        if let Some(ip) = &self.source_ip {
            let cidr = if ip.contains('/') {
                ip.clone()
            } else {
                format!("{ip}/32")
            };
            if !is_ipv4_cidr(&cidr) {
                return Err(SignError::SourceIp(clip(ip)));
            }
            condition.push_str(&format!(r#","IpAddress":{{"AWS:SourceIp":"{cidr}"}}"#));
        }
        if let Some(not_before) = self.not_before {
            condition.push_str(&format!(
                r#","DateGreaterThan":{{"AWS:EpochTime":{not_before}}}"#
            ));
        }
        Ok(format!(
            r#"{{"Statement":[{{"Resource":"{resource}","Condition":{{{condition}}}}}]}}"#
        ))
    }
}

/// `a.b.c.d/n` with each part in range.
fn is_ipv4_cidr(s: &str) -> bool {
    let Some((address, bits)) = s.split_once('/') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
    let octets: Vec<&str> = address.split('.').collect();
    octets.len() == 4
        && octets.iter().all(|o| digits(o) && o.parse::<u8>().is_ok())
        && digits(bits)
        && bits.parse::<u8>().is_ok_and(|n| n <= 32)
}

/// At most 100 characters of a refused value, for an error message.
fn clip(s: &str) -> String {
    s.chars().take(100).collect()
}

/// Base64 with CloudFront's substitutions for URLs: `+` as `-`, `=` as `_`, `/` as `~`.
fn url_base64(bytes: &[u8]) -> String {
    STANDARD
        .encode(bytes)
        .chars()
        .map(|c| match c {
            '+' => '-',
            '=' => '_',
            '/' => '~',
            c => c,
        })
        .collect()
}

/// A signed custom policy: the query parameters to append to any URL the policy covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPolicy {
    query: String,
}

impl SignedPolicy {
    /// `Policy=...&Signature=...&Key-Pair-Id=...`, without a leading `?` or `&`.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// `url` with the signature appended (after `&` if it has a query already, else `?`).
    pub fn apply(&self, url: &str) -> String {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}{}", self.query)
    }
}

/// A fresh RSA key pair for CloudFront signing: 2048 bits, the size CloudFront's public keys
/// take.
pub struct KeyPair {
    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), wiped from memory when dropped.
    pub private_pem: zeroize::Zeroizing<String>,
    /// SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`), as CloudFront's `EncodedKey`.
    pub public_pem: String,
    /// The first 16 hex digits of the SHA-256 of the public key's DER: names the key.
    pub fingerprint: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// Generates a key pair from the operating system's random source.
    pub fn generate() -> Result<KeyPair, SignError> {
        use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
        let key = PrivateKey::new(&mut getrandom::SysRng, 2048)
            .map_err(|e| SignError::Key(format!("generating an RSA key: {e}")))?;
        let private_pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| SignError::Key(format!("encoding the private key: {e}")))?;
        let public = key.to_public_key();
        let encoding =
            |e: rsa::pkcs8::spki::Error| SignError::Key(format!("encoding the public key: {e}"));
        let public_pem = public.to_public_key_pem(LineEnding::LF).map_err(encoding)?;
        let der = public.to_public_key_der().map_err(encoding)?;
        let digest = <sha2::Sha256 as sha2::Digest>::digest(der.as_bytes());
        Ok(KeyPair {
            private_pem,
            fingerprint: digest[..8].iter().map(|b| format!("{b:02x}")).collect(),
            public_pem,
        })
    }
}

/// Signs CloudFront URLs with one key of a trusted key group.
pub struct UrlSigner {
    key_pair_id: String,
    key: PrivateKey,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of debug output and so out of logs.
        f.debug_struct("UrlSigner")
            .field("key_pair_id", &self.key_pair_id)
            .finish_non_exhaustive()
    }
}

impl UrlSigner {
    /// A signer for the public key `key_pair_id` (the id CloudFront gave it), holding its private
    /// half as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(key_pair_id: &str, pem: &str) -> Result<UrlSigner, SignError> {
        let id_ok = !key_pair_id.is_empty()
            && key_pair_id.len() <= 64
            && key_pair_id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !id_ok {
            return Err(SignError::KeyPairId(clip(key_pair_id)));
        }
        let key = PrivateKey::from_pkcs8_pem(pem)
            .map_err(|e| SignError::Key(format!("reading a PKCS#8 PEM RSA key: {e}")))?;
        Ok(UrlSigner {
            key_pair_id: key_pair_id.to_owned(),
            key,
        })
    }

    /// The id of the public key signatures are checked with.
    pub fn key_pair_id(&self) -> &str {
        &self.key_pair_id
    }

    fn sign(&self, policy: &str) -> Result<String, SignError> {
        let signature = self
            .key
            .pkcs1v15_sign::<Sha1>(policy.as_bytes())
            .map_err(|e| SignError::Signing(e.to_string()))?;
        Ok(url_base64(&signature))
    }

    /// `url` signed with a canned policy: that URL exactly, until `expires`.
    pub fn canned(&self, url: &str, expires: u64) -> Result<String, SignError> {
        let signature = self.sign(&Policy::until(url, expires).to_json()?)?;
        let separator = if url.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{url}{separator}Expires={expires}&Signature={signature}&Key-Pair-Id={}",
            self.key_pair_id
        ))
    }

    /// `policy` signed once, to be [applied](SignedPolicy::apply) to every URL it covers.
    pub fn custom(&self, policy: &Policy) -> Result<SignedPolicy, SignError> {
        let json = policy.to_json()?;
        let signature = self.sign(&json)?;
        Ok(SignedPolicy {
            query: format!(
                "Policy={}&Signature={signature}&Key-Pair-Id={}",
                url_base64(json.as_bytes()),
                self.key_pair_id
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_is_written_as_cloudfront_documents_it() {
        let policy = Policy::until(
            "https://d111111abcdef8.cloudfront.net/media/u1/*",
            1_767_225_600,
        );
        assert_eq!(
            policy.to_json().unwrap(),
            r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/media/u1/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}"#
        );
        let full = Policy {
            not_before: Some(1_767_000_000),
            source_ip: Some("192.0.2.10".into()),
            ..policy
        };
        assert_eq!(
            full.to_json().unwrap(),
            r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/media/u1/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600},"IpAddress":{"AWS:SourceIp":"192.0.2.10/32"},"DateGreaterThan":{"AWS:EpochTime":1767000000}}}]}"#
        );
    }

    #[test]
    fn resources_and_addresses_that_would_change_the_policy_are_refused() {
        for bad in [
            "",
            "https://x/\"},{\"Resource\":\"*",
            "https://x/a\\b",
            "https://x/é",
            "a\nb",
        ] {
            let err = Policy::until(bad, 1).to_json().unwrap_err();
            assert!(matches!(err, SignError::Resource(_)), "{bad}: {err}");
        }
        for bad in [
            "10.0.0",
            "10.0.0.256",
            "10.0.0.1/33",
            "::1",
            "10.0.0.1/+8",
            "+1.0.0.1",
            "x\"y",
        ] {
            let policy = Policy {
                source_ip: Some(bad.into()),
                ..Policy::until("https://x/a", 1)
            };
            assert!(
                matches!(policy.to_json(), Err(SignError::SourceIp(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn base64_uses_cloudfronts_url_alphabet() {
        // 0xfb 0xff: `+/8=` in standard base64.
        assert_eq!(url_base64(&[0xfb, 0xff]), "-~8_");
    }

    #[test]
    fn bad_key_ids_and_keys_are_refused_clearly() {
        for bad in ["", "K2J CJM", "K2J&x=1", &"K".repeat(65)] {
            let err = UrlSigner::from_pkcs8_pem(bad, "").unwrap_err();
            assert!(matches!(err, SignError::KeyPairId(_)), "{bad}: {err}");
        }
        let err = UrlSigner::from_pkcs8_pem(
            "K2JCJMDEHXQW5F",
            "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("PKCS#8"), "{err}");
    }
}
