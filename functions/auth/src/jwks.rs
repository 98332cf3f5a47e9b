//! JSON Web Key Sets (RFC 7517) as Cognito publishes them, and the RSA keys they hold.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::traits::PublicKeyParts as _;
use rsa::{BoxedUint, PublicKey};
use serde::{Deserialize, Serialize};

use crate::{AuthError, clip};

/// A JWK Set: `{"keys": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys, each named by its `kid`.
    pub keys: Vec<Jwk>,
}

/// One JSON Web Key. Only RSA signing keys are used; other members are kept as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type; only `RSA` keys are used.
    pub kty: String,
    /// Key id, matched against the token header's `kid`.
    pub kid: String,
    /// Intended algorithm; when present it must be `RS256` for the key to be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use; when present it must be `sig` for the key to be used.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// RSA modulus, base64url without padding (big-endian).
    #[serde(default)]
    pub n: String,
    /// RSA public exponent, base64url without padding (big-endian).
    #[serde(default)]
    pub e: String,
}

impl Jwks {
    /// Reads a JWKS document.
    pub fn from_json(json: &[u8]) -> Result<Jwks, AuthError> {
        serde_json::from_slice(json)
            .map_err(|e| AuthError::JwksUnavailable(format!("JWKS is not valid JSON: {e}")))
    }

    /// The document as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a JWKS always serializes")
    }
}

impl Jwk {
    /// The JWK of an RSA public key, for RS256 signatures.
    pub fn rsa(kid: impl Into<String>, key: &PublicKey) -> Jwk {
        Jwk {
            kty: "RSA".to_owned(),
            kid: kid.into(),
            alg: Some("RS256".to_owned()),
            use_: Some("sig".to_owned()),
            n: URL_SAFE_NO_PAD.encode(key.n_bytes()),
            e: URL_SAFE_NO_PAD.encode(key.e_bytes()),
        }
    }

    /// Whether this key may verify RS256 signatures at all.
    fn is_rs256_signing_key(&self) -> bool {
        self.kty == "RSA"
            && self.alg.as_deref().is_none_or(|alg| alg == "RS256")
            && self.use_.as_deref().is_none_or(|use_| use_ == "sig")
    }

    /// The RSA public key. Moduli of 2048 to 4096 bits are accepted (the `rsa` crate's limits).
    fn public_key(&self) -> Result<PublicKey, AuthError> {
        let bad = |what: &str| AuthError::Key(format!("JWK `{}`: {what}", clip(&self.kid)));
        let n = URL_SAFE_NO_PAD
            .decode(&self.n)
            .map_err(|_| bad("`n` is not base64url"))?;
        let e = URL_SAFE_NO_PAD
            .decode(&self.e)
            .map_err(|_| bad("`e` is not base64url"))?;
        let n = strip_leading_zeros(&n);
        let e = strip_leading_zeros(&e);
        if n.is_empty() || e.is_empty() || e.len() > 8 {
            return Err(bad("modulus or exponent out of range"));
        }
        let bits = |bytes: &[u8]| u32::try_from(bytes.len() * 8).unwrap_or(u32::MAX);
        let n = BoxedUint::from_be_slice(n, bits(n)).map_err(|_| bad("bad modulus"))?;
        let e = BoxedUint::from_be_slice(e, 64).map_err(|_| bad("bad exponent"))?;
        PublicKey::new(n, e).map_err(|err| bad(&format!("not a usable RSA key ({err})")))
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The usable keys of a JWKS, by `kid`.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, PublicKey>,
}

impl KeySet {
    /// Keeps the RSA signing keys of `jwks`. Keys of other types or uses are skipped (a JWKS may
    /// legitimately hold them); a malformed RSA signing key is an error, so a broken pool
    /// configuration shows up rather than turning into a stream of "unknown key" refusals.
    pub(crate) fn from_jwks(jwks: &Jwks) -> Result<KeySet, AuthError> {
        let mut keys = HashMap::new();
        for jwk in jwks.keys.iter().filter(|jwk| jwk.is_rs256_signing_key()) {
            keys.insert(jwk.kid.clone(), jwk.public_key()?);
        }
        Ok(KeySet { keys })
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.get(kid)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The public JWKS moto signs its Cognito tokens with (a real 2048-bit RSA key).
    const MOTO_JWKS: &str = r#"{"keys":[{"alg":"RS256","e":"AQAB","kid":"dummy","kty":"RSA","n":"j1pT3xKbswmMySvCefmiD3mfDaRFpZ9Y3Jl4fF0hMaCRVAt_e0yR7BeueDfqmj_NhVSO0WB5ao5e8V-9RFQOtK8SrqKl3i01-CyWYPICwybaGKhbJJR0S_6cZ8n5kscF1MjpIlsJcCzm-yKgTc3Mxk6KtrLoNgRvMwGLeHUXPkhS9YHfDKRe864iMFOK4df69brIYEICG2VLduh0hXYa0i-J3drwm7vxNdX7pVpCDu34qJtYoWq6CXt3Tzfi3YfWp8cFjGNbaDa3WnCd2IXpp0TFsFS-cEsw5rJjSl5OllJGeZKBtLeyVTy9PYwnk7MW43WSYeYstbk9NluX4H8Iuw","use":"sig"}]}"#;

    fn check(jwks: &str, expected: Result<usize, &str>) {
        let got = Jwks::from_json(jwks.as_bytes())
            .and_then(|jwks| KeySet::from_jwks(&jwks))
            .map(|set| set.len())
            .map_err(|e| e.to_string());
        assert_eq!(got, expected.map_err(str::to_owned), "jwks {jwks}");
    }

    #[test]
    fn reads_keys_and_skips_other_kinds() {
        check(MOTO_JWKS, Ok(1));
        check(r#"{"keys":[]}"#, Ok(0));
        check(
            r#"{"keys":[{"kty":"EC","kid":"ec","crv":"P-256","x":"a","y":"b"}]}"#,
            Ok(0),
        );
        check(
            r#"{"keys":[{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}]}"#,
            Ok(0),
        );
    }

    #[test]
    fn refuses_malformed_documents_and_keys() {
        check(
            "not json",
            Err(
                "user pool keys unavailable: JWKS is not valid JSON: expected ident at line 1 column 2",
            ),
        );
        check(
            r#"{"keys":[{"kty":"RSA","kid":"k","n":"!!","e":"AQAB"}]}"#,
            Err("unusable key: JWK `k`: `n` is not base64url"),
        );
        // A 64-bit modulus is far below the 2048-bit floor.
        check(
            r#"{"keys":[{"kty":"RSA","kid":"tiny","n":"wAAAAAAAAAE","e":"AQAB"}]}"#,
            Err("unusable key: JWK `tiny`: not a usable RSA key (modulus too small)"),
        );
    }

    #[test]
    fn jwk_round_trips_a_public_key() {
        let jwks = Jwks::from_json(MOTO_JWKS.as_bytes()).unwrap();
        let set = KeySet::from_jwks(&jwks).unwrap();
        let key = set.get("dummy").unwrap();
        let again = Jwk::rsa("dummy", key);
        assert_eq!(again, jwks.keys[0]);
    }
}
