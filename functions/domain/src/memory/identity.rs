//! Test bearer tokens: issued and verified with an HMAC, refused for Cognito's reasons.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use serde::{Deserialize, Serialize};

use super::signing::{mac, random_secret};
use crate::error::{AuthFailure, Error, Result};
use crate::ports::{Claims, Clock, IdentityVerifier};
use crate::types::{Timestamp, UserId};

#[derive(Serialize, Deserialize)]
struct TestClaims {
    sub: String,
    aud: String,
    exp: i64,
}

/// Issues and verifies HMAC-signed test tokens, refusing them for the same reasons a Cognito
/// verifier would: malformed, bad signature, wrong audience, expired.
#[derive(Debug)]
pub struct TestIdentityVerifier {
    secret: [u8; 32],
    audience: String,
    clock: Arc<dyn Clock>,
}

impl TestIdentityVerifier {
    pub fn new(audience: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        TestIdentityVerifier {
            secret: random_secret(),
            audience: audience.into(),
            clock,
        }
    }

    /// A token for `user` valid for this verifier's audience until `expires_at`.
    pub fn issue(&self, user: &UserId, expires_at: Timestamp) -> String {
        self.issue_for_audience(user, expires_at, &self.audience.clone())
    }

    /// A token for another audience, to test that it is refused.
    pub fn issue_for_audience(
        &self,
        user: &UserId,
        expires_at: Timestamp,
        audience: &str,
    ) -> String {
        let claims = TestClaims {
            sub: user.as_str().into(),
            aud: audience.into(),
            exp: expires_at.secs(),
        };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let sig =
            URL_SAFE_NO_PAD.encode(mac(&self.secret, body.as_bytes()).finalize().into_bytes());
        format!("{body}.{sig}")
    }
}

#[async_trait]
impl IdentityVerifier for TestIdentityVerifier {
    async fn verify(&self, token: &str) -> Result<Claims> {
        let fail = Error::Unauthenticated;
        let (body, sig) = token.split_once('.').ok_or(fail(AuthFailure::Malformed))?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| fail(AuthFailure::Malformed))?;
        mac(&self.secret, body.as_bytes())
            .verify_slice(&sig)
            .map_err(|_| fail(AuthFailure::BadSignature))?;
        let claims: TestClaims = URL_SAFE_NO_PAD
            .decode(body)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(fail(AuthFailure::Malformed))?;
        if claims.aud != self.audience {
            return Err(fail(AuthFailure::WrongAudience));
        }
        if self.clock.now().secs() >= claims.exp {
            return Err(fail(AuthFailure::Expired));
        }
        let user_id = UserId::parse(&claims.sub).map_err(|_| fail(AuthFailure::Malformed))?;
        Ok(Claims {
            user_id,
            username: None,
            expires_at: Timestamp::from_secs(claims.exp),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::ManualClock;

    #[tokio::test]
    async fn test_tokens_fail_for_the_reasons_cognito_tokens_do() {
        async fn verify(ids: &TestIdentityVerifier, token: &str) -> Result<Claims> {
            ids.verify(token).await
        }
        let clock = Arc::new(ManualClock::new(Timestamp::from_secs(1000)));
        let ids = TestIdentityVerifier::new("client", clock.clone());
        let other = TestIdentityVerifier::new("client", clock.clone());
        let alice = UserId::parse("alice").unwrap();
        let good = ids.issue(&alice, Timestamp::from_secs(1060));
        let check = async |token: String, expected: Result<&str, AuthFailure>| match (
            verify(&ids, &token).await,
            expected,
        ) {
            (Ok(c), Ok(u)) => assert_eq!(c.user_id.as_str(), u),
            (Err(Error::Unauthenticated(f)), Err(want)) => assert_eq!(f, want),
            (got, want) => panic!("{got:?} != {want:?}"),
        };
        check(good.clone(), Ok("alice")).await;
        check(
            other.issue(&alice, Timestamp::from_secs(1060)),
            Err(AuthFailure::BadSignature),
        )
        .await;
        check(
            ids.issue_for_audience(&alice, Timestamp::from_secs(1060), "x"),
            Err(AuthFailure::WrongAudience),
        )
        .await;
        check(
            ids.issue(&alice, Timestamp::from_secs(1000)),
            Err(AuthFailure::Expired),
        )
        .await;
        check("nodot".into(), Err(AuthFailure::Malformed)).await;
        check(format!("{good}x"), Err(AuthFailure::BadSignature)).await;
        check(format!("{good}!"), Err(AuthFailure::Malformed)).await;
        clock.advance_secs(60);
        check(good, Err(AuthFailure::Expired)).await;
    }
}
