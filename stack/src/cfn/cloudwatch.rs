//! `AWS::CloudWatch::*`: alarms and the dashboard.

use serde::Serialize;

use super::{Expr, Resource};

/// `AWS::CloudWatch::Alarm` on one metric.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alarm {
    /// What the alarm means and what to do.
    pub alarm_description: String,
    /// Such as `AWS/Lambda`.
    pub namespace: &'static str,
    /// Such as `Errors`.
    pub metric_name: &'static str,
    /// Which resource's metric.
    pub dimensions: Vec<Dimension>,
    /// `Sum`, `Maximum`, ...
    pub statistic: &'static str,
    /// Seconds per datapoint.
    pub period: u32,
    /// Datapoints considered.
    pub evaluation_periods: u32,
    /// Datapoints that must breach.
    pub datapoints_to_alarm: u32,
    /// The threshold.
    pub threshold: f64,
    /// Such as `GreaterThanOrEqualToThreshold`.
    pub comparison_operator: &'static str,
    /// `notBreaching`: no traffic is not an incident.
    pub treat_missing_data: &'static str,
    /// Notified on ALARM.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alarm_actions: Vec<Expr>,
    /// Notified on OK.
    #[serde(rename = "OKActions", skip_serializing_if = "Vec::is_empty")]
    pub ok_actions: Vec<Expr>,
}

impl Resource for Alarm {
    const TYPE: &'static str = "AWS::CloudWatch::Alarm";
}

/// `Dimension`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    /// Such as `FunctionName`.
    pub name: &'static str,
    /// The value.
    pub value: Expr,
}

/// `AWS::CloudWatch::Dashboard`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dashboard {
    /// Unique in the account and region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard_name: Option<Expr>,
    /// The dashboard JSON, as a string.
    pub dashboard_body: Expr,
}

impl Resource for Dashboard {
    const TYPE: &'static str = "AWS::CloudWatch::Dashboard";
}
