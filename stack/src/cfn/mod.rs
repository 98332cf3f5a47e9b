//! The raw CloudFormation model: a template, typed resource handles and intrinsic functions.
//!
//! This module maps one-to-one onto the template JSON and knows nothing about the photo app
//! (that lives in [`crate::app`]). Its handles make two mistakes impossible to compile:
//! referring to a resource that was never added, and asking a resource for an attribute its
//! type does not have.
//!
//! A handle comes only from [`Template::add`]:
//!
//! ```
//! use stack::cfn::{Template, s3::Bucket};
//!
//! let mut t = Template::new("example");
//! let bucket = t.add("Photos", Bucket::default()).unwrap();
//! let _arn = bucket.arn();
//! ```
//!
//! so there is no way to name a resource that is not in the template:
//!
//! ```compile_fail
//! use stack::cfn::{Res, s3::Bucket};
//!
//! // `Res` has no public constructor: a reference must come from `Template::add`.
//! let bucket: Res<Bucket> = Res { id: "Photos".into(), _type: std::marker::PhantomData };
//! ```
//!
//! nor to spell a `Ref` by hand:
//!
//! ```compile_fail
//! use stack::cfn::Expr;
//!
//! // Crate-private: outside `stack`, references come from handles only.
//! let photos = Expr::reference("Photos");
//! ```
//!
//! and attributes exist only on the types that have them. A queue has an ARN:
//!
//! ```
//! use stack::cfn::{Template, sqs::Queue};
//!
//! let mut t = Template::new("example");
//! let queue = t.add("Dlq", Queue::default()).unwrap();
//! let _arn = queue.arn();
//! ```
//!
//! but a bucket policy has none:
//!
//! ```compile_fail
//! use stack::cfn::{Template, Expr, s3::{Bucket, BucketPolicy}, iam::PolicyDocument};
//!
//! let mut t = Template::new("example");
//! let bucket = t.add("Photos", Bucket::default()).unwrap();
//! let policy = t
//!     .add("PhotosPolicy", BucketPolicy { bucket: bucket.reference(), policy_document: PolicyDocument::new(vec![]) })
//!     .unwrap();
//! let _arn: Expr = policy.arn();
//! ```

pub mod apigw;
pub mod cloudfront;
pub mod cloudwatch;
pub mod cognito;
pub mod dynamodb;
pub mod events;
pub mod expr;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod s3;
pub mod sns;
pub mod sqs;
mod yaml;

use std::collections::BTreeSet;
use std::fmt;
use std::marker::PhantomData;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value, json};

pub use expr::{Cond, ConditionExpr, Expr, Pseudo};

use crate::StackError;

/// A CloudFormation resource type: its properties serialize to the `Properties` object.
pub trait Resource: Serialize {
    /// The resource type name, such as `AWS::S3::Bucket`.
    const TYPE: &'static str;
}

/// A typed handle on a resource that is in a template.
///
/// Only [`Template::add`] makes one, so holding a `Res<T>` proves the resource exists.
/// Attributes are inherent methods on `Res<SpecificType>`, so they exist only where
/// CloudFormation offers them.
pub struct Res<T> {
    id: String,
    _type: PhantomData<fn() -> T>,
}

impl<T> Res<T> {
    /// The resource's logical id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `{"Ref": id}`: what that is depends on the type (often the physical name).
    pub fn reference(&self) -> Expr {
        Expr::reference(&self.id)
    }

    /// `{"Fn::GetAtt": [id, attribute]}`; only the per-type attribute methods call it.
    pub(crate) fn get_att(&self, attribute: &str) -> Expr {
        Expr::get_att(&self.id, attribute)
    }
}

// Manual impls: derives would demand `T: Clone`/`T: Debug`, which a handle does not need.
impl<T> Clone for Res<T> {
    fn clone(&self) -> Self {
        Res {
            id: self.id.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Res<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Res({})", self.id)
    }
}

/// A handle on a template parameter, from [`Template::add_parameter`].
#[derive(Debug, Clone)]
pub struct Param {
    id: String,
}

impl Param {
    /// `{"Ref": id}`: the parameter's value.
    pub fn reference(&self) -> Expr {
        Expr::reference(&self.id)
    }
}

/// A template parameter (only string parameters: that is all the app needs).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    /// Always `String` here.
    #[serde(rename = "Type")]
    pub kind: &'static str,
    /// Shown in the console and in `describe-stacks`.
    pub description: String,
    /// A regular expression the value must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<String>,
    /// The shortest value accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// The only values accepted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_values: Vec<&'static str>,
    /// The value when none is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<&'static str>,
}

impl Parameter {
    /// A required string parameter.
    pub fn string(description: impl Into<String>) -> Self {
        Parameter {
            kind: "String",
            description: description.into(),
            allowed_pattern: None,
            min_length: Some(1),
            allowed_values: vec![],
            default: None,
        }
    }

    /// An optional string parameter, empty unless given.
    pub fn optional(description: impl Into<String>) -> Self {
        Parameter {
            min_length: None,
            default: Some(""),
            ..Parameter::string(description)
        }
    }
}

/// `DeletionPolicy` / `UpdateReplacePolicy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Policy {
    /// Delete the physical resource.
    Delete,
    /// Keep the physical resource, orphaned from the stack.
    Retain,
    /// Keep the physical resource, except when the stack's first creation fails and rolls
    /// back (a `DeletionPolicy` only).
    RetainExceptOnCreate,
    /// Keep a snapshot, then delete (only some types support it).
    Snapshot,
}

/// Resource-level attributes besides `Properties`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    depends_on: Vec<String>,
    deletion_policy: Option<Policy>,
    update_replace_policy: Option<Policy>,
    condition: Option<String>,
    checkov_skips: Vec<(String, String)>,
    metadata: IndexMap<String, Value>,
}

impl Options {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Create this resource only after `other` (for ordering CloudFormation cannot infer).
    pub fn depends_on<U>(mut self, other: &Res<U>) -> Self {
        self.depends_on.push(other.id.clone());
        self
    }

    /// What happens to the physical resource when the stack or the resource is deleted or
    /// replaced: sets both `DeletionPolicy` and `UpdateReplacePolicy`, which should agree (a
    /// replacement deletes the old resource as surely as deleting the stack does).
    pub fn policy(self, policy: Policy) -> Self {
        self.deletion_policy(policy).update_replace_policy(policy)
    }

    /// `DeletionPolicy` alone.
    pub fn deletion_policy(mut self, policy: Policy) -> Self {
        self.deletion_policy = Some(policy);
        self
    }

    /// `UpdateReplacePolicy` alone.
    pub fn update_replace_policy(mut self, policy: Policy) -> Self {
        self.update_replace_policy = Some(policy);
        self
    }

    /// Create the resource only when `cond` holds.
    pub fn condition(mut self, cond: &Cond) -> Self {
        self.condition = Some(cond.name().to_owned());
        self
    }

    /// Tells checkov that check `id` does not apply here, and why.
    pub fn checkov_skip(mut self, id: &str, comment: &str) -> Self {
        self.checkov_skips.push((id.to_owned(), comment.to_owned()));
        self
    }

    /// Any other metadata entry.
    pub fn metadata(mut self, key: &str, value: Value) -> Self {
        self.metadata.insert(key.to_owned(), value);
        self
    }
}

/// One resource as it appears in the template.
#[derive(Debug, Clone)]
struct Entry {
    kind: &'static str,
    properties: Value,
    options: Options,
}

/// A template output.
#[derive(Debug, Clone)]
struct Output {
    description: String,
    value: Expr,
    export: Option<Expr>,
}

/// A CloudFormation template under construction.
#[derive(Debug, Clone)]
pub struct Template {
    description: String,
    metadata: IndexMap<String, Value>,
    parameters: IndexMap<String, Parameter>,
    conditions: IndexMap<String, ConditionExpr>,
    resources: IndexMap<String, Entry>,
    outputs: IndexMap<String, Output>,
}

/// Logical ids: ASCII letters and digits, 1 to 255 of them (CloudFormation's rule).
fn check_logical_id(id: &str) -> Result<(), StackError> {
    if !id.is_empty() && id.len() <= 255 && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(StackError::InvalidLogicalId(id.to_owned()))
    }
}

impl Template {
    /// An empty template.
    pub fn new(description: impl Into<String>) -> Self {
        Template {
            description: description.into(),
            metadata: IndexMap::new(),
            parameters: IndexMap::new(),
            conditions: IndexMap::new(),
            resources: IndexMap::new(),
            outputs: IndexMap::new(),
        }
    }

    /// Parameters and resources share one namespace: both are targets of `Ref`.
    fn claim(&self, id: &str) -> Result<(), StackError> {
        check_logical_id(id)?;
        if self.parameters.contains_key(id) || self.resources.contains_key(id) {
            return Err(StackError::DuplicateLogicalId(id.to_owned()));
        }
        Ok(())
    }

    /// Whether `name` is something a `Ref` or `Fn::GetAtt` in this template may point at.
    fn is_known(&self, name: &str) -> bool {
        self.resources.contains_key(name) || self.parameters.contains_key(name)
    }

    /// Adds a parameter.
    pub fn add_parameter(&mut self, id: &str, parameter: Parameter) -> Result<Param, StackError> {
        self.claim(id)?;
        self.parameters.insert(id.to_owned(), parameter);
        Ok(Param { id: id.to_owned() })
    }

    /// Adds a condition that resources and `Fn::If` can use.
    pub fn add_condition(&mut self, id: &str, cond: ConditionExpr) -> Result<Cond, StackError> {
        check_logical_id(id)?;
        if self.conditions.contains_key(id) {
            return Err(StackError::DuplicateLogicalId(id.to_owned()));
        }
        self.check_refs(&cond.to_value())?;
        self.conditions.insert(id.to_owned(), cond);
        Ok(Cond::new(id))
    }

    /// Adds a resource with no options.
    pub fn add<T: Resource>(&mut self, id: &str, resource: T) -> Result<Res<T>, StackError> {
        self.add_with(id, resource, Options::new())
    }

    /// Adds a resource with resource-level options.
    ///
    /// Everything the resource refers to must already be in the template; with handles that
    /// holds by construction, and for names inside `Fn::Sub` strings it is checked here. As a
    /// consequence references always point backwards, so the template cannot contain a cycle.
    pub fn add_with<T: Resource>(
        &mut self,
        id: &str,
        resource: T,
        options: Options,
    ) -> Result<Res<T>, StackError> {
        self.claim(id)?;
        let properties = serde_json::to_value(&resource).map_err(|e| StackError::Serialize {
            id: id.to_owned(),
            why: e.to_string(),
        })?;
        self.check_refs(&properties)?;
        for dep in &options.depends_on {
            if !self.resources.contains_key(dep) {
                return Err(StackError::UnknownReference(dep.clone()));
            }
        }
        if let Some(cond) = &options.condition
            && !self.conditions.contains_key(cond)
        {
            return Err(StackError::UnknownReference(cond.clone()));
        }
        self.resources.insert(
            id.to_owned(),
            Entry {
                kind: T::TYPE,
                properties,
                options,
            },
        );
        Ok(Res {
            id: id.to_owned(),
            _type: PhantomData,
        })
    }

    /// Adds an output.
    pub fn output(&mut self, id: &str, description: &str, value: Expr) -> Result<(), StackError> {
        self.output_inner(id, description, value, None)
    }

    /// Adds an output that other stacks can import under `export_name`.
    pub fn output_exported(
        &mut self,
        id: &str,
        description: &str,
        value: Expr,
        export_name: Expr,
    ) -> Result<(), StackError> {
        self.output_inner(id, description, value, Some(export_name))
    }

    fn output_inner(
        &mut self,
        id: &str,
        description: &str,
        value: Expr,
        export: Option<Expr>,
    ) -> Result<(), StackError> {
        check_logical_id(id)?;
        if self.outputs.contains_key(id) {
            return Err(StackError::DuplicateLogicalId(id.to_owned()));
        }
        self.check_refs(&value.to_value())?;
        self.outputs.insert(
            id.to_owned(),
            Output {
                description: description.to_owned(),
                value,
                export,
            },
        );
        Ok(())
    }

    /// Adds a template-level metadata entry.
    pub fn metadata(&mut self, key: &str, value: Value) {
        self.metadata.insert(key.to_owned(), value);
    }

    /// Logical ids of the resources, in insertion order.
    pub fn resource_ids(&self) -> impl Iterator<Item = &str> {
        self.resources.keys().map(String::as_str)
    }

    /// Checks that every `Ref`, `Fn::GetAtt` and `Fn::Sub` variable in `value` names a
    /// parameter or resource already in the template (or a pseudo parameter), and every
    /// `Fn::If` a condition in it.
    fn check_refs(&self, value: &Value) -> Result<(), StackError> {
        let mut names = BTreeSet::new();
        expr::collect_references(value, &mut names);
        if let Some(unknown) = names.into_iter().find(|n| !self.is_known(n)) {
            return Err(StackError::UnknownReference(unknown));
        }
        let mut conditions = BTreeSet::new();
        expr::collect_conditions(value, &mut conditions);
        match conditions
            .into_iter()
            .find(|c| !self.conditions.contains_key(c))
        {
            Some(unknown) => Err(StackError::UnknownReference(unknown)),
            None => Ok(()),
        }
    }

    /// The template as a JSON value, sections in CloudFormation's usual order.
    pub fn to_value(&self) -> Value {
        let mut root = Map::new();
        root.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
        root.insert("Description".into(), json!(self.description));
        if !self.metadata.is_empty() {
            root.insert("Metadata".into(), json!(self.metadata));
        }
        if !self.parameters.is_empty() {
            root.insert("Parameters".into(), json!(self.parameters));
        }
        if !self.conditions.is_empty() {
            let conditions: Map<String, Value> = self
                .conditions
                .iter()
                .map(|(k, c)| (k.clone(), c.to_value()))
                .collect();
            root.insert("Conditions".into(), Value::Object(conditions));
        }
        let resources: Map<String, Value> = self
            .resources
            .iter()
            .map(|(id, entry)| (id.clone(), entry.to_value()))
            .collect();
        root.insert("Resources".into(), Value::Object(resources));
        if !self.outputs.is_empty() {
            let outputs: Map<String, Value> = self
                .outputs
                .iter()
                .map(|(id, o)| {
                    let mut out = Map::new();
                    out.insert("Description".into(), json!(o.description));
                    out.insert("Value".into(), o.value.to_value());
                    if let Some(export) = &o.export {
                        out.insert("Export".into(), json!({ "Name": export.to_value() }));
                    }
                    (id.clone(), Value::Object(out))
                })
                .collect();
            root.insert("Outputs".into(), Value::Object(outputs));
        }
        Value::Object(root)
    }

    /// Pretty JSON with a two-space indent and a trailing newline; the same template always
    /// gives the same bytes (every map keeps insertion order).
    pub fn to_json(&self) -> String {
        let mut out = serde_json::to_string_pretty(&self.to_value())
            .unwrap_or_else(|e| unreachable!("a JSON value always serializes: {e}"));
        out.push('\n');
        out
    }

    /// The same template as YAML, with the long form (`Fn::GetAtt:`) of intrinsics and every
    /// string quoted, so YAML 1.1 readers (CloudFormation's) never take `OFF` for a boolean.
    pub fn to_yaml(&self) -> String {
        yaml::to_yaml(&self.to_value())
    }
}

impl Entry {
    fn to_value(&self) -> Value {
        let mut out = Map::new();
        out.insert("Type".into(), json!(self.kind));
        let o = &self.options;
        if let Some(cond) = &o.condition {
            out.insert("Condition".into(), json!(cond));
        }
        match o.depends_on.as_slice() {
            [] => {}
            [one] => {
                out.insert("DependsOn".into(), json!(one));
            }
            many => {
                out.insert("DependsOn".into(), json!(many));
            }
        }
        if let Some(p) = o.deletion_policy {
            out.insert("DeletionPolicy".into(), json!(p));
        }
        if let Some(p) = o.update_replace_policy {
            out.insert("UpdateReplacePolicy".into(), json!(p));
        }
        let mut metadata: Map<String, Value> = o
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !o.checkov_skips.is_empty() {
            let skip: Vec<Value> = o
                .checkov_skips
                .iter()
                .map(|(id, comment)| json!({ "id": id, "comment": comment }))
                .collect();
            metadata.insert("checkov".into(), json!({ "skip": skip }));
        }
        if !metadata.is_empty() {
            out.insert("Metadata".into(), Value::Object(metadata));
        }
        let empty = matches!(&self.properties, Value::Object(m) if m.is_empty());
        if !empty {
            out.insert("Properties".into(), self.properties.clone());
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::s3::Bucket;
    use crate::cfn::sqs::Queue;

    #[test]
    fn duplicate_logical_id_is_an_error() {
        let mut t = Template::new("t");
        t.add("Photos", Bucket::default()).unwrap();
        let err = t.add("Photos", Queue::default()).unwrap_err();
        assert_eq!(err.to_string(), "duplicate logical id `Photos`");
        // Parameters share the namespace.
        let err = t
            .add_parameter("Photos", Parameter::string("p"))
            .unwrap_err();
        assert!(matches!(err, StackError::DuplicateLogicalId(_)));
        // Nothing was lost: the first resource is still the only one.
        assert_eq!(t.resource_ids().collect::<Vec<_>>(), ["Photos"]);
    }

    #[test]
    fn invalid_logical_ids_are_errors() {
        for bad in [
            "",
            "photo-bucket",
            "Photo Bucket",
            "Photos_1",
            "Fotós",
            &"A".repeat(256),
        ] {
            let mut t = Template::new("t");
            let err = t.add(bad, Bucket::default()).unwrap_err();
            assert!(
                matches!(err, StackError::InvalidLogicalId(ref id) if id == bad),
                "{bad}: {err}"
            );
            assert_eq!(t.resource_ids().count(), 0);
        }
        let mut t = Template::new("t");
        assert!(t.add("Photos1", Bucket::default()).is_ok());
    }

    #[test]
    fn sub_variables_must_exist() {
        let mut t = Template::new("t");
        let err = t
            .add(
                "Q",
                Queue {
                    queue_name: Some(Expr::sub("${Missing}-${AWS::Region}-${!Literal}")),
                    ..Queue::default()
                },
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "reference to `Missing`, which is not in the template"
        );
        assert_eq!(t.resource_ids().count(), 0);
    }

    #[test]
    fn a_handle_from_another_template_is_rejected() {
        let mut a = Template::new("a");
        let bucket = a.add("Photos", Bucket::default()).unwrap();
        let mut b = Template::new("b");
        let err = b
            .add(
                "Q",
                Queue {
                    queue_name: Some(bucket.reference()),
                    ..Queue::default()
                },
            )
            .unwrap_err();
        assert!(matches!(err, StackError::UnknownReference(ref id) if id == "Photos"));
    }

    #[test]
    fn resource_options_serialize() {
        let mut t = Template::new("t");
        let q = t.add("Dlq", Queue::default()).unwrap();
        t.add_with(
            "Photos",
            Bucket::default(),
            Options::new()
                .depends_on(&q)
                .policy(Policy::Retain)
                .checkov_skip("CKV_AWS_18", "why"),
        )
        .unwrap();
        let v = t.to_value();
        assert_eq!(
            v["Resources"]["Photos"],
            json!({
                "Type": "AWS::S3::Bucket",
                "DependsOn": "Dlq",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_18", "comment": "why"}]}}
            })
        );
        assert!(t.to_json().ends_with("}\n"));
    }

    #[test]
    fn conditions_and_if() {
        let mut t = Template::new("t");
        let p = t.add_parameter("Email", Parameter::string("e")).unwrap();
        let has = t
            .add_condition(
                "HasEmail",
                ConditionExpr::negate(ConditionExpr::equals(p.reference(), Expr::from(""))),
            )
            .unwrap();
        let v = Expr::if_(&has, p.reference(), Expr::no_value()).to_value();
        t.add_with("Dlq", Queue::default(), Options::new().condition(&has))
            .unwrap();
        assert_eq!(t.to_value()["Resources"]["Dlq"]["Condition"], "HasEmail");
        // A condition handle from another template names nothing here.
        let mut other = Template::new("other");
        let err = other
            .add(
                "Q",
                Queue {
                    queue_name: Some(Expr::if_(&has, "a".into(), "b".into())),
                    ..Queue::default()
                },
            )
            .unwrap_err();
        assert!(matches!(err, StackError::UnknownReference(ref c) if c == "HasEmail"));
        let err = other
            .add_with("Dlq", Queue::default(), Options::new().condition(&has))
            .unwrap_err();
        assert!(matches!(err, StackError::UnknownReference(ref c) if c == "HasEmail"));
        assert_eq!(
            v,
            json!({"Fn::If": ["HasEmail", {"Ref": "Email"}, {"Ref": "AWS::NoValue"}]})
        );
        assert_eq!(
            t.to_value()["Conditions"]["HasEmail"],
            json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "Email"}, ""]}]})
        );
    }
}
