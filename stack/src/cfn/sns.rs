//! `AWS::SNS::*`: topics and subscriptions. `Ref` on a topic is its ARN.

use serde::Serialize;

use super::{Expr, Resource};

/// `AWS::SNS::Topic`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Topic {
    /// Shown as the sender of e-mail notifications.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// A KMS key to encrypt messages with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<Expr>,
}

impl Resource for Topic {
    const TYPE: &'static str = "AWS::SNS::Topic";
}

/// `AWS::SNS::Subscription`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subscription {
    /// `email`, `sqs`, `lambda`, ...
    pub protocol: &'static str,
    /// The address or ARN.
    pub endpoint: Expr,
    /// The topic's ARN.
    pub topic_arn: Expr,
}

impl Resource for Subscription {
    const TYPE: &'static str = "AWS::SNS::Subscription";
}
