//! Hot updates: `deployer watch --stage NAME` puts a function's new code in place with Lambda's
//! `UpdateFunctionCode` when nothing but function code changed, in seconds instead of a change
//! set's minutes.
//!
//! A hot update leaves the stack behind: its code parameters still name the zips it was deployed
//! with. So each hot update is recorded, in the artifact bucket at [`record_key`] (which function
//! runs which zip, and since when); `status` shows the lag, and the next `up` reconciles it: its
//! change set moves the parameters to the zips it deploys, it puts back with `UpdateFunctionCode`
//! the code of any function the change set leaves alone while a hot update changed it (code
//! edited and then reverted), and it deletes the record, saying so. While a record exists, the
//! code a function runs is the record's zip, not the stack's, and hot updates compare with that.

use std::path::Path;

use anyhow::{Context as _, Result};
use photo_contract::functions::{FUNCTIONS, Function, by_name};
use serde::{Deserialize, Serialize};
use stack::config::StageConfig;

use crate::args::{ArtifactArgs, AwsArgs};
use crate::deploy::{Deployer, Outcome};
use crate::plan::{Deployed, Desired, Pairs};
use crate::ui::Ui;
use crate::{Prepared, Session, artifacts, load_stage, plan, quota, with_prepared};

/// One function's code put in place by a hot update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotCode {
    /// The function, as the contract names it (`api`, `thumbnail`).
    pub function: String,
    /// The zip's key in the artifact bucket.
    pub key: String,
    /// When, as an RFC 3339 UTC time.
    pub at: String,
}

/// The hot updates a stack's functions run, newest per function.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub functions: Vec<HotCode>,
}

impl Record {
    /// Notes that `function` now runs `key`.
    pub fn set(&mut self, function: &str, key: &str, at: String) {
        self.functions.retain(|c| c.function != function);
        self.functions.push(HotCode {
            function: function.to_owned(),
            key: key.to_owned(),
            at,
        });
        self.functions.sort_by(|a, b| a.function.cmp(&b.function));
    }

    /// The stack's parameters as the functions really run: those of the record replace the
    /// stack's code parameters.
    pub fn running(&self, parameters: &Pairs) -> Pairs {
        let mut running = parameters.clone();
        for code in &self.functions {
            if let Some(f) = by_name(&code.function) {
                running.insert(f.code_parameter.to_owned(), code.key.clone());
            }
        }
        running
    }

    /// The functions whose running code differs from what `parameters` name, with the key the
    /// parameters name: what the stack says against what runs.
    pub fn lagging<'a>(&'a self, parameters: &Pairs) -> Vec<(&'a HotCode, Option<String>)> {
        self.functions
            .iter()
            .filter_map(|code| {
                let f = by_name(&code.function)?;
                let stack = parameters.get(f.code_parameter).cloned();
                (stack.as_deref() != Some(code.key.as_str())).then_some((code, stack))
            })
            .collect()
    }
}

/// Where a stack's record lives in the artifact bucket.
pub fn record_key(stack: &str) -> String {
    format!("watch/{stack}.json")
}

/// What deploying `desired` over `deployed` (running `record`) takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing: the functions run the desired code and the stack is as desired.
    Nothing,
    /// Only these functions' code: each with the zip it should run.
    Code(Vec<(Function, String)>),
    /// Anything else: a change set, as `up` makes.
    Stack,
}

/// Compares the desired stack with the deployed one and the code its functions run.
pub fn change(desired: &Desired, deployed: &Deployed, record: &Record) -> Change {
    let running = record.running(&deployed.parameters);
    let deployed = Deployed {
        parameters: running.clone(),
        ..deployed.clone()
    };
    if plan::unchanged(desired, &deployed) {
        return Change::Nothing;
    }
    let code_parameters: Vec<&str> = FUNCTIONS.iter().map(|f| f.code_parameter).collect();
    let without_code = |p: &Pairs| -> Pairs {
        p.iter()
            .filter(|(k, _)| !code_parameters.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let same_rest = Desired {
        parameters: without_code(&desired.parameters),
        ..desired.clone()
    };
    let deployed_rest = Deployed {
        parameters: without_code(&running),
        ..deployed
    };
    if !plan::unchanged(&same_rest, &deployed_rest) {
        return Change::Stack;
    }
    let code: Vec<(Function, String)> = FUNCTIONS
        .iter()
        .filter_map(|f| {
            let want = desired.parameters.get(f.code_parameter)?;
            (running.get(f.code_parameter) != Some(want)).then(|| (*f, want.clone()))
        })
        .collect();
    if code.is_empty() {
        Change::Stack
    } else {
        Change::Code(code)
    }
}

/// Reads the stack's record; none is an empty one.
pub async fn read_record(s3: &aws_sdk_s3::Client, bucket: &str, stack: &str) -> Result<Record> {
    let key = record_key(stack);
    match s3.get_object().bucket(bucket).key(&key).send().await {
        Ok(out) => {
            let bytes = out
                .body
                .collect()
                .await
                .with_context(|| format!("reading `{key}` from `{bucket}`"))?
                .into_bytes();
            serde_json::from_slice(&bytes)
                .with_context(|| format!("`{key}` in `{bucket}` is not a record of hot updates"))
        }
        // No record, or no artifact bucket yet: no hot update either.
        Err(err)
            if matches!(
                aws_sdk_s3::error::ProvideErrorMetadata::code(&err),
                Some("NoSuchKey" | "NoSuchBucket")
            ) =>
        {
            Ok(Record::default())
        }
        Err(err) => {
            Err(anyhow::Error::new(err)).with_context(|| format!("reading `{key}` from `{bucket}`"))
        }
    }
}

/// Writes the stack's record (an empty record deletes it).
pub async fn write_record(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    stack: &str,
    record: &Record,
) -> Result<()> {
    let key = record_key(stack);
    if record.functions.is_empty() {
        s3.delete_objects()
            .bucket(bucket)
            .delete(
                aws_sdk_s3::types::Delete::builder()
                    .objects(
                        aws_sdk_s3::types::ObjectIdentifier::builder()
                            .key(&key)
                            .build()
                            .context("naming the record")?,
                    )
                    .build()
                    .context("naming the record")?,
            )
            .send()
            .await
            .with_context(|| format!("deleting `{key}` from `{bucket}`"))?;
        return Ok(());
    }
    let body = serde_json::to_vec_pretty(record).context("writing the record")?;
    s3.put_object()
        .bucket(bucket)
        .key(&key)
        .content_type("application/json")
        .body(body.into())
        .send()
        .await
        .with_context(|| format!("writing `{key}` to `{bucket}`"))?;
    Ok(())
}

/// Puts `key` of `bucket` in place as the code of the stack's function `function`.
pub async fn update_code(
    lambda: &aws_sdk_lambda::Client,
    deployer: &Deployer,
    function: &Function,
    bucket: &str,
    key: &str,
) -> Result<()> {
    let resources = deployer.resources().await?;
    let name = resources
        .iter()
        .find(|(logical, _, _)| logical == function.logical_id)
        .map(|(_, _, physical)| physical.clone())
        .filter(|p| !p.is_empty())
        .with_context(|| {
            format!(
                "stack `{}` has no function `{}`",
                deployer.stack, function.logical_id
            )
        })?;
    lambda
        .update_function_code()
        .function_name(&name)
        .s3_bucket(bucket)
        .s3_key(key)
        .send()
        .await
        .with_context(|| format!("updating the code of function `{name}`"))?;
    // Lambda switches to the new code in the background: done when the update has finished.
    for _ in 0..UPDATE_POLLS {
        let config = lambda
            .get_function_configuration()
            .function_name(&name)
            .send()
            .await
            .with_context(|| format!("reading the state of function `{name}`"))?;
        match config.last_update_status() {
            Some(aws_sdk_lambda::types::LastUpdateStatus::InProgress) => {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            Some(aws_sdk_lambda::types::LastUpdateStatus::Failed) => anyhow::bail!(
                "Lambda could not update the code of function `{name}`: {}",
                config
                    .last_update_status_reason()
                    .unwrap_or("no reason given")
            ),
            _ => return Ok(()),
        }
    }
    anyhow::bail!(
        "the code update of function `{name}` was still in progress after {UPDATE_POLLS} s"
    )
}

/// How many seconds a code update may take to finish.
const UPDATE_POLLS: u32 = 120;

/// Now, as the record writes it: RFC 3339, UTC.
pub fn now() -> String {
    use aws_sdk_s3::primitives::{DateTime, DateTimeFormat};
    DateTime::from(std::time::SystemTime::now())
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default()
}

/// After a deploy of `desired`: the functions that hot updates of `deployer watch` changed run
/// the code the stack's parameters now name (a change set moved the parameters; a function whose
/// parameter did not move gets its code back with `UpdateFunctionCode`), and the record goes.
/// Returns the line saying so, or `None` when there was no hot update.
pub(crate) async fn reconcile(
    session: &Session,
    deployer: &Deployer,
    desired: &Desired,
) -> Result<Option<String>> {
    let s3 = session.s3();
    let bucket = artifacts::bucket_name(&session.account_id, &session.region);
    let record = read_record(&s3, &bucket, &deployer.stack).await?;
    if record.functions.is_empty() {
        return Ok(None);
    }
    for code in &record.functions {
        let Some(f) = by_name(&code.function) else {
            continue;
        };
        if let Some(want) = desired.parameters.get(f.code_parameter)
            && *want != code.key
        {
            update_code(&session.lambda(), deployer, &f, &bucket, want).await?;
        }
    }
    write_record(&s3, &bucket, &deployer.stack, &Record::default()).await?;
    let names: Vec<&str> = record
        .functions
        .iter()
        .map(|c| c.function.as_str())
        .collect();
    Ok(Some(format!(
        "reconciled the hot updates of `deployer watch` ({}): the stack's code parameters name \
         the code its functions run",
        names.join(", ")
    )))
}

/// The functions hot updates changed, each with what the stack's parameter names instead.
pub(crate) async fn lag(
    session: &Session,
    stack: &str,
    parameters: &Pairs,
) -> Result<Vec<(HotCode, Option<String>)>> {
    let bucket = artifacts::bucket_name(&session.account_id, &session.region);
    let record = read_record(&session.s3(), &bucket, stack).await?;
    Ok(record
        .lagging(parameters)
        .into_iter()
        .map(|(code, stack)| (code.clone(), stack))
        .collect())
}

/// One round of `deployer watch --stage NAME` on an AWS stage: builds the functions (or reads
/// `--artifacts-dir`), uploads what is missing, and then, when only function code differs from
/// what runs, updates those functions' code directly and records it; when anything
/// else differs, deploys through a change set as `up` does (the SPA is not published). A
/// protected stage is refused.
pub fn hot_up(
    config_file: &Path,
    stage: &str,
    artifacts: &ArtifactArgs,
    aws: &AwsArgs,
) -> Result<()> {
    let work = async |stage: &StageConfig,
                      session: &Session,
                      deployer: &Deployer,
                      prepared: Prepared| {
        refuse_protected(stage)?;
        let s3 = session.s3();
        let bucket = artifacts::bucket_name(&session.account_id, &session.region);
        let mut record = read_record(&s3, &bucket, &deployer.stack).await?;
        let change = match deployer.describe(&deployer.stack).await? {
            Some(info) if plan::is_success(&info.status) => {
                let deployed = deployer.deployed(&info).await?;
                change(&prepared.desired, &deployed, &record)
            }
            _ => Change::Stack,
        };
        match change {
            Change::Nothing => {
                println!(
                    "no changes: stack `{}` and its functions are up to date",
                    deployer.stack
                );
            }
            Change::Code(code) => {
                for (f, key) in code {
                    let started = std::time::Instant::now();
                    update_code(&session.lambda(), deployer, &f, &bucket, &key).await?;
                    record.set(f.name, &key, now());
                    write_record(&s3, &bucket, &deployer.stack, &record).await?;
                    println!(
                        "hot update: function `{}` runs `{key}` ({:.1} s; the stack's parameter \
                         lags until the next `deployer up`)",
                        f.name,
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            Change::Stack => {
                match quota::checking(deployer, session, stage)
                    .deploy(&prepared.desired, &prepared.source, None)
                    .await?
                {
                    Outcome::NoChanges => {
                        println!("no changes: stack `{}` is up to date", deployer.stack);
                    }
                    Outcome::Deployed { status, changes } => println!(
                        "stack `{}` is {status} ({} resource changes)",
                        deployer.stack,
                        changes.len()
                    ),
                }
                if let Some(line) = reconcile(session, deployer, &prepared.desired).await? {
                    deployer.ui.line(&line);
                }
                crate::media_key::after_deploy(session, deployer, &prepared.keys).await?;
            }
        }
        Ok(())
    };
    with_prepared(config_file, stage, artifacts, aws, Ui::detect(), true, work)
}

/// `deployer watch` changes code without a change set or a question: never on a protected stage.
fn refuse_protected(stage: &StageConfig) -> Result<()> {
    if stage.protected {
        anyhow::bail!(
            "stage `{}` is protected: `deployer watch` does not change it; deploy it with \
             `deployer up --stage {}`",
            stage.name,
            stage.name
        );
    }
    Ok(())
}

/// Checks, before any build, that `deployer watch` may change stage `name`.
pub fn check_watchable(config_file: &Path, name: &str, aws: &AwsArgs) -> Result<()> {
    refuse_protected(&load_stage(config_file, name, aws)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::pairs;

    fn desired(template: &str, api: &str, thumb: &str) -> Desired {
        Desired {
            template: template.to_owned(),
            parameters: pairs(&[
                ("ArtifactBucket", "b"),
                ("ApiCodeKey", api),
                ("ThumbnailCodeKey", thumb),
            ]),
            tags: pairs(&[("stage", "dev")]),
        }
    }

    fn deployed(template: &str, api: &str, thumb: &str) -> Deployed {
        let d = desired(template, api, thumb);
        Deployed {
            status: "UPDATE_COMPLETE".into(),
            template: d.template,
            parameters: d.parameters,
            tags: d.tags,
        }
    }

    #[test]
    fn only_code_changes_are_hot() {
        let none = Record::default();
        let stack = deployed(r#"{"a": 1}"#, "api-1", "th-1");
        assert_eq!(
            change(&desired(r#"{"a":1}"#, "api-1", "th-1"), &stack, &none),
            Change::Nothing
        );
        let Change::Code(code) = change(&desired(r#"{"a":1}"#, "api-2", "th-1"), &stack, &none)
        else {
            panic!("a code change is hot")
        };
        assert_eq!(
            code.iter()
                .map(|(f, k)| (f.name, k.as_str()))
                .collect::<Vec<_>>(),
            [("api", "api-2")]
        );
        // The template, another parameter or the tags: a change set.
        assert_eq!(
            change(&desired(r#"{"a":2}"#, "api-2", "th-1"), &stack, &none),
            Change::Stack
        );
        let mut other = desired(r#"{"a":1}"#, "api-2", "th-1");
        other.parameters.insert("ArtifactBucket".into(), "c".into());
        assert_eq!(change(&other, &stack, &none), Change::Stack);
        let mut tagged = desired(r#"{"a":1}"#, "api-2", "th-1");
        tagged.tags.insert("x".into(), "y".into());
        assert_eq!(change(&tagged, &stack, &none), Change::Stack);
    }

    #[test]
    fn a_record_is_what_runs_and_what_lags() {
        let stack = deployed(r#"{"a":1}"#, "api-1", "th-1");
        let mut record = Record::default();
        record.set("api", "api-2", "t1".into());
        // api-2 already runs: nothing to do; reverting to api-1 is a hot update too.
        assert_eq!(
            change(&desired(r#"{"a":1}"#, "api-2", "th-1"), &stack, &record),
            Change::Nothing
        );
        assert!(matches!(
            change(&desired(r#"{"a":1}"#, "api-1", "th-1"), &stack, &record),
            Change::Code(c) if c.len() == 1 && c[0].1 == "api-1"
        ));
        let lag = record.lagging(&stack.parameters);
        assert_eq!(lag.len(), 1);
        assert_eq!(
            (lag[0].0.key.as_str(), lag[0].1.as_deref()),
            ("api-2", Some("api-1"))
        );
        record.set("api", "api-3", "t2".into());
        assert_eq!(record.functions.len(), 1, "one entry per function");
        assert!(
            record
                .lagging(&pairs(&[("ApiCodeKey", "api-3")]))
                .is_empty()
        );
    }
}
