//! AWS adapters for the photo domain: the DynamoDB single-table repository and the S3 photo
//! bucket, each behind the domain's port traits, and the signer of CloudFront URLs. (Cognito tokens are verified by `photo-auth`,
//! which needs no SDK.)
//!
//! Every adapter takes an [`aws_config::SdkConfig`] (or a client built from one), so Lambda
//! passes the default chain and tests pass an endpoint override pointing at moto.

pub mod cloudfront;
pub mod dynamo;
mod item;
pub mod media;
pub mod s3;
pub mod table;
pub mod tls;

pub use dynamo::DynamoDbRepository;
pub use media::CloudFrontMedia;
pub use s3::S3ObjectStore;
