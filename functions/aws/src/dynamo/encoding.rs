//! The table's items as DynamoDB sees them: attribute values, keys, the layout attributes, and
//! the transaction items that write them.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem};

use photo_domain::keys;
use photo_domain::{Result, Share};

use super::calls::build;
use crate::item::Attributes;

/// The condition that the item is there.
pub(super) const EXISTS: &str = "attribute_exists(pk)";
/// The condition that the item is not there yet.
pub(super) const ABSENT: &str = "attribute_not_exists(pk)";

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn key(pk: String, sk: String) -> Attributes {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// `pk`, `sk` and `type` added to a record's attributes.
pub(super) fn with_layout(mut item: Attributes, pk: String, sk: String, kind: &str) -> Attributes {
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(sk));
    item.insert("type".into(), s(kind));
    item
}

/// The keys of both items of a share link.
pub(super) fn share_keys(share: &Share) -> [Attributes; 2] {
    [
        key(keys::share_pk(&share.token), keys::SHARE_SK.into()),
        key(
            keys::user_pk(&share.owner),
            keys::share_link_sk(share.created_at, &share.token),
        ),
    ]
}

/// A transaction item that deletes `key`, only if `condition` holds when there is one; `what`
/// names it in errors.
pub(super) fn delete_item(
    what: &str,
    table: &str,
    key: Attributes,
    condition: Option<&str>,
) -> Result<TransactWriteItem> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key))
        .set_condition_expression(condition.map(str::to_owned))
        .build();
    Ok(TransactWriteItem::builder()
        .delete(build(what, delete)?)
        .build())
}

/// A transaction item that checks that `key` exists.
pub(super) fn check_exists(table: &str, key: Attributes) -> Result<TransactWriteItem> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key))
        .condition_expression(EXISTS)
        .build();
    Ok(TransactWriteItem::builder()
        .condition_check(build("a condition check", check)?)
        .build())
}

/// A transaction item that writes `item`, only if `condition` holds when there is one; `what`
/// names it in errors.
pub(super) fn put_item(
    what: &str,
    table: &str,
    item: Attributes,
    condition: Option<&str>,
) -> Result<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .build();
    Ok(TransactWriteItem::builder().put(build(what, put)?).build())
}
