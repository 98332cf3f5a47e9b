//! `deployer status`: where a stage's stack stands, what `watch` changed beside it, its media
//! signing keys, its latest events and, with `--drift`, what changed outside CloudFormation.

use std::path::Path;

use anyhow::{Context as _, Result};

use crate::args::{AwsArgs, StatusArgs};
use crate::media_key::{self, KeyStore};
use crate::{drift, hot, on_stack, plan};

/// `deployer status`: the stack's state, its latest events and, when blocked, the next step;
/// with `--drift`, a drift detection's result ([`drift`]). `--json` prints one object: `stack`,
/// `exists`, `status`, `reason`, `updated`, `account`, `region`, `next_step`, and with
/// `--drift` a `drift` object ([`drift::report_json`]).
pub fn status(config_file: &Path, args: &StatusArgs, aws: &AwsArgs) -> Result<()> {
    on_stack(
        config_file,
        &args.stage,
        aws,
        async |stage, session, deployer| {
            let info = deployer.describe(&deployer.stack).await?;
            let next_step = info.as_ref().and_then(|info| {
                match plan::start_from(
                    Some(&info.status),
                    stage.name.as_str(),
                    &deployer.stack,
                    &session.region,
                ) {
                    plan::Start::Blocked(next_step) => Some(next_step),
                    _ => None,
                }
            });
            if args.json {
                let mut value = serde_json::json!({
                    "stack": deployer.stack,
                    "exists": info.is_some(),
                    "status": info.as_ref().map(|i| &i.status),
                    "reason": info.as_ref().and_then(|i| i.reason.as_ref()),
                    "updated": info.as_ref().and_then(|i| i.updated.as_ref()),
                    "account": session.account_id,
                    "region": session.region,
                    "next_step": next_step,
                });
                if let Some(info) = &info {
                    let lag = hot::lag(session, &deployer.stack, &info.parameters).await?;
                    value["hot_updates"] = lag
                        .iter()
                        .map(|(code, stack)| {
                            serde_json::json!({
                                "function": code.function,
                                "running": code.key,
                                "since": code.at,
                                "stack_parameter": stack,
                            })
                        })
                        .collect();
                }
                let keys = KeyStore::new(session, &deployer.stack).load().await?;
                value["media_keys"] = serde_json::to_value(&keys).context("the media keys")?;
                if args.drift {
                    let report = deployer
                        .detect_drift(drift::DriftWait::within(deployer.timeout))
                        .await?;
                    value["drift"] = drift::report_json(&report);
                }
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).context("writing the status as JSON")?
                );
                return Ok(());
            }
            let Some(info) = info else {
                if args.drift {
                    // The one-line error of a detection on a missing stack.
                    deployer
                        .detect_drift(drift::DriftWait::within(deployer.timeout))
                        .await?;
                }
                println!(
                    "stack `{}` does not exist in {} (account {}): `deployer up --stage {}` creates it",
                    deployer.stack, session.region, session.account_id, stage.name
                );
                return Ok(());
            };
            println!("stack    {}", deployer.stack);
            println!("status   {}", info.status);
            if let Some(reason) = &info.reason {
                println!("reason   {reason}");
            }
            if let Some(updated) = &info.updated {
                println!("updated  {updated}");
            }
            println!("account  {}  region {}", session.account_id, session.region);
            let lag = hot::lag(session, &deployer.stack, &info.parameters).await?;
            if !lag.is_empty() {
                println!(
                    "hot updates by `deployer watch`: the stack's code parameters lag behind until \
                     the next `deployer up --stage {}`",
                    stage.name
                );
                for (code, stack) in &lag {
                    println!(
                        "  {} runs {} since {} (the stack names {})",
                        code.function,
                        code.key,
                        code.at,
                        stack.as_deref().unwrap_or("no code")
                    );
                }
            }
            if let Some(keys) = KeyStore::new(session, &deployer.stack).load().await? {
                println!("media    {}", keys.describe(media_key::unix_now()));
            }
            let events = deployer.recent_events(10).await?;
            if !events.is_empty() {
                println!("latest events:");
                for e in &events {
                    println!("  {}", e.line());
                }
            }
            if let Some(next_step) = next_step {
                println!("next step: {next_step}");
            }
            if args.drift {
                deployer.ui.line(&format!(
                    "detecting drift on stack `{}` (tens of seconds)...",
                    deployer.stack
                ));
                let report = deployer
                    .detect_drift(drift::DriftWait::within(deployer.timeout))
                    .await?;
                print!("{}", drift::render_report(&report));
            }
            Ok(())
        },
    )
}
