//! `AWS::SQS::Queue`.

use serde::Serialize;

use super::{Expr, Res, Resource};

/// `AWS::SQS::Queue`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Queue {
    /// The queue's name; chosen by CloudFormation when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<Expr>,
    /// A KMS key to encrypt messages with (`alias/aws/sqs` is the AWS-managed one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<Expr>,
    /// SSE with SQS-owned keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqs_managed_sse_enabled: Option<bool>,
    /// Seconds a message is kept (60 to 1,209,600).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_retention_period: Option<u32>,
}

impl Resource for Queue {
    const TYPE: &'static str = "AWS::SQS::Queue";
}

impl Res<Queue> {
    /// `Arn`.
    pub fn arn(&self) -> Expr {
        self.get_att("Arn")
    }

    /// `QueueName`.
    pub fn queue_name(&self) -> Expr {
        self.get_att("QueueName")
    }
}
