//! Talking to AWS: publishing the SPA, reading function logs and smoke-testing a deployed stage.

pub mod logs;
pub mod ops_sdk;
pub mod publish;
pub mod smoke;
