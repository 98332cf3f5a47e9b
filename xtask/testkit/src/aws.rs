//! The AWS SDK pointed at a [`MotoServer`]: configuration with test credentials, and the
//! resources the functions expect to find there (the photo bucket, a user pool with a user).
//!
//! The photo table is created with `photo_aws::table::create_table`, the one definition of the
//! stack's key schema; testkit does not depend on the adapters it helps to test.

use std::process::Command;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
};
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

use crate::MotoServer;

/// The region of every test stack, unless a test needs CloudFront's `us-east-1`.
pub const REGION: &str = "eu-west-1";
/// The photo table and bucket names the functions are configured with in tests.
pub const TABLE: &str = "photo-app-test";
pub const BUCKET: &str = "photo-app-test-photos";

/// Test credentials, with a session token because Lambda's always carry one. moto accepts any.
pub const ACCESS_KEY_ID: &str = "AKIDTESTING";
pub const SECRET_ACCESS_KEY: &str = "testing-secret";
pub const SESSION_TOKEN: &str = "testing-session-token";

/// An SDK configuration for moto in [`REGION`] with the test credentials.
pub async fn sdk_config(moto: &MotoServer) -> SdkConfig {
    sdk_config_in(moto, REGION).await
}

/// An SDK configuration for moto in `region` with the test credentials.
pub async fn sdk_config_in(moto: &MotoServer, region: &'static str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            Some(SESSION_TOKEN.to_owned()),
            None,
            "testkit",
        ))
        .endpoint_url(moto.endpoint_url())
        // moto answers plain HTTP on loopback: no TLS.
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .load()
        .await
}

/// Gives a process the test credentials and `moto`'s endpoint, as the SDK reads them from the
/// environment; for a `bootstrap` or the `deployer` run against moto.
pub fn moto_env(command: &mut Command, moto: &MotoServer) {
    command
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
        .env("AWS_ENDPOINT_URL", moto.endpoint_url());
}

/// An S3 client addressing buckets by path, as moto on 127.0.0.1 needs.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// Creates `bucket` in the configuration's region (S3 wants the region named, except in
/// `us-east-1`).
pub async fn create_bucket(config: &SdkConfig, bucket: &str) {
    let mut request = s3_client(config).create_bucket().bucket(bucket);
    let region = config.region().map(|r| r.as_ref().to_owned());
    if let Some(region) = region.filter(|r| r != "us-east-1") {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating the bucket `{bucket}`: {e:?}"));
}

/// A user pool with an app client that signs in by password, and one confirmed user signed in.
#[derive(Debug, Clone)]
pub struct CognitoUser {
    pub pool_id: String,
    pub client_id: String,
    pub username: String,
    pub sub: String,
    pub access_token: String,
    pub id_token: String,
}

/// The password of every [`CognitoUser`].
pub const PASSWORD: &str = "Real-Passw0rd!";

/// Creates the pool `pool_name` with the app client `spa` and the user `username` (e-mail
/// `{username}@example.com`, password [`PASSWORD`]), and signs the user in.
pub async fn cognito_user(config: &SdkConfig, pool_name: &str, username: &str) -> CognitoUser {
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(config);
    let pool_id = cognito
        .create_user_pool()
        .pool_name(pool_name)
        .send()
        .await
        .expect("creating a user pool")
        .user_pool
        .and_then(|pool| pool.id)
        .expect("pool id");
    let client_id = cognito
        .create_user_pool_client()
        .user_pool_id(&pool_id)
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
    let email = AttributeType::builder()
        .name("email")
        .value(format!("{username}@example.com"))
        .build()
        .expect("an e-mail attribute");
    cognito
        .admin_create_user()
        .user_pool_id(&pool_id)
        .username(username)
        .temporary_password("Temp-Passw0rd!")
        .message_action(MessageActionType::Suppress)
        .user_attributes(email)
        .send()
        .await
        .expect("creating a user");
    cognito
        .admin_set_user_password()
        .user_pool_id(&pool_id)
        .username(username)
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .expect("setting a permanent password");
    let sub = cognito
        .admin_get_user()
        .user_pool_id(&pool_id)
        .username(username)
        .send()
        .await
        .expect("reading the user")
        .user_attributes
        .unwrap_or_default()
        .into_iter()
        .find(|attribute| attribute.name == "sub")
        .and_then(|attribute| attribute.value)
        .expect("the user has a sub");
    let auth = cognito
        .initiate_auth()
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .client_id(&client_id)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("signing in")
        .authentication_result
        .expect("tokens, not a challenge");
    CognitoUser {
        pool_id,
        client_id,
        username: username.to_owned(),
        sub,
        access_token: auth.access_token.expect("access token"),
        id_token: auth.id_token.expect("id token"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn buckets_are_made_in_any_region_and_users_can_sign_in() {
        let moto = MotoServer::start();
        for region in [REGION, "us-east-1"] {
            let config = sdk_config_in(&moto, region).await;
            let bucket = format!("testkit-{region}");
            create_bucket(&config, &bucket).await;
            let listed = s3_client(&config).list_buckets().send().await.unwrap();
            assert!(
                listed.buckets().iter().any(|b| b.name() == Some(&bucket)),
                "{listed:?}"
            );
        }
        let config = sdk_config(&moto).await;
        let user = cognito_user(&config, "photos", "alice").await;
        assert_eq!(user.username, "alice");
        assert_eq!(user.access_token.split('.').count(), 3, "a JWT");
        assert_ne!(user.access_token, user.id_token);
    }
}
