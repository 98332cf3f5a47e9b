//! `deployer synth` as an operator runs it: the real binary, real files, real exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    testkit::workspace_root()
}

/// Runs the deployer from the workspace root with `args`.
fn deployer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deployer"))
        .args(args)
        .current_dir(workspace())
        .env_remove("DEPLOYER_CONFIG")
        .env_remove("DEPLOYER_STAGE")
        .output()
        .expect("running deployer")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Checks a failure: its exit code and its one-line message.
fn check_failure(args: &[&str], code: i32, message: &str) {
    let out = deployer(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(
        err.contains(message),
        "{args:?}: expected {message:?} in {err:?}"
    );
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed to stdout on failure"
    );
}

#[test]
fn synth_prints_the_golden_templates_of_deployer_toml() {
    // The stack's golden files are built from the same settings as the shipped deployer.toml,
    // so the command an operator runs prints exactly the reviewed templates.
    for stage in ["dev", "prod"] {
        let out = deployer(&["synth", "--stage", stage]);
        assert!(out.status.success(), "{}", stderr(&out));
        let golden =
            std::fs::read_to_string(workspace().join(format!("stack/tests/golden/{stage}.json")))
                .unwrap();
        assert!(
            String::from_utf8(out.stdout).unwrap() == golden,
            "`synth --stage {stage}` differs from the golden template"
        );
    }
}

#[test]
fn synth_yaml_is_the_same_template() {
    let json = deployer(&["synth", "--stage", "prod"]);
    let yaml = deployer(&["synth", "--stage", "prod", "--format", "yaml"]);
    assert!(yaml.status.success(), "{}", stderr(&yaml));
    let from_json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let from_yaml: serde_json::Value = serde_yaml::from_slice(&yaml.stdout).unwrap();
    assert_eq!(from_json, from_yaml);
}

#[test]
fn synth_out_writes_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("templates");
    let out = deployer(&[
        "synth",
        "--stage",
        "dev",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let written = std::fs::read_to_string(out_dir.join("photo-app-dev.json")).unwrap();
    let printed = deployer(&["synth", "--stage", "dev"]).stdout;
    assert_eq!(written.as_bytes(), printed.as_slice());
}

#[test]
fn unknown_stage_has_its_own_exit_code() {
    check_failure(
        &["synth", "--stage", "staging"],
        4,
        "error: unknown stage `staging`: `deployer.toml` defines the stages `dev`, `prod`\n",
    );
}

#[test]
fn invalid_config_names_file_stage_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stages.toml");
    std::fs::write(
        &file,
        "[stages.dev]\nregion = \"eu-west-1\"\nthumbnail = { memory_mb = 20000 }\n",
    )
    .unwrap();
    let out = deployer(&[
        "--config",
        file.to_str().unwrap(),
        "synth",
        "--stage",
        "dev",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "stages.toml`: stage `dev`, key `thumbnail.memory_mb`: invalid memory size `20000`"
        ),
        "{err}"
    );
}

#[test]
fn missing_config_file_is_a_config_error() {
    check_failure(
        &["--config", "no-such-file.toml", "synth", "--stage", "dev"],
        3,
        "cannot read `no-such-file.toml`",
    );
}

#[test]
fn the_local_stage_has_no_template() {
    check_failure(
        &["synth", "--stage", "local"],
        1,
        "the local stage runs on this machine",
    );
}

#[test]
fn a_typo_in_a_flag_is_a_usage_error() {
    check_failure(
        &["synth", "--stgae", "dev"],
        2,
        "unexpected argument '--stgae'",
    );
    check_failure(
        &["synth", "--stage", "dev", "--format", "xml"],
        2,
        "invalid value 'xml'",
    );
}
