//! Acceptance tests of the synthesized template: golden files, determinism, YAML, no cycles.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;
use stack::cfn::expr::sub_names;

fn golden(stage: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{stage}.json"))
}

#[test]
fn templates_match_the_golden_files() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    for (stage, config) in common::stages() {
        let actual = common::synth(&config);
        let path = golden(stage);
        if update {
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            expected == actual,
            "`{}` differs from the synthesized `{stage}` template; review the diff and \
             rerun with UPDATE_EXPECT=1 to accept it\n--- first differing line ---\n{}",
            path.display(),
            expected
                .lines()
                .zip(actual.lines())
                .enumerate()
                .find(|(_, (e, a))| e != a)
                .map(|(i, (e, a))| format!("line {}:\n- {e}\n+ {a}", i + 1))
                .unwrap_or_else(|| "(one is a prefix of the other)".to_owned())
        );
    }
}

#[test]
fn synthesis_is_deterministic() {
    for (_, config) in common::stages() {
        let a = stack::app::photo_app(&config).unwrap();
        let b = stack::app::photo_app(&config).unwrap();
        assert_eq!(a.to_json(), b.to_json());
        assert_eq!(a.to_yaml(), b.to_yaml());
    }
}

#[test]
fn yaml_and_json_carry_the_same_template() {
    for (_, config) in common::stages() {
        let t = stack::app::photo_app(&config).unwrap();
        let from_json: Value = serde_json::from_str(&t.to_json()).unwrap();
        let from_yaml: Value = serde_yaml::from_str(&t.to_yaml()).unwrap();
        assert_eq!(from_json, from_yaml);
    }
}

/// Every logical id a value points at through `Ref`, `Fn::GetAtt` and `Fn::Sub`.
fn refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        Value::Object(map) => {
            for (key, arg) in map {
                match (key.as_str(), arg) {
                    ("Ref", Value::String(s)) => {
                        out.insert(s.clone());
                    }
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        out.insert(parts[0].as_str().unwrap().to_owned());
                    }
                    ("Fn::Sub", Value::String(s)) => {
                        out.extend(sub_names(s).map(str::to_owned));
                    }
                    ("Fn::Sub", Value::Array(parts)) => {
                        let bound: BTreeSet<&String> =
                            parts[1].as_object().unwrap().keys().collect();
                        let s = parts[0].as_str().unwrap();
                        out.extend(
                            sub_names(s)
                                .filter(|n| !bound.contains(&n.to_string()))
                                .map(str::to_owned),
                        );
                        refs(&parts[1], out);
                    }
                    _ => refs(arg, out),
                }
            }
        }
        _ => {}
    }
}

/// The dependency graph between resources, read from the template JSON alone.
fn graph(template: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let resources = template["Resources"].as_object().unwrap();
    resources
        .iter()
        .map(|(id, res)| {
            let mut deps = BTreeSet::new();
            refs(res, &mut deps);
            match &res["DependsOn"] {
                Value::String(s) => {
                    deps.insert(s.clone());
                }
                Value::Array(a) => deps.extend(a.iter().map(|v| v.as_str().unwrap().to_owned())),
                _ => {}
            }
            deps.retain(|d| resources.contains_key(d));
            (id.clone(), deps)
        })
        .collect()
}

/// A cycle in `graph`, if there is one (depth-first search with colours).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in &graph[node] {
            if let Some(cycle) = visit(next, graph, done, path) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut done, &mut Vec::new()))
}

#[test]
fn cycle_detection_finds_the_classic_trap() {
    // The detector itself must be able to fail: bucket -> function -> role -> bucket.
    let trap = serde_json::json!({"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"N": {"Fn::GetAtt": ["Fn", "Arn"]}}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"R": {"Fn::Sub": "${Bucket.Arn}/*"}}}
    }});
    let cycle = find_cycle(&graph(&trap)).expect("a cycle");
    assert_eq!(cycle, ["Bucket", "Fn", "Role", "Bucket"]);
}

#[test]
fn templates_have_no_dependency_cycle() {
    for (stage, config) in common::stages() {
        let v: Value = serde_json::from_str(&common::synth(&config)).unwrap();
        let g = graph(&v);
        assert!(g["PhotoBucket"].contains("ThumbnailFunction"), "{stage}");
        assert_eq!(find_cycle(&g), None, "{stage}");
    }
}

#[test]
fn tokens_live_fifteen_minutes_and_refresh_tokens_can_be_revoked() {
    for (stage, config) in common::stages() {
        let template: Value = serde_json::from_str(&common::synth(&config)).unwrap();
        let clients: Vec<&Value> = template["Resources"]
            .as_object()
            .unwrap()
            .values()
            .filter(|r| r["Type"] == "AWS::Cognito::UserPoolClient")
            .collect();
        assert_eq!(clients.len(), 1, "{stage}");
        let p = &clients[0]["Properties"];
        assert_eq!(
            (
                &p["AccessTokenValidity"],
                &p["IdTokenValidity"],
                &p["TokenValidityUnits"]["AccessToken"],
                &p["TokenValidityUnits"]["IdToken"],
                &p["EnableTokenRevocation"],
            ),
            (
                &Value::from(15),
                &Value::from(15),
                &Value::from("minutes"),
                &Value::from("minutes"),
                &Value::from(true)
            ),
            "{stage}"
        );
    }
}
