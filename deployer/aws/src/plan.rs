//! Pure decisions of a deploy: is the deployed stack already what we want, and can a deploy
//! start from the state it is in (and if not, what exactly the operator does next).

use std::collections::BTreeMap;

/// The parameters or tags of a stack, sorted by key.
pub type Pairs = BTreeMap<String, String>;

/// What a deploy wants the stack to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// The synthesized template (JSON).
    pub template: String,
    /// The template's parameter values.
    pub parameters: Pairs,
    /// The stack's tags.
    pub tags: Pairs,
}

/// What the stack is now, as CloudFormation describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    /// The stack status, such as `UPDATE_COMPLETE`.
    pub status: String,
    /// The template CloudFormation holds (as submitted).
    pub template: String,
    /// The parameter values it was deployed with.
    pub parameters: Pairs,
    /// The stack's tags.
    pub tags: Pairs,
}

/// Whether deploying `desired` over `deployed` would change nothing.
///
/// Templates are compared as JSON values, not text: whitespace and key order are not changes.
/// A template that is not JSON (someone deployed YAML by hand) never compares equal, so the
/// change set decides.
pub fn unchanged(desired: &Desired, deployed: &Deployed) -> bool {
    if desired.parameters != deployed.parameters || desired.tags != deployed.tags {
        return false;
    }
    let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
    match (parse(&desired.template), parse(&deployed.template)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// What a deploy does given the stack's current status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// No stack: create it.
    Create,
    /// A stack created by a change set that was never executed (`REVIEW_IN_PROGRESS`): still a
    /// creation.
    CreateFromReview,
    /// A first creation failed and rolled back (`ROLLBACK_COMPLETE`): such a stack can only be
    /// deleted; delete it, then create it again.
    Recreate,
    /// A stable stack: update it.
    Update,
    /// No deploy can start; the operator must do this first.
    Blocked(String),
}

/// Decides how a deploy starts from `status` (`None`: no stack), with the exact next step when
/// it cannot.
pub fn start_from(status: Option<&str>, stage: &str, stack: &str, region: &str) -> Start {
    let Some(status) = status else {
        return Start::Create;
    };
    match status {
        "DELETE_COMPLETE" => Start::Create,
        "REVIEW_IN_PROGRESS" => Start::CreateFromReview,
        "ROLLBACK_COMPLETE" => Start::Recreate,
        "CREATE_COMPLETE"
        | "UPDATE_COMPLETE"
        | "UPDATE_ROLLBACK_COMPLETE"
        | "IMPORT_COMPLETE"
        | "IMPORT_ROLLBACK_COMPLETE" => Start::Update,
        "UPDATE_ROLLBACK_FAILED" => Start::Blocked(format!(
            "an update failed and so did its rollback; run `aws cloudformation continue-update-rollback --stack-name {stack} --region {region}` (add `--resources-to-skip ID` for a resource that cannot go back, after fixing it by hand), wait for `UPDATE_ROLLBACK_COMPLETE` (`deployer status --stage {stage}`), then `deployer up --stage {stage}` again"
        )),
        "ROLLBACK_FAILED" => Start::Blocked(format!(
            "a first creation failed and its rollback too; the stack can only be deleted: `deployer down --stage {stage}`, then `deployer up --stage {stage}`"
        )),
        "DELETE_FAILED" => Start::Blocked(format!(
            "deleting the stack failed (usually a bucket that is not empty); `deployer status --stage {stage}` names the resource: empty or remove it, then `deployer down --stage {stage}` again"
        )),
        s if s.ends_with("_IN_PROGRESS") => Start::Blocked(format!(
            "another operation on the stack is running (another deploy, or one that was interrupted); wait until `deployer status --stage {stage}` shows it finished, then run `deployer up --stage {stage}` again"
        )),
        other => Start::Blocked(format!(
            "the deployer does not know how to continue from `{other}`; inspect it with `deployer status --stage {stage}`"
        )),
    }
}

/// Whether `status` is final: CloudFormation has stopped working on the stack.
pub fn is_settled(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS")
}

/// Whether a settled `status` means the last operation succeeded.
pub fn is_success(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "DELETE_COMPLETE" | "IMPORT_COMPLETE"
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn pairs(items: &[(&str, &str)]) -> Pairs {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn desired() -> Desired {
        Desired {
            template: r#"{"Resources": {"A": {"Type": "AWS::S3::Bucket"}}, "Outputs": {}}"#.into(),
            parameters: pairs(&[("ApiCodeKey", "functions/a.zip")]),
            tags: pairs(&[("photo-app:stage", "dev")]),
        }
    }

    fn deployed_as(d: &Desired) -> Deployed {
        Deployed {
            status: "UPDATE_COMPLETE".into(),
            template: d.template.clone(),
            parameters: d.parameters.clone(),
            tags: d.tags.clone(),
        }
    }

    #[test]
    fn same_template_parameters_and_tags_is_no_change() {
        let d = desired();
        assert!(unchanged(&d, &deployed_as(&d)));
    }

    #[test]
    fn formatting_and_key_order_are_not_changes() {
        let d = desired();
        let mut deployed = deployed_as(&d);
        deployed.template =
            "{\n  \"Outputs\": {},\n  \"Resources\": {\"A\": {\"Type\": \"AWS::S3::Bucket\"}}\n}"
                .into();
        assert!(unchanged(&d, &deployed));
    }

    #[test]
    fn any_difference_is_a_change() {
        let d = desired();
        let mut other = deployed_as(&d);
        other.template =
            r#"{"Resources": {"A": {"Type": "AWS::S3::Bucket", "Properties": {}}}, "Outputs": {}}"#
                .into();
        assert!(!unchanged(&d, &other));
        let mut other = deployed_as(&d);
        other
            .parameters
            .insert("ApiCodeKey".into(), "functions/b.zip".into());
        assert!(!unchanged(&d, &other));
        let mut other = deployed_as(&d);
        other.tags.clear();
        assert!(!unchanged(&d, &other));
        let mut other = deployed_as(&d);
        other.template = "Resources:\n  A:\n    Type: AWS::S3::Bucket\n".into();
        assert!(!unchanged(&d, &other));
    }

    fn check(status: Option<&str>, expected: &str) {
        let got = match start_from(status, "dev", "photo-app-dev", "eu-west-1") {
            Start::Create => "create".to_owned(),
            Start::CreateFromReview => "review".to_owned(),
            Start::Recreate => "recreate".to_owned(),
            Start::Update => "update".to_owned(),
            Start::Blocked(step) => format!("blocked: {step}"),
        };
        assert!(got.starts_with(expected), "{status:?}: {got}");
    }

    #[test]
    fn every_status_has_a_way_forward() {
        check(None, "create");
        check(Some("REVIEW_IN_PROGRESS"), "review");
        check(Some("ROLLBACK_COMPLETE"), "recreate");
        check(Some("CREATE_COMPLETE"), "update");
        check(Some("UPDATE_ROLLBACK_COMPLETE"), "update");
        check(
            Some("UPDATE_ROLLBACK_FAILED"),
            "blocked: an update failed and so did its rollback; run `aws cloudformation continue-update-rollback --stack-name photo-app-dev --region eu-west-1`",
        );
        check(
            Some("UPDATE_IN_PROGRESS"),
            "blocked: another operation on the stack is running",
        );
        check(
            Some("DELETE_IN_PROGRESS"),
            "blocked: another operation on the stack is running",
        );
        check(
            Some("ROLLBACK_FAILED"),
            "blocked: a first creation failed and its rollback too; the stack can only be deleted: `deployer down --stage dev`",
        );
        check(Some("DELETE_FAILED"), "blocked: deleting the stack failed");
    }

    #[test]
    fn settled_and_success() {
        assert!(!is_settled("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"));
        assert!(is_settled("UPDATE_ROLLBACK_COMPLETE"));
        assert!(is_success("CREATE_COMPLETE"));
        assert!(!is_success("UPDATE_ROLLBACK_COMPLETE"));
        assert!(!is_success("ROLLBACK_COMPLETE"));
    }
}
