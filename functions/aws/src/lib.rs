//! AWS adapters for the photo domain: the DynamoDB single-table repository, the S3 photo
//! bucket and the Cognito token verifier, each behind the domain's port trait.
//!
//! Every adapter takes an [`aws_config::SdkConfig`] (or a client built from one), so Lambda
//! passes the default chain and tests pass an endpoint override pointing at moto.

pub mod cognito;
pub mod dynamo;
mod item;
pub mod lambda;
pub mod s3;
pub mod table;

pub use cognito::CognitoVerifier;
pub use dynamo::DynamoDbRepository;
pub use s3::S3ObjectStore;
