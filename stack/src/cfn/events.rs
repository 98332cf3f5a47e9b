//! `AWS::Events::Rule`: a schedule that invokes a target. `Ref` is the rule's name.

use serde::Serialize;

use super::{Expr, Res, Resource};

/// `AWS::Events::Rule` on a schedule.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    pub description: String,
    /// `rate(1 hour)`, `cron(...)`.
    pub schedule_expression: String,
    /// `ENABLED` or `DISABLED`.
    pub state: &'static str,
    pub targets: Vec<Target>,
}

/// What a rule invokes, and with which input.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    /// The target's ARN (a Lambda function's).
    pub arn: Expr,
    /// Unique within the rule.
    pub id: String,
    /// The JSON the target receives instead of the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

impl Resource for Rule {
    const TYPE: &'static str = "AWS::Events::Rule";
}

impl Res<Rule> {
    /// `Arn`.
    pub fn arn(&self) -> Expr {
        self.get_att("Arn")
    }
}
