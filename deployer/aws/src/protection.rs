//! Deletion protection of the data a stage keeps (its table and user pool), and first deploys
//! that can be retried.
//!
//! Kept data is `RetainExceptOnCreate`: when a stage's first creation fails, CloudFormation's
//! rollback deletes the photo bucket, the table and the user pool it made, so the retry does not
//! trip over a bucket name already taken, and no empty table or pool is left where `down` never
//! looks. A rollback cannot delete a resource under deletion protection (the stack would end
//! `ROLLBACK_FAILED`), so the template's [`DATA_PROTECTION`] parameter keeps protection off
//! while the stack is first created, and `up` turns it on with the update that follows.

use anyhow::Result;
use photo_contract::stack::parameters::DATA_PROTECTION;

use crate::deploy::{Deployer, Outcome, TemplateSource};
use crate::plan::{Desired, Start};

/// Whether `template` (JSON) has the protection parameter: only stages that keep their data do.
pub fn declared(template: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(template)
        .is_ok_and(|t| t["Parameters"].get(DATA_PROTECTION).is_some())
}

/// Whether a deploy from `start` creates the stack (rather than updating it).
pub fn creates(start: &Start) -> bool {
    matches!(
        start,
        Start::Create | Start::CreateFromReview | Start::Recreate
    )
}

/// Sets the protection `desired` asks for, when its template has the parameter.
pub fn set(desired: &mut Desired, on: bool) {
    if declared(&desired.template) {
        desired
            .parameters
            .insert(DATA_PROTECTION.to_owned(), on.to_string());
    }
}

/// Whether `desired` deploys with protection off: a first creation of a stage that keeps data.
pub fn is_off(desired: &Desired) -> bool {
    desired
        .parameters
        .get(DATA_PROTECTION)
        .is_some_and(|v| v == "false")
}

/// After the deploy of `desired` ended with `outcome`: when it was a first creation with
/// protection off, the update that turns it on; a line saying so, or `None` when there was
/// nothing to do.
pub async fn after_deploy(
    deployer: &Deployer,
    desired: &Desired,
    source: &TemplateSource,
    outcome: &Outcome,
) -> Result<Option<String>> {
    if !is_off(desired) || !matches!(outcome, Outcome::Deployed { .. }) {
        return Ok(None);
    }
    deployer
        .ui
        .line("the stage is created: turning on deletion protection of its table and user pool");
    let mut protected = desired.clone();
    set(&mut protected, true);
    let status = match deployer.deploy(&protected, source, None).await? {
        Outcome::Deployed { status, .. } => status,
        Outcome::NoChanges => "unchanged".to_owned(),
    };
    Ok(Some(format!(
        "deletion protection: on (stack `{}` is {status})",
        deployer.stack
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Pairs;

    fn desired(template: &str) -> Desired {
        Desired {
            template: template.to_owned(),
            parameters: Pairs::new(),
            tags: Pairs::new(),
        }
    }

    #[test]
    fn only_a_template_with_the_parameter_gets_it() {
        let with = format!(r#"{{"Parameters": {{"{DATA_PROTECTION}": {{"Type": "String"}}}}}}"#);
        let mut d = desired(&with);
        set(&mut d, false);
        assert!(is_off(&d));
        set(&mut d, true);
        assert_eq!(d.parameters[DATA_PROTECTION], "true");
        assert!(!is_off(&d));

        let mut d = desired(r#"{"Parameters": {}}"#);
        set(&mut d, false);
        assert!(d.parameters.is_empty(), "a stage that keeps no data");
        assert!(!is_off(&d));
    }

    #[test]
    fn creations_start_unprotected() {
        for start in [Start::Create, Start::CreateFromReview, Start::Recreate] {
            assert!(creates(&start), "{start:?}");
        }
        assert!(!creates(&Start::Update));
        assert!(!creates(&Start::Blocked(String::new())));
    }
}
