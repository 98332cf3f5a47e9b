//! `deployer logs FUNCTION [--follow] [--since 10m]`: a function's log events from CloudWatch Logs.
//!
//! The stack gives each function its own log group (the function's `LoggingConfig` points at it),
//! named by CloudFormation rather than `/aws/lambda/<name>`, so the group is looked up as the
//! physical id of the function's log-group resource in the stage's stack.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use aws_sdk_cloudwatchlogs::error::DisplayErrorContext;
// CloudWatch Logs has no timestamps of smithy type, so its crate does not re-export these.
use aws_sdk_s3::primitives::{DateTime, DateTimeFormat};

use super::ops_sdk;
use crate::args::AwsArgs;
use crate::config::LOCAL_STAGE;
use crate::synth::stack_name;

/// The longest `--follow` waits between two polls: FilterLogEvents is rate-limited per
/// account, and a few seconds of delay is what an operator tailing logs expects.
pub const MAX_FOLLOW_INTERVAL: Duration = Duration::from_secs(10);
/// The default pause between polls.
pub const DEFAULT_FOLLOW_INTERVAL: Duration = Duration::from_secs(2);

/// A function of the stack, by the name operators use (`api`, `thumbnail`: the contract's
/// names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function(pub photo_contract::functions::Function);

impl Function {
    /// The logical id of the function's log group in the stack.
    pub fn log_group_logical_id(self) -> &'static str {
        self.0.log_group
    }
}

impl FromStr for Function {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        photo_contract::functions::by_name(s)
            .map(Function)
            .ok_or_else(|| {
                let names: Vec<&str> = photo_contract::functions::FUNCTIONS
                    .iter()
                    .map(|f| f.name)
                    .collect();
                format!("no function `{s}`: expected one of {}", names.join(", "))
            })
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

/// Arguments of `deployer logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The function whose logs to read: `api` or `thumbnail`.
    #[arg(value_name = "FUNCTION")]
    pub function: Function,

    /// The stage, as named in the configuration file.
    #[arg(long, short, env = "DEPLOYER_STAGE")]
    pub stage: String,

    /// How far back to start: a number and `s`, `m`, `h` or `d` (at most 30 days).
    #[arg(long, default_value = "10m", value_name = "AGE")]
    pub since: Since,

    /// Keep polling for new events (every 2 s) until Ctrl-C.
    #[arg(long, short)]
    pub follow: bool,
}

/// What reading logs can fail on.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// `--since` is not a duration.
    #[error(
        "`{0}` is not a duration: use a whole number and a unit, `s`, `m`, `h` or `d` (e.g. `10m`)"
    )]
    Since(String),
    /// The stack or its log-group resource could not be read.
    #[error("finding the log group of `{function}` in stack `{stack}`: {message}")]
    Lookup {
        /// The function.
        function: Function,
        /// The stack.
        stack: String,
        /// The SDK's error chain.
        message: String,
    },
    /// Reading events failed.
    #[error("reading log group `{group}`: {message}")]
    Read {
        /// The log group.
        group: String,
        /// The SDK's error chain.
        message: String,
    },
    /// Writing to the output failed (a closed pipe, for example).
    #[error("writing log events: {0}")]
    Write(#[from] std::io::Error),
}

/// How far back to read: a whole number of seconds, minutes, hours or days, at most 30 days
/// (longer would page through more than anyone reads on a terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since(Duration);

impl Since {
    /// The duration.
    pub fn duration(self) -> Duration {
        self.0
    }
}

impl FromStr for Since {
    type Err = LogsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || LogsError::Since(s.to_owned());
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (number, unit) = s.split_at(split);
        let number: u64 = number.parse().map_err(|_| bad())?;
        let unit_secs = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(bad()),
        };
        let secs = number.checked_mul(unit_secs).ok_or_else(bad)?;
        if secs == 0 || secs > 30 * 86_400 {
            return Err(bad());
        }
        Ok(Since(Duration::from_secs(secs)))
    }
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// CloudWatch's id for it (used to skip events already shown while following).
    pub id: String,
    /// When it was logged, milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// The log stream (one per function instance).
    pub stream: String,
    /// The message, without its trailing newline.
    pub message: String,
}

impl Event {
    /// The line printed for it: time, stream, message.
    pub fn line(&self) -> String {
        let time = DateTime::from_millis(self.timestamp_ms)
            .fmt(DateTimeFormat::DateTime)
            .unwrap_or_else(|_| self.timestamp_ms.to_string());
        format!("{time} {} {}", self.stream, self.message)
    }
}

/// The name of `function`'s log group in `stack`.
pub async fn log_group_name(
    cloudformation: &aws_sdk_cloudformation::Client,
    stack: &str,
    function: Function,
) -> Result<String, LogsError> {
    let out = cloudformation
        .describe_stack_resource()
        .stack_name(stack)
        .logical_resource_id(function.log_group_logical_id())
        .send()
        .await
        .map_err(|e| LogsError::Lookup {
            function,
            stack: stack.to_owned(),
            message: DisplayErrorContext(&e).to_string(),
        })?;
    out.stack_resource_detail()
        .and_then(|d| d.physical_resource_id())
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| LogsError::Lookup {
            function,
            stack: stack.to_owned(),
            message: "the log group has not been created yet".to_owned(),
        })
}

/// Every event in `group` from `start_ms` on, across all pages, oldest first.
pub async fn read_events(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    start_ms: i64,
) -> Result<Vec<Event>, LogsError> {
    let mut events = Vec::new();
    let mut pages = logs
        .filter_log_events()
        .log_group_name(group)
        .start_time(start_ms)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| LogsError::Read {
            group: group.to_owned(),
            message: DisplayErrorContext(&e).to_string(),
        })?;
        for e in page.events() {
            events.push(Event {
                id: e.event_id().unwrap_or_default().to_owned(),
                timestamp_ms: e.timestamp().unwrap_or_default(),
                stream: e.log_stream_name().unwrap_or_default().to_owned(),
                message: e.message().unwrap_or_default().trim_end().to_owned(),
            });
        }
    }
    events.sort_by_key(|e| e.timestamp_ms);
    Ok(events)
}

/// Milliseconds since the epoch, `since` ago.
pub fn start_ms(since: Since) -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.saturating_sub(since.duration()).as_millis()).unwrap_or(i64::MAX)
}

/// Prints `group`'s events from `start_ms` on; with `follow`, keeps polling every `interval`
/// (capped at [`MAX_FOLLOW_INTERVAL`]) until `stop` completes.
///
/// Events sharing the newest timestamp are remembered by id, because the next poll starts at
/// that timestamp again (CloudWatch has no "after this event" cursor across polls).
pub async fn print_events(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    mut start_ms: i64,
    follow: Option<Duration>,
    stop: impl Future<Output = ()>,
    out: &mut impl Write,
) -> Result<usize, LogsError> {
    let mut printed = 0;
    let mut seen_at_start: Vec<String> = Vec::new();
    tokio::pin!(stop);
    loop {
        let events = read_events(logs, group, start_ms).await?;
        for event in events {
            if event.timestamp_ms == start_ms && seen_at_start.contains(&event.id) {
                continue;
            }
            writeln!(out, "{}", event.line())?;
            printed += 1;
            if event.timestamp_ms > start_ms {
                start_ms = event.timestamp_ms;
                seen_at_start.clear();
            }
            seen_at_start.push(event.id);
        }
        out.flush()?;
        let Some(interval) = follow else {
            return Ok(printed);
        };
        tokio::select! {
            () = &mut stop => return Ok(printed),
            () = tokio::time::sleep(interval.min(MAX_FOLLOW_INTERVAL)) => {}
        }
    }
}

/// Runs `deployer logs`, reaching AWS as the global flags say.
pub fn run(config_file: &Path, args: &LogsArgs, aws: &AwsArgs) -> anyhow::Result<()> {
    if args.stage == LOCAL_STAGE {
        bail!("the local stage logs to the terminal running `deployer up --stage local`");
    }
    let stage = super::load_stage(config_file, &args.stage, aws)?;
    let sdk_target = &aws.sdk_target();
    let runtime = ops_sdk::runtime().context("starting the async runtime")?;
    runtime.block_on(async {
        let sdk = ops_sdk::load(sdk_target, stage.region.as_str()).await?;
        let cloudformation = crate::client!(aws_sdk_cloudformation, &sdk);
        let logs = crate::client!(aws_sdk_cloudwatchlogs, &sdk);
        let group =
            log_group_name(&cloudformation, &stack_name(&args.stage), args.function).await?;
        eprintln!("{} logs from {group}", args.function);
        let stop = async {
            // No Ctrl-C handler (an unusual host) means following until killed, as before.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        print_events(
            &logs,
            &group,
            start_ms(args.since),
            args.follow.then_some(DEFAULT_FOLLOW_INTERVAL),
            stop,
            &mut std::io::stdout().lock(),
        )
        .await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Option<u64>) {
        let got = input.parse::<Since>().ok().map(|s| s.duration().as_secs());
        assert_eq!(got, expected, "{input}");
    }

    #[test]
    fn since_takes_a_number_and_a_unit() {
        check("10m", Some(600));
        check("30s", Some(30));
        check("2h", Some(7200));
        check("1d", Some(86_400));
        check("30d", Some(30 * 86_400));
        check("31d", None);
        check("0m", None);
        check("10", None);
        check("m", None);
        check("10 m", None);
        check("-5m", None);
        check("10y", None);
        check("99999999999999999999d", None);
        assert_eq!(
            "ten".parse::<Since>().unwrap_err().to_string(),
            "`ten` is not a duration: use a whole number and a unit, `s`, `m`, `h` or `d` (e.g. `10m`)"
        );
    }

    #[test]
    fn log_groups_match_the_stack() {
        let template = stack::app::photo_app(&stack::config::StageConfig::with_defaults(
            "dev".parse().unwrap(),
            "eu-west-1".parse().unwrap(),
        ))
        .unwrap()
        .to_json();
        let template: serde_json::Value = serde_json::from_str(&template).unwrap();
        for f in photo_contract::functions::FUNCTIONS
            .iter()
            .copied()
            .map(Function)
        {
            assert_eq!(
                template["Resources"][f.log_group_logical_id()]["Type"],
                "AWS::Logs::LogGroup",
                "{f}"
            );
        }
    }

    #[test]
    fn a_line_shows_time_stream_and_message() {
        let event = Event {
            id: "1".into(),
            timestamp_ms: 1_700_000_000_123,
            stream: "2026/11/24/[$LATEST]abc".into(),
            message: "{\"level\":\"INFO\"}".into(),
        };
        assert_eq!(
            event.line(),
            "2023-11-14T22:13:20.123Z 2026/11/24/[$LATEST]abc {\"level\":\"INFO\"}"
        );
    }
}
