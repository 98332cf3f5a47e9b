//! Operations: CloudWatch alarms on the functions, the API and the dead-letter queue, the SNS
//! topic that e-mails them when an address is configured, and the stage's dashboard.

use serde_json::json;

use super::Names;
use crate::StackError;
use crate::cfn::apigw::Api;
use crate::cfn::cloudwatch::{Alarm, Dashboard, Dimension};
use crate::cfn::lambda::Function;
use crate::cfn::sns::{Subscription, Topic};
use crate::cfn::sqs::Queue;
use crate::cfn::{Expr, Options, Res, Template};
use crate::config::StageConfig;
use photo_contract as contract;

pub(super) fn operations(
    t: &mut Template,
    config: &StageConfig,
    names: &Names,
    api: &Res<Api>,
    api_fn: &Res<Function>,
    thumb_fn: &Res<Function>,
    dlq: &Res<Queue>,
) -> Result<(), StackError> {
    let actions = match &config.alarm_email {
        Some(email) => {
            let topic = t.add_with(
                "AlarmTopic",
                Topic {
                    display_name: Some(format!("{} alarms", names.prefix)),
                    kms_master_key_id: None,
                },
                Options::new().checkov_skip(
                    "CKV_AWS_26",
                    "CloudWatch alarms cannot publish to a topic encrypted with the \
                     AWS-managed aws/sns key; alarm messages hold metric names, no data",
                ),
            )?;
            t.add(
                "AlarmEmailSubscription",
                Subscription {
                    protocol: "email",
                    endpoint: Expr::from(email.to_string()),
                    topic_arn: topic.reference(),
                },
            )?;
            vec![topic.reference()]
        }
        None => vec![],
    };
    let alarm = |description: String,
                 namespace: &'static str,
                 metric: &'static str,
                 dimensions: Vec<Dimension>,
                 statistic: &'static str| Alarm {
        alarm_description: description,
        namespace,
        metric_name: metric,
        dimensions,
        statistic,
        period: 300,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        threshold: 1.0,
        comparison_operator: "GreaterThanOrEqualToThreshold",
        treat_missing_data: "notBreaching",
        alarm_actions: actions.clone(),
        ok_actions: actions.clone(),
    };
    for (prefix, function) in [("Api", api_fn), ("Thumbnail", thumb_fn)] {
        let dims = vec![Dimension {
            name: "FunctionName",
            value: function.reference(),
        }];
        t.add(
            &format!("{prefix}FunctionErrorsAlarm"),
            alarm(
                format!(
                    "The {prefix} function failed at least once in 5 minutes: see its log group"
                ),
                "AWS/Lambda",
                "Errors",
                dims.clone(),
                "Sum",
            ),
        )?;
        t.add(
            &format!("{prefix}FunctionThrottlesAlarm"),
            alarm(
                format!(
                    "The {prefix} function was throttled: its reserved concurrency is too low for the load"
                ),
                "AWS/Lambda",
                "Throttles",
                dims,
                "Sum",
            ),
        )?;
    }
    t.add(
        "Api5xxAlarm",
        alarm(
            "The HTTP API answered 5xx at least once in 5 minutes: see the API function's log group".to_owned(),
            "AWS/ApiGateway",
            "5xx",
            vec![
                Dimension {
                    name: "ApiId",
                    value: api.reference(),
                },
                Dimension {
                    name: "Stage",
                    value: Expr::from("$default"),
                },
            ],
            "Sum",
        ),
    )?;
    // SQS publishes a queue's metrics only while it is active, and resumes up to 15 minutes
    // after a message wakes it: reading missing data as "not breaching" could show OK while a
    // dead letter waits. Missing data keeps the alarm in the state it is in.
    t.add(
        "ThumbnailDeadLetterAlarm",
        Alarm {
            treat_missing_data: "ignore",
            ..alarm(
                "An upload failed thumbnailing after all retries: its event is in the dead-letter queue".to_owned(),
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                vec![Dimension {
                    name: "QueueName",
                    value: dlq.queue_name(),
                }],
                "Maximum",
            )
        },
    )?;
    // S3 invokes the thumbnail function asynchronously: when Lambda cannot write a failed event
    // to the dead-letter queue, the event is lost without a dead letter to alarm on.
    t.add(
        "ThumbnailDeadLetterErrorsAlarm",
        alarm(
            "Lambda could not write a failed thumbnail event to the dead-letter queue: the upload's event is lost; see the function's log group".to_owned(),
            "AWS/Lambda",
            "DeadLetterErrors",
            vec![Dimension {
                name: "FunctionName",
                value: thumb_fn.reference(),
            }],
            "Sum",
        ),
    )?;

    let widget = |x: u32, y: u32, title: &str, metrics: serde_json::Value| {
        json!({
            "type": "metric", "x": x, "y": y, "width": 12, "height": 6,
            "properties": {
                "title": title, "region": "${AWS::Region}", "stat": "Sum", "period": 300,
                "view": "timeSeries", "metrics": metrics
            }
        })
    };
    let body = json!({
        "widgets": [
            widget(0, 0, "API requests and errors", json!([
                ["AWS/ApiGateway", "Count", "ApiId", "${Api}", "Stage", "$default"],
                [".", "4xx", ".", ".", ".", "."],
                [".", "5xx", ".", ".", ".", "."]
            ])),
            widget(12, 0, "API latency (p90)", json!([
                ["AWS/ApiGateway", "Latency", "ApiId", "${Api}", "Stage", "$default", {"stat": "p90"}]
            ])),
            widget(0, 6, "Functions: invocations, errors, throttles", json!([
                ["AWS/Lambda", "Invocations", "FunctionName", "${ApiFunction}"],
                [".", "Errors", ".", "."],
                [".", "Throttles", ".", "."],
                [".", "Invocations", ".", "${ThumbnailFunction}"],
                [".", "Errors", ".", "."],
                [".", "Throttles", ".", "."]
            ])),
            widget(12, 6, "Thumbnail dead letters", json!([
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${DeadLetterQueue}", {"stat": "Maximum"}]
            ]))
        ]
    })
    .to_string();
    t.add(
        "Dashboard",
        Dashboard {
            dashboard_name: Some(names.global("dashboard")),
            dashboard_body: Expr::sub_with(
                body,
                [
                    ("Api", api.reference()),
                    (contract::functions::API.logical_id, api_fn.reference()),
                    (
                        contract::functions::THUMBNAIL.logical_id,
                        thumb_fn.reference(),
                    ),
                    ("DeadLetterQueue", dlq.queue_name()),
                ],
            ),
        },
    )?;
    Ok(())
}
