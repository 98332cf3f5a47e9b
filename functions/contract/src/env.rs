//! The environment variables the stack sets on the functions and the functions read.

/// The stage's DynamoDB table (both functions).
pub const PHOTO_TABLE: &str = "PHOTO_TABLE";
/// The stage's photo bucket (both functions).
pub const PHOTO_BUCKET: &str = "PHOTO_BUCKET";
/// The user pool whose access tokens the API accepts.
pub const USER_POOL_ID: &str = "USER_POOL_ID";
/// The app client the access tokens must be issued to.
pub const USER_POOL_CLIENT_ID: &str = "USER_POOL_CLIENT_ID";
/// The largest original the API hands out an upload form for, in bytes.
pub const MAX_UPLOAD_BYTES: &str = "MAX_UPLOAD_BYTES";
/// Each user's storage quota, in bytes.
pub const QUOTA_BYTES: &str = "QUOTA_BYTES";
/// The longest a share link may live, in days.
pub const MAX_SHARE_DAYS: &str = "MAX_SHARE_DAYS";
/// The media distribution's host name (`d111111abcdef8.cloudfront.net`): photos are linked
/// through it, signed with the stage's key. Unset, links are S3 pre-signed GETs (emulators).
pub const MEDIA_DOMAIN: &str = "MEDIA_DOMAIN";
/// The CloudFront id of the public key media links are signed for (the active one).
pub const MEDIA_KEY_ID: &str = "MEDIA_KEY_ID";
/// The Secrets Manager secret holding that key's private half (PKCS#8 PEM), readable by the
/// API function's role alone.
pub const MEDIA_KEY_SECRET: &str = "MEDIA_KEY_SECRET";

/// Not set by the stack: replaces `https://cognito-idp.{region}.amazonaws.com` as the base the
/// user pool's keys are fetched from, for emulators and tests.
pub const COGNITO_ENDPOINT: &str = "COGNITO_ENDPOINT";

/// What the API function reads, in the order the stack sets them.
pub const API: &[&str] = &[
    PHOTO_TABLE,
    PHOTO_BUCKET,
    USER_POOL_ID,
    USER_POOL_CLIENT_ID,
    MAX_UPLOAD_BYTES,
    QUOTA_BYTES,
    MAX_SHARE_DAYS,
    MEDIA_DOMAIN,
    MEDIA_KEY_ID,
    MEDIA_KEY_SECRET,
];

/// What the thumbnail function reads, in the order the stack sets them.
pub const THUMBNAIL: &[&str] = &[PHOTO_TABLE, PHOTO_BUCKET];
