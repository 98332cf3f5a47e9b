//! The SDK configuration for `logs` and `smoke`: the standard credential chain, with the
//! operator's `--profile`, `--region` and `--endpoint-url` on top.

use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::error::AwsError;

/// Where and as whom to call AWS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdkTarget {
    /// A named profile from the shared config files.
    pub profile: Option<String>,
    /// The region; the stage's region when not given.
    pub region: Option<String>,
    /// An emulator's URL instead of AWS (`AWS_ENDPOINT_URL` also works, read by the SDK).
    pub endpoint_url: Option<String>,
}

/// Loads the SDK configuration for `target`, falling back to `default_region`, and resolves its
/// credentials ([`crate::credentials`]).
pub async fn load(target: &SdkTarget, default_region: &str) -> Result<SdkConfig, AwsError> {
    let region = target
        .region
        .clone()
        .unwrap_or_else(|| default_region.to_owned());
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region));
    if let Some(url) = &target.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    crate::credentials::load(loader, target.profile.as_deref()).await
}

/// What reading a stack's outputs can fail on.
#[derive(Debug, thiserror::Error)]
pub enum OutputsError {
    /// The stack does not exist or cannot be read.
    #[error("reading stack `{stack}`: {message}")]
    Describe {
        /// The stack.
        stack: String,
        /// The SDK's error chain.
        message: String,
    },
    /// The stack has no outputs (yet).
    #[error("stack `{0}` has no outputs: has `deployer up` finished for this stage?")]
    NoOutputs(String),
}

/// A stack's outputs, by key.
pub async fn stack_outputs(
    cloudformation: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<std::collections::HashMap<String, String>, OutputsError> {
    let out = cloudformation
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| OutputsError::Describe {
            stack: stack.to_owned(),
            message: aws_sdk_cloudformation::error::DisplayErrorContext(&e).to_string(),
        })?;
    let outputs: std::collections::HashMap<String, String> = out
        .stacks()
        .first()
        .map(|s| s.outputs())
        .unwrap_or_default()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect();
    if outputs.is_empty() {
        return Err(OutputsError::NoOutputs(stack.to_owned()));
    }
    Ok(outputs)
}

/// A runtime for one command.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}
