//! What the bootstrap tests set up: moto holding the stack's table and bucket, the function's
//! command as Lambda would start it there (the host's test build, or the static Lambda build of
//! either architecture), and the check of an init error report.

#![allow(dead_code)]

use std::process::Command;

use aws_config::SdkConfig;
use photo_contract::functions::Function;
use serde_json::Value;
use testkit::MotoServer;
use testkit::aws::{BUCKET, REGION, TABLE};
use testkit::lambda::Architecture;
use testkit::runtime_api::RuntimeApi;

/// moto with the photo table (exactly as the stack declares it) and the photo bucket.
pub async fn moto_stack() -> (MotoServer, SdkConfig) {
    let moto = MotoServer::start();
    let config = testkit::aws::sdk_config(&moto).await;
    photo_aws::table::create_table(&aws_sdk_dynamodb::Client::new(&config), TABLE)
        .await
        .expect("creating the table");
    testkit::aws::create_bucket(&config, BUCKET).await;
    (moto, config)
}

/// The function binary `bin` as Lambda starts it, with its AWS settings pointing at moto.
pub fn bootstrap(
    runtime: &RuntimeApi,
    moto: &MotoServer,
    bin: &str,
    name: &str,
    memory_mb: u32,
) -> Command {
    with_moto(runtime.command(bin, name, memory_mb), moto)
}

/// `function` built for Lambda's `arch` as the deployer builds it (static, musl), started as
/// Lambda would start it, under `qemu-user` when `arch` is not the host's, with its AWS settings
/// pointing at moto.
pub fn lambda_bootstrap(
    runtime: &RuntimeApi,
    moto: &MotoServer,
    function: Function,
    arch: Architecture,
    memory_mb: u32,
) -> Command {
    let bin = testkit::lambda::bootstrap(function, arch);
    let name = format!("photo-app-test-{}-{arch}", function.name);
    with_moto(
        testkit::lambda::command(runtime, arch, &bin, &name, memory_mb),
        moto,
    )
}

/// `command` with the AWS settings of a function of the stack, pointing at moto.
fn with_moto(mut command: Command, moto: &MotoServer) -> Command {
    testkit::aws::moto_env(&mut command, moto);
    command
        .env("AWS_REGION", REGION)
        .env("PHOTO_TABLE", TABLE)
        .env("PHOTO_BUCKET", BUCKET);
    command
}

/// Runs `bin` with only `env` and checks that it reports a `ConfigError` with `message` to
/// Lambda before asking for any work.
pub fn check_init_error(bin: &str, env: &[(&str, &str)], message: &str) {
    let report: Value =
        serde_json::from_str(&RuntimeApi::init_failure(bin, env)).expect("the report is JSON");
    assert_eq!(report["errorType"], "ConfigError");
    assert_eq!(report["errorMessage"], message);
}
