//! Cognito access tokens as the photo domain's identity port: the one adapter both the API
//! function and the local stage use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use photo_domain::{
    AuthFailure, Claims, Clock, Error, IdentityVerifier, Result, Timestamp, UserId,
};

use crate::{AuthError, TokenUse, Verifier, VerifierConfig};

/// How many verified tokens are remembered; past that the memory starts over.
const TOKEN_CACHE_ENTRIES: usize = 4096;

/// The user pool's access tokens as the domain's [`IdentityVerifier`], remembering the tokens it
/// verified.
///
/// The RS256 check is the most expensive step of a request, and a browser sends the same access
/// token for an hour. A token seen before is accepted again without the check only if it is the
/// very same string and has not expired by `clock`: what API Gateway's JWT authorizer does too
/// (neither consults the pool about sign-outs before a token expires).
#[derive(Debug)]
pub struct CognitoIdentity {
    verifier: Arc<Verifier>,
    clock: Arc<dyn Clock>,
    verified: Mutex<HashMap<String, Claims, foldhash::fast::RandomState>>,
}

impl CognitoIdentity {
    /// Accepts access tokens that `verifier` accepts, judging expiry by `clock`.
    pub fn new(verifier: Arc<Verifier>, clock: Arc<dyn Clock>) -> Self {
        CognitoIdentity {
            verifier,
            clock,
            verified: Mutex::default(),
        }
    }

    /// Accepts access tokens of `pool_id` in `region` issued to `client_id`.
    ///
    /// The issuer is always the AWS one, `https://cognito-idp.{region}.amazonaws.com/{pool}`
    /// (moto signs with it too). `endpoint` replaces only where the key set is fetched from:
    /// `None` on AWS, an emulator's base URL such as `http://127.0.0.1:5000` in tests.
    pub fn remote(
        region: &str,
        pool_id: &str,
        client_id: &str,
        endpoint: Option<&str>,
        clock: Arc<dyn Clock>,
    ) -> std::result::Result<Self, AuthError> {
        let config = VerifierConfig::new(
            VerifierConfig::cognito_issuer(region, pool_id),
            client_id,
            TokenUse::Access,
        );
        let base = endpoint
            .map(str::to_owned)
            .unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com"));
        let verifier = Verifier::remote(config, VerifierConfig::cognito_jwks_url(&base, pool_id))?;
        Ok(CognitoIdentity::new(Arc::new(verifier), clock))
    }

    fn cache(&self) -> MutexGuard<'_, HashMap<String, Claims, foldhash::fast::RandomState>> {
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Which check refused the token, in the domain's terms.
pub fn failure(error: &AuthError) -> AuthFailure {
    match error {
        AuthError::Missing => AuthFailure::Missing,
        AuthError::Malformed(_) | AuthError::Algorithm => AuthFailure::Malformed,
        AuthError::BadSignature => AuthFailure::BadSignature,
        AuthError::Expired { .. } | AuthError::NotYetValid { .. } => AuthFailure::Expired,
        AuthError::WrongIssuer(_) => AuthFailure::WrongIssuer,
        AuthError::WrongClient => AuthFailure::WrongAudience,
        AuthError::WrongTokenUse { .. } => AuthFailure::WrongTokenUse,
        AuthError::UnknownKey(_) => AuthFailure::UnknownKey,
        AuthError::JwksUnavailable(_) | AuthError::Key(_) => AuthFailure::KeysUnavailable,
    }
}

#[async_trait]
impl IdentityVerifier for CognitoIdentity {
    async fn verify(&self, token: &str) -> Result<Claims> {
        let now = self.clock.now();
        if let Some(claims) = self.cache().get(token)
            && now.secs() < claims.expires_at.secs()
        {
            return Ok(claims.clone());
        }
        // The error never carries the token; the failure says which check refused it.
        let verified = self
            .verifier
            .verify_at(token, now.secs().max(0).unsigned_abs())
            .await
            .map_err(|e| Error::Unauthenticated(failure(&e)))?;
        let user_id = UserId::parse(&verified.sub)
            .map_err(|_| Error::Unauthenticated(AuthFailure::Malformed))?;
        let claims = Claims {
            user_id,
            username: verified.username,
            expires_at: Timestamp::from_secs(
                i64::try_from(verified.exp).unwrap_or(i64::MAX / 1000),
            ),
        };
        let mut cache = self.cache();
        if cache.len() >= TOKEN_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(token.to_owned(), claims.clone());
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use photo_domain::memory::ManualClock;

    use super::*;
    use crate::issuer::{Issuer, Subject};

    const CLIENT_ID: &str = "localclient";

    fn check(error: AuthError, expected: AuthFailure) {
        assert_eq!(failure(&error), expected, "{error}");
    }

    #[test]
    fn every_refusal_maps_to_a_domain_failure() {
        check(AuthError::Missing, AuthFailure::Missing);
        check(AuthError::Malformed("x"), AuthFailure::Malformed);
        check(AuthError::Algorithm, AuthFailure::Malformed);
        check(AuthError::BadSignature, AuthFailure::BadSignature);
        check(AuthError::Expired { exp: 1 }, AuthFailure::Expired);
        check(AuthError::NotYetValid { nbf: 1 }, AuthFailure::Expired);
        check(AuthError::WrongIssuer("i".into()), AuthFailure::WrongIssuer);
        check(AuthError::WrongClient, AuthFailure::WrongAudience);
        check(
            AuthError::WrongTokenUse {
                expected: TokenUse::Access,
                found: "id".into(),
            },
            AuthFailure::WrongTokenUse,
        );
        check(AuthError::UnknownKey("k".into()), AuthFailure::UnknownKey);
        check(
            AuthError::JwksUnavailable("down".into()),
            AuthFailure::KeysUnavailable,
        );
        check(AuthError::Key("bad".into()), AuthFailure::KeysUnavailable);
    }

    const ISSUER: &str = "http://127.0.0.1:9/_cognito/us-east-1_local";

    fn identity(issuer: &Issuer, clock: Arc<ManualClock>) -> CognitoIdentity {
        let config = VerifierConfig::new(ISSUER, CLIENT_ID, TokenUse::Access);
        let verifier = Verifier::from_jwks(config, &issuer.jwks()).unwrap();
        CognitoIdentity::new(Arc::new(verifier), clock)
    }

    fn token(issuer: &Issuer, sub: &str, at: u64) -> String {
        let subject = Subject {
            sub: sub.into(),
            username: sub.into(),
            email: None,
        };
        issuer
            .issue(TokenUse::Access, &subject, at, Duration::from_secs(600))
            .unwrap()
    }

    #[tokio::test]
    async fn a_remembered_token_still_expires_and_a_changed_one_is_checked_again() {
        let issuer = Issuer::generate(ISSUER, CLIENT_ID).unwrap();
        let clock = Arc::new(ManualClock::new(Timestamp::from_secs(1_700_000_000)));
        let identity = identity(&issuer, clock.clone());
        let alice = token(&issuer, "alice", 1_700_000_000);
        for _ in 0..2 {
            let claims = identity.verify(&alice).await.unwrap();
            assert_eq!(claims.user_id.as_str(), "alice");
        }
        // One changed character: not the remembered string, so verified, and refused.
        let mut forged = alice.clone().into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        assert!(matches!(
            identity.verify(&forged).await,
            Err(Error::Unauthenticated(_))
        ));
        // Past its expiry (and the verifier's leeway for clock skew).
        clock.advance_secs(3600);
        assert!(matches!(
            identity.verify(&alice).await,
            Err(Error::Unauthenticated(AuthFailure::Expired))
        ));
    }
}
