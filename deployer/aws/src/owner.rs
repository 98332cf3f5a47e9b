//! Every S3 request the deployer sends names the account it expects to own the bucket
//! (`x-amz-expected-bucket-owner`). S3 then refuses, with 403, any request to a bucket of another
//! account, even one that account has opened to this one: a bucket created first under the
//! artifact bucket's predictable name can never be used to swap a function's code or a template.
//!
//! CreateBucket is the one operation that cannot carry the header; the artifact bucket checks
//! the owner with its next request. A copy also names the source bucket's expected owner.

use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// The header S3 checks the bucket's owner against.
pub const EXPECTED_OWNER: &str = "x-amz-expected-bucket-owner";
/// The same for the source of a copy.
pub const EXPECTED_SOURCE_OWNER: &str = "x-amz-source-expected-bucket-owner";

/// Adds the expected owner to every S3 request but CreateBucket.
#[derive(Debug, Clone)]
pub struct ExpectedOwner {
    account_id: String,
}

impl ExpectedOwner {
    /// Requests will expect buckets owned by `account_id`.
    pub fn new(account_id: &str) -> Self {
        ExpectedOwner {
            account_id: account_id.to_owned(),
        }
    }
}

impl Intercept for ExpectedOwner {
    fn name(&self) -> &'static str {
        "ExpectedBucketOwner"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map(Metadata::name);
        if operation == Some("CreateBucket") {
            return Ok(());
        }
        let headers = context.request_mut().headers_mut();
        headers.insert(EXPECTED_OWNER, self.account_id.clone());
        if matches!(operation, Some("CopyObject" | "UploadPartCopy")) {
            headers.insert(EXPECTED_SOURCE_OWNER, self.account_id.clone());
        }
        Ok(())
    }
}
