//! Pure rendering of what CloudFormation reports: change sets as a table or JSON, stack events as
//! lines, and the root cause of a failed deploy.

use serde::Serialize;

/// One resource change of a change set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`.
    pub action: String,
    /// The resource's logical id in the template.
    pub logical_id: String,
    /// The resource type, such as `AWS::Lambda::Function`.
    pub resource_type: String,
    /// For `Modify`: `True`, `False` or `Conditional` (whether the resource is replaced).
    pub replacement: Option<String>,
}

/// The change set as an aligned table, one line per resource, replacements called out.
pub fn render_changes(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no changes\n".to_owned();
    }
    let width = |f: fn(&Change) -> &str, title: &str| {
        changes
            .iter()
            .map(|c| f(c).len())
            .chain([title.len()])
            .max()
            .unwrap_or(0)
    };
    let w_action = width(|c| &c.action, "ACTION");
    let w_id = width(|c| &c.logical_id, "RESOURCE");
    let w_type = width(|c| &c.resource_type, "TYPE");
    let mut out = format!(
        "{:<w_action$}  {:<w_id$}  {:<w_type$}  REPLACEMENT\n",
        "ACTION", "RESOURCE", "TYPE"
    );
    for c in changes {
        let replacement = match c.replacement.as_deref() {
            Some("True") => "yes (the resource is replaced)",
            Some("Conditional") => "maybe (depends on values known at deploy time)",
            Some("False") => "no",
            _ => "-",
        };
        out.push_str(&format!(
            "{:<w_action$}  {:<w_id$}  {:<w_type$}  {replacement}\n",
            c.action, c.logical_id, c.resource_type
        ));
    }
    out
}

/// The change set as JSON: `{"stack": ..., "changes": [...]}`.
pub fn changes_json(stack: &str, changes: &[Change]) -> String {
    serde_json::to_string_pretty(&changes_value(stack, changes)).unwrap_or_else(|_| "{}".to_owned())
}

/// The change set as a JSON value: `{"stack": ..., "changes": [...]}`.
pub fn changes_value(stack: &str, changes: &[Change]) -> serde_json::Value {
    serde_json::json!({ "stack": stack, "changes": changes })
}

/// One stack event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// CloudFormation's id of the event.
    pub id: String,
    /// When it happened (RFC 3339).
    pub timestamp: String,
    /// The resource's logical id (the stack's own name for stack events).
    pub logical_id: String,
    /// The resource type.
    pub resource_type: String,
    /// The resource status, such as `CREATE_FAILED`.
    pub status: String,
    /// CloudFormation's reason, when it gave one.
    pub reason: Option<String>,
}

impl Event {
    /// The event as one plain line: time, resource, type, status, reason.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{}  {}  {}  {}",
            self.timestamp, self.logical_id, self.resource_type, self.status
        );
        if let Some(reason) = &self.reason {
            line.push_str(": ");
            line.push_str(reason);
        }
        line
    }
}

/// The events after `last_seen`, oldest first, from a page listed newest first (as
/// `DescribeStackEvents` lists them). Returns whether `last_seen` was found: if not, older pages
/// may hold more new events.
pub fn events_since(newest_first: &[Event], last_seen: Option<&str>) -> (Vec<Event>, bool) {
    let mut fresh = Vec::new();
    let mut found = false;
    for e in newest_first {
        if Some(e.id.as_str()) == last_seen {
            found = true;
            break;
        }
        fresh.push(e.clone());
    }
    fresh.reverse();
    (fresh, found)
}

/// The root cause of a failed operation: the first resource (oldest event) that failed for a
/// reason of its own. Resources cancelled because another one failed are not causes, and the
/// stack's own summary ("The following resource(s) failed...") is used only when no resource
/// failed.
pub fn root_cause(oldest_first: &[Event], stack: &str) -> Option<String> {
    let failed = |e: &&Event| e.status.ends_with("_FAILED");
    let cancelled = |e: &&Event| {
        e.reason
            .as_deref()
            .is_some_and(|r| r.contains("cancelled") || r.contains("canceled"))
    };
    let resource = oldest_first
        .iter()
        .filter(failed)
        .filter(|e| e.logical_id != stack)
        .find(|e| !cancelled(e));
    if let Some(e) = resource {
        return Some(format!(
            "`{}` ({}) {}: {}",
            e.logical_id,
            e.resource_type,
            e.status,
            e.reason.as_deref().unwrap_or("no reason given")
        ));
    }
    oldest_first
        .iter()
        .filter(|e| e.logical_id == stack)
        .find_map(|e| {
            e.reason
                .as_deref()
                .filter(|r| !r.is_empty() && *r != "User Initiated")
        })
        .map(|r| format!("stack: {r}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, logical: &str, status: &str, reason: Option<&str>) -> Event {
        Event {
            id: id.into(),
            timestamp: "2026-11-24T22:00:00Z".into(),
            logical_id: logical.into(),
            resource_type: if logical == "photo-app-dev" {
                "AWS::CloudFormation::Stack".into()
            } else {
                "AWS::Lambda::Function".into()
            },
            status: status.into(),
            reason: reason.map(Into::into),
        }
    }

    #[test]
    fn changes_render_as_an_aligned_table() {
        let changes = vec![
            Change {
                action: "Modify".into(),
                logical_id: "ApiFunction".into(),
                resource_type: "AWS::Lambda::Function".into(),
                replacement: Some("False".into()),
            },
            Change {
                action: "Add".into(),
                logical_id: "Queue".into(),
                resource_type: "AWS::SQS::Queue".into(),
                replacement: None,
            },
            Change {
                action: "Modify".into(),
                logical_id: "PhotoTable".into(),
                resource_type: "AWS::DynamoDB::Table".into(),
                replacement: Some("True".into()),
            },
        ];
        assert_eq!(
            render_changes(&changes),
            "\
ACTION  RESOURCE     TYPE                   REPLACEMENT
Modify  ApiFunction  AWS::Lambda::Function  no
Add     Queue        AWS::SQS::Queue        -
Modify  PhotoTable   AWS::DynamoDB::Table   yes (the resource is replaced)
"
        );
        assert_eq!(render_changes(&[]), "no changes\n");
        let json: serde_json::Value =
            serde_json::from_str(&changes_json("photo-app-dev", &changes)).unwrap();
        assert_eq!(json["changes"][2]["replacement"], "True");
        assert_eq!(json["changes"][1]["replacement"], serde_json::Value::Null);
    }

    #[test]
    fn only_events_after_the_last_seen_one_oldest_first() {
        let page = vec![
            event("3", "B", "CREATE_COMPLETE", None),
            event("2", "A", "CREATE_COMPLETE", None),
            event(
                "1",
                "photo-app-dev",
                "CREATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
        ];
        let (fresh, found) = events_since(&page, Some("1"));
        assert!(found);
        assert_eq!(
            fresh.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            ["2", "3"]
        );
        let (fresh, found) = events_since(&page, Some("0"));
        assert!(!found);
        assert_eq!(fresh.len(), 3);
        let (fresh, _) = events_since(&page, Some("3"));
        assert!(fresh.is_empty());
    }

    #[test]
    fn the_root_cause_is_the_first_real_failure() {
        let events = vec![
            event(
                "1",
                "photo-app-dev",
                "UPDATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
            event("2", "ApiFunction", "UPDATE_IN_PROGRESS", None),
            event(
                "3",
                "ApiFunction",
                "UPDATE_FAILED",
                Some("Error occurred while GetObject. S3 Error Code: NoSuchKey"),
            ),
            event(
                "4",
                "ThumbnailFunction",
                "UPDATE_FAILED",
                Some("Resource update cancelled"),
            ),
            event(
                "5",
                "photo-app-dev",
                "UPDATE_ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to update: [ApiFunction]."),
            ),
        ];
        assert_eq!(
            root_cause(&events, "photo-app-dev").unwrap(),
            "`ApiFunction` (AWS::Lambda::Function) UPDATE_FAILED: Error occurred while GetObject. S3 Error Code: NoSuchKey"
        );
        // Cancelled resources are never the cause; the stack's summary is the fallback.
        assert_eq!(
            root_cause(&events[3..], "photo-app-dev").unwrap(),
            "stack: The following resource(s) failed to update: [ApiFunction]."
        );
        assert_eq!(root_cause(&events[..2], "photo-app-dev"), None);
    }

    #[test]
    fn an_event_is_one_line() {
        assert_eq!(
            event("1", "ApiFunction", "CREATE_FAILED", Some("boom")).line(),
            "2026-11-24T22:00:00Z  ApiFunction  AWS::Lambda::Function  CREATE_FAILED: boom"
        );
    }
}
