//! What a verifier accepts, and the pure check of one token against a key set at a given time.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::Sha256;

use crate::claims::{Claims, Payload, TokenUse};
use crate::jwks::KeySet;
use crate::{AuthError, clip};

/// What a [`Verifier`](crate::Verifier) accepts: one user pool (the issuer), one app client, one
/// `token_use`, with a small clock leeway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    issuer: String,
    client_id: String,
    token_use: TokenUse,
    leeway: Duration,
}

impl VerifierConfig {
    /// Leeway applied to `exp`, `nbf` and `iat` unless set otherwise: clocks drift a little.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

    /// Accepts tokens with `iss == issuer`, for `client_id`, of kind `token_use`.
    ///
    /// The photo API passes [`TokenUse::Access`].
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        token_use: TokenUse,
    ) -> VerifierConfig {
        VerifierConfig {
            issuer: issuer.into(),
            client_id: client_id.into(),
            token_use,
            leeway: Self::DEFAULT_LEEWAY,
        }
    }

    /// Replaces the clock leeway.
    pub fn with_leeway(mut self, leeway: Duration) -> VerifierConfig {
        self.leeway = leeway;
        self
    }

    /// The issuer of a Cognito user pool on AWS: `https://cognito-idp.{region}.amazonaws.com/{pool_id}`.
    ///
    /// moto uses this same issuer in the tokens it signs, whatever host it listens on.
    pub fn cognito_issuer(region: &str, pool_id: &str) -> String {
        format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}")
    }

    /// Where a pool's JWKS lives: `{base}/{pool_id}/.well-known/jwks.json`.
    ///
    /// `base` is `https://cognito-idp.{region}.amazonaws.com` on AWS, or an emulator's endpoint
    /// such as moto's `http://127.0.0.1:5000`.
    pub fn cognito_jwks_url(base: &str, pool_id: &str) -> String {
        format!(
            "{}/{pool_id}/.well-known/jwks.json",
            base.trim_end_matches('/')
        )
    }

    /// The accepted issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The accepted app client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The accepted `token_use`.
    pub fn token_use(&self) -> TokenUse {
        self.token_use
    }

    /// The clock leeway.
    pub fn leeway(&self) -> Duration {
        self.leeway
    }
}

/// Cognito tokens are 1 to 2 KiB; a much larger one is refused before any decoding work.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The JOSE header members we read.
#[derive(Debug, Deserialize)]
pub(crate) struct Header {
    alg: Option<String>,
    kid: Option<String>,
}

/// A token split into its parts, header read and algorithm checked, signature not yet verified.
#[derive(Debug)]
pub(crate) struct Parsed<'t> {
    pub(crate) kid: String,
    signing_input: &'t str,
    payload: &'t str,
    signature: Vec<u8>,
}

/// Splits a compact JWS and reads its header. The algorithm is pinned here: anything but RS256
/// (`none`, `HS256` keyed with the public key, `PS256`, ...) is refused before any key is used.
pub(crate) fn parse(token: &str) -> Result<Parsed<'_>, AuthError> {
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::Malformed("token is too long"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed("not three dot-separated parts"));
    };
    let fields: Header = decode_json(
        header,
        "header is not base64url",
        "header is not a JSON object",
    )?;
    if fields.alg.as_deref() != Some("RS256") {
        return Err(AuthError::Algorithm);
    }
    let kid = fields
        .kid
        .ok_or(AuthError::Malformed("header has no `kid`"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| AuthError::Malformed("signature is not base64url"))?;
    // The signature covers `header.payload` exactly as sent.
    let signing_input = &token[..header.len() + 1 + payload.len()];
    Ok(Parsed {
        kid,
        signing_input,
        payload,
        signature,
    })
}

/// Decodes one base64url JSON part, with the error to give for each way it can be bad.
fn decode_json<T: serde::de::DeserializeOwned>(
    part: &str,
    not_base64: &'static str,
    not_json: &'static str,
) -> Result<T, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed(not_base64))?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed(not_json))
}

/// Verifies `parsed` with the key set at Unix time `now`: signature first (nothing in an
/// unsigned payload is believed), then issuer, `token_use`, app client, and the validity window.
pub(crate) fn verify_parsed(
    config: &VerifierConfig,
    keys: &KeySet,
    parsed: &Parsed<'_>,
    now: u64,
) -> Result<Claims, AuthError> {
    let key = keys
        .get(&parsed.kid)
        .ok_or_else(|| AuthError::UnknownKey(clip(&parsed.kid)))?;
    key.pkcs1v15_verify::<Sha256>(parsed.signing_input.as_bytes(), &parsed.signature)
        .map_err(|_| AuthError::BadSignature)?;

    let payload: Payload = decode_json(
        parsed.payload,
        "payload is not base64url",
        "payload is not a JSON object of the expected claims",
    )?;
    let iss = payload
        .iss
        .ok_or(AuthError::Malformed("payload has no `iss`"))?;
    if iss != config.issuer {
        return Err(AuthError::WrongIssuer(clip(&iss)));
    }
    let token_use = payload
        .token_use
        .ok_or(AuthError::Malformed("payload has no `token_use`"))?;
    if token_use != config.token_use.as_str() {
        return Err(AuthError::WrongTokenUse {
            expected: config.token_use,
            found: clip(&token_use),
        });
    }
    let client_ok = match config.token_use {
        TokenUse::Access => payload.client_id.as_deref() == Some(config.client_id.as_str()),
        TokenUse::Id => payload
            .aud
            .as_ref()
            .is_some_and(|aud| aud.contains(&config.client_id)),
    };
    if !client_ok {
        return Err(AuthError::WrongClient);
    }

    let leeway = config.leeway.as_secs();
    let exp = payload
        .exp
        .ok_or(AuthError::Malformed("payload has no `exp`"))?;
    if now > exp.saturating_add(leeway) {
        return Err(AuthError::Expired { exp });
    }
    // Cognito sets no `nbf`; a token issued in the future is just as suspicious.
    for not_before in [payload.nbf, payload.iat].into_iter().flatten() {
        if now.saturating_add(leeway) < not_before {
            return Err(AuthError::NotYetValid { nbf: not_before });
        }
    }
    let sub = payload
        .sub
        .filter(|sub| !sub.is_empty())
        .ok_or(AuthError::Malformed("payload has no `sub`"))?;
    Ok(Claims {
        sub,
        username: payload.username.or(payload.cognito_username),
        email: payload.email,
        exp,
        token_use: config.token_use,
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{Hmac, KeyInit as _, Mac as _};
    use serde_json::{Value, json};

    use crate::issuer::{Issuer, Subject};
    use crate::{TokenUse, Verifier};

    const NOW: u64 = 1_800_000_000;
    const ISS: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test";
    const CLIENT: &str = "client-photos";

    fn issuer() -> Issuer {
        Issuer::from_pkcs8_pem(include_str!("../testdata/key-a.pem"), ISS, CLIENT).unwrap()
    }

    fn other_key_issuer() -> Issuer {
        Issuer::from_pkcs8_pem(include_str!("../testdata/key-b.pem"), ISS, CLIENT).unwrap()
    }

    /// An access token's claims as Cognito shapes them, with `changes` applied (null removes).
    fn claims(changes: Value) -> Value {
        let mut claims = json!({
            "sub": "user-1", "iss": ISS, "client_id": CLIENT, "token_use": "access",
            "auth_time": NOW - 60, "iat": NOW - 60, "exp": NOW + 3600,
            "jti": "4f6b2b35-1b1c-4a53-9ad2-3c2f8a4b6d10", "username": "alice",
        });
        for (name, value) in changes.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
        claims
    }

    fn signed(changes: Value) -> String {
        issuer().sign_claims(&claims(changes)).unwrap()
    }

    /// Verifies `token` with issuer A's key set, accepting `token_use`, and compares the outcome:
    /// `Ok(sub)` or `Err(message)`. Every refusal is also checked to leave the token out.
    fn check(token: &str, token_use: TokenUse, expected: Result<&str, &str>) {
        let issuer = issuer();
        let verifier =
            Verifier::from_jwks(issuer.verifier_config(token_use), &issuer.jwks()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let got = runtime.block_on(verifier.verify_at(token, NOW));
        if let Err(error) = &got {
            let message = error.to_string();
            for part in token.split('.').filter(|part| part.len() > 8) {
                assert!(!message.contains(part), "error {message:?} leaks the token");
            }
            assert!(error.is_client_error(), "{message}");
        }
        let got = got.map(|claims| claims.sub).map_err(|e| e.to_string());
        assert_eq!(got, expected.map(str::to_owned).map_err(str::to_owned));
    }

    fn b64(json: &Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    #[tokio::test]
    async fn accepts_good_tokens_and_returns_their_claims() {
        let issuer = issuer();
        let subject = Subject {
            sub: "user-1".into(),
            username: "alice".into(),
            email: Some("alice@example.com".into()),
        };
        for token_use in [TokenUse::Access, TokenUse::Id] {
            let verifier =
                Verifier::from_jwks(issuer.verifier_config(token_use), &issuer.jwks()).unwrap();
            let token = issuer
                .issue(
                    token_use,
                    &subject,
                    NOW,
                    std::time::Duration::from_secs(3600),
                )
                .unwrap();
            let claims = verifier.verify_at(&token, NOW + 10).await.unwrap();
            assert_eq!(claims.sub, "user-1");
            assert_eq!(claims.username.as_deref(), Some("alice"));
            assert_eq!(claims.exp, NOW + 3600);
            assert_eq!(claims.token_use, token_use);
            let email = (token_use == TokenUse::Id).then_some("alice@example.com");
            assert_eq!(claims.email.as_deref(), email);
        }
    }

    #[test]
    fn validity_window_with_leeway() {
        check(
            &signed(json!({"exp": NOW - 30})),
            TokenUse::Access,
            Ok("user-1"),
        );
        check(
            &signed(json!({"exp": NOW - 31})),
            TokenUse::Access,
            Err("token expired at `1799999969`"),
        );
        check(
            &signed(json!({"nbf": NOW + 30})),
            TokenUse::Access,
            Ok("user-1"),
        );
        check(
            &signed(json!({"nbf": NOW + 31})),
            TokenUse::Access,
            Err("token not valid before `1800000031`"),
        );
        check(
            &signed(json!({"iat": NOW + 600})),
            TokenUse::Access,
            Err("token not valid before `1800000600`"),
        );
        check(
            &signed(json!({"exp": null})),
            TokenUse::Access,
            Err("malformed token: payload has no `exp`"),
        );
    }

    #[test]
    fn issuer_client_and_token_use_must_match() {
        check(
            &signed(json!({"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"})),
            TokenUse::Access,
            Err(
                "token issuer `https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other` is not the configured user pool",
            ),
        );
        check(
            &signed(json!({"client_id": "someone-else"})),
            TokenUse::Access,
            Err("token was issued to another app client"),
        );
        // An access token names its client in `client_id`; an `aud` does not stand in for it.
        check(
            &signed(json!({"client_id": null, "aud": CLIENT})),
            TokenUse::Access,
            Err("token was issued to another app client"),
        );
        let id = json!({"token_use": "id", "client_id": null, "aud": CLIENT});
        check(&signed(id.clone()), TokenUse::Id, Ok("user-1"));
        check(
            &signed(json!({"token_use": "id", "client_id": null, "aud": "someone-else"})),
            TokenUse::Id,
            Err("token was issued to another app client"),
        );
        check(
            &signed(json!({"token_use": "id", "client_id": null, "aud": ["x", CLIENT]})),
            TokenUse::Id,
            Ok("user-1"),
        );
        check(
            &signed(id),
            TokenUse::Access,
            Err("token_use `id` where `access` is accepted"),
        );
        check(
            &signed(json!({})),
            TokenUse::Id,
            Err("token_use `access` where `id` is accepted"),
        );
        check(
            &signed(json!({"sub": ""})),
            TokenUse::Access,
            Err("malformed token: payload has no `sub`"),
        );
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let token = signed(json!({}));
        let parts: Vec<&str> = token.split('.').collect();
        let forged_payload = b64(&claims(json!({"sub": "user-2"})));
        check(
            &format!("{}.{forged_payload}.{}", parts[0], parts[2]),
            TokenUse::Access,
            Err("token signature does not verify"),
        );
        let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        signature[10] ^= 1;
        check(
            &format!(
                "{}.{}.{}",
                parts[0],
                parts[1],
                URL_SAFE_NO_PAD.encode(&signature)
            ),
            TokenUse::Access,
            Err("token signature does not verify"),
        );
        // Signed by another key while naming ours.
        let other = other_key_issuer().sign_claims(&claims(json!({}))).unwrap();
        let other: Vec<&str> = other.split('.').collect();
        check(
            &format!("{}.{}.{}", parts[0], other[1], other[2]),
            TokenUse::Access,
            Err("token signature does not verify"),
        );
    }

    #[test]
    fn only_rs256_is_accepted() {
        let kid = issuer().kid().to_owned();
        let payload = b64(&claims(json!({})));
        let none = b64(&json!({"alg": "none", "kid": kid}));
        check(
            &format!("{none}.{payload}."),
            TokenUse::Access,
            Err("token algorithm is not `RS256`"),
        );
        let no_alg = b64(&json!({"kid": kid}));
        check(
            &format!("{no_alg}.{payload}."),
            TokenUse::Access,
            Err("token algorithm is not `RS256`"),
        );
        // The classic confusion: HS256 keyed with the public key a verifier might hand to HMAC.
        let header = b64(&json!({"alg": "HS256", "kid": kid, "typ": "JWT"}));
        let public = issuer().jwks().to_json();
        for secret in [public.as_bytes(), issuer().jwks().keys[0].n.as_bytes()] {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
            mac.update(format!("{header}.{payload}").as_bytes());
            let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
            check(
                &format!("{header}.{payload}.{tag}"),
                TokenUse::Access,
                Err("token algorithm is not `RS256`"),
            );
        }
    }

    #[test]
    fn unknown_key_and_malformed_tokens() {
        let other = other_key_issuer();
        let token = other.sign_claims(&claims(json!({}))).unwrap();
        check(
            &token,
            TokenUse::Access,
            Err(&format!("token signed with unknown key `{}`", other.kid())),
        );
        check("", TokenUse::Access, Err("missing bearer token"));
        check(
            &"a.".repeat(9000),
            TokenUse::Access,
            Err("malformed token: token is too long"),
        );
        check(
            "a.b",
            TokenUse::Access,
            Err("malformed token: not three dot-separated parts"),
        );
        check(
            "a.b.c.d",
            TokenUse::Access,
            Err("malformed token: not three dot-separated parts"),
        );
        check(
            "%%%.b.c",
            TokenUse::Access,
            Err("malformed token: header is not base64url"),
        );
        let header = b64(&json!({"alg": "RS256"}));
        check(
            &format!("{header}.e30.c2ln"),
            TokenUse::Access,
            Err("malformed token: header has no `kid`"),
        );
        let kid = issuer().kid().to_owned();
        let header = b64(&json!({"alg": "RS256", "kid": kid}));
        check(
            &format!("{header}.e30.%%%"),
            TokenUse::Access,
            Err("malformed token: signature is not base64url"),
        );
        check(
            &format!("{}.e30.c2ln", b64(&json!([1]))),
            TokenUse::Access,
            Err("malformed token: header is not a JSON object"),
        );
    }
}
