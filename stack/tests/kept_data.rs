//! The data a stage keeps (its photo bucket, table and user pool) is never replaced by an update.
//!
//! CloudFormation replaces a resource when a property its reference marks "Update requires:
//! Replacement" changes: a new, empty bucket, table or user pool, and the old one deleted (or,
//! with `UpdateReplacePolicy: Retain`, orphaned). `kept-data.json` holds those properties as the
//! deployed templates have them, for every stage; it is written by hand, never by
//! `UPDATE_EXPECT`, because a change there is a migration of users' data, not a template change.

use crate::common;

use serde_json::{Map, Value, json};

/// The kept resources, and the properties whose change replaces each: the CloudFormation
/// reference's "Update requires: Replacement", and the registry schema's `createOnlyProperties`.
/// A name property that is absent (a generated name) must stay absent: adding one replaces too.
const GUARDED: &[(&str, &[&str])] = &[
    (
        "PhotoBucket",
        &[
            "BucketName",
            "BucketNamePrefix",
            "BucketNamespace",
            "ObjectLockEnabled",
        ],
    ),
    (
        "PhotoTable",
        &[
            "TableName",
            "KeySchema",
            "LocalSecondaryIndexes",
            "ImportSourceSpecification",
        ],
    ),
    (
        "UserPool",
        &[
            "UsernameAttributes",
            "AliasAttributes",
            "UsernameConfiguration",
            "Schema",
        ],
    ),
];

/// The guarded properties of `stage`'s template, `null` where absent.
fn guarded(template: &Value) -> Value {
    let mut out = Map::new();
    for (id, properties) in GUARDED {
        let resource = &template["Resources"][id];
        assert!(resource.is_object(), "no `{id}` in the template");
        let values: Map<String, Value> = properties
            .iter()
            .map(|p| {
                let v = resource["Properties"]
                    .get(*p)
                    .cloned()
                    .unwrap_or(Value::Null);
                ((*p).to_owned(), v)
            })
            .collect();
        out.insert((*id).to_owned(), Value::Object(values));
    }
    Value::Object(out)
}

#[test]
fn no_update_replaces_the_kept_data() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kept-data.json");
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for (stage, config) in common::stages() {
        let template: Value = serde_json::from_str(&common::synth(&config)).unwrap();
        let actual = guarded(&template);
        for (id, properties) in GUARDED {
            for p in *properties {
                let (was, now) = (&expected[stage][id][p], &actual[id][p]);
                assert!(
                    was == now,
                    "stage `{stage}`: changing `{p}` of `{id}` replaces it on a deployed stage, \
                     which starts it empty: was {was}, now {now}. Keep it, or plan the data's \
                     migration and then edit `stack/tests/kept-data.json` by hand"
                );
            }
        }
        // Every kept resource is kept when the stack goes, and when a replacement happens anyway.
        for (id, _) in GUARDED {
            let r = &template["Resources"][id];
            let policies = json!([r["DeletionPolicy"], r["UpdateReplacePolicy"]]);
            assert_eq!(
                policies,
                json!(["RetainExceptOnCreate", "Retain"]),
                "{stage} {id}"
            );
        }
    }
}
