//! The stage's synthesized template as moto can deploy it.
//!
//! moto cannot create every resource type of the stack, and refuses a template that refers to
//! one it skipped. [`for_moto`] takes those resources out and replaces every reference to them
//! (`Ref`, `Fn::GetAtt`, `${Id}` and `${Id.Attr}` in `Fn::Sub`, `DependsOn`) with a placeholder
//! string, so the rest deploys. It takes the template as JSON, so testkit does not depend on
//! `stack`: a test synthesizes, this trims.

use std::collections::HashSet;

use serde_json::Value;

/// The resource types of the stack moto 5 has no CloudFormation model for.
pub const MOTO_CANNOT_CREATE: [&str; 13] = [
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
    "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::S3::BucketPolicy",
];

/// The placeholder a reference to the removed resource `id` becomes.
pub fn placeholder(id: &str) -> String {
    format!("{id}-not-in-moto")
}

/// `template` without the resources moto cannot create; references to them become
/// [`placeholder`] strings. A template without `Resources` is returned as it is.
pub fn for_moto(mut template: Value) -> Value {
    // `get_mut`, not indexing: indexing a missing key would add it as `null`.
    let Some(resources) = template.get_mut("Resources").and_then(Value::as_object_mut) else {
        return template;
    };
    let removed: HashSet<String> = resources
        .iter()
        .filter(|(_, r)| {
            r["Type"]
                .as_str()
                .is_some_and(|t| MOTO_CANNOT_CREATE.contains(&t))
        })
        .map(|(id, _)| id.clone())
        .collect();
    resources.retain(|id, _| !removed.contains(id));
    replace_references(&mut template, &removed);
    template
}

fn replace_references(value: &mut Value, removed: &HashSet<String>) {
    match value {
        Value::Object(map) => {
            let referenced = match (map.get("Ref"), map.get("Fn::GetAtt")) {
                (Some(Value::String(id)), _) => Some(id.as_str()),
                (_, Some(Value::Array(att))) => att.first().and_then(Value::as_str),
                _ => None,
            };
            if let Some(text) = referenced
                .filter(|id| removed.contains(*id))
                .map(placeholder)
            {
                *value = Value::String(text);
                return;
            }
            if let Some(Value::Array(deps)) = map.get_mut("DependsOn") {
                deps.retain(|d| !d.as_str().is_some_and(|d| removed.contains(d)));
            }
            if let Some(Value::String(d)) = map.get("DependsOn")
                && removed.contains(d)
            {
                map.remove("DependsOn");
            }
            match map.get_mut("Fn::Sub") {
                Some(Value::String(text)) => *text = substitute(text, removed),
                Some(Value::Array(parts)) => {
                    if let Some(Value::String(text)) = parts.first_mut() {
                        *text = substitute(text, removed);
                    }
                }
                _ => {}
            }
            for v in map.values_mut() {
                replace_references(v, removed);
            }
        }
        Value::Array(items) => {
            for v in items {
                replace_references(v, removed);
            }
        }
        _ => {}
    }
}

/// Replaces `${Id}` and `${Id.Attr}` of removed resources in a `Fn::Sub` string.
fn substitute(text: &str, removed: &HashSet<String>) -> String {
    let mut out = text.to_owned();
    for id in removed {
        let pattern = format!("${{{id}");
        let mut from = 0;
        while let Some(found) = out[from..].find(&pattern) {
            let start = from + found;
            let Some(len) = out[start..].find('}') else {
                break;
            };
            let end = start + len;
            let name = &out[start + 2..end];
            if name == id.as_str() || name.starts_with(&format!("{id}.")) {
                out.replace_range(start..=end, &placeholder(id));
            } else {
                from = end;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn moto_templates_lose_what_moto_cannot_create() {
        let template = json!({"Resources": {
            "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}},
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {}},
            "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": ["Api"], "Properties": {
                "A": {"Ref": "Api"}, "B": {"Fn::GetAtt": ["Api", "ApiEndpoint"]},
                "C": {"Fn::Sub": "${Api}/x/${Api.ApiEndpoint}/${Fn}/${ApiX}"},
                "D": {"Fn::Sub": ["${Api}-${Y}", {"Y": {"Ref": "Fn"}}]}}},
            "Other": {"Type": "AWS::SQS::Queue", "DependsOn": "Alarm"}}});
        assert_eq!(
            for_moto(template),
            json!({"Resources": {
                "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": [], "Properties": {
                    "A": "Api-not-in-moto", "B": "Api-not-in-moto",
                    "C": {"Fn::Sub": "Api-not-in-moto/x/Api-not-in-moto/${Fn}/${ApiX}"},
                    "D": {"Fn::Sub": ["Api-not-in-moto-${Y}", {"Y": {"Ref": "Fn"}}]}}},
                "Other": {"Type": "AWS::SQS::Queue"}}})
        );
        assert_eq!(for_moto(json!({"x": 1})), json!({"x": 1}));
    }
}
