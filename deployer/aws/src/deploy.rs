//! Creating, updating and deleting a stack through CloudFormation: change sets, the live event
//! stream, the root cause of a failure, and the recovery of a stack a failed first create left.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::operation::create_change_set::builders::CreateChangeSetFluentBuilder;
use aws_sdk_cloudformation::primitives::DateTimeFormat;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, Parameter, Stack, StackEvent, Tag, TemplateStage,
};

use super::error::AwsError;
use super::plan::{self, Deployed, Desired, Pairs, Start};
use super::quota::ConcurrencyCheck;
use super::report::{self, Change, Event};
use super::ui::Ui;

/// CloudFormation takes a template inline up to this many bytes; larger ones go through S3.
pub const INLINE_TEMPLATE_LIMIT: usize = 51_200;

/// Where CloudFormation reads the template from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    /// Inline, for templates within [`INLINE_TEMPLATE_LIMIT`].
    Body(String),
    /// An S3 URL, for larger ones.
    Url(String),
}

/// The stack as `DescribeStacks` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackInfo {
    /// The stack's id (its ARN), which still names it after deletion.
    pub id: String,
    /// Its status.
    pub status: String,
    /// Why it is in that status, when CloudFormation says.
    pub reason: Option<String>,
    /// Parameter values.
    pub parameters: Pairs,
    /// Tags.
    pub tags: Pairs,
    /// Outputs, in template order.
    pub outputs: Vec<(String, String)>,
    /// When it was last changed (RFC 3339).
    pub updated: Option<String>,
    /// What the last drift detection found (`DRIFTED`, `IN_SYNC`, `NOT_CHECKED`, `UNKNOWN`).
    pub drift_status: Option<String>,
    /// When the last drift detection ran (RFC 3339).
    pub drift_checked: Option<String>,
}

/// A change set created and ready: its name and what it would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The change set's name.
    pub name: String,
    /// Create or update.
    pub kind: ChangeSetType,
    /// The resources it changes.
    pub changes: Vec<Change>,
}

/// What a deploy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The stack already matched: no change set was created (or an empty one was discarded).
    NoChanges,
    /// A change set was executed and the stack reached this (successful) status.
    Deployed {
        /// The final status.
        status: String,
        /// The changes made.
        changes: Vec<Change>,
    },
}

/// A question a protected stage must have answered yes before its change set runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// The stage.
    pub stage: String,
    /// The question.
    pub question: String,
}

/// Deploys one stack through a CloudFormation client.
#[derive(Debug, Clone)]
pub struct Deployer {
    cfn: Client,
    /// The stack's name.
    pub stack: String,
    /// The stage, for messages.
    pub stage: String,
    /// The region, for messages.
    pub region: String,
    /// How long to wait between polls.
    pub poll: Duration,
    /// How long to wait for CloudFormation in all.
    pub timeout: Duration,
    /// Where progress goes.
    pub ui: Ui,
    /// The role CloudFormation assumes for the stack's resources (`cloudformation_role_arn`).
    pub role_arn: Option<String>,
    /// Checked before `up` creates the stack (`prepare` with `recreate`): whether the account
    /// can hold the stage's reserved concurrency.
    pub concurrency: Option<ConcurrencyCheck>,
}

impl Deployer {
    /// A deployer for `stack` of `stage`, polling every five seconds.
    pub fn new(cfn: Client, stack: &str, stage: &str, region: &str, timeout: Duration) -> Self {
        Deployer {
            cfn,
            stack: stack.to_owned(),
            stage: stage.to_owned(),
            region: region.to_owned(),
            poll: Duration::from_secs(5),
            timeout,
            ui: Ui::detect(),
            role_arn: None,
            concurrency: None,
        }
    }

    /// The CloudFormation client.
    pub fn cloudformation(&self) -> &Client {
        &self.cfn
    }

    /// The stack, or `None` when there is none (or only a deleted one) under that name or id.
    pub async fn describe(&self, name_or_id: &str) -> Result<Option<StackInfo>> {
        describe(&self.cfn, name_or_id).await
    }

    /// The stack's current template, parameters and tags.
    pub async fn deployed(&self, info: &StackInfo) -> Result<Deployed> {
        let template = self
            .cfn
            .get_template()
            .stack_name(&self.stack)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .with_context(|| format!("reading the template of stack `{}`", self.stack))?;
        Ok(Deployed {
            status: info.status.clone(),
            template: template.template_body().unwrap_or_default().to_owned(),
            parameters: info.parameters.clone(),
            tags: info.tags.clone(),
        })
    }

    /// Deploys `desired`: nothing when the stack already matches; otherwise a change set that is
    /// shown, confirmed when `confirm` asks to (protected stages), executed and watched to the
    /// end.
    pub async fn deploy(
        &self,
        desired: &Desired,
        source: &TemplateSource,
        confirm: Option<Confirmation>,
    ) -> Result<Outcome> {
        let steps = self.ui.steps().clone();
        let Some(plan) = steps
            .time_async(
                "compare with the stack",
                self.prepare(desired, source, true),
            )
            .await?
        else {
            return Ok(Outcome::NoChanges);
        };
        self.ui
            .line(report::render_changes(&plan.changes).trim_end());
        self.ui.event(
            "change_set",
            serde_json::json!({
                "stack": self.stack,
                "name": plan.name,
                "changes": plan.changes,
            }),
        );
        if let Some(ask) = confirm {
            let answer = self.ui.ask(&ask.stage, &ask.question).await;
            if let Err(refused) = answer {
                self.discard(&plan).await;
                return Err(refused.into());
            }
        }
        let status = steps
            .time_async("execute the change set", async {
                let since = self.latest_event_id(&self.stack).await?;
                self.cfn
                    .execute_change_set()
                    .stack_name(&self.stack)
                    .change_set_name(&plan.name)
                    .send()
                    .await
                    .with_context(|| format!("executing change set `{}`", plan.name))?;
                self.watch(&self.stack, since).await
            })
            .await?;
        Ok(Outcome::Deployed {
            status,
            changes: plan.changes,
        })
    }

    /// Brings the stack to a state a change set can start from and creates one for `desired`;
    /// `None` when nothing would change. A `ROLLBACK_COMPLETE` stack is deleted first when
    /// `recreate` allows it (`up`), and refused otherwise (`diff` changes nothing).
    pub async fn prepare(
        &self,
        desired: &Desired,
        source: &TemplateSource,
        recreate: bool,
    ) -> Result<Option<Plan>> {
        let current = self.describe(&self.stack).await?;
        let start = plan::start_from(
            current.as_ref().map(|s| s.status.as_str()),
            &self.stage,
            &self.stack,
            &self.region,
        );
        let kind = match start {
            Start::Blocked(next_step) => {
                return Err(AwsError::Blocked {
                    stack: self.stack.clone(),
                    status: current.map(|s| s.status).unwrap_or_default(),
                    next_step,
                }
                .into());
            }
            Start::Update => {
                let info = current
                    .as_ref()
                    .context("an updatable stack has a description")?;
                if plan::unchanged(desired, &self.deployed(info).await?) {
                    return Ok(None);
                }
                ChangeSetType::Update
            }
            Start::Recreate if !recreate => {
                return Err(AwsError::Blocked {
                    stack: self.stack.clone(),
                    status: "ROLLBACK_COMPLETE".to_owned(),
                    next_step: format!(
                        "its first creation failed and it can only be deleted; `deployer up --stage {}` deletes it and creates it again",
                        self.stage
                    ),
                }
                .into());
            }
            Start::Recreate => {
                let info = current
                    .as_ref()
                    .context("a stack to recreate has a description")?;
                self.ui.line(&format!(
                    "stack `{}` is ROLLBACK_COMPLETE (its first creation failed): deleting it to create it again",
                    self.stack
                ));
                self.delete(&info.id).await?;
                ChangeSetType::Create
            }
            Start::Create | Start::CreateFromReview => ChangeSetType::Create,
        };
        // Only a new stack reserves new concurrency; `diff` (without `recreate`) only looks.
        if recreate
            && kind == ChangeSetType::Create
            && let Some(check) = &self.concurrency
        {
            check.run(&self.stage, &self.region, &self.ui).await?;
        }
        self.create_change_set(kind, desired, source).await
    }

    async fn create_change_set(
        &self,
        kind: ChangeSetType,
        desired: &Desired,
        source: &TemplateSource,
    ) -> Result<Option<Plan>> {
        let name = change_set_name("deployer");
        let mut request = self
            .cfn
            .create_change_set()
            .stack_name(&self.stack)
            .change_set_name(&name)
            .change_set_type(kind.clone())
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam)
            .description("deployer up")
            .set_role_arn(self.role_arn.clone());
        request = match source {
            TemplateSource::Body(body) => request.template_body(body),
            TemplateSource::Url(url) => request.template_url(url),
        };
        with_parameters_and_tags(request, &desired.parameters, &desired.tags)
            .send()
            .await
            .with_context(|| format!("creating a change set for stack `{}`", self.stack))?;
        let plan = Plan {
            name,
            kind,
            changes: Vec::new(),
        };
        match self.wait_for_change_set(&plan.name).await? {
            Some(changes) => Ok(Some(Plan { changes, ..plan })),
            None => {
                self.discard(&plan).await;
                Ok(None)
            }
        }
    }

    /// Waits until the change set is ready and returns its changes; `None` when CloudFormation
    /// found nothing to change.
    pub(crate) async fn wait_for_change_set(&self, name: &str) -> Result<Option<Vec<Change>>> {
        let started = Instant::now();
        loop {
            let mut changes = Vec::new();
            let mut token = None;
            let status = loop {
                let out = self
                    .cfn
                    .describe_change_set()
                    .stack_name(&self.stack)
                    .change_set_name(name)
                    .set_next_token(token)
                    .send()
                    .await
                    .with_context(|| format!("describing change set `{name}`"))?;
                changes.extend(out.changes().iter().filter_map(change_row));
                token = out.next_token().map(ToOwned::to_owned);
                let status = (
                    out.status().cloned(),
                    out.status_reason().unwrap_or_default().to_owned(),
                );
                if token.is_none() {
                    break status;
                }
            };
            match status {
                (Some(ChangeSetStatus::CreateComplete), _) => return Ok(Some(changes)),
                (Some(ChangeSetStatus::Failed), reason) => {
                    if reason.contains("didn't contain changes")
                        || reason.contains("No updates are to be performed")
                    {
                        return Ok(None);
                    }
                    anyhow::bail!("CloudFormation refused change set `{name}`: {reason}");
                }
                _ => {}
            }
            if started.elapsed() > self.timeout {
                return Err(self.timed_out().await.into());
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Deletes a change set that will not be executed, and the empty stack a creating change set
    /// made. Best effort: a leftover change set harms nothing and the next run replaces it.
    pub async fn discard(&self, plan: &Plan) {
        let _ = self
            .cfn
            .delete_change_set()
            .stack_name(&self.stack)
            .change_set_name(&plan.name)
            .send()
            .await;
        if plan.kind == ChangeSetType::Create
            && let Ok(Some(info)) = self.describe(&self.stack).await
            && info.status == "REVIEW_IN_PROGRESS"
        {
            let _ = self.cfn.delete_stack().stack_name(&info.id).send().await;
        }
    }

    /// Deletes the stack (by id or name) and waits until it is gone.
    pub async fn delete(&self, name_or_id: &str) -> Result<()> {
        let since = self.latest_event_id(name_or_id).await?;
        self.cfn
            .delete_stack()
            .stack_name(name_or_id)
            .set_role_arn(self.role_arn.clone())
            .send()
            .await
            .with_context(|| format!("deleting stack `{}`", self.stack))?;
        self.watch(name_or_id, since).await.map(|_| ())
    }

    /// The id of the stack's newest event: events after it belong to the next operation.
    pub async fn latest_event_id(&self, name_or_id: &str) -> Result<Option<String>> {
        match self
            .cfn
            .describe_stack_events()
            .stack_name(name_or_id)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .stack_events()
                .first()
                .and_then(|e| e.event_id())
                .map(ToOwned::to_owned)),
            Err(err) if is_missing_stack(&err) => Ok(None),
            Err(err) => Err(anyhow::Error::new(err))
                .with_context(|| format!("reading the events of stack `{name_or_id}`")),
        }
    }

    /// Events after `since`, oldest first (following older pages while `since` is not found).
    async fn events_after(&self, name_or_id: &str, since: Option<&str>) -> Result<Vec<Event>> {
        let mut fresh: Vec<Event> = Vec::new();
        let mut token = None;
        // Bounded: a page holds 100 events; 20 pages is more than one operation makes.
        for _ in 0..20 {
            let out = match self
                .cfn
                .describe_stack_events()
                .stack_name(name_or_id)
                .set_next_token(token)
                .send()
                .await
            {
                Ok(out) => out,
                Err(err) if is_missing_stack(&err) => return Ok(fresh),
                Err(err) => {
                    return Err(anyhow::Error::new(err))
                        .with_context(|| format!("reading the events of stack `{name_or_id}`"));
                }
            };
            let page: Vec<Event> = out.stack_events().iter().map(event).collect();
            let (mut older, found) = report::events_since(&page, since);
            older.append(&mut fresh);
            fresh = older;
            token = out.next_token().map(ToOwned::to_owned);
            if found || token.is_none() {
                break;
            }
        }
        Ok(fresh)
    }

    /// Streams the stack's events after `since` until it settles; returns the final status if
    /// the operation succeeded, or the failure with its root cause.
    pub async fn watch(&self, name_or_id: &str, since: Option<String>) -> Result<String> {
        let started = Instant::now();
        let mut rows = self.ui.events();
        let mut seen: Vec<Event> = Vec::new();
        let mut last = since;
        let mut settled = false;
        let status = loop {
            let fresh = self.events_after(name_or_id, last.as_deref()).await?;
            for e in &fresh {
                rows.show(e);
            }
            if let Some(newest) = fresh.last() {
                last = Some(newest.id.clone());
            }
            seen.extend(fresh);
            if settled {
                break self.status_of(name_or_id).await?;
            }
            let status = self.status_of(name_or_id).await?;
            if plan::is_settled(&status) {
                // One more read of the events: the last ones may have landed after ours.
                settled = true;
                continue;
            }
            if started.elapsed() > self.timeout {
                rows.finish();
                return Err(self.timed_out().await.into());
            }
            tokio::time::sleep(self.poll).await;
        };
        rows.finish();
        if plan::is_success(&status) {
            return Ok(status);
        }
        let root_cause = report::root_cause(&seen, &self.stack)
            .or(self
                .describe(name_or_id)
                .await
                .ok()
                .flatten()
                .and_then(|s| s.reason))
            .unwrap_or_else(|| "CloudFormation gave no reason".to_owned());
        Err(AwsError::DeployFailed {
            stack: self.stack.clone(),
            status,
            root_cause,
        }
        .into())
    }

    async fn status_of(&self, name_or_id: &str) -> Result<String> {
        Ok(self
            .describe(name_or_id)
            .await?
            .map(|s| s.status)
            .unwrap_or_else(|| "DELETE_COMPLETE".to_owned()))
    }

    async fn timed_out(&self) -> AwsError {
        AwsError::Timeout {
            stack: self.stack.clone(),
            stage: self.stage.clone(),
            status: self.status_of(&self.stack).await.unwrap_or_default(),
            seconds: self.timeout.as_secs(),
        }
    }

    /// The error for a Ctrl-C: where the stack is now (asked in at most ten seconds).
    pub async fn interrupted(&self) -> AwsError {
        let status =
            match tokio::time::timeout(Duration::from_secs(10), self.describe(&self.stack)).await {
                Ok(Ok(Some(info))) => info.status,
                Ok(Ok(None)) => "not created yet".to_owned(),
                _ => "unknown".to_owned(),
            };
        AwsError::Interrupted {
            stack: self.stack.clone(),
            stage: self.stage.clone(),
            status,
        }
    }

    /// The latest events of the stack, oldest first, at most `count`.
    pub async fn recent_events(&self, count: usize) -> Result<Vec<Event>> {
        let mut events = self.events_after(&self.stack, None).await?;
        let skip = events.len().saturating_sub(count);
        Ok(events.split_off(skip))
    }

    /// The physical ids of the stack's resources, by logical id.
    pub async fn resources(&self) -> Result<Vec<(String, String, String)>> {
        let out = self
            .cfn
            .describe_stack_resources()
            .stack_name(&self.stack)
            .send()
            .await
            .with_context(|| format!("listing the resources of stack `{}`", self.stack))?;
        Ok(out
            .stack_resources()
            .iter()
            .map(|r| {
                (
                    r.logical_resource_id().unwrap_or_default().to_owned(),
                    r.resource_type().unwrap_or_default().to_owned(),
                    r.physical_resource_id().unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }
}

/// A change set's name: `prefix` and the time in milliseconds, unique per deploy.
pub(crate) fn change_set_name(prefix: &str) -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    format!("{prefix}-{millis}")
}

/// `request` with `parameters` and `tags`.
pub(crate) fn with_parameters_and_tags<'a>(
    mut request: CreateChangeSetFluentBuilder,
    parameters: impl IntoIterator<Item = (&'a String, &'a String)>,
    tags: &Pairs,
) -> CreateChangeSetFluentBuilder {
    for (key, value) in parameters {
        request = request.parameters(
            Parameter::builder()
                .parameter_key(key)
                .parameter_value(value)
                .build(),
        );
    }
    for (key, value) in tags {
        request = request.tags(Tag::builder().key(key).value(value).build());
    }
    request
}

/// The stack, or `None` when there is none (or only a deleted one) under that name or id.
pub async fn describe(cfn: &Client, name_or_id: &str) -> Result<Option<StackInfo>> {
    let out = match cfn.describe_stacks().stack_name(name_or_id).send().await {
        Ok(out) => out,
        Err(err) if is_missing_stack(&err) => return Ok(None),
        Err(err) => {
            return Err(anyhow::Error::new(err))
                .with_context(|| format!("describing stack `{name_or_id}`"));
        }
    };
    Ok(out.stacks().first().map(stack_info))
}

/// Whether CloudFormation answered "stack does not exist".
fn is_missing_stack<E: ProvideErrorMetadata>(err: &E) -> bool {
    err.code() == Some("ValidationError")
        && err.message().is_some_and(|m| m.contains("does not exist"))
}

fn stack_info(stack: &Stack) -> StackInfo {
    StackInfo {
        id: stack.stack_id().unwrap_or_default().to_owned(),
        status: stack
            .stack_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        reason: stack.stack_status_reason().map(ToOwned::to_owned),
        parameters: stack
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_owned(),
                    p.parameter_value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
        tags: stack
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect(),
        outputs: stack
            .outputs()
            .iter()
            .filter_map(|o| {
                Some((
                    o.output_key()?.to_owned(),
                    o.output_value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
        updated: stack
            .last_updated_time()
            .or(stack.creation_time())
            .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()),
        drift_status: stack
            .drift_information()
            .and_then(|d| d.stack_drift_status())
            .map(|s| s.as_str().to_owned()),
        drift_checked: stack
            .drift_information()
            .and_then(|d| d.last_check_timestamp())
            .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()),
    }
}

fn event(e: &StackEvent) -> Event {
    Event {
        id: e.event_id().unwrap_or_default().to_owned(),
        timestamp: e
            .timestamp()
            .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
            .unwrap_or_default(),
        logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: e.resource_type().unwrap_or_default().to_owned(),
        status: e
            .resource_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        reason: e
            .resource_status_reason()
            .filter(|r| !r.is_empty())
            .map(ToOwned::to_owned),
    }
}

fn change_row(change: &aws_sdk_cloudformation::types::Change) -> Option<Change> {
    let r = change.resource_change()?;
    Some(Change {
        action: r
            .action()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default(),
        logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: r.resource_type().unwrap_or_default().to_owned(),
        replacement: r.replacement().map(|x| x.as_str().to_owned()),
    })
}
