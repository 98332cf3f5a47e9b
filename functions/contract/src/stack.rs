//! The stack itself: its name, the parameters the deployer fills in, and the outputs it reads.

/// The CloudFormation stack of `stage`: `photo-app-{stage}`.
pub fn stack_name(stage: &str) -> String {
    format!("{STACK_PREFIX}{stage}")
}

/// What every stack name starts with; resource names derived from the stage share it.
pub const STACK_PREFIX: &str = "photo-app-";

/// The photo bucket's fixed name: `{stack}-photos-{account}-{region}` (the template passes its
/// pseudo parameters as `account` and `region`).
pub fn photo_bucket(stack: &str, account: &str, region: &str) -> String {
    format!("{stack}-photos-{account}-{region}")
}

/// The template parameters the deployer fills in (besides each function's
/// [`code_parameter`](crate::functions::Function::code_parameter)).
pub mod parameters {
    /// The S3 bucket holding the function zips.
    pub const ARTIFACT_BUCKET: &str = "ArtifactBucket";

    /// `true` or `false`: deletion protection of the table and the user pool, in stages that
    /// keep their data. Off while a stage is first created (so that a failed creation can roll
    /// back and leave nothing behind), turned on by the update that follows it.
    pub const DATA_PROTECTION: &str = "DataProtection";

    /// The media signing keys: two slots, so a rotation can hold the old and the new key.
    pub mod media {
        /// Which slot signs now: `a` or `b`.
        pub const ACTIVE: &str = "MediaKeyActive";
        /// Slot a's key fingerprint (16 hex digits; empty when the slot is free).
        pub const A_ID: &str = "MediaKeyAId";
        /// Slot a's PEM public key.
        pub const A_PUBLIC: &str = "MediaKeyAPublic";
        /// Slot b's key fingerprint.
        pub const B_ID: &str = "MediaKeyBId";
        /// Slot b's PEM public key.
        pub const B_PUBLIC: &str = "MediaKeyBPublic";
    }
}

/// The stack's outputs: what the deployer publishes the SPA with, writes into its runtime
/// configuration, and what `smoke` and operators read.
pub mod outputs {
    /// The site's URL.
    pub const SITE_URL: &str = "SiteUrl";
    /// The HTTP API's base URL.
    pub const API_URL: &str = "ApiUrl";
    /// The Cognito user pool's id.
    pub const USER_POOL_ID: &str = "UserPoolId";
    /// The SPA's Cognito app client id.
    pub const USER_POOL_CLIENT_ID: &str = "UserPoolClientId";
    /// The stack's region.
    pub const REGION: &str = "Region";
    /// The bucket holding originals and derivatives.
    pub const PHOTO_BUCKET: &str = "PhotoBucketName";
    /// The photo table's name.
    pub const TABLE: &str = "TableName";
    /// The bucket the SPA is published to.
    pub const SITE_BUCKET: &str = "SiteBucketName";
    /// The CloudFront distribution to invalidate after publishing.
    pub const DISTRIBUTION: &str = "DistributionId";
    /// The CloudFront distribution photos are served through.
    pub const MEDIA_DISTRIBUTION: &str = "MediaDistributionId";
    /// Its host name.
    pub const MEDIA_DOMAIN: &str = "MediaDomain";
}
