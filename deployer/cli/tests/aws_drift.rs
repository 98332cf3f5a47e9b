//! Drift detection (`deployer status --drift`) and `diff`'s line on the last detection,
//! replayed: moto has no drift detection at all (no `DetectStackDrift`, no drift information in
//! `DescribeStacks`), so these tests feed the real CloudFormation SDK client AWS-shaped
//! query-protocol XML through the SDK's own `StaticReplayClient`, as `aws_replay` does. The
//! bodies follow CloudFormation's API reference (`DetectStackDrift`,
//! `DescribeStackDriftDetectionStatus`, `DescribeStackResourceDrifts`, `DescribeStacks`'
//! `DriftInformation`), and the tests check what the operator reads: the rendered lines and the
//! JSON objects.

use std::time::Duration;

use aws_smithy_http_client::test_util::ReplayEvent;
use aws_smithy_types::body::SdkBody;
use deployer::exit::ExitCode;
use deployer_aws::drift::{self, DriftWait};

use crate::aws_replay::{NS, STACK, STACK_ID, actions, bodies, deployer, ok, wrap};

const DETECTION: &str = "b78ac9b0-dec1-11ef-8a1b-0a1b2c3d4e5f";

/// A tiny bound, so that a detection that never finishes fails at once.
const FAST: DriftWait = DriftWait {
    poll: Duration::from_millis(1),
    attempts: 3,
};

/// `DescribeStacks` of an `UPDATE_COMPLETE` stack, with `drift` (`StackDriftStatus`, last check)
/// when the stack has drift information.
fn describe_stacks(drift: Option<(&str, Option<&str>)>) -> ReplayEvent {
    let info = drift
        .map(|(status, at)| {
            format!(
                "<DriftInformation><StackDriftStatus>{status}</StackDriftStatus>{}</DriftInformation>",
                at.map(|t| format!("<LastCheckTimestamp>{t}</LastCheckTimestamp>"))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    ok(wrap(
        "DescribeStacks",
        &format!(
            "<Stacks><member><StackId>{STACK_ID}</StackId><StackName>{STACK}</StackName>\
             <CreationTime>2026-11-20T10:00:00.000Z</CreationTime>\
             <StackStatus>UPDATE_COMPLETE</StackStatus>{info}</member></Stacks>"
        ),
    ))
}

/// An AWS error answer in the query protocol.
fn error(status: u16, code: &str, message: &str) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .uri("https://cloudformation.eu-west-1.amazonaws.com/")
            .body(SdkBody::empty())
            .unwrap(),
        http::Response::builder()
            .status(status)
            .header("content-type", "text/xml")
            .body(SdkBody::from(format!(
                "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code>\
                 <Message>{message}</Message></Error>\
                 <RequestId>5d7e0a1c-9b2f-4e3d-8c1a-0123456789ab</RequestId></ErrorResponse>"
            )))
            .unwrap(),
    )
}

fn detect() -> ReplayEvent {
    ok(wrap(
        "DetectStackDrift",
        &format!("<StackDriftDetectionId>{DETECTION}</StackDriftDetectionId>"),
    ))
}

/// `DescribeStackDriftDetectionStatus`: `status` is the detection's, `drift` the stack's.
fn detection_status(status: &str, drift: Option<(&str, u32)>, reason: Option<&str>) -> ReplayEvent {
    let drift = drift
        .map(|(s, n)| {
            format!(
                "<StackDriftStatus>{s}</StackDriftStatus><DriftedStackResourceCount>{n}</DriftedStackResourceCount>"
            )
        })
        .unwrap_or_default();
    let reason = reason
        .map(|r| format!("<DetectionStatusReason>{r}</DetectionStatusReason>"))
        .unwrap_or_default();
    ok(wrap(
        "DescribeStackDriftDetectionStatus",
        &format!(
            "<StackId>{STACK_ID}</StackId><StackDriftDetectionId>{DETECTION}</StackDriftDetectionId>\
             {drift}<DetectionStatus>{status}</DetectionStatus>{reason}\
             <Timestamp>2026-11-30T14:02:31.412Z</Timestamp>"
        ),
    ))
}

/// One resource of `DescribeStackResourceDrifts`: logical id, type, physical id, status, and
/// the property differences (path, expected, actual, type).
struct Res<'a> {
    id: &'a str,
    kind: &'a str,
    physical: &'a str,
    status: &'a str,
    differences: &'a [(&'a str, &'a str, &'a str, &'a str)],
}

fn resource_drifts(resources: &[Res<'_>], next: Option<&str>) -> ReplayEvent {
    let members: String = resources
        .iter()
        .map(|r| {
            let diffs: String = r
                .differences
                .iter()
                .map(|(path, expected, actual, kind)| {
                    format!(
                        "<member><PropertyPath>{path}</PropertyPath><ExpectedValue>{expected}</ExpectedValue>\
                         <ActualValue>{actual}</ActualValue><DifferenceType>{kind}</DifferenceType></member>"
                    )
                })
                .collect();
            format!(
                "<member><StackId>{STACK_ID}</StackId><LogicalResourceId>{}</LogicalResourceId>\
                 <PhysicalResourceId>{}</PhysicalResourceId><ResourceType>{}</ResourceType>\
                 <PropertyDifferences>{diffs}</PropertyDifferences>\
                 <StackResourceDriftStatus>{}</StackResourceDriftStatus>\
                 <Timestamp>2026-11-30T14:02:29.000Z</Timestamp></member>",
                r.id, r.physical, r.kind, r.status
            )
        })
        .collect();
    let next = next
        .map(|t| format!("<NextToken>{t}</NextToken>"))
        .unwrap_or_default();
    ok(wrap(
        "DescribeStackResourceDrifts",
        &format!("<StackResourceDrifts>{members}</StackResourceDrifts>{next}"),
    ))
}

const API: Res<'static> = Res {
    id: "ApiFunction",
    kind: "AWS::Lambda::Function",
    physical: "photo-app-dev-api",
    status: "MODIFIED",
    differences: &[
        ("/MemorySize", "512", "1024", "NOT_EQUAL"),
        (
            "/Environment/Variables/LOG_LEVEL",
            "",
            "&quot;debug&quot;",
            "ADD",
        ),
    ],
};

const TOPIC: Res<'static> = Res {
    id: "AlarmTopic",
    kind: "AWS::SNS::Topic",
    physical: "arn:aws:sns:eu-west-1:123456789012:photo-app-dev-alarms",
    status: "DELETED",
    differences: &[],
};

const TABLE: Res<'static> = Res {
    id: "PhotoTable",
    kind: "AWS::DynamoDB::Table",
    physical: "photo-app-dev-photos",
    status: "IN_SYNC",
    differences: &[],
};

const ALIAS: Res<'static> = Res {
    id: "ApiAlias",
    kind: "AWS::Lambda::Alias",
    physical: "photo-app-dev-api:live",
    status: "NOT_CHECKED",
    differences: &[],
};

/// The calls of a detection that finished after `polls` reads, with `pages` pages of results.
fn detection_calls(polls: usize, pages: usize) -> Vec<&'static str> {
    [
        &["DescribeStacks", "DetectStackDrift"][..],
        &["DescribeStackDriftDetectionStatus"].repeat(polls),
        &["DescribeStackResourceDrifts"].repeat(pages),
    ]
    .concat()
}

#[tokio::test]
async fn a_drifted_stack_shows_each_property_expected_against_actual_and_the_deleted_resource() {
    let (d, http, _) = deployer(vec![
        describe_stacks(Some(("IN_SYNC", Some("2026-11-01T09:00:00Z")))),
        detect(),
        detection_status("DETECTION_IN_PROGRESS", None, None),
        detection_status("DETECTION_COMPLETE", Some(("DRIFTED", 2)), None),
        resource_drifts(&[API, TABLE], Some("page-2")),
        resource_drifts(&[TOPIC, ALIAS], None),
    ]);
    let report = d.detect_drift(FAST).await.unwrap();
    assert_eq!(actions(&http), detection_calls(2, 2));
    // The second page was asked for with the first one's token.
    let bodies = bodies(&http);
    assert!(bodies[5].contains("NextToken=page-2"), "{}", bodies[5]);
    assert!(
        !bodies[4].contains("StackResourceDriftStatusFilters"),
        "{}",
        bodies[4]
    );
    assert_eq!(
        drift::render_report(&report),
        "\
drift: 2 of 4 resources drifted from the template, checked 2026-11-30 14:02 UTC
  MODIFIED     ApiFunction  AWS::Lambda::Function  photo-app-dev-api
      /MemorySize (NOT_EQUAL)
        expected  512
        actual    1024
      /Environment/Variables/LOG_LEVEL (ADD)
        expected  (absent)
        actual    \"debug\"
  DELETED      AlarmTopic   AWS::SNS::Topic        arn:aws:sns:eu-west-1:123456789012:photo-app-dev-alarms
      deleted outside CloudFormation
  NOT_CHECKED  ApiAlias     AWS::Lambda::Alias     photo-app-dev-api:live
      not checked: drift detection does not support this resource type
CloudFormation does not undo drift: set the expected values back by hand, or put the new ones in the template and `deployer up --stage dev`
"
    );
    assert_eq!(
        drift::report_json(&report),
        serde_json::json!({
            "stack": "photo-app-dev",
            "detection_id": DETECTION,
            "stack_drift_status": "DRIFTED",
            "checked_at": "2026-11-30T14:02:31.412Z",
            "drifted": 2,
            "in_sync": 1,
            "not_checked": 1,
            "resources": [
                {
                    "logical_id": "ApiFunction",
                    "resource_type": "AWS::Lambda::Function",
                    "physical_id": "photo-app-dev-api",
                    "status": "MODIFIED",
                    "reason": null,
                    "differences": [
                        {"path": "/MemorySize", "expected": "512", "actual": "1024", "type": "NOT_EQUAL"},
                        {"path": "/Environment/Variables/LOG_LEVEL", "expected": null, "actual": "\"debug\"", "type": "ADD"},
                    ],
                },
                {
                    "logical_id": "AlarmTopic",
                    "resource_type": "AWS::SNS::Topic",
                    "physical_id": "arn:aws:sns:eu-west-1:123456789012:photo-app-dev-alarms",
                    "status": "DELETED",
                    "reason": null,
                    "differences": [],
                },
                {
                    "logical_id": "ApiAlias",
                    "resource_type": "AWS::Lambda::Alias",
                    "physical_id": "photo-app-dev-api:live",
                    "status": "NOT_CHECKED",
                    "reason": null,
                    "differences": [],
                },
            ],
        })
    );
}

#[tokio::test]
async fn an_in_sync_stack_says_so_in_one_line() {
    let (d, http, _) = deployer(vec![
        describe_stacks(None),
        detect(),
        detection_status("DETECTION_COMPLETE", Some(("IN_SYNC", 0)), None),
        resource_drifts(&[API_IN_SYNC, TABLE], None),
    ]);
    let report = d.detect_drift(FAST).await.unwrap();
    assert_eq!(actions(&http), detection_calls(1, 1));
    assert_eq!(
        drift::render_report(&report),
        "drift: none, stack `photo-app-dev` matches its template (2 resources in sync, checked 2026-11-30 14:02 UTC)\n"
    );
    let json = drift::report_json(&report);
    assert_eq!(json["stack_drift_status"], "IN_SYNC");
    assert_eq!(json["drifted"], 0);
    assert_eq!(json["in_sync"], 2);
    assert_eq!(json["resources"], serde_json::json!([]));
}

const API_IN_SYNC: Res<'static> = Res {
    status: "IN_SYNC",
    differences: &[],
    ..API
};

#[tokio::test]
async fn a_failed_detection_is_one_line_with_its_reason() {
    let reason = "Failed to detect drift on resource [ApiFunction]: User is not authorized to perform lambda:GetFunction";
    let (d, http, _) = deployer(vec![
        describe_stacks(None),
        detect(),
        detection_status("DETECTION_FAILED", Some(("DRIFTED", 0)), Some(reason)),
    ]);
    let err = d.detect_drift(FAST).await.unwrap_err();
    assert_eq!(deployer::exit_code_for(&err), ExitCode::Failure);
    assert_eq!(
        format!("{err:#}"),
        format!("drift detection of stack `photo-app-dev` failed: {reason}")
    );
    assert_eq!(actions(&http), detection_calls(1, 0));
}

#[tokio::test]
async fn a_detection_that_never_finishes_stops_at_the_bound() {
    let (d, http, _) = deployer(vec![
        describe_stacks(None),
        detect(),
        detection_status("DETECTION_IN_PROGRESS", None, None),
        detection_status("DETECTION_IN_PROGRESS", None, None),
        detection_status("DETECTION_IN_PROGRESS", None, None),
    ]);
    let wait = DriftWait {
        poll: Duration::from_millis(400),
        attempts: 3,
    };
    let err = d.detect_drift(wait).await.unwrap_err();
    assert_eq!(deployer::exit_code_for(&err), ExitCode::Timeout);
    assert_eq!(
        format!("{err:#}"),
        format!(
            "drift detection of stack `photo-app-dev` did not finish within 1 s; CloudFormation carries on: `deployer status --stage dev --drift` later starts another, or `aws cloudformation describe-stack-drift-detection-status --stack-drift-detection-id {DETECTION}` reads this one"
        )
    );
    // Exactly `attempts` reads, then no more.
    assert_eq!(actions(&http), detection_calls(3, 0));
}

#[tokio::test]
async fn access_denied_names_the_permissions_drift_detection_needs() {
    let (d, http, _) = deployer(vec![
        describe_stacks(None),
        error(
            403,
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudformation:DetectStackDrift on resource: photo-app-dev",
        ),
    ]);
    let err = d.detect_drift(FAST).await.unwrap_err();
    assert_eq!(deployer::exit_code_for(&err), ExitCode::Failure);
    let line = format!("{err:#}");
    assert!(!line.contains('\n'), "{line}");
    assert_eq!(
        line,
        "access denied to cloudformation:DetectStackDrift (User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudformation:DetectStackDrift on resource: photo-app-dev): drift detection needs cloudformation:DetectStackDrift, cloudformation:DescribeStackDriftDetectionStatus and cloudformation:DescribeStackResourceDrifts, and read access to the stack's resources (docs/operations.md, Drift)"
    );
    assert_eq!(actions(&http), ["DescribeStacks", "DetectStackDrift"]);
}

#[tokio::test]
async fn an_endpoint_without_drift_detection_is_one_line() {
    // What moto answers (an HTML 500 page), three times: the SDK retries a 500.
    let page = || {
        ReplayEvent::new(
            http::Request::builder()
                .uri("https://cloudformation.eu-west-1.amazonaws.com/")
                .body(SdkBody::empty())
                .unwrap(),
            http::Response::builder()
                .status(500)
                .header("content-type", "text/html; charset=utf-8")
                .body(SdkBody::from(
                    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n",
                ))
                .unwrap(),
        )
    };
    let (d, _, _) = deployer(vec![describe_stacks(None), page(), page(), page()]);
    let err = d.detect_drift(FAST).await.unwrap_err();
    assert_eq!(deployer::exit_code_for(&err), ExitCode::Failure);
    assert_eq!(
        format!("{err:#}"),
        "cloudformation:DetectStackDrift failed: the endpoint answered HTTP 500 without an AWS error (an emulator without drift detection?)"
    );
}

#[tokio::test]
async fn no_stack_no_detection() {
    let (d, http, _) = deployer(vec![error(
        400,
        "ValidationError",
        "Stack with id photo-app-dev does not exist",
    )]);
    let err = d.detect_drift(FAST).await.unwrap_err();
    assert_eq!(deployer::exit_code_for(&err), ExitCode::Failure);
    assert_eq!(
        format!("{err:#}"),
        "stack `photo-app-dev` does not exist in eu-west-1: `deployer up --stage dev` creates it"
    );
    assert_eq!(actions(&http), ["DescribeStacks"]);
}

/// `diff`'s drift line for a stack described with `drift`, after `more` calls.
async fn last_check(
    drift: Option<(&str, Option<&str>)>,
    more: Vec<ReplayEvent>,
) -> (drift::LastCheck, Vec<String>) {
    let mut events = vec![describe_stacks(drift)];
    events.extend(more);
    let (d, http, _) = deployer(events);
    let info = d.describe(STACK).await.unwrap().unwrap();
    let check = d.last_drift_check(&info).await;
    (check, actions(&http))
}

#[tokio::test]
async fn diff_says_when_the_last_detection_found_drift() {
    let (check, calls) = last_check(
        Some(("DRIFTED", Some("2026-11-30T14:02:31.412Z"))),
        vec![resource_drifts(&[API, TOPIC], None)],
    )
    .await;
    assert_eq!(calls, ["DescribeStacks", "DescribeStackResourceDrifts"]);
    assert_eq!(
        drift::render_last_check(&check, "dev"),
        "drift: 2 resources drifted at the last check, 2026-11-30 14:02 UTC; run `deployer status --stage dev --drift`"
    );
    assert_eq!(
        drift::last_check_json(&check),
        serde_json::json!({
            "status": "DRIFTED",
            "last_check": "2026-11-30T14:02:31.412Z",
            "drifted_resources": 2,
        })
    );

    // Without the permission to read the results, the line still says the stack drifted.
    let (check, _) = last_check(
        Some(("DRIFTED", Some("2026-11-30T14:02:31.412Z"))),
        vec![error(403, "AccessDenied", "not authorized")],
    )
    .await;
    assert_eq!(
        drift::render_last_check(&check, "dev"),
        "drift: resources drifted at the last check, 2026-11-30 14:02 UTC; run `deployer status --stage dev --drift`"
    );
}

#[tokio::test]
async fn diff_says_when_the_last_detection_found_the_stack_in_sync() {
    let (check, calls) = last_check(Some(("IN_SYNC", Some("2026-11-29T08:15:00Z"))), vec![]).await;
    assert_eq!(calls, ["DescribeStacks"]);
    assert_eq!(
        drift::render_last_check(&check, "dev"),
        "drift: none at the last check, 2026-11-29 08:15 UTC; `deployer status --stage dev --drift` checks again"
    );
    assert_eq!(
        drift::last_check_json(&check),
        serde_json::json!({
            "status": "IN_SYNC",
            "last_check": "2026-11-29T08:15:00Z",
            "drifted_resources": null,
        })
    );
}

#[tokio::test]
async fn diff_says_when_drift_was_never_checked() {
    for drift in [None, Some(("NOT_CHECKED", None))] {
        let (check, calls) = last_check(drift, vec![]).await;
        assert_eq!(calls, ["DescribeStacks"]);
        assert_eq!(
            drift::render_last_check(&check, "dev"),
            "drift: never checked; `deployer status --stage dev --drift` checks (it takes a minute or less)"
        );
        assert_eq!(
            drift::last_check_json(&check),
            serde_json::json!({
                "status": "NOT_CHECKED",
                "last_check": null,
                "drifted_resources": null,
            })
        );
    }
}
