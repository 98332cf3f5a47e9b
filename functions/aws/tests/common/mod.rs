//! Shared test setup: SDK configuration pointing at moto, and the stack's table and bucket.

#![allow(dead_code)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
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

fn attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .unwrap()
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .unwrap()
}

/// The table exactly as the stack declares it: `pk`/`sk` strings, `gsi1` on `gsi1pk`/`gsi1sk`
/// with every attribute projected, on-demand billing.
pub async fn create_table(config: &SdkConfig) {
    let client = aws_sdk_dynamodb::Client::new(config);
    client
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .attribute_definitions(attribute("gsi1pk"))
        .attribute_definitions(attribute("gsi1sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("gsi1")
                .key_schema(key("gsi1pk", KeyType::Hash))
                .key_schema(key("gsi1sk", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
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
