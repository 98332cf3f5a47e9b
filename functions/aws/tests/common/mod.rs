//! Shared test setup: SDK configuration pointing at moto, and the stack's table and bucket.

#![allow(dead_code)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use testkit::MotoServer;

pub const REGION: &str = "eu-west-1";
pub const TABLE: &str = "photo-app-test";
pub const BUCKET: &str = "photo-app-test-photos";

/// Static test credentials with a session token, as Lambda's always carry one.
pub async fn sdk_config(moto: &MotoServer) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "AKIDTESTING",
            "testing-secret",
            Some("testing-session-token".into()),
            None,
            "moto",
        ))
        .endpoint_url(moto.endpoint_url())
        .load()
        .await
}

/// The table exactly as the stack declares it.
pub async fn create_table(config: &SdkConfig) {
    photo_aws::table::create_table(&aws_sdk_dynamodb::Client::new(config), TABLE)
        .await
        .expect("creating the table");
}

pub async fn create_bucket(config: &SdkConfig) {
    let client = aws_sdk_s3::Client::new(config);
    client
        .create_bucket()
        .bucket(BUCKET)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("creating the bucket");
}
