//! Drift: what changed in a stack's resources outside CloudFormation.
//!
//! `deployer status --drift` runs a detection (`DetectStackDrift`), waits for it within a bound
//! (`DescribeStackDriftDetectionStatus`) and reads each resource's result
//! (`DescribeStackResourceDrifts`, every page): the properties that differ, expected against
//! actual, and the resources deleted or not checked. `deployer diff` only reads the result of the
//! last detection (`DescribeStacks`' drift information), which costs nothing.
//!
//! The renderings are pure ([`render_report`], [`report_json`], [`render_last_check`],
//! [`last_check_json`]); their JSON objects are stable (documented in `docs/operations.md`).

use std::time::Duration;

use anyhow::Result;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::primitives::DateTimeFormat;
use aws_sdk_cloudformation::types::{StackDriftDetectionStatus, StackResourceDriftStatus};
use serde::Serialize;

use crate::deploy::{Deployer, StackInfo};
use crate::error::AwsError;

/// How long to wait for a drift detection: `attempts` reads of its status, `poll` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriftWait {
    /// Between two reads of the detection's status.
    pub poll: Duration,
    /// How many reads before giving up.
    pub attempts: u32,
}

/// The longest a detection is waited for, whatever `--timeout` says.
pub const MAX_DRIFT_WAIT: Duration = Duration::from_secs(300);

impl DriftWait {
    /// Reads every two seconds for `timeout`, at most [`MAX_DRIFT_WAIT`].
    pub fn within(timeout: Duration) -> DriftWait {
        let poll = Duration::from_secs(2);
        let bound = timeout.min(MAX_DRIFT_WAIT);
        DriftWait {
            poll,
            attempts: (bound.as_secs() / poll.as_secs()).max(1) as u32,
        }
    }

    /// The whole bound, for messages.
    pub fn bound(&self) -> Duration {
        self.poll * self.attempts
    }
}

/// One property of a resource that differs from the template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyDifference {
    /// The property's path, such as `/MemorySize` or `/Tags/1/Value`.
    pub path: String,
    /// The template's value (JSON), absent for an `ADD`.
    pub expected: Option<String>,
    /// The resource's value (JSON), absent for a `REMOVE`.
    pub actual: Option<String>,
    /// `ADD`, `REMOVE` or `NOT_EQUAL`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// One resource's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceDrift {
    /// The logical id in the template.
    pub logical_id: String,
    /// The resource type.
    pub resource_type: String,
    /// The physical id (name or ARN).
    pub physical_id: String,
    /// `MODIFIED`, `DELETED`, `NOT_CHECKED` or `IN_SYNC`.
    pub status: String,
    /// For `MODIFIED`: the properties that differ.
    pub differences: Vec<PropertyDifference>,
    /// Why it was not checked, when CloudFormation says.
    pub reason: Option<String>,
}

/// The result of one detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftReport {
    /// The stack.
    pub stack: String,
    /// The stage, for the next step.
    pub stage: String,
    /// The detection's id.
    pub detection_id: String,
    /// `DRIFTED` or `IN_SYNC`.
    pub stack_status: String,
    /// When the detection ran (RFC 3339).
    pub checked_at: Option<String>,
    /// Every resource's result, as CloudFormation lists them.
    pub resources: Vec<ResourceDrift>,
}

impl DriftReport {
    /// The resources that are not in sync: modified, deleted, not checked.
    pub fn not_in_sync(&self) -> impl Iterator<Item = &ResourceDrift> {
        self.resources.iter().filter(|r| r.status != "IN_SYNC")
    }

    /// How many resources have drifted (modified or deleted).
    pub fn drifted(&self) -> usize {
        self.resources
            .iter()
            .filter(|r| r.status == "MODIFIED" || r.status == "DELETED")
            .count()
    }

    fn count(&self, status: &str) -> usize {
        self.resources.iter().filter(|r| r.status == status).count()
    }
}

/// What `DescribeStacks` says of the last detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastCheck {
    /// `DRIFTED`, `IN_SYNC`, `NOT_CHECKED` (never checked) or `UNKNOWN`.
    pub status: String,
    /// When it ran (RFC 3339).
    pub checked_at: Option<String>,
    /// How many resources were modified or deleted then, when that could be read.
    pub drifted: Option<usize>,
}

/// `2026-11-30T14:02:31Z` as `2026-11-30 14:02 UTC`.
pub fn minute_utc(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The report as an operator reads it: one line for a stack in sync, else each resource not in
/// sync with its differences, expected against actual.
pub fn render_report(report: &DriftReport) -> String {
    let when = report
        .checked_at
        .as_deref()
        .map(|t| format!(", checked {}", minute_utc(t)))
        .unwrap_or_default();
    let not_checked = report.count("NOT_CHECKED");
    let unchecked_note = if not_checked > 0 {
        format!(
            "; {} not checked",
            plural(not_checked, "resource", "resources")
        )
    } else {
        String::new()
    };
    let drifted = report.drifted();
    if drifted == 0 && report.stack_status != "DRIFTED" {
        let checked = report.resources.len() - not_checked;
        return format!(
            "drift: none, stack `{}` matches its template ({} in sync{unchecked_note}{when})\n",
            report.stack,
            plural(checked, "resource", "resources"),
        );
    }
    let mut out = format!(
        "drift: {} of {} drifted from the template{when}\n",
        drifted,
        plural(report.resources.len(), "resource", "resources"),
    );
    let rows: Vec<&ResourceDrift> = report.not_in_sync().collect();
    let w_status = rows.iter().map(|r| r.status.len()).max().unwrap_or(0);
    let w_id = rows.iter().map(|r| r.logical_id.len()).max().unwrap_or(0);
    let w_type = rows
        .iter()
        .map(|r| r.resource_type.len())
        .max()
        .unwrap_or(0);
    for r in rows {
        out.push_str(&format!(
            "  {:<w_status$}  {:<w_id$}  {:<w_type$}  {}\n",
            r.status, r.logical_id, r.resource_type, r.physical_id
        ));
        match r.status.as_str() {
            "DELETED" => out.push_str("      deleted outside CloudFormation\n"),
            "NOT_CHECKED" => out.push_str(&format!(
                "      not checked: {}\n",
                r.reason
                    .as_deref()
                    .unwrap_or("drift detection does not support this resource type")
            )),
            _ => {}
        }
        for d in &r.differences {
            let absent = "(absent)";
            out.push_str(&format!(
                "      {} ({})\n        expected  {}\n        actual    {}\n",
                d.path,
                d.kind,
                d.expected.as_deref().unwrap_or(absent),
                d.actual.as_deref().unwrap_or(absent)
            ));
        }
    }
    out.push_str(&format!(
        "CloudFormation does not undo drift: set the expected values back by hand, or put the new ones in the template and `deployer up --stage {}`\n",
        report.stage
    ));
    out
}

/// The report as one stable JSON object: `stack`, `detection_id`, `stack_drift_status`
/// (`DRIFTED`, `IN_SYNC`), `checked_at`, `drifted` (modified or deleted resources), `in_sync`,
/// `not_checked`, and `resources`: every resource not in sync with `logical_id`,
/// `resource_type`, `physical_id`, `status` (`MODIFIED`, `DELETED`, `NOT_CHECKED`), `reason`
/// and `differences` (`path`, `expected`, `actual`, `type`: `ADD`, `REMOVE`, `NOT_EQUAL`).
pub fn report_json(report: &DriftReport) -> serde_json::Value {
    serde_json::json!({
        "stack": report.stack,
        "detection_id": report.detection_id,
        "stack_drift_status": report.stack_status,
        "checked_at": report.checked_at,
        "drifted": report.drifted(),
        "in_sync": report.count("IN_SYNC"),
        "not_checked": report.count("NOT_CHECKED"),
        "resources": report.not_in_sync().collect::<Vec<_>>(),
    })
}

/// `diff`'s line on the last detection.
pub fn render_last_check(check: &LastCheck, stage: &str) -> String {
    let run = format!("`deployer status --stage {stage} --drift`");
    let when = check
        .checked_at
        .as_deref()
        .map(minute_utc)
        .unwrap_or_else(|| "at an unknown time".to_owned());
    match check.status.as_str() {
        "DRIFTED" => {
            let count = match check.drifted {
                Some(n) => plural(n, "resource", "resources"),
                None => "resources".to_owned(),
            };
            format!("drift: {count} drifted at the last check, {when}; run {run}")
        }
        "IN_SYNC" => format!("drift: none at the last check, {when}; {run} checks again"),
        "NOT_CHECKED" => format!("drift: never checked; {run} checks (it takes a minute or less)"),
        other => format!("drift: unknown ({other}) at the last check; {run} checks again"),
    }
}

/// `diff --json`'s `drift` object: `status` (`DRIFTED`, `IN_SYNC`, `NOT_CHECKED` for never
/// checked, `UNKNOWN`), `last_check` (RFC 3339 or null) and `drifted_resources` (a number, or
/// null when unknown).
pub fn last_check_json(check: &LastCheck) -> serde_json::Value {
    serde_json::json!({
        "status": check.status,
        "last_check": check.checked_at,
        "drifted_resources": check.drifted,
    })
}

/// An SDK failure of a drift call as one line: access denied names the action to allow.
fn call_failed<E>(err: SdkError<E>, action: &str) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = err.code().unwrap_or_default().to_owned();
    let message = err.message().unwrap_or_default().to_owned();
    if code.starts_with("AccessDenied") || code == "UnauthorizedOperation" {
        return anyhow::anyhow!(
            "access denied to cloudformation:{action} ({message}): drift detection needs cloudformation:DetectStackDrift, cloudformation:DescribeStackDriftDetectionStatus and cloudformation:DescribeStackResourceDrifts, and read access to the stack's resources (docs/operations.md, Drift)"
        );
    }
    if !code.is_empty() {
        return anyhow::anyhow!("cloudformation:{action} failed: {code}: {message}");
    }
    if let Some(status) = err.raw_response().map(|r| r.status().as_u16()) {
        return anyhow::anyhow!(
            "cloudformation:{action} failed: the endpoint answered HTTP {status} without an AWS error (an emulator without drift detection?)"
        );
    }
    anyhow::anyhow!(
        "cloudformation:{action} failed: {}",
        crate::session::error_chain(&err)
    )
}

impl Deployer {
    /// Runs a drift detection on the stack and returns every resource's result; waits within
    /// `wait`, then fails with [`AwsError::DriftTimeout`].
    pub async fn detect_drift(&self, wait: DriftWait) -> Result<DriftReport> {
        let cfn = self.cloudformation();
        let Some(_) = self.describe(&self.stack).await? else {
            anyhow::bail!(
                "stack `{}` does not exist in {}: `deployer up --stage {}` creates it",
                self.stack,
                self.region,
                self.stage
            );
        };
        let detection_id = cfn
            .detect_stack_drift()
            .stack_name(&self.stack)
            .send()
            .await
            .map_err(|e| call_failed(e, "DetectStackDrift"))?
            .stack_drift_detection_id()
            .unwrap_or_default()
            .to_owned();
        let mut finished = None;
        for attempt in 0..wait.attempts {
            if attempt > 0 {
                tokio::time::sleep(wait.poll).await;
            }
            let out = cfn
                .describe_stack_drift_detection_status()
                .stack_drift_detection_id(&detection_id)
                .send()
                .await
                .map_err(|e| call_failed(e, "DescribeStackDriftDetectionStatus"))?;
            match out.detection_status() {
                Some(StackDriftDetectionStatus::DetectionComplete) => {
                    finished = Some(out);
                    break;
                }
                Some(StackDriftDetectionStatus::DetectionFailed) => {
                    anyhow::bail!(
                        "drift detection of stack `{}` failed: {}",
                        self.stack,
                        out.detection_status_reason()
                            .unwrap_or("CloudFormation gave no reason")
                    );
                }
                _ => {}
            }
        }
        let Some(status) = finished else {
            return Err(AwsError::DriftTimeout {
                stack: self.stack.clone(),
                stage: self.stage.clone(),
                detection_id,
                seconds: wait.bound().as_secs(),
            }
            .into());
        };
        let resources = self.resource_drifts(&[]).await?;
        Ok(DriftReport {
            stack: self.stack.clone(),
            stage: self.stage.clone(),
            detection_id,
            stack_status: status
                .stack_drift_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            checked_at: status
                .timestamp()
                .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()),
            resources,
        })
    }

    /// The resources' results of the last detection (only those with one of `only`'s statuses
    /// when given), every page.
    async fn resource_drifts(
        &self,
        only: &[StackResourceDriftStatus],
    ) -> Result<Vec<ResourceDrift>> {
        let mut resources = Vec::new();
        let mut token = None;
        // Bounded: a page holds up to 100 resources, and a stack at most 500.
        for _ in 0..50 {
            let out = self
                .cloudformation()
                .describe_stack_resource_drifts()
                .stack_name(&self.stack)
                .set_stack_resource_drift_status_filters((!only.is_empty()).then(|| only.to_vec()))
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| call_failed(e, "DescribeStackResourceDrifts"))?;
            resources.extend(out.stack_resource_drifts().iter().map(|r| {
                ResourceDrift {
                    logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                    resource_type: r.resource_type().unwrap_or_default().to_owned(),
                    physical_id: r.physical_resource_id().unwrap_or_default().to_owned(),
                    status: r
                        .stack_resource_drift_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    differences: r
                        .property_differences()
                        .iter()
                        .map(|d| PropertyDifference {
                            path: d.property_path().unwrap_or_default().to_owned(),
                            expected: d
                                .expected_value()
                                .filter(|v| !v.is_empty())
                                .map(ToOwned::to_owned),
                            actual: d
                                .actual_value()
                                .filter(|v| !v.is_empty())
                                .map(ToOwned::to_owned),
                            kind: d
                                .difference_type()
                                .map(|k| k.as_str().to_owned())
                                .unwrap_or_default(),
                        })
                        .collect(),
                    reason: r.drift_status_reason().map(ToOwned::to_owned),
                }
            }));
            token = out.next_token().map(ToOwned::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(resources)
    }

    /// What the last detection found, from the stack's description (`info`); the number of
    /// drifted resources is read when the stack drifted (left out if it cannot be).
    pub async fn last_drift_check(&self, info: &StackInfo) -> LastCheck {
        let status = info
            .drift_status
            .clone()
            .unwrap_or_else(|| "NOT_CHECKED".to_owned());
        let drifted = if status == "DRIFTED" {
            self.resource_drifts(&[
                StackResourceDriftStatus::Modified,
                StackResourceDriftStatus::Deleted,
            ])
            .await
            .ok()
            .map(|r| r.len())
        } else {
            None
        };
        LastCheck {
            status,
            checked_at: info.drift_checked.clone(),
            drifted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_to_the_minute() {
        assert_eq!(minute_utc("2026-11-30T14:02:31Z"), "2026-11-30 14:02 UTC");
        assert_eq!(minute_utc("soon"), "soon");
    }

    #[test]
    fn the_wait_is_bounded() {
        assert_eq!(
            DriftWait::within(Duration::from_secs(3600)).bound(),
            MAX_DRIFT_WAIT
        );
        assert_eq!(DriftWait::within(Duration::from_secs(60)).attempts, 30);
        assert_eq!(DriftWait::within(Duration::ZERO).attempts, 1);
    }
}
