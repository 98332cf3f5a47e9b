//! Whether the account can give a new stage the Lambda concurrency it reserves.
//!
//! Each stage reserves concurrency for both functions (`api.reserved_concurrency` and
//! `thumbnail.reserved_concurrency`, 20 and 5 by default), and Lambda refuses any reservation
//! that would leave fewer than 100 of the account's executions unreserved in the region. So an
//! account and region with N stages needs a quota of 100 + 25·N, and a new account (whose quota
//! often starts at 10) cannot create the first one. CloudFormation would find out half-way
//! through creating the stack; `up` asks Lambda first (`GetAccountSettings`) and stops before
//! anything is created, naming the quota to request.

use aws_sdk_lambda::error::DisplayErrorContext;

use crate::error::AwsError;
use crate::ui::Ui;

/// What Lambda keeps unreserved in every account and region.
pub const UNRESERVED_MINIMUM: i64 = 100;

/// What a new stage's functions reserve, checked before the stage is created.
#[derive(Debug, Clone)]
pub struct ConcurrencyCheck {
    /// A Lambda client of the stage's account and region.
    pub lambda: aws_sdk_lambda::Client,
    /// The executions the stage reserves (both functions).
    pub reserved: u32,
}

impl ConcurrencyCheck {
    /// `Ok` when the account's unreserved concurrency in `region` leaves room for the stage
    /// beside Lambda's 100; [`AwsError::ConcurrencyQuota`] otherwise. When the settings cannot
    /// be read (no `lambda:GetAccountSettings` permission, an endpoint without the call), says
    /// so on `ui` and lets the deploy go on: CloudFormation checks again when it creates the
    /// functions.
    pub async fn run(&self, stage: &str, region: &str, ui: &Ui) -> Result<(), AwsError> {
        let settings = match self.lambda.get_account_settings().send().await {
            Ok(settings) => settings,
            Err(e) => {
                ui.line(&format!(
                    "concurrency: not checked, the account's Lambda settings could not be read ({})",
                    DisplayErrorContext(&e)
                ));
                return Ok(());
            }
        };
        let Some(limit) = settings.account_limit() else {
            ui.line("concurrency: not checked, Lambda reported no account limit");
            return Ok(());
        };
        let total = i64::from(limit.concurrent_executions());
        let unreserved = limit
            .unreserved_concurrent_executions()
            .map_or(total, i64::from);
        let reserved = i64::from(self.reserved);
        if unreserved - reserved >= UNRESERVED_MINIMUM {
            return Ok(());
        }
        Err(AwsError::ConcurrencyQuota {
            stage: stage.to_owned(),
            region: region.to_owned(),
            reserved: self.reserved,
            unreserved,
            quota: total + (UNRESERVED_MINIMUM + reserved - unreserved),
        })
    }
}

/// `deployer` checking, before it creates the stage's stack, that the stack fits the account's
/// Lambda concurrency.
pub(crate) fn checking(
    deployer: &crate::deploy::Deployer,
    session: &crate::Session,
    stage: &stack::config::StageConfig,
) -> crate::deploy::Deployer {
    let mut checked = deployer.clone();
    checked.concurrency = Some(ConcurrencyCheck {
        lambda: session.lambda(),
        reserved: stage.reserved_concurrency.api + stage.reserved_concurrency.thumbnail,
    });
    checked
}
