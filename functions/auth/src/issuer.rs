//! A token issuer for the local stage: RS256 tokens shaped like Cognito's, and the matching JWKS.
//!
//! The local stage has no Cognito, yet its API must run the very verifier the Lambda runs. So it
//! signs its own tokens with its own RSA key, with the claims Cognito puts in its tokens, and hands
//! [`Issuer::jwks`] to [`Verifier::from_jwks`](crate::Verifier::from_jwks).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use rsa::{PrivateKey, PublicKey};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::jwks::{Jwk, Jwks};
use crate::{AuthError, TokenUse, VerifierConfig};

/// Signs Cognito-shaped tokens with one RSA key.
pub struct Issuer {
    key: PrivateKey,
    public: PublicKey,
    kid: String,
    issuer: String,
    client_id: String,
}

impl std::fmt::Debug for Issuer {
    // The private key stays out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Who a token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The user's id (`sub`).
    pub sub: String,
    /// The user name (`username` in access tokens, `cognito:username` in id tokens).
    pub username: String,
    /// The e-mail address, put in id tokens only (as Cognito does).
    pub email: Option<String>,
}

impl Issuer {
    /// RSA modulus size of generated keys: what Cognito uses.
    pub const KEY_BITS: usize = 2048;

    /// An issuer with a fresh 2048-bit key. Takes a moment (prime generation); persist the key
    /// with [`Issuer::to_pkcs8_pem`] to keep tokens valid across restarts.
    pub fn generate(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Result<Issuer, AuthError> {
        let key = PrivateKey::new(&mut getrandom::SysRng, Self::KEY_BITS)
            .map_err(|e| AuthError::Key(format!("generating an RSA key: {e}")))?;
        Ok(Issuer::with_key(key, issuer.into(), client_id.into()))
    }

    /// An issuer signing with an RSA private key in PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(
        pem: &str,
        issuer: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Result<Issuer, AuthError> {
        let key = PrivateKey::from_pkcs8_pem(pem)
            .map_err(|e| AuthError::Key(format!("reading a PKCS#8 PEM RSA key: {e}")))?;
        Issuer::checked(key, issuer.into(), client_id.into())
    }

    /// An issuer signing with an RSA private key in PKCS#8 DER.
    pub fn from_pkcs8_der(
        der: &[u8],
        issuer: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Result<Issuer, AuthError> {
        let key = PrivateKey::from_pkcs8_der(der)
            .map_err(|e| AuthError::Key(format!("reading a PKCS#8 DER RSA key: {e}")))?;
        Issuer::checked(key, issuer.into(), client_id.into())
    }

    /// Refuses keys the verifier would refuse, so a bad key fails at start-up, not per token.
    fn checked(key: PrivateKey, issuer: String, client_id: String) -> Result<Issuer, AuthError> {
        let issuer = Issuer::with_key(key, issuer, client_id);
        crate::jwks::KeySet::from_jwks(&issuer.jwks())?;
        Ok(issuer)
    }

    fn with_key(key: PrivateKey, issuer: String, client_id: String) -> Issuer {
        let public = key.to_public_key();
        let kid = thumbprint(&Jwk::rsa(String::new(), &public));
        Issuer {
            key,
            public,
            kid,
            issuer,
            client_id,
        }
    }

    /// The private key in PKCS#8 PEM, for the local stage to keep between runs.
    pub fn to_pkcs8_pem(&self) -> Result<String, AuthError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| AuthError::Key(format!("encoding the RSA key: {e}")))
    }

    /// The key id: the key's RFC 7638 JWK thumbprint, so the same key always has the same `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The `iss` of the tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The app client the tokens are for.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The JWKS holding this issuer's public key.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: vec![Jwk::rsa(self.kid.clone(), &self.public)],
        }
    }

    /// A verifier configuration accepting this issuer's tokens of kind `token_use`.
    pub fn verifier_config(&self, token_use: TokenUse) -> VerifierConfig {
        VerifierConfig::new(self.issuer.clone(), self.client_id.clone(), token_use)
    }

    /// A token like Cognito's: `sub`, `iss`, `client_id` (access) or `aud` (id), `token_use`,
    /// `auth_time`, `iat`, `exp = now + lifetime`, a random `jti`, the user name, and for id
    /// tokens the e-mail address.
    pub fn issue(
        &self,
        token_use: TokenUse,
        subject: &Subject,
        now: u64,
        lifetime: Duration,
    ) -> Result<String, AuthError> {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(subject.sub));
        claims.insert("iss".into(), json!(self.issuer));
        let client_claim = match token_use {
            TokenUse::Access => "client_id",
            TokenUse::Id => "aud",
        };
        claims.insert(client_claim.into(), json!(self.client_id));
        claims.insert("token_use".into(), json!(token_use.as_str()));
        claims.insert("auth_time".into(), json!(now));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now.saturating_add(lifetime.as_secs())));
        claims.insert("jti".into(), json!(random_jti()?));
        match token_use {
            TokenUse::Access => {
                claims.insert("username".into(), json!(subject.username));
            }
            TokenUse::Id => {
                claims.insert("cognito:username".into(), json!(subject.username));
                if let Some(email) = &subject.email {
                    claims.insert("email".into(), json!(email));
                }
            }
        }
        self.sign_claims(&Value::Object(claims))
    }

    /// Signs any payload with this issuer's key (header `{"alg":"RS256","kid":..,"typ":"JWT"}`).
    /// For tests that need tokens Cognito would never issue.
    pub fn sign_claims(&self, claims: &Value) -> Result<String, AuthError> {
        let header = json!({ "alg": "RS256", "kid": self.kid, "typ": "JWT" });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .pkcs1v15_sign::<Sha256>(signing_input.as_bytes())
            .map_err(|e| AuthError::Key(format!("signing: {e}")))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

/// RFC 7638 thumbprint of an RSA JWK: SHA-256 over `{"e":..,"kty":"RSA","n":..}`, base64url.
fn thumbprint(jwk: &Jwk) -> String {
    let canonical = format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, jwk.e, jwk.n);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A random UUID v4, the shape of Cognito's `jti`.
fn random_jti() -> Result<String, AuthError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| AuthError::Key(format!("reading the system random source: {e}")))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "http://localhost:3000/local-pool";

    #[test]
    fn pem_der_and_generated_keys_round_trip() {
        let a = Issuer::from_pkcs8_pem(include_str!("../testdata/key-a.pem"), ISS, "c").unwrap();
        let der =
            Issuer::from_pkcs8_der(include_bytes!("../testdata/key-a.der"), ISS, "c").unwrap();
        assert_eq!(a.kid(), der.kid(), "the kid is a function of the key");
        let again = Issuer::from_pkcs8_pem(&a.to_pkcs8_pem().unwrap(), ISS, "c").unwrap();
        assert_eq!(again.jwks(), a.jwks());
        let b = Issuer::from_pkcs8_pem(include_str!("../testdata/key-b.pem"), ISS, "c").unwrap();
        assert_ne!(a.kid(), b.kid());
        let generated = Issuer::generate(ISS, "c").unwrap();
        assert_ne!(generated.kid(), a.kid());
        assert_eq!(generated.jwks().keys[0].e, "AQAB");
        // 2048 bits: 256 bytes of modulus, 342 base64url characters.
        assert_eq!(generated.jwks().keys[0].n.len(), 342);
        assert!(!format!("{generated:?}").contains("PRIVATE"));
    }

    #[test]
    fn bad_keys_are_refused() {
        let error = Issuer::from_pkcs8_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            ISS,
            "c",
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("unusable key: reading a PKCS#8 PEM RSA key"),
            "{error}"
        );
        let error = Issuer::from_pkcs8_der(b"not der", ISS, "c").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("unusable key: reading a PKCS#8 DER RSA key"),
            "{error}"
        );
    }

    #[test]
    fn tokens_have_cognito_claim_shape() {
        let issuer =
            Issuer::from_pkcs8_pem(include_str!("../testdata/key-a.pem"), ISS, "c").unwrap();
        let subject = Subject {
            sub: "s".into(),
            username: "u".into(),
            email: Some("e@x".into()),
        };
        let claims = |token_use| {
            let token = issuer
                .issue(token_use, &subject, 1000, Duration::from_secs(60))
                .unwrap();
            let payload = token.split('.').nth(1).unwrap();
            let json: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
            let header = token.split('.').next().unwrap();
            let header: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
            assert_eq!(
                header,
                json!({"alg": "RS256", "kid": issuer.kid(), "typ": "JWT"})
            );
            json
        };
        let mut access = claims(TokenUse::Access);
        let jti = access.as_object_mut().unwrap().remove("jti").unwrap();
        let jti = jti.as_str().unwrap();
        assert_eq!(jti.len(), 36);
        assert_eq!(&jti[14..15], "4", "a UUID v4");
        assert_eq!(
            access,
            json!({"sub": "s", "iss": ISS, "client_id": "c", "token_use": "access",
            "auth_time": 1000, "iat": 1000, "exp": 1060, "username": "u"})
        );
        let mut id = claims(TokenUse::Id);
        let id_jti = id.as_object_mut().unwrap().remove("jti").unwrap();
        assert_ne!(id_jti.as_str().unwrap(), jti);
        assert_eq!(
            id,
            json!({"sub": "s", "iss": ISS, "aud": "c", "token_use": "id",
            "auth_time": 1000, "iat": 1000, "exp": 1060, "cognito:username": "u", "email": "e@x"})
        );
    }
}
