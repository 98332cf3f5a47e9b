//! `AWS::Logs::LogGroup`.

use serde::Serialize;

use super::{Expr, Res, Resource};

/// `AWS::Logs::LogGroup`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroup {
    /// The group's name; chosen by CloudFormation when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<Expr>,
    /// Days to keep events.
    pub retention_in_days: u32,
}

impl Resource for LogGroup {
    const TYPE: &'static str = "AWS::Logs::LogGroup";
}

impl Res<LogGroup> {
    /// `Arn` (ends in `:*`, which covers the group's streams).
    pub fn arn(&self) -> Expr {
        self.get_att("Arn")
    }
}
