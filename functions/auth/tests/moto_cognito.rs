//! Verifies real tokens from moto's Cognito user pools, fetched keys and all.

use aws_config::BehaviorVersion;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::config::{Credentials, Region};
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
};
use photo_auth::{AuthError, TokenUse, Verifier, VerifierConfig};
use testkit::MotoServer;

const REGION: &str = "eu-west-1";

async fn client(moto: &MotoServer) -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .endpoint_url(moto.endpoint_url())
        .load()
        .await;
    Client::new(&config)
}

/// A pool with one app client (user-password auth) and one confirmed user.
struct Pool {
    id: String,
    client_id: String,
    sub: String,
    access_token: String,
    id_token: String,
}

async fn pool_with_user(client: &Client, name: &str, user: &str) -> Pool {
    let id = client
        .create_user_pool()
        .pool_name(name)
        .send()
        .await
        .expect("creating a user pool")
        .user_pool
        .and_then(|pool| pool.id)
        .expect("pool id");
    let client_id = client
        .create_user_pool_client()
        .user_pool_id(&id)
        .client_name("spa")
        .read_attributes("email")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("creating an app client")
        .user_pool_client
        .and_then(|app| app.client_id)
        .expect("client id");
    let email = format!("{user}@example.com");
    client
        .admin_create_user()
        .user_pool_id(&id)
        .username(user)
        .temporary_password("Temp-Passw0rd!")
        .message_action(MessageActionType::Suppress)
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value(&email)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("creating a user");
    client
        .admin_set_user_password()
        .user_pool_id(&id)
        .username(user)
        .password("Real-Passw0rd!")
        .permanent(true)
        .send()
        .await
        .expect("setting a permanent password");
    let sub = client
        .admin_get_user()
        .user_pool_id(&id)
        .username(user)
        .send()
        .await
        .expect("reading the user")
        .user_attributes
        .unwrap_or_default()
        .into_iter()
        .find(|attribute| attribute.name == "sub")
        .and_then(|attribute| attribute.value)
        .expect("the user has a sub");
    let auth = client
        .initiate_auth()
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .client_id(&client_id)
        .auth_parameters("USERNAME", user)
        .auth_parameters("PASSWORD", "Real-Passw0rd!")
        .send()
        .await
        .expect("signing in")
        .authentication_result
        .expect("tokens, not a challenge");
    Pool {
        id,
        client_id,
        sub,
        access_token: auth.access_token.expect("access token"),
        id_token: auth.id_token.expect("id token"),
    }
}

fn verifier(moto: &MotoServer, pool: &Pool, client_id: &str, token_use: TokenUse) -> Verifier {
    // moto signs with the AWS issuer but serves the keys from its own host.
    let config = VerifierConfig::new(
        VerifierConfig::cognito_issuer(REGION, &pool.id),
        client_id,
        token_use,
    );
    let jwks_url = VerifierConfig::cognito_jwks_url(&moto.endpoint_url(), &pool.id);
    Verifier::remote(config, jwks_url).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifies_moto_issued_tokens_and_refuses_another_pools() {
    let moto = MotoServer::start();
    let client = client(&moto).await;
    let photos = pool_with_user(&client, "photos", "alice").await;
    let other = pool_with_user(&client, "other", "mallory").await;

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
            other.id
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
