//! The deploy paths no emulator can produce, replayed: these tests feed the real CloudFormation
//! SDK client AWS-shaped query-protocol XML through the SDK's own `StaticReplayClient`, because
//! moto emits no per-resource events, never fails a resource and never rolls back.
//!
//! Covered here: the live event stream (each event once, oldest first, nothing from before the
//! deploy), the root cause of a failed update, a `ROLLBACK_COMPLETE` stack deleted and created
//! again, the update that protects a new stage's data after its creation, the import of a stage's
//! kept data and the finding of its user pool by tag, and the refusal of a
//! stack that is `*_IN_PROGRESS` or `UPDATE_ROLLBACK_FAILED`. The
//! bodies follow the shapes of CloudFormation's API reference (`DescribeStacks`,
//! `DescribeStackEvents`, `DescribeChangeSet`, ...), with the values a real deploy shows.

use std::time::Duration;

use aws_sdk_cloudformation::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use deployer::exit::ExitCode;
use deployer_aws::deploy::{Deployer, Outcome, TemplateSource};
use deployer_aws::plan::{Desired, Pairs};
use deployer_aws::ui::Ui;

pub(crate) const STACK: &str = "photo-app-dev";
pub(crate) const STACK_ID: &str = "arn:aws:cloudformation:eu-west-1:123456789012:stack/photo-app-dev/5f1c8c30-aa11-11ef-9d3e-0a1b2c3d4e5f";
pub(crate) const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
const TEMPLATE: &str = r#"{"Resources":{"ApiFunction":{"Type":"AWS::Lambda::Function"}}}"#;

fn desired() -> Desired {
    Desired {
        template: TEMPLATE.to_owned(),
        parameters: Pairs::from([
            ("ApiCodeKey".to_owned(), "functions/api/new.zip".to_owned()),
            (
                "ArtifactBucket".to_owned(),
                "deployer-artifacts-123456789012-eu-west-1".to_owned(),
            ),
        ]),
        tags: Pairs::from([("photo-app:stage".to_owned(), "dev".to_owned())]),
    }
}

pub(crate) fn ok(body: String) -> ReplayEvent {
    reply(
        "https://cloudformation.eu-west-1.amazonaws.com/",
        "text/xml",
        body,
    )
}

/// A 200 answer of `content_type` to a request to `uri`.
fn reply(uri: &str, content_type: &str, body: String) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .uri(uri)
            .body(SdkBody::empty())
            .unwrap(),
        http::Response::builder()
            .status(200)
            .header("content-type", content_type)
            .body(SdkBody::from(body))
            .unwrap(),
    )
}

/// An SDK configuration whose every request goes to `http`, in `eu-west-1`.
fn replay_sdk(http: &StaticReplayClient) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(
            aws_sdk_cloudformation::config::SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "replay",
            )),
        )
        .http_client(http.clone())
        .build()
}

pub(crate) fn wrap(action: &str, result: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{NS}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>7e8c2a4e-1f2b-4c3d-9e8f-0123456789ab</RequestId></ResponseMetadata></{action}Response>"
    )
}

fn describe_stacks(status: &str, api_key: &str) -> ReplayEvent {
    ok(wrap(
        "DescribeStacks",
        &format!(
            "<Stacks><member><StackId>{STACK_ID}</StackId><StackName>{STACK}</StackName>\
             <CreationTime>2026-11-20T10:00:00.000Z</CreationTime>\
             <LastUpdatedTime>2026-11-24T21:58:12.123Z</LastUpdatedTime>\
             <StackStatus>{status}</StackStatus>\
             <Parameters>\
             <member><ParameterKey>ApiCodeKey</ParameterKey><ParameterValue>{api_key}</ParameterValue></member>\
             <member><ParameterKey>ArtifactBucket</ParameterKey><ParameterValue>deployer-artifacts-123456789012-eu-west-1</ParameterValue></member>\
             </Parameters>\
             <Tags><member><Key>photo-app:stage</Key><Value>dev</Value></member></Tags>\
             <Capabilities><member>CAPABILITY_NAMED_IAM</member></Capabilities>\
             <DisableRollback>false</DisableRollback>\
             </member></Stacks>"
        ),
    ))
}

fn get_template(body: &str) -> ReplayEvent {
    let escaped = body
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;");
    ok(wrap(
        "GetTemplate",
        &format!(
            "<TemplateBody>{escaped}</TemplateBody><StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>"
        ),
    ))
}

fn create_change_set() -> ReplayEvent {
    ok(wrap(
        "CreateChangeSet",
        &format!(
            "<Id>arn:aws:cloudformation:eu-west-1:123456789012:changeSet/deployer-1/0c4d5e6f-aa11-11ef-8f00-0a1b2c3d4e5f</Id><StackId>{STACK_ID}</StackId>"
        ),
    ))
}

fn describe_change_set(changes: &[(&str, &str, &str, Option<&str>)]) -> ReplayEvent {
    let members: String = changes
        .iter()
        .map(|(action, id, kind, replacement)| {
            format!(
                "<member><Type>Resource</Type><ResourceChange><Action>{action}</Action>\
                 <LogicalResourceId>{id}</LogicalResourceId><ResourceType>{kind}</ResourceType>{}\
                 <Scope><member>Properties</member></Scope></ResourceChange></member>",
                replacement
                    .map(|r| format!("<Replacement>{r}</Replacement>"))
                    .unwrap_or_default()
            )
        })
        .collect();
    ok(wrap(
        "DescribeChangeSet",
        &format!(
            "<ChangeSetName>deployer-1</ChangeSetName><StackId>{STACK_ID}</StackId><StackName>{STACK}</StackName>\
             <Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus>\
             <Changes>{members}</Changes>"
        ),
    ))
}

/// One stack event: id, logical id, type, status, reason.
type Ev<'a> = (&'a str, &'a str, &'a str, &'a str, Option<&'a str>);

const FN: &str = "AWS::Lambda::Function";
const ST: &str = "AWS::CloudFormation::Stack";

/// An event of the stack itself.
fn stack_event<'a>(id: &'a str, status: &'a str, reason: Option<&'a str>) -> Ev<'a> {
    (id, STACK, ST, status, reason)
}

/// An event of the function `logical`.
fn function_event<'a>(
    id: &'a str,
    logical: &'a str,
    status: &'a str,
    reason: Option<&'a str>,
) -> Ev<'a> {
    (id, logical, FN, status, reason)
}

/// `DescribeStackEvents`, newest first as AWS lists them.
fn describe_events(newest_first: &[Ev<'_>]) -> ReplayEvent {
    let members: String = newest_first
        .iter()
        .map(|(id, logical, kind, status, reason)| {
            // Ids end in their order of occurrence: make the time follow it.
            let n: u32 = id[1..].parse().unwrap();
            format!(
                "<member><StackId>{STACK_ID}</StackId><EventId>{id}</EventId><StackName>{STACK}</StackName>\
                 <LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{logical}-phys</PhysicalResourceId>\
                 <ResourceType>{kind}</ResourceType><Timestamp>2026-11-24T22:{:02}:00.000Z</Timestamp>\
                 <ResourceStatus>{status}</ResourceStatus>{}</member>",
                n,
                reason
                    .map(|r| format!("<ResourceStatusReason>{r}</ResourceStatusReason>"))
                    .unwrap_or_default()
            )
        })
        .collect();
    ok(wrap(
        "DescribeStackEvents",
        &format!("<StackEvents>{members}</StackEvents>"),
    ))
}

fn empty(action: &str) -> ReplayEvent {
    ok(format!(
        "<{action}Response xmlns=\"{NS}\"><ResponseMetadata><RequestId>7e8c2a4e-1f2b-4c3d-9e8f-0123456789ab</RequestId></ResponseMetadata></{action}Response>"
    ))
}

fn execute_change_set() -> ReplayEvent {
    ok(wrap("ExecuteChangeSet", ""))
}

pub(crate) fn deployer(
    events: Vec<ReplayEvent>,
) -> (
    Deployer,
    StaticReplayClient,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    let http = StaticReplayClient::new(events);
    let client = aws_sdk_cloudformation::Client::new(&replay_sdk(&http));
    let mut d = Deployer::new(client, STACK, "dev", "eu-west-1", Duration::from_secs(60));
    d.poll = Duration::from_millis(1);
    let (ui, lines) = Ui::recording();
    d.ui = ui;
    (d, http, lines)
}

/// The `Action=` of every request the client sent, in order.
pub(crate) fn actions(http: &StaticReplayClient) -> Vec<String> {
    http.actual_requests()
        .map(|r| {
            let body =
                std::str::from_utf8(r.body().bytes().unwrap_or_default()).unwrap_or_default();
            body.split('&')
                .find_map(|p| p.strip_prefix("Action="))
                .unwrap_or("?")
                .to_owned()
        })
        .collect()
}

/// The calls of a change: the change set created and described, the newest event noted (so
/// that nothing older is shown), the change set executed.
const CHANGE: [&str; 4] = [
    "CreateChangeSet",
    "DescribeChangeSet",
    "DescribeStackEvents",
    "ExecuteChangeSet",
];

/// The calls of watching a stack for `rounds` polls: its new events, then its status.
fn watch(rounds: usize) -> Vec<&'static str> {
    ["DescribeStackEvents", "DescribeStacks"].repeat(rounds)
}

pub(crate) fn bodies(http: &StaticReplayClient) -> Vec<String> {
    http.actual_requests()
        .map(|r| String::from_utf8_lossy(r.body().bytes().unwrap_or_default()).into_owned())
        .collect()
}

async fn deploy(d: &Deployer) -> anyhow::Result<Outcome> {
    d.deploy(&desired(), &TemplateSource::Body(TEMPLATE.to_owned()), None)
        .await
}

/// A deployer whose first look finds the stack `status` with the old code, and nothing else.
fn finding(status: &str) -> (Deployer, StaticReplayClient) {
    let (d, http, _) = deployer(vec![describe_stacks(status, "functions/api/old.zip")]);
    (d, http)
}

/// Checks that `err` refuses to touch the stack (`StackBlocked`) and that nothing was attempted
/// beyond looking.
fn check_blocked(err: &anyhow::Error, http: &StaticReplayClient) {
    assert_eq!(deployer::exit_code_for(err), ExitCode::StackBlocked);
    assert_eq!(actions(http), ["DescribeStacks"]);
}

#[tokio::test]
async fn a_stack_in_progress_is_refused_with_the_next_step() {
    let (d, http) = finding("UPDATE_IN_PROGRESS");
    let err = deploy(&d).await.unwrap_err();
    check_blocked(&err, &http);
    assert_eq!(
        err.to_string(),
        "stack `photo-app-dev` is `UPDATE_IN_PROGRESS`: another operation on the stack is running (another deploy, or one that was interrupted); wait until `deployer status --stage dev` shows it finished, then run `deployer up --stage dev` again"
    );
}

#[tokio::test]
async fn a_failed_rollback_names_the_command_that_continues_it() {
    let (d, http) = finding("UPDATE_ROLLBACK_FAILED");
    let err = deploy(&d).await.unwrap_err();
    check_blocked(&err, &http);
    assert!(
        err.to_string().contains(
            "run `aws cloudformation continue-update-rollback --stack-name photo-app-dev --region eu-west-1`"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn an_unchanged_stack_gets_no_change_set() {
    let d = desired();
    let (dep, http, _) = deployer(vec![
        describe_stacks("UPDATE_COMPLETE", &d.parameters["ApiCodeKey"]),
        // Formatted differently from ours: still the same template.
        get_template(
            "{\n  \"Resources\": {\n    \"ApiFunction\": {\"Type\": \"AWS::Lambda::Function\"}\n  }\n}",
        ),
    ]);
    assert_eq!(deploy(&dep).await.unwrap(), Outcome::NoChanges);
    assert_eq!(actions(&http), ["DescribeStacks", "GetTemplate"]);
}

#[tokio::test]
async fn a_failed_update_streams_its_events_and_reports_the_root_cause() {
    let first_page: Vec<Ev<'_>> = vec![
        function_event(
            "e3",
            "ApiFunction",
            "UPDATE_FAILED",
            Some(
                "Resource handler returned message: &quot;Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.&quot; (RequestToken: 1a2b, HandlerErrorCode: InvalidRequest)",
            ),
        ),
        function_event("e2", "ThumbnailFunction", "UPDATE_IN_PROGRESS", None),
        stack_event("e1", "UPDATE_IN_PROGRESS", Some("User Initiated")),
        stack_event("e0", "UPDATE_COMPLETE", None),
    ];
    let mut second_page: Vec<Ev<'_>> = vec![
        stack_event("e7", "UPDATE_ROLLBACK_COMPLETE", None),
        function_event("e6", "ThumbnailFunction", "UPDATE_COMPLETE", None),
        stack_event(
            "e5",
            "UPDATE_ROLLBACK_IN_PROGRESS",
            Some("The following resource(s) failed to update: [ApiFunction]."),
        ),
        function_event(
            "e4",
            "ThumbnailFunction",
            "UPDATE_FAILED",
            Some("Resource update cancelled"),
        ),
    ];
    second_page.extend(first_page.iter().copied());
    let (d, http, lines) = deployer(vec![
        describe_stacks("UPDATE_COMPLETE", "functions/api/old.zip"),
        get_template(TEMPLATE),
        create_change_set(),
        describe_change_set(&[
            ("Modify", "ApiFunction", FN, Some("False")),
            ("Modify", "ThumbnailFunction", FN, Some("False")),
        ]),
        // The newest event before executing: nothing up to it belongs to this deploy.
        describe_events(&first_page[3..]),
        execute_change_set(),
        describe_events(&first_page),
        describe_stacks("UPDATE_ROLLBACK_IN_PROGRESS", "functions/api/new.zip"),
        describe_events(&second_page),
        describe_stacks("UPDATE_ROLLBACK_COMPLETE", "functions/api/old.zip"),
        describe_events(&second_page),
        describe_stacks("UPDATE_ROLLBACK_COMPLETE", "functions/api/old.zip"),
    ]);
    let err = deploy(&d).await.unwrap_err();
    assert_eq!(deployer::exit_code_for(&err), ExitCode::DeployFailed);
    assert_eq!(
        err.to_string(),
        "stack `photo-app-dev` failed and is now `UPDATE_ROLLBACK_COMPLETE`: `ApiFunction` (AWS::Lambda::Function) UPDATE_FAILED: Resource handler returned message: \"Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.\" (RequestToken: 1a2b, HandlerErrorCode: InvalidRequest)"
    );
    assert_eq!(
        actions(&http),
        [&["DescribeStacks", "GetTemplate"][..], &CHANGE, &watch(3)].concat()
    );
    let create = &bodies(&http)[2];
    assert!(create.contains("ChangeSetType=UPDATE"), "{create}");
    assert!(create.contains("CAPABILITY_NAMED_IAM"), "{create}");
    // What the operator saw: the change set, then every event of this deploy exactly once,
    // oldest first, and nothing from before it.
    let lines = lines.lock().unwrap().clone();
    let statuses: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with("2026-"))
        .map(|l| {
            let parts: Vec<&str> = l.split("  ").collect();
            format!("{} {}", parts[1], parts[3].split(':').next().unwrap())
        })
        .collect();
    assert_eq!(
        statuses,
        [
            "photo-app-dev UPDATE_IN_PROGRESS",
            "ThumbnailFunction UPDATE_IN_PROGRESS",
            "ApiFunction UPDATE_FAILED",
            "ThumbnailFunction UPDATE_FAILED",
            "photo-app-dev UPDATE_ROLLBACK_IN_PROGRESS",
            "ThumbnailFunction UPDATE_COMPLETE",
            "photo-app-dev UPDATE_ROLLBACK_COMPLETE",
        ]
    );
    assert!(lines[0].starts_with("ACTION"), "{lines:?}");
    assert!(lines[0].contains("\nModify  ApiFunction "), "{lines:?}");
}

#[tokio::test]
async fn a_rollback_complete_stack_is_deleted_and_created_again() {
    let old: Vec<Ev<'_>> = vec![
        stack_event("r9", "ROLLBACK_COMPLETE", None),
        function_event("r8", "ApiFunction", "DELETE_COMPLETE", None),
        function_event(
            "r7",
            "ApiFunction",
            "CREATE_FAILED",
            Some(
                "Resource handler returned message: &quot;The role defined for the function cannot be assumed by Lambda.&quot;",
            ),
        ),
    ];
    let mut deleted: Vec<Ev<'_>> = vec![
        stack_event("d2", "DELETE_COMPLETE", None),
        stack_event("d1", "DELETE_IN_PROGRESS", Some("User Initiated")),
    ];
    deleted.extend(old.iter().copied());
    let review: Vec<Ev<'_>> = vec![stack_event(
        "n1",
        "REVIEW_IN_PROGRESS",
        Some("User Initiated"),
    )];
    let mut created: Vec<Ev<'_>> = vec![
        stack_event("n4", "CREATE_COMPLETE", None),
        function_event("n3", "ApiFunction", "CREATE_COMPLETE", None),
        stack_event("n2", "CREATE_IN_PROGRESS", Some("User Initiated")),
    ];
    created.extend(review.iter().copied());
    let (d, http, lines) = deployer(vec![
        describe_stacks("ROLLBACK_COMPLETE", "functions/api/old.zip"),
        describe_events(&old),
        empty("DeleteStack"),
        describe_events(&deleted),
        describe_stacks("DELETE_COMPLETE", "functions/api/old.zip"),
        describe_events(&deleted),
        describe_stacks("DELETE_COMPLETE", "functions/api/old.zip"),
        create_change_set(),
        describe_change_set(&[("Add", "ApiFunction", FN, None)]),
        describe_events(&review),
        execute_change_set(),
        describe_events(&created),
        describe_stacks("CREATE_COMPLETE", "functions/api/new.zip"),
        describe_events(&created),
        describe_stacks("CREATE_COMPLETE", "functions/api/new.zip"),
    ]);
    let outcome = deploy(&d).await.unwrap();
    let Outcome::Deployed { status, changes } = outcome else {
        panic!("expected a deploy, got {outcome:?}");
    };
    assert_eq!(status, "CREATE_COMPLETE");
    assert_eq!(changes.len(), 1);
    let delete = ["DescribeStacks", "DescribeStackEvents", "DeleteStack"];
    assert_eq!(
        actions(&http),
        [&delete[..], &watch(2), &CHANGE, &watch(2)].concat()
    );
    let bodies = bodies(&http);
    // The old stack is deleted by its id, so a new stack of the same name is never confused
    // with it, and the new one is a creation.
    assert!(
        bodies[2].contains("StackName=arn%3Aaws%3Acloudformation"),
        "{}",
        bodies[2]
    );
    assert!(bodies[7].contains("ChangeSetType=CREATE"), "{}", bodies[7]);
    let lines = lines.lock().unwrap().clone();
    assert!(
        lines[0].contains("ROLLBACK_COMPLETE (its first creation failed): deleting it"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("photo-app-dev  AWS::CloudFormation::Stack  DELETE_COMPLETE"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ApiFunction  AWS::Lambda::Function  CREATE_COMPLETE"))
    );
    // The failure of the old stack is history: not shown again.
    assert!(
        !lines.iter().any(|l| l.contains("CREATE_FAILED")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn diff_never_deletes_a_rollback_complete_stack() {
    let (d, http) = finding("ROLLBACK_COMPLETE");
    let err = d
        .prepare(
            &desired(),
            &TemplateSource::Body(TEMPLATE.to_owned()),
            false,
        )
        .await
        .unwrap_err();
    check_blocked(&err, &http);
    assert!(
        err.to_string()
            .contains("`deployer up --stage dev` deletes it and creates it again"),
        "{err}"
    );
}

#[tokio::test]
async fn a_wait_past_the_timeout_stops_and_says_where_the_stack_is() {
    let (mut d, http, _) = deployer(vec![
        describe_events(&[stack_event(
            "e1",
            "UPDATE_IN_PROGRESS",
            Some("User Initiated"),
        )]),
        describe_stacks("UPDATE_IN_PROGRESS", "functions/api/new.zip"),
        describe_stacks("UPDATE_IN_PROGRESS", "functions/api/new.zip"),
    ]);
    d.timeout = Duration::ZERO;
    let err = d.watch(STACK, Some("e0".to_owned())).await.unwrap_err();
    assert_eq!(deployer::exit_code_for(&err), ExitCode::Timeout);
    assert_eq!(
        err.to_string(),
        "stopped waiting after 0 s: stack `photo-app-dev` is `UPDATE_IN_PROGRESS` and CloudFormation carries on; `deployer status --stage dev` shows where it is"
    );
    assert_eq!(
        actions(&http),
        ["DescribeStackEvents", "DescribeStacks", "DescribeStacks"]
    );
}

#[tokio::test]
async fn ctrl_c_reports_the_state_the_next_run_picks_up() {
    let (d, _, _) = deployer(vec![describe_stacks(
        "UPDATE_IN_PROGRESS",
        "functions/api/new.zip",
    )]);
    let err = anyhow::Error::from(d.interrupted().await);
    assert_eq!(deployer::exit_code_for(&err), ExitCode::Interrupted);
    assert_eq!(
        err.to_string(),
        "interrupted: stack `photo-app-dev` is `UPDATE_IN_PROGRESS` and CloudFormation carries on without us; `deployer status --stage dev` shows where it is; once it has settled, `deployer up --stage dev` carries on from there"
    );
}

/// S3 answers 403 to a request naming an expected owner that does not own the bucket (moto
/// does not enforce the header, so the answer is replayed as AWS gives it): the deployer refuses
/// the bucket with its own exit code, naming it, and sends nothing more.
#[tokio::test]
async fn an_artifact_bucket_of_another_account_is_refused_with_its_own_exit_code() {
    const BUCKET: &str = "deployer-artifacts-123456789012-eu-west-1";
    let forbidden = ReplayEvent::new(
        http::Request::builder()
            .uri(format!("https://{BUCKET}.s3.eu-west-1.amazonaws.com/"))
            .body(SdkBody::empty())
            .unwrap(),
        http::Response::builder()
            .status(403)
            .body(SdkBody::empty())
            .unwrap(),
    );
    let http = StaticReplayClient::new(vec![forbidden]);
    let config = aws_sdk_s3::config::Builder::from(&replay_sdk(&http))
        .interceptor(deployer_aws::owner::ExpectedOwner::new("123456789012"))
        .build();
    let bucket = deployer_aws::artifacts::ArtifactBucket::new(
        aws_sdk_s3::Client::from_conf(config),
        BUCKET.to_owned(),
        "eu-west-1".to_owned(),
        true,
    );
    let (ui, _) = Ui::recording();
    let err = bucket.ensure(&ui).await.unwrap_err();
    assert_eq!(deployer::exit_code_for(&err), ExitCode::ForeignBucket);
    assert_eq!(ExitCode::ForeignBucket.code(), 12);
    let message = format!("{err:#}");
    assert!(message.contains(&format!("`{BUCKET}`")), "{message}");
    assert!(
        message.contains("does not belong to this account"),
        "{message}"
    );
    let sent: Vec<_> = http.actual_requests().collect();
    assert_eq!(sent.len(), 1, "only the owner check was sent");
    assert_eq!(
        sent[0].headers().get("x-amz-expected-bucket-owner"),
        Some("123456789012")
    );
}

/// CloudFormation's answer to `DescribeStacks` for a stack that does not exist.
fn no_such_stack() -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .uri("https://cloudformation.eu-west-1.amazonaws.com/")
            .body(SdkBody::empty())
            .unwrap(),
        http::Response::builder()
            .status(400)
            .header("content-type", "text/xml")
            .body(SdkBody::from(format!(
                "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id {STACK} does not exist</Message></Error><RequestId>0b9f3c1e-7a2d-4e5f-8a6b-0123456789ab</RequestId></ErrorResponse>"
            )))
            .unwrap(),
    )
}

/// A Lambda client whose `GetAccountSettings` answers an account with `total` concurrent
/// executions of which `unreserved` are unreserved, as Lambda's REST API words it.
fn lambda_with(total: u32, unreserved: u32) -> (aws_sdk_lambda::Client, StaticReplayClient) {
    let body = format!(
        "{{\"AccountLimit\":{{\"TotalCodeSize\":80530636800,\"CodeSizeUnzipped\":262144000,\"CodeSizeZipped\":52428800,\"ConcurrentExecutions\":{total},\"UnreservedConcurrentExecutions\":{unreserved}}},\"AccountUsage\":{{\"TotalCodeSize\":0,\"FunctionCount\":0}}}}"
    );
    lambda_replaying(vec![ReplayEvent::new(
        http::Request::builder()
            .uri("https://lambda.eu-west-1.amazonaws.com/2016-08-19/account-settings")
            .body(SdkBody::empty())
            .unwrap(),
        http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(SdkBody::from(body))
            .unwrap(),
    )])
}

/// A Lambda client answering with `events`, in turn.
fn lambda_replaying(events: Vec<ReplayEvent>) -> (aws_sdk_lambda::Client, StaticReplayClient) {
    let http = StaticReplayClient::new(events);
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "replay",
        ))
        .http_client(http.clone())
        .build();
    (aws_sdk_lambda::Client::from_conf(config), http)
}

/// A new account's Lambda quota (10 concurrent executions) cannot hold a stage's reservations
/// beside the 100 Lambda keeps unreserved: `up` stops before creating anything, names the quota
/// to request, and exits with its own code. moto has no `GetAccountSettings`, so Lambda's answer
/// is replayed as AWS gives it.
#[tokio::test]
async fn a_new_stage_that_does_not_fit_the_accounts_concurrency_is_refused_before_anything_is_created()
 {
    let (mut d, http, _) = deployer(vec![no_such_stack()]);
    let (lambda, lambda_http) = lambda_with(10, 10);
    d.concurrency = Some(deployer_aws::quota::ConcurrencyCheck {
        lambda,
        reserved: 25,
    });
    let err = deploy(&d).await.unwrap_err();
    assert_eq!(deployer::exit_code_for(&err), ExitCode::ConcurrencyQuota);
    assert_eq!(ExitCode::ConcurrencyQuota.code(), 13);
    let message = format!("{err:#}");
    assert!(
        message.contains("reserves 25 concurrent Lambda executions")
            && message.contains("has 10 unreserved in `eu-west-1`")
            && message.contains("request a quota of at least 125")
            && message.contains("L-B99A9384"),
        "{message}"
    );
    assert_eq!(actions(&http), ["DescribeStacks"], "no change set");
    let sent: Vec<_> = lambda_http.actual_requests().collect();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].uri().ends_with("/2016-08-19/account-settings"));
}

/// With room for the stage (1,000 executions, 150 of them reserved by two other stages and
/// something else), the creation goes ahead as before.
#[tokio::test]
async fn a_new_stage_that_fits_is_created() {
    let created: Vec<Ev<'_>> = vec![
        stack_event("n3", "CREATE_COMPLETE", None),
        function_event("n2", "ApiFunction", "CREATE_COMPLETE", None),
        stack_event("n1", "REVIEW_IN_PROGRESS", Some("User Initiated")),
    ];
    let (mut d, http, _) = deployer(vec![
        no_such_stack(),
        create_change_set(),
        describe_change_set(&[("Add", "ApiFunction", FN, None)]),
        describe_events(&created[2..]),
        execute_change_set(),
        describe_events(&created),
        describe_stacks("CREATE_COMPLETE", "functions/api/new.zip"),
        describe_events(&created),
        describe_stacks("CREATE_COMPLETE", "functions/api/new.zip"),
    ]);
    let (lambda, _) = lambda_with(1000, 850);
    d.concurrency = Some(deployer_aws::quota::ConcurrencyCheck {
        lambda,
        reserved: 25,
    });
    // A stage with a service role hands it to CloudFormation with the change set.
    d.role_arn = Some("arn:aws:iam::123456789012:role/deployer-cloudformation".to_owned());
    let outcome = deploy(&d).await.unwrap();
    assert!(matches!(outcome, Outcome::Deployed { .. }), "{outcome:?}");
    assert_eq!(actions(&http)[1], "CreateChangeSet");
    let bodies = bodies(&http);
    assert!(
        bodies[1]
            .contains("RoleARN=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeployer-cloudformation"),
        "{}",
        bodies[1]
    );
}

/// A Lambda client answering each request with the next of `answers` (status, JSON body).
fn lambda_answering(answers: &[(u16, &str)]) -> (aws_sdk_lambda::Client, StaticReplayClient) {
    let events = answers
        .iter()
        .map(|(status, body)| {
            ReplayEvent::new(
                http::Request::builder()
                    .uri("https://lambda.eu-west-1.amazonaws.com/")
                    .body(SdkBody::empty())
                    .unwrap(),
                http::Response::builder()
                    .status(*status)
                    .header("content-type", "application/json")
                    .body(SdkBody::from(body.to_string()))
                    .unwrap(),
            )
        })
        .collect();
    lambda_replaying(events)
}

/// The stack's API function, as `DescribeStackResources` lists it.
fn api_function_resource() -> ReplayEvent {
    ok(wrap(
        "DescribeStackResources",
        &format!(
            "<StackResources><member><StackId>{STACK_ID}</StackId><StackName>{STACK}</StackName><LogicalResourceId>ApiFunction</LogicalResourceId><PhysicalResourceId>photo-app-dev-api</PhysicalResourceId><ResourceType>AWS::Lambda::Function</ResourceType><Timestamp>2026-11-30T12:00:00Z</Timestamp><ResourceStatus>UPDATE_COMPLETE</ResourceStatus></member></StackResources>"
        ),
    ))
}

/// A hot update of `deployer watch` reports success only once Lambda has finished switching to
/// the new code, and reports a failed switch with Lambda's reason. moto finishes every update at
/// once, so Lambda's `InProgress` and `Failed` states are replayed as its REST API gives them.
#[tokio::test]
async fn a_hot_update_waits_for_lambda_to_finish_and_reports_a_failed_one() {
    let api = photo_contract::functions::API;
    let updating =
        r#"{"FunctionName":"photo-app-dev-api","LastUpdateStatus":"InProgress","State":"Active"}"#;
    let (d, _, _) = deployer(vec![api_function_resource()]);
    let (lambda, http) = lambda_answering(&[
        (200, updating),
        (200, updating),
        (
            200,
            r#"{"FunctionName":"photo-app-dev-api","LastUpdateStatus":"Successful","State":"Active"}"#,
        ),
    ]);
    deployer_aws::hot::update_code(&lambda, &d, &api, "artifacts", "functions/api/b.zip")
        .await
        .unwrap();
    let sent: Vec<(String, String)> = http
        .actual_requests()
        .map(|r| (r.method().to_string(), r.uri().to_owned()))
        .collect();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[0].0, "PUT");
    assert!(
        sent[0].1.ends_with("/functions/photo-app-dev-api/code"),
        "{sent:?}"
    );
    assert!(
        sent[1..]
            .iter()
            .all(|(m, u)| m == "GET" && u.ends_with("/functions/photo-app-dev-api/configuration")),
        "{sent:?}"
    );

    let (d, _, _) = deployer(vec![api_function_resource()]);
    let (lambda, _) = lambda_answering(&[
        (200, updating),
        (
            200,
            r#"{"FunctionName":"photo-app-dev-api","LastUpdateStatus":"Failed","LastUpdateStatusReason":"Unzipped size must be smaller than 262144000 bytes"}"#,
        ),
    ]);
    let err = deployer_aws::hot::update_code(&lambda, &d, &api, "artifacts", "functions/api/c.zip")
        .await
        .unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "Lambda could not update the code of function `photo-app-dev-api`: Unzipped size must be smaller than 262144000 bytes"
    );
}

/// A stage that keeps its data is created with its table and user pool unprotected (so a failed
/// creation rolls back without leaving them behind), then protected by an update: replayed, as
/// moto neither fails a creation nor rolls one back.
#[tokio::test]
async fn a_first_creation_is_followed_by_the_update_that_protects_its_data() {
    use deployer_aws::protection;
    const TABLE: &str = "AWS::DynamoDB::Table";
    let template = r#"{"Parameters":{"DataProtection":{"Type":"String"}},"Resources":{"PhotoTable":{"Type":"AWS::DynamoDB::Table","DeletionPolicy":"RetainExceptOnCreate"}}}"#;
    let updated: Vec<Ev<'_>> = vec![
        stack_event("u3", "UPDATE_COMPLETE", None),
        ("u2", "PhotoTable", TABLE, "UPDATE_COMPLETE", None),
        stack_event("u1", "UPDATE_IN_PROGRESS", Some("User Initiated")),
    ];
    let (d, http, lines) = deployer(vec![
        describe_stacks("CREATE_COMPLETE", "functions/api/new.zip"),
        get_template(template),
        create_change_set(),
        describe_change_set(&[("Modify", "PhotoTable", TABLE, Some("False"))]),
        describe_events(&[stack_event("n4", "CREATE_COMPLETE", None)]),
        execute_change_set(),
        describe_events(&updated),
        describe_stacks("UPDATE_COMPLETE", "functions/api/new.zip"),
        describe_events(&updated),
        describe_stacks("UPDATE_COMPLETE", "functions/api/new.zip"),
    ]);
    let source = TemplateSource::Body(template.to_owned());
    let mut created = desired();
    created.template = template.to_owned();
    protection::set(&mut created, false);
    assert_eq!(created.parameters["DataProtection"], "false");
    let deployed = Outcome::Deployed {
        status: "CREATE_COMPLETE".to_owned(),
        changes: Vec::new(),
    };
    let line = protection::after_deploy(&d, &created, &source, &deployed)
        .await
        .unwrap();
    assert_eq!(
        line.as_deref(),
        Some("deletion protection: on (stack `photo-app-dev` is UPDATE_COMPLETE)")
    );
    assert_eq!(
        actions(&http),
        [&["DescribeStacks", "GetTemplate"][..], &CHANGE, &watch(2)].concat()
    );
    // The update changes nothing but the parameter: the same template, protection on.
    let body = &bodies(&http)[2];
    assert!(body.contains("ChangeSetType=UPDATE"), "{body}");
    assert!(
        body.contains("Parameters.member.3.ParameterKey=DataProtection")
            && body.contains("Parameters.member.3.ParameterValue=true"),
        "{body}"
    );
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("turning on deletion protection")),
        "{lines:?}"
    );

    // After an update, when nothing was deployed, or in a stage that keeps no data: nothing.
    let mut updated = created.clone();
    protection::set(&mut updated, true);
    let mut no_data = desired();
    protection::set(&mut no_data, false);
    for (desired, outcome) in [
        (&updated, &deployed),
        (&created, &Outcome::NoChanges),
        (&no_data, &deployed),
    ] {
        let (d, http, _) = deployer(Vec::new());
        let line = protection::after_deploy(&d, desired, &source, outcome)
            .await
            .unwrap();
        assert_eq!(line, None);
        assert!(actions(&http).is_empty());
    }
}

/// A stage taken down with its data kept is created again by importing that data first: the
/// import change set, replayed, as moto has no resource import.
#[tokio::test]
async fn kept_data_is_imported_into_the_new_stack() {
    use deployer_aws::{adopt, kept::Kept};
    let template = r#"{
      "Parameters": {"DataProtection": {"Type": "String"}, "ApiCodeKey": {"Type": "String"}},
      "Conditions": {"DataProtected": {"Fn::Equals": [{"Ref": "DataProtection"}, "true"]}},
      "Resources": {
        "PhotoBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "RetainExceptOnCreate",
          "UpdateReplacePolicy": "Retain",
          "Properties": {"BucketName": "photo-app-dev-photos-123456789012-eu-west-1",
            "NotificationConfiguration": {"LambdaConfigurations": [
              {"Event": "s3:ObjectCreated:*", "Function": {"Fn::GetAtt": ["ThumbnailFunction", "Arn"]}}]}}},
        "PhotoTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "RetainExceptOnCreate",
          "UpdateReplacePolicy": "Retain",
          "Properties": {"BillingMode": "PAY_PER_REQUEST",
            "DeletionProtectionEnabled": {"Fn::If": ["DataProtected", true, false]}}},
        "ThumbnailFunction": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": {"Ref": "ApiCodeKey"}}}}
      }
    }"#;
    let kept = [
        Kept {
            logical_id: "PhotoBucket".to_owned(),
            resource_type: "AWS::S3::Bucket".to_owned(),
            physical_id: "photo-app-dev-photos-123456789012-eu-west-1".to_owned(),
        },
        Kept {
            logical_id: "PhotoTable".to_owned(),
            resource_type: "AWS::DynamoDB::Table".to_owned(),
            physical_id: "photo-app-dev-PhotoTable-1A2B3C".to_owned(),
        },
    ];
    const BUCKET: &str = "AWS::S3::Bucket";
    const TABLE: &str = "AWS::DynamoDB::Table";
    let imported: Vec<Ev<'_>> = vec![
        stack_event("i4", "IMPORT_COMPLETE", None),
        ("i3", "PhotoTable", TABLE, "IMPORT_COMPLETE", None),
        ("i2", "PhotoBucket", BUCKET, "IMPORT_COMPLETE", None),
        stack_event("i1", "IMPORT_IN_PROGRESS", Some("User Initiated")),
    ];
    let (d, http, lines) = deployer(vec![
        create_change_set(),
        describe_change_set(&[
            ("Import", "PhotoBucket", BUCKET, None),
            ("Import", "PhotoTable", TABLE, None),
        ]),
        describe_events(&[stack_event(
            "n1",
            "REVIEW_IN_PROGRESS",
            Some("User Initiated"),
        )]),
        execute_change_set(),
        describe_events(&imported),
        describe_stacks("IMPORT_COMPLETE", "functions/api/new.zip"),
        describe_events(&imported),
        describe_stacks("IMPORT_COMPLETE", "functions/api/new.zip"),
    ]);
    let mut desired = desired();
    desired.template = template.to_owned();
    desired
        .parameters
        .insert("DataProtection".to_owned(), "true".to_owned());
    let status = adopt::import(&d, &desired, &kept).await.unwrap();
    assert_eq!(status, "IMPORT_COMPLETE");
    assert_eq!(actions(&http), [&CHANGE[..], &watch(2)].concat());
    let body = &bodies(&http)[0];
    for part in [
        "ChangeSetType=IMPORT",
        "ResourcesToImport.member.1.ResourceType=AWS%3A%3AS3%3A%3ABucket",
        "ResourcesToImport.member.1.LogicalResourceId=PhotoBucket",
        "ResourcesToImport.member.1.ResourceIdentifier.entry.1.key=BucketName",
        "ResourcesToImport.member.1.ResourceIdentifier.entry.1.value=photo-app-dev-photos-123456789012-eu-west-1",
        "ResourcesToImport.member.2.ResourceType=AWS%3A%3ADynamoDB%3A%3ATable",
        "ResourcesToImport.member.2.ResourceIdentifier.entry.1.key=TableName",
        "ResourcesToImport.member.2.ResourceIdentifier.entry.1.value=photo-app-dev-PhotoTable-1A2B3C",
        // Only the parameter the kept resources use; the stage's tags.
        "Parameters.member.1.ParameterKey=DataProtection",
        "Tags.member.1.Key=photo-app%3Astage",
    ] {
        assert!(body.contains(part), "{part} not in {body}");
    }
    assert!(!body.contains("Parameters.member.2"), "{body}");
    // The template holds the kept resources alone, without what names the function.
    assert!(body.contains("TemplateBody="), "{body}");
    assert!(!body.contains("ThumbnailFunction"), "{body}");
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("adopted AWS::S3::Bucket `photo-app-dev-photos-123456789012-eu-west-1`, AWS::DynamoDB::Table `photo-app-dev-PhotoTable-1A2B3C` (stack `photo-app-dev` is IMPORT_COMPLETE)")),
        "{lines:?}"
    );
}

/// A Cognito client answering with `bodies` (JSON), in order.
fn cognito(bodies: &[&str]) -> (aws_sdk_cognitoidentityprovider::Client, StaticReplayClient) {
    let events = bodies
        .iter()
        .map(|b| {
            reply(
                "https://cognito-idp.eu-west-1.amazonaws.com/",
                "application/x-amz-json-1.1",
                (*b).to_owned(),
            )
        })
        .collect();
    let http = StaticReplayClient::new(events);
    let client = aws_sdk_cognitoidentityprovider::Client::new(&replay_sdk(&http));
    (client, http)
}

/// A stage taken down before its kept data was recorded: its user pool is found by name and by
/// the stack-name tag CloudFormation put on it, over pages of pools. Replayed, as moto's
/// CloudFormation makes no user pool.
#[tokio::test]
async fn a_kept_user_pool_is_found_by_its_stack_tag() {
    let (idp, http) = cognito(&[
        r#"{"UserPools": [{"Id": "eu-west-1_Other1", "Name": "another-app-users"},
                         {"Id": "eu-west-1_Copy22", "Name": "photo-app-dev-users"}],
            "NextToken": "page-2"}"#,
        // Same name, made by hand: not the stack's.
        r#"{"UserPool": {"Id": "eu-west-1_Copy22", "Name": "photo-app-dev-users",
                         "UserPoolTags": {"team": "photos"}}}"#,
        r#"{"UserPools": [{"Id": "eu-west-1_Kept33", "Name": "photo-app-dev-users"}]}"#,
        r#"{"UserPool": {"Id": "eu-west-1_Kept33", "Name": "photo-app-dev-users",
                         "UserPoolTags": {"aws:cloudformation:stack-name": "photo-app-dev",
                                          "photo-app:stage": "dev"}}}"#,
    ]);
    let found = deployer_aws::kept::pool_by_tag(&idp, STACK).await.unwrap();
    assert_eq!(found.as_deref(), Some("eu-west-1_Kept33"));
    let targets: Vec<String> = http
        .actual_requests()
        .map(|r| {
            r.headers()
                .get("x-amz-target")
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        targets,
        [
            "AWSCognitoIdentityProviderService.ListUserPools",
            "AWSCognitoIdentityProviderService.DescribeUserPool",
            "AWSCognitoIdentityProviderService.ListUserPools",
            "AWSCognitoIdentityProviderService.DescribeUserPool",
        ]
    );
    let second = String::from_utf8_lossy(
        http.actual_requests()
            .nth(2)
            .unwrap()
            .body()
            .bytes()
            .unwrap_or_default(),
    )
    .into_owned();
    assert!(second.contains(r#""NextToken":"page-2""#), "{second}");

    // No pool of that name: none.
    let (idp, _) = cognito(&[r#"{"UserPools": []}"#]);
    assert_eq!(
        deployer_aws::kept::pool_by_tag(&idp, STACK).await.unwrap(),
        None
    );
}
