//! Bringing a stage's kept data back: when `up` creates a stage again whose photo bucket, table
//! and user pool `down` kept (see [`crate::kept`]), it imports them into the new stack with a
//! CloudFormation resource import change set before anything else is created, so photos,
//! metadata and users come back intact; the regular update that follows creates the rest around
//! them.
//!
//! An import change set may only import: its template holds the kept resources alone, each with
//! its deletion policy and without the properties that name resources the stack does not have
//! yet (the bucket's notification of the thumbnail function, its CORS origin on the site's
//! distribution). The update puts those back. No name property is added: the table and the pool
//! keep their generated names, which the import names in `ResourcesToImport`.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::types::{ChangeSetType, ResourceToImport};
use serde_json::{Map, Value, json};
use stack::cfn::expr::{collect_conditions, collect_references};

use crate::deploy::{Deployer, change_set_name, with_parameters_and_tags};
use crate::kept::{Kept, listed};
use crate::plan::Desired;
use crate::report;

/// The property that identifies a resource of `kind` in an import.
pub fn identifier(kind: &str) -> Option<&'static str> {
    match kind {
        "AWS::S3::Bucket" => Some("BucketName"),
        "AWS::DynamoDB::Table" => Some("TableName"),
        "AWS::Cognito::UserPool" => Some("UserPoolId"),
        _ => None,
    }
}

/// The template of the import: the `kept` resources of `template` (JSON) alone, with the
/// parameters and conditions they use, and without the properties that refer to anything else.
pub fn import_template(template: &str, kept: &[Kept]) -> Result<String> {
    let full: Value = serde_json::from_str(template).context("reading the stage's template")?;
    let ids: BTreeSet<String> = kept.iter().map(|k| k.logical_id.clone()).collect();
    let parameters = full["Parameters"].as_object().cloned().unwrap_or_default();
    let conditions = full["Conditions"].as_object().cloned().unwrap_or_default();
    let mut resources = Map::new();
    let (mut used_params, mut used_conditions) = (BTreeSet::new(), BTreeSet::new());
    for k in kept {
        let Some(resource) = full["Resources"].get(&k.logical_id) else {
            bail!(
                "the stage's template has no `{}` to adopt {} `{}` as",
                k.logical_id,
                k.resource_type,
                k.physical_id
            );
        };
        if resource["Type"] != k.resource_type.as_str() {
            bail!(
                "`{}` is a {} in the stage's template, not a {}",
                k.logical_id,
                resource["Type"],
                k.resource_type
            );
        }
        let mut properties = Map::new();
        for (name, value) in resource["Properties"].as_object().into_iter().flatten() {
            let mut refs = BTreeSet::new();
            collect_references(value, &mut refs);
            let resolvable = refs
                .iter()
                .all(|r| ids.contains(r) || parameters.contains_key(r));
            if resolvable {
                used_params.extend(refs.into_iter().filter(|r| parameters.contains_key(r)));
                collect_conditions(value, &mut used_conditions);
                properties.insert(name.clone(), value.clone());
            }
        }
        let mut out = json!({
            "Type": k.resource_type,
            // An import needs a deletion policy on every resource it brings in.
            "DeletionPolicy": resource.get("DeletionPolicy").cloned().unwrap_or(json!("Retain")),
            "Properties": properties,
        });
        if let Some(p) = resource.get("UpdateReplacePolicy") {
            out["UpdateReplacePolicy"] = p.clone();
        }
        resources.insert(k.logical_id.clone(), out);
    }
    let mut kept_conditions = Map::new();
    for name in &used_conditions {
        let Some(c) = conditions.get(name) else {
            bail!("the stage's template has no condition `{name}`");
        };
        collect_references(c, &mut used_params);
        kept_conditions.insert(name.clone(), c.clone());
    }
    let kept_parameters: Map<String, Value> = parameters
        .into_iter()
        .filter(|(name, _)| used_params.contains(name))
        .collect();
    let mut out = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": full["Description"],
        "Resources": resources,
    });
    if !kept_parameters.is_empty() {
        out["Parameters"] = Value::Object(kept_parameters);
    }
    if !kept_conditions.is_empty() {
        out["Conditions"] = Value::Object(kept_conditions);
    }
    Ok(serde_json::to_string_pretty(&out).expect("JSON values serialize"))
}

/// Imports `kept` into the stack of `deployer`, which does not exist yet, with the parameters
/// and tags of `desired`; the stack's final status (`IMPORT_COMPLETE`).
pub async fn import(deployer: &Deployer, desired: &Desired, kept: &[Kept]) -> Result<String> {
    let template = import_template(&desired.template, kept)?;
    let declared: Value = serde_json::from_str(&template).expect("written just above");
    let name = change_set_name("deployer-import");
    let stack = &deployer.stack;
    let mut request = deployer
        .cloudformation()
        .create_change_set()
        .stack_name(stack)
        .change_set_name(&name)
        .change_set_type(ChangeSetType::Import)
        .description("deployer up: adopt the data the stage kept")
        .set_role_arn(deployer.role_arn.clone())
        .template_body(&template);
    // Only the parameters the import template declares.
    let parameters = desired
        .parameters
        .iter()
        .filter(|(key, _)| declared["Parameters"].get(key.as_str()).is_some());
    request = with_parameters_and_tags(request, parameters, &desired.tags);
    for k in kept {
        let id = identifier(&k.resource_type)
            .with_context(|| format!("the deployer does not adopt a {}", k.resource_type))?;
        request = request.resources_to_import(
            ResourceToImport::builder()
                .resource_type(&k.resource_type)
                .logical_resource_id(&k.logical_id)
                .resource_identifier(id, &k.physical_id)
                .build(),
        );
    }
    request
        .send()
        .await
        .with_context(|| format!("creating the import change set of stack `{stack}`"))?;
    let changes = deployer
        .wait_for_change_set(&name)
        .await?
        .with_context(|| format!("the import change set of stack `{stack}` imports nothing"))?;
    deployer
        .ui
        .line(report::render_changes(&changes).trim_end());
    let since = deployer.latest_event_id(stack).await?;
    deployer
        .cloudformation()
        .execute_change_set()
        .stack_name(stack)
        .change_set_name(&name)
        .send()
        .await
        .with_context(|| format!("executing change set `{name}`"))?;
    let status = deployer.watch(stack, since).await?;
    deployer.ui.line(&format!(
        "adopted {} (stack `{stack}` is {status})",
        listed(kept)
    ));
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(id: &str, kind: &str, physical: &str) -> Kept {
        Kept {
            logical_id: id.to_owned(),
            resource_type: kind.to_owned(),
            physical_id: physical.to_owned(),
        }
    }

    #[test]
    fn the_import_template_holds_the_kept_resources_alone() {
        let config =
            stack::StageConfig::with_defaults("dev".parse().unwrap(), "eu-west-1".parse().unwrap());
        let full = stack::app::photo_app(&config).unwrap().to_json();
        let all = [
            kept(
                "PhotoBucket",
                "AWS::S3::Bucket",
                "photo-app-dev-photos-123456789012-eu-west-1",
            ),
            kept(
                "PhotoTable",
                "AWS::DynamoDB::Table",
                "photo-app-dev-PhotoTable-1A2B3C",
            ),
            kept("UserPool", "AWS::Cognito::UserPool", "eu-west-1_AbCdEf123"),
        ];
        let t: Value = serde_json::from_str(&import_template(&full, &all).unwrap()).unwrap();
        let ids: Vec<&String> = t["Resources"].as_object().unwrap().keys().collect();
        assert_eq!(ids, ["PhotoBucket", "PhotoTable", "UserPool"]);
        let full: Value = serde_json::from_str(&full).unwrap();
        for id in ids {
            let (r, was) = (&t["Resources"][id], &full["Resources"][id]);
            assert_eq!(r["DeletionPolicy"], "RetainExceptOnCreate", "{id}");
            assert_eq!(r["UpdateReplacePolicy"], "Retain", "{id}");
            // Whatever stays is as the stage's template has it.
            for (name, value) in r["Properties"].as_object().unwrap() {
                assert_eq!(value, &was["Properties"][name], "{id}.{name}");
            }
        }
        let bucket = &t["Resources"]["PhotoBucket"]["Properties"];
        assert!(
            bucket.get("BucketName").is_some(),
            "the bucket's own name stays"
        );
        assert!(bucket.get("NotificationConfiguration").is_none());
        assert!(bucket.get("CorsConfiguration").is_none());
        let table = &t["Resources"]["PhotoTable"]["Properties"];
        assert!(
            table.get("TableName").is_none(),
            "no name property is added"
        );
        assert!(table.get("KeySchema").is_some());
        assert_eq!(
            table["DeletionProtectionEnabled"],
            json!({"Fn::If": ["DataProtected", true, false]})
        );
        // Everything referred to is in the import template.
        assert!(t["Conditions"].get("DataProtected").is_some());
        assert!(t["Parameters"].get("DataProtection").is_some());
        assert_eq!(t["Parameters"].as_object().unwrap().len(), 1);
        let mut refs = BTreeSet::new();
        collect_references(&t["Resources"], &mut refs);
        collect_references(&t["Conditions"], &mut refs);
        for r in refs {
            assert!(
                t["Resources"].get(&r).is_some() || t["Parameters"].get(&r).is_some(),
                "`{r}` is not in the import template"
            );
        }

        let err = import_template(&full.to_string(), &[kept("Nope", "AWS::S3::Bucket", "b")])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the stage's template has no `Nope` to adopt AWS::S3::Bucket `b` as"
        );
        assert_eq!(identifier("AWS::SQS::Queue"), None);
    }
}
