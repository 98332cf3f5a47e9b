//! Template values: literals and the intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Sub`, ...).
//!
//! [`Expr`] is opaque: a `Ref` or `Fn::GetAtt` on a resource can only come from a handle
//! ([`crate::cfn::Res`]), and names inside `Fn::Sub` strings are checked when the value is
//! added to a template.

use std::collections::BTreeSet;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};

/// A property value: a literal or an intrinsic function.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr(Inner);

#[derive(Debug, Clone, PartialEq)]
enum Inner {
    Str(String),
    Bool(bool),
    List(Vec<Expr>),
    Ref(String),
    GetAtt(String, String),
    Sub(String, Vec<(String, Expr)>),
    Join(String, Vec<Expr>),
    If(String, Box<Expr>, Box<Expr>),
    Select(u32, Box<Expr>),
    Split(String, Box<Expr>),
}

/// The pseudo parameters CloudFormation defines in every template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pseudo {
    /// `AWS::Region`.
    Region,
    /// `AWS::AccountId`.
    AccountId,
    /// `AWS::Partition` (`aws`, `aws-cn`, `aws-us-gov`).
    Partition,
    /// `AWS::StackName`.
    StackName,
    /// `AWS::URLSuffix` (`amazonaws.com` in most partitions).
    UrlSuffix,
    /// `AWS::NoValue`: removes the property it is assigned to.
    NoValue,
}

impl Pseudo {
    fn name(self) -> &'static str {
        match self {
            Pseudo::Region => "AWS::Region",
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
            Pseudo::NoValue => "AWS::NoValue",
        }
    }
}

impl Expr {
    /// `{"Ref": name}`; crate-private so that outside code goes through handles.
    pub(crate) fn reference(name: &str) -> Expr {
        Expr(Inner::Ref(name.to_owned()))
    }

    /// `{"Fn::GetAtt": [id, attribute]}`; crate-private for the same reason.
    pub(crate) fn get_att(id: &str, attribute: &str) -> Expr {
        Expr(Inner::GetAtt(id.to_owned(), attribute.to_owned()))
    }

    /// A pseudo parameter.
    pub fn pseudo(p: Pseudo) -> Expr {
        Expr::reference(p.name())
    }

    /// `AWS::Region`.
    pub fn region() -> Expr {
        Expr::pseudo(Pseudo::Region)
    }

    /// `AWS::AccountId`.
    pub fn account_id() -> Expr {
        Expr::pseudo(Pseudo::AccountId)
    }

    /// `AWS::Partition`.
    pub fn partition() -> Expr {
        Expr::pseudo(Pseudo::Partition)
    }

    /// `AWS::StackName`.
    pub fn stack_name() -> Expr {
        Expr::pseudo(Pseudo::StackName)
    }

    /// `AWS::URLSuffix`.
    pub fn url_suffix() -> Expr {
        Expr::pseudo(Pseudo::UrlSuffix)
    }

    /// `AWS::NoValue`.
    pub fn no_value() -> Expr {
        Expr::pseudo(Pseudo::NoValue)
    }

    /// A list of values.
    pub fn list(items: impl IntoIterator<Item = Expr>) -> Expr {
        Expr(Inner::List(items.into_iter().collect()))
    }

    /// `{"Fn::Sub": template}`: `${AWS::Region}` and other pseudo parameters, `${Id}` and
    /// `${Id.Attr}` of resources already in the template (checked on add); `${!x}` is a literal.
    pub fn sub(template: impl Into<String>) -> Expr {
        Expr(Inner::Sub(template.into(), Vec::new()))
    }

    /// `{"Fn::Sub": [template, {name: value, ...}]}`: variables bound to any expression, which is
    /// how handles are used inside a substitution.
    ///
    /// Literal and `Fn::Sub` values are spliced into the template string instead of nested:
    /// CloudFormation does not list `Fn::Sub` among the functions a variable may use, and the
    /// flat form reads better. A template that is a single variable is that variable's value.
    pub fn sub_with(
        template: impl Into<String>,
        vars: impl IntoIterator<Item = (&'static str, Expr)>,
    ) -> Expr {
        let mut template = template.into();
        let vars: Vec<(String, Expr)> = vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let outer_names: Vec<String> = vars.iter().map(|(k, _)| k.clone()).collect();
        let mut kept: Vec<(String, Expr)> = Vec::new();
        for (name, value) in vars {
            let placeholder = format!("${{{name}}}");
            match value.0 {
                Inner::Str(s) if !s.contains("${") => template = template.replace(&placeholder, &s),
                Inner::Sub(inner, inner_vars)
                    if inner_vars.iter().all(|(n, _)| {
                        !outer_names.contains(n) && !kept.iter().any(|(k, _)| k == n)
                    }) =>
                {
                    template = template.replace(&placeholder, &inner);
                    kept.extend(inner_vars);
                }
                other => kept.push((name, Expr(other))),
            }
        }
        if let [(name, value)] = kept.as_slice()
            && template == format!("${{{name}}}")
        {
            return value.clone();
        }
        Expr(Inner::Sub(template, kept))
    }

    /// `{"Fn::Join": [separator, parts]}`.
    pub fn join(separator: &str, parts: impl IntoIterator<Item = Expr>) -> Expr {
        Expr(Inner::Join(
            separator.to_owned(),
            parts.into_iter().collect(),
        ))
    }

    /// `{"Fn::If": [condition, then, else]}`.
    pub fn if_(cond: &Cond, then: Expr, otherwise: Expr) -> Expr {
        Expr(Inner::If(
            cond.name().to_owned(),
            Box::new(then),
            Box::new(otherwise),
        ))
    }

    /// `{"Fn::Select": [index, list]}`.
    pub fn select(index: u32, list: Expr) -> Expr {
        Expr(Inner::Select(index, Box::new(list)))
    }

    /// `{"Fn::Split": [separator, value]}`.
    pub fn split(separator: &str, value: Expr) -> Expr {
        Expr(Inner::Split(separator.to_owned(), Box::new(value)))
    }

    /// The template JSON for this value.
    pub fn to_value(&self) -> Value {
        match &self.0 {
            Inner::Str(s) => json!(s),
            Inner::Bool(b) => json!(b),
            Inner::List(items) => Value::Array(items.iter().map(Expr::to_value).collect()),
            Inner::Ref(name) => json!({ "Ref": name }),
            Inner::GetAtt(id, attr) => json!({ "Fn::GetAtt": [id, attr] }),
            Inner::Sub(s, vars) if vars.is_empty() => json!({ "Fn::Sub": s }),
            Inner::Sub(s, vars) => {
                let vars: Map<String, Value> = vars
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect();
                json!({ "Fn::Sub": [s, vars] })
            }
            Inner::Join(sep, parts) => {
                let parts: Vec<Value> = parts.iter().map(Expr::to_value).collect();
                json!({ "Fn::Join": [sep, parts] })
            }
            Inner::If(cond, a, b) => json!({ "Fn::If": [cond, a.to_value(), b.to_value()] }),
            Inner::Select(i, list) => json!({ "Fn::Select": [i.to_string(), list.to_value()] }),
            Inner::Split(sep, v) => json!({ "Fn::Split": [sep, v.to_value()] }),
        }
    }
}

impl From<bool> for Expr {
    fn from(b: bool) -> Self {
        Expr(Inner::Bool(b))
    }
}

impl From<&str> for Expr {
    fn from(s: &str) -> Self {
        Expr(Inner::Str(s.to_owned()))
    }
}

impl From<String> for Expr {
    fn from(s: String) -> Self {
        Expr(Inner::Str(s))
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

/// A handle on a template condition, from [`crate::cfn::Template::add_condition`].
#[derive(Debug, Clone)]
pub struct Cond {
    name: String,
}

impl Cond {
    pub(crate) fn new(name: &str) -> Self {
        Cond {
            name: name.to_owned(),
        }
    }

    /// The condition's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The body of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionExpr {
    /// `Fn::Equals`.
    Equals(Expr, Expr),
    /// `Fn::Not`.
    Not(Box<ConditionExpr>),
    /// `Fn::Or`.
    Or(Vec<ConditionExpr>),
    /// `{"Condition": name}`: another condition of the template.
    Condition(String),
}

impl ConditionExpr {
    /// `{"Fn::Equals": [a, b]}`.
    pub fn equals(a: Expr, b: Expr) -> Self {
        ConditionExpr::Equals(a, b)
    }

    /// `{"Fn::Not": [c]}`.
    pub fn negate(c: ConditionExpr) -> Self {
        ConditionExpr::Not(Box::new(c))
    }

    /// `{"Fn::Or": [a, b]}`.
    pub fn or(a: ConditionExpr, b: ConditionExpr) -> Self {
        ConditionExpr::Or(vec![a, b])
    }

    /// `{"Condition": name}`: holds when `cond` does.
    pub fn holds(cond: &Cond) -> Self {
        ConditionExpr::Condition(cond.name().to_owned())
    }

    /// The template JSON for this condition.
    pub fn to_value(&self) -> Value {
        match self {
            ConditionExpr::Equals(a, b) => json!({ "Fn::Equals": [a.to_value(), b.to_value()] }),
            ConditionExpr::Not(c) => json!({ "Fn::Not": [c.to_value()] }),
            ConditionExpr::Or(cs) => {
                json!({ "Fn::Or": cs.iter().map(ConditionExpr::to_value).collect::<Vec<_>>() })
            }
            ConditionExpr::Condition(name) => json!({ "Condition": name }),
        }
    }
}

/// Collects the logical ids `value` refers to through `Ref`, `Fn::GetAtt` and `Fn::Sub`
/// variables, leaving out pseudo parameters and variables bound by the `Fn::Sub` itself.
pub fn collect_references(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, out)),
        Value::Object(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next().expect("one entry");
            match (key.as_str(), arg) {
                ("Ref", Value::String(name)) => add_name(name, out),
                ("Fn::GetAtt", Value::Array(parts)) => {
                    if let Some(Value::String(id)) = parts.first() {
                        add_name(id, out);
                    }
                }
                ("Fn::GetAtt", Value::String(dotted)) => {
                    add_name(dotted.split('.').next().unwrap_or_default(), out)
                }
                ("Fn::Sub", Value::String(s)) => {
                    sub_names(s).for_each(|n| add_name(n, out));
                }
                ("Fn::Sub", Value::Array(parts)) => {
                    let bound: BTreeSet<&str> = match parts.get(1) {
                        Some(Value::Object(vars)) => vars.keys().map(String::as_str).collect(),
                        _ => BTreeSet::new(),
                    };
                    if let Some(Value::String(s)) = parts.first() {
                        sub_names(s)
                            .filter(|n| !bound.contains(n))
                            .for_each(|n| add_name(n, out));
                    }
                    if let Some(vars) = parts.get(1) {
                        collect_references(vars, out);
                    }
                }
                _ => collect_references(arg, out),
            }
        }
        Value::Object(map) => map.values().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

/// Collects the condition names `value` uses in `Fn::If`.
pub fn collect_conditions(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| collect_conditions(v, out)),
        Value::Object(map) => {
            if let Some(Value::Array(parts)) = map.get("Fn::If")
                && let Some(Value::String(name)) = parts.first()
            {
                out.insert(name.clone());
            }
            map.values().for_each(|v| collect_conditions(v, out));
        }
        _ => {}
    }
}

fn add_name(name: &str, out: &mut BTreeSet<String>) {
    if !name.starts_with("AWS::") {
        out.insert(name.to_owned());
    }
}

/// The variable names in an `Fn::Sub` string: `${Name}` and `${Name.Attr}` give `Name`;
/// `${!Literal}` is not a variable.
pub fn sub_names(s: &str) -> impl Iterator<Item = &str> {
    s.split("${").skip(1).filter_map(|rest| {
        let inner = rest.split_once('}')?.0;
        if inner.starts_with('!') {
            None
        } else {
            Some(inner.split('.').next().unwrap_or(inner))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expr: Expr, expected: Value) {
        assert_eq!(expr.to_value(), expected);
    }

    #[test]
    fn intrinsics_serialize() {
        check(Expr::from("x"), json!("x"));
        check(Expr::region(), json!({"Ref": "AWS::Region"}));
        check(Expr::url_suffix(), json!({"Ref": "AWS::URLSuffix"}));
        check(
            Expr::get_att("Fn", "Arn"),
            json!({"Fn::GetAtt": ["Fn", "Arn"]}),
        );
        check(
            Expr::sub("a-${AWS::StackName}"),
            json!({"Fn::Sub": "a-${AWS::StackName}"}),
        );
        check(
            Expr::sub_with("${B}/*", [("B", Expr::reference("Bucket"))]),
            json!({"Fn::Sub": ["${B}/*", {"B": {"Ref": "Bucket"}}]}),
        );
        // Literals and substitutions are spliced in rather than nested.
        check(
            Expr::sub_with(
                "${Name}-${Arn}-${Lit}",
                [
                    ("Name", Expr::sub("x-${AWS::Region}")),
                    (
                        "Arn",
                        Expr::sub_with("${B}/k", [("B", Expr::reference("Bucket"))]),
                    ),
                    ("Lit", Expr::from("v")),
                ],
            ),
            json!({"Fn::Sub": ["x-${AWS::Region}-${B}/k-v", {"B": {"Ref": "Bucket"}}]}),
        );
        check(
            Expr::sub_with("${E}", [("E", Expr::get_att("Api", "ApiEndpoint"))]),
            json!({"Fn::GetAtt": ["Api", "ApiEndpoint"]}),
        );
        check(
            Expr::join(",", [Expr::from("a"), Expr::account_id()]),
            json!({"Fn::Join": [",", ["a", {"Ref": "AWS::AccountId"}]]}),
        );
        check(
            Expr::select(1, Expr::split("/", Expr::reference("X"))),
            json!({"Fn::Select": ["1", {"Fn::Split": ["/", {"Ref": "X"}]}]}),
        );
        check(
            Expr::list([Expr::from("a"), Expr::partition()]),
            json!(["a", {"Ref": "AWS::Partition"}]),
        );
    }

    #[test]
    fn references_are_collected() {
        let v = json!({
            "A": {"Ref": "Bucket"},
            "B": {"Fn::GetAtt": ["Fn", "Arn"]},
            "C": {"Fn::Sub": "${Api}.execute-api.${AWS::Region}.${Dist.DomainName}/${!Stage}"},
            "D": {"Fn::Sub": ["${B}/${Role}", {"B": {"Ref": "Table"}}]},
            "E": [{"Ref": "AWS::NoValue"}]
        });
        let mut names = BTreeSet::new();
        collect_references(&v, &mut names);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(names, ["Api", "Bucket", "Dist", "Fn", "Role", "Table"]);
    }
}
