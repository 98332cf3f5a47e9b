//! Verifies real tokens from moto's Cognito user pools, fetched keys and all.

use photo_auth::{AuthError, TokenUse, Verifier, VerifierConfig};
use testkit::MotoServer;
use testkit::aws::{CognitoUser, REGION, cognito_user};

fn verifier(
    moto: &MotoServer,
    pool: &CognitoUser,
    client_id: &str,
    token_use: TokenUse,
) -> Verifier {
    // moto signs with the AWS issuer but serves the keys from its own host.
    let config = VerifierConfig::new(
        VerifierConfig::cognito_issuer(REGION, &pool.pool_id),
        client_id,
        token_use,
    );
    let jwks_url = VerifierConfig::cognito_jwks_url(&moto.endpoint_url(), &pool.pool_id);
    Verifier::remote(config, jwks_url).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifies_moto_issued_tokens_and_refuses_another_pools() {
    let moto = MotoServer::start();
    let config = testkit::aws::sdk_config(&moto).await;
    let photos = cognito_user(&config, "photos", "alice").await;
    let other = cognito_user(&config, "other", "mallory").await;

    let access = verifier(&moto, &photos, &photos.client_id, TokenUse::Access);
    let claims = access.verify(&photos.access_token).await.unwrap();
    assert_eq!(claims.sub, photos.sub);
    assert_eq!(claims.username.as_deref(), Some("alice"));
    assert_eq!(claims.token_use, TokenUse::Access);

    let id = verifier(&moto, &photos, &photos.client_id, TokenUse::Id);
    let claims = id.verify(&photos.id_token).await.unwrap();
    assert_eq!(claims.sub, photos.sub);
    assert_eq!(claims.username.as_deref(), Some("alice"));
    assert_eq!(claims.email.as_deref(), Some("alice@example.com"));

    // The API accepts access tokens only.
    let error = access.verify(&photos.id_token).await.unwrap_err();
    assert!(matches!(error, AuthError::WrongTokenUse { .. }), "{error}");

    // moto signs every pool's tokens with the same key, so only the issuer tells them apart.
    let error = access.verify(&other.access_token).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "token issuer `https://cognito-idp.{REGION}.amazonaws.com/{}` is not the configured user pool",
            other.pool_id
        )
    );

    // Right pool, wrong app client.
    let wrong_client = verifier(&moto, &photos, &other.client_id, TokenUse::Access);
    let error = wrong_client.verify(&photos.access_token).await.unwrap_err();
    assert!(matches!(error, AuthError::WrongClient), "{error}");

    // A tampered moto token fails the signature check.
    let mut parts: Vec<String> = photos.access_token.split('.').map(str::to_owned).collect();
    parts[1] = other.access_token.split('.').nth(1).unwrap().to_owned();
    let error = access.verify(&parts.join(".")).await.unwrap_err();
    assert!(matches!(error, AuthError::BadSignature), "{error}");
}
