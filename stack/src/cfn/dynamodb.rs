//! `AWS::DynamoDB::Table`.

use serde::Serialize;

use super::{Expr, Res, Resource};

/// `AWS::DynamoDB::Table`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Table {
    /// `PAY_PER_REQUEST` (on demand) or `PROVISIONED`.
    pub billing_mode: &'static str,
    /// Types of the key attributes (of the table and its indexes).
    pub attribute_definitions: Vec<AttributeDefinition>,
    /// The primary key.
    pub key_schema: Vec<KeySchemaElement>,
    /// Global secondary indexes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    /// Point-in-time recovery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point_in_time_recovery_specification: Option<PointInTimeRecovery>,
    /// Encryption at rest.
    #[serde(rename = "SSESpecification", skip_serializing_if = "Option::is_none")]
    pub sse_specification: Option<SseSpecification>,
    /// Items expire when this attribute's epoch seconds pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_live_specification: Option<TimeToLive>,
    /// Refuse `DeleteTable` while set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection_enabled: Option<Expr>,
}

impl Resource for Table {
    const TYPE: &'static str = "AWS::DynamoDB::Table";
}

impl Res<Table> {
    /// `Arn`.
    pub fn arn(&self) -> Expr {
        self.get_att("Arn")
    }
}

/// `AttributeDefinition`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    /// The attribute.
    pub attribute_name: &'static str,
    /// `S`, `N` or `B`.
    pub attribute_type: &'static str,
}

/// `KeySchema` element.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaElement {
    /// The attribute.
    pub attribute_name: &'static str,
    /// `HASH` or `RANGE`.
    pub key_type: &'static str,
}

/// `GlobalSecondaryIndex`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GlobalSecondaryIndex {
    /// The index's name.
    pub index_name: &'static str,
    /// The index key.
    pub key_schema: Vec<KeySchemaElement>,
    /// Which attributes are copied into the index.
    pub projection: Projection,
}

/// `Projection`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection_type: &'static str,
}

/// `PointInTimeRecoverySpecification`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PointInTimeRecovery {
    /// On or off.
    pub point_in_time_recovery_enabled: bool,
}

/// `SSESpecification`.
#[derive(Debug, Clone, Serialize)]
pub struct SseSpecification {
    /// KMS encryption instead of the DynamoDB-owned key.
    #[serde(rename = "SSEEnabled")]
    pub sse_enabled: bool,
    /// `KMS`.
    #[serde(rename = "SSEType", skip_serializing_if = "Option::is_none")]
    pub sse_type: Option<&'static str>,
    /// The key (the AWS-managed `alias/aws/dynamodb` when absent).
    #[serde(rename = "KMSMasterKeyId", skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<Expr>,
}

/// `TimeToLiveSpecification`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLive {
    /// The attribute holding the expiry time.
    pub attribute_name: &'static str,
    /// On or off.
    pub enabled: bool,
}
