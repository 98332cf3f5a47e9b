//! Domain records to DynamoDB attribute maps and back, through their serde form.
//!
//! Each record's fields become top-level attributes (nested values become maps and lists), so
//! conditions and updates can name them: `status` for processing, `used_bytes` for the quota,
//! `owner` for revocation. `null` is never written: an absent attribute reads back as `None`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use photo_domain::Error;

/// One item's attributes.
pub type Attributes = HashMap<String, AttributeValue>;

/// Attributes that belong to the table layout, not to the record.
const LAYOUT: [&str; 8] = [
    "pk", "sk", "gsi1pk", "gsi1sk", "tlsk", "type", "ttl", "revision",
];

/// A JSON value as an attribute value; `None` for `null`, which is left out.
pub fn to_attribute(value: Value) -> Option<AttributeValue> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => AttributeValue::Bool(b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s),
        Value::Array(items) => AttributeValue::L(
            items
                .into_iter()
                .map(|v| to_attribute(v).unwrap_or(AttributeValue::Null(true)))
                .collect(),
        ),
        Value::Object(fields) => AttributeValue::M(
            fields
                .into_iter()
                .filter_map(|(k, v)| Some((k, to_attribute(v)?)))
                .collect(),
        ),
    })
}

/// An attribute value as JSON; sets and binaries, which we never write, read as `null`.
pub fn from_attribute(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::M(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), from_attribute(v)))
                .collect(),
        ),
        AttributeValue::L(l) => Value::Array(l.iter().map(from_attribute).collect()),
        _ => Value::Null,
    }
}

/// DynamoDB normalises numbers (`1.0` comes back as `1`), so try the integer forms first.
fn number(text: &str) -> Value {
    if let Ok(u) = text.parse::<u64>() {
        return Value::Number(u.into());
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::Number(i.into());
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// A value in its attribute form, for expression values.
pub fn value_of(value: &impl Serialize) -> Result<AttributeValue, Error> {
    let json = serde_json::to_value(value)
        .map_err(|e| Error::Backend(format!("encoding a value: {e}")))?;
    Ok(to_attribute(json).unwrap_or(AttributeValue::Null(true)))
}

/// A record's fields as attributes, with the layout attributes added by the caller.
pub fn encode(record: &impl Serialize) -> Result<Attributes, Error> {
    match serde_json::to_value(record) {
        Ok(Value::Object(fields)) => Ok(fields
            .into_iter()
            .filter_map(|(k, v)| Some((k, to_attribute(v)?)))
            .collect()),
        Ok(_) => Err(Error::Backend("a record is not a JSON object".into())),
        Err(e) => Err(Error::Backend(format!("encoding a record: {e}"))),
    }
}

/// The record stored in `item`; every value is validated again by the domain types.
pub fn decode<T: DeserializeOwned>(item: &Attributes) -> Result<T, Error> {
    let fields: Map<String, Value> = item
        .iter()
        .filter(|(k, _)| !LAYOUT.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), from_attribute(v)))
        .collect();
    serde_json::from_value(Value::Object(fields)).map_err(|e| {
        let sk = item.get("sk").and_then(|v| v.as_s().ok());
        Error::Backend(format!("decoding item `{}`: {e}", sk.map_or("?", |s| s)))
    })
}

/// A string attribute, or a backend error naming it.
pub fn string<'a>(item: &'a Attributes, name: &str) -> Result<&'a str, Error> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| Error::Backend(format!("item lacks string attribute `{name}`")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(value: Value, expected: Value) {
        let back = to_attribute(value).map_or(Value::Null, |a| from_attribute(&a));
        assert_eq!(back, expected);
    }

    #[test]
    fn values_round_trip_and_nulls_are_dropped() {
        check(json!("x"), json!("x"));
        check(
            json!(18446744073709551615u64),
            json!(18446744073709551615u64),
        );
        check(json!(-5), json!(-5));
        check(json!(59.3293), json!(59.3293));
        check(json!({"a": null, "b": [1, null]}), json!({"b": [1, null]}));
        check(json!(null), json!(null));
        assert_eq!(number("1.0"), json!(1.0));
        assert_eq!(number("1"), json!(1));
        assert_eq!(number("not a number"), json!(null));
    }

    #[test]
    fn decoding_skips_layout_attributes_and_reports_bad_items() {
        let mut item = encode(&json!({"used_bytes": 5, "photo_count": 1})).unwrap();
        item.insert("pk".into(), AttributeValue::S("USER#a".into()));
        item.insert("sk".into(), AttributeValue::S("USAGE".into()));
        let usage: photo_domain::Usage = decode(&item).unwrap();
        assert_eq!(usage.used_bytes, 5);
        item.insert("used_bytes".into(), AttributeValue::S("five".into()));
        let err = decode::<photo_domain::Usage>(&item).unwrap_err();
        assert!(err.to_string().contains("decoding item `USAGE`"), "{err}");
    }
}
