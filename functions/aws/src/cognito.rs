//! Cognito access tokens as the domain's identity port, through photo-auth's verifier.

use async_trait::async_trait;
use photo_auth::{AuthError, TokenUse, Verifier, VerifierConfig};
use photo_domain::{AuthFailure, Claims, Error, IdentityVerifier, Result, Timestamp, UserId};

/// Verifies the user pool's access tokens (RS256 against the pool's JWKS, fetched once and
/// cached by photo-auth).
#[derive(Debug)]
pub struct CognitoVerifier {
    inner: Verifier,
}

impl CognitoVerifier {
    /// Accepts access tokens of `pool_id` in `region` issued to `client_id`.
    ///
    /// The issuer is always the AWS one, `https://cognito-idp.{region}.amazonaws.com/{pool}`
    /// (moto signs with it too). `endpoint` replaces only where the key set is fetched from:
    /// `None` on AWS, an emulator's base URL such as `http://127.0.0.1:5000` in tests.
    pub fn new(
        region: &str,
        pool_id: &str,
        client_id: &str,
        endpoint: Option<&str>,
    ) -> Result<Self> {
        let config = VerifierConfig::new(
            VerifierConfig::cognito_issuer(region, pool_id),
            client_id,
            TokenUse::Access,
        );
        let base = endpoint
            .map(str::to_owned)
            .unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com"));
        let inner = Verifier::remote(config, VerifierConfig::cognito_jwks_url(&base, pool_id))
            .map_err(|e| Error::Backend(format!("token verifier: {e}")))?;
        Ok(CognitoVerifier { inner })
    }

    /// Wraps a verifier built elsewhere (such as the local stage's, over its own key set).
    pub fn from_verifier(inner: Verifier) -> Self {
        CognitoVerifier { inner }
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
impl IdentityVerifier for CognitoVerifier {
    async fn verify(&self, token: &str) -> Result<Claims> {
        let claims = self.inner.verify(token).await.map_err(|e| {
            // The error never carries the token; say which check failed, for the logs.
            tracing::debug!(reason = %e, "token refused by the verifier");
            Error::Unauthenticated(failure(&e))
        })?;
        let user_id = UserId::parse(&claims.sub)
            .map_err(|_| Error::Unauthenticated(AuthFailure::Malformed))?;
        Ok(Claims {
            user_id,
            username: claims.username,
            expires_at: Timestamp::from_secs(i64::try_from(claims.exp).unwrap_or(i64::MAX / 1000)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
