//! `deployer up`, `diff`, `outputs` and `down` end to end: the real binary against a moto server
//! on 127.0.0.1, the way an operator runs them against AWS.
//!
//! The function zips come from `--artifacts-dir` (made here with the deployer's own packager
//! from stand-in binaries): cross-building the real musl binaries in every test run would take
//! minutes, and what is under test is the deploy, not the build (`build.rs` and `elf.rs` have
//! their own tests).
//!
//! moto cannot create every resource type of the stack, and refuses a template that refers to
//! one it skipped. So the tests give `up` the stage's real synthesized template through
//! `--template`, minus the types moto lacks (`testkit::template::MOTO_CANNOT_CREATE`), with
//! references to them replaced by placeholder strings; it is padded to stay over
//! CloudFormation's inline limit, so it goes through the artifact bucket as a real one does.
//!
//! What moto does not cover, and where it is covered instead:
//! - moto emits no per-resource stack events (only the stack's own), never fails a resource and
//!   never rolls back: the event stream, the failure's root cause, `ROLLBACK_COMPLETE` recovery
//!   and the refusal of `*_IN_PROGRESS` / `UPDATE_ROLLBACK_FAILED` stacks are replayed from
//!   AWS-shaped responses in `aws_replay.rs`;
//! - moto creates only some resource types (not CloudFront, Cognito, the HTTP API, alarms or
//!   bucket policies; see above), so a green stack here says nothing about those resources: the
//!   template is checked by cfn-lint and checkov in `stack`;
//! - moto builds a stack's outputs when the stack is created, and a stack created through a
//!   change set starts empty, so `outputs` of a moto stack is empty: the test checks that
//!   `outputs --json` prints exactly what `DescribeStacks` holds;
//! - moto's change sets list resources whose template changed, never those changed only by a
//!   parameter (a new function zip), so `diff` is tested with a template change;
//! - moto enforces the artifact bucket's TLS-only policy but speaks plain HTTP, so against a
//!   plain-HTTP endpoint the deployer does not set that policy (its text is unit-tested);
//!   encryption and public access blocks are stored, not enforced.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_sdk_dynamodb::types::AttributeValue::{Bool, N, S};
use deployer_aws::args::Format;
use deployer_build::package::package_bootstrap;
use serde_json::Value;
use testkit::MotoServer;

const BIN: &str = env!("CARGO_BIN_EXE_deployer");
pub(crate) const BUCKET: &str = "deployer-artifacts-123456789012-eu-west-1";
pub(crate) const STACK: &str = "photo-app-dev";

pub(crate) const CONFIG: &str =
    "[stages.dev]\nregion = \"eu-west-1\"\narchitecture = \"arm64\"\nlog_retention_days = 30\n";

/// The stage's template as moto can deploy it, padded to stay over the inline limit (51,200
/// bytes).
fn for_moto(template: &str) -> String {
    let mut value = testkit::template::for_moto(serde_json::from_str(template).unwrap());
    let resources = value["Resources"].as_object().unwrap();
    assert!(resources.contains_key("ApiFunction") && resources.contains_key("PhotoTable"));
    let text = serde_json::to_string_pretty(&value).unwrap();
    value["Metadata"] =
        serde_json::json!({ "Padding": "x".repeat(52_000usize.saturating_sub(text.len())) });
    serde_json::to_string_pretty(&value).unwrap()
}

/// A scratch directory with a configuration file, its template for moto, and function zips.
pub(crate) struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub(crate) fn new(config: &str) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("artifacts")).unwrap();
        let s = Scratch { dir };
        s.configure(config);
        s.function("api", b"api v1");
        s.function("thumbnail", b"thumbnail v1");
        s
    }

    /// Writes the configuration file and the moto-sized template of its `dev` stage.
    fn configure(&self, config: &str) {
        std::fs::write(self.config(), config).unwrap();
        let template = deployer_aws::synth::render(&self.config(), "dev", Format::Json).unwrap();
        std::fs::write(self.template(), for_moto(&template)).unwrap();
    }

    fn template(&self) -> PathBuf {
        self.dir.path().join("template.json")
    }

    /// Writes `NAME.zip` as `deployer package` would, from a stand-in binary; returns its sha.
    fn function(&self, name: &str, binary: &[u8]) -> String {
        let package = package_bootstrap(binary).unwrap();
        std::fs::write(self.artifacts().join(format!("{name}.zip")), &package.bytes).unwrap();
        package.sha256
    }

    fn artifacts(&self) -> PathBuf {
        self.dir.path().join("artifacts")
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("deployer.toml")
    }
}

/// Runs the deployer with moto's endpoint and moto's fake credentials, no terminal.
pub(crate) fn deployer(moto: &MotoServer, scratch: &Scratch, args: &[&str]) -> Output {
    let mut command = command(scratch.dir.path(), &scratch.config());
    testkit::aws::moto_env(&mut command, moto);
    command
        .env("DEPLOYER_ARTIFACTS_DIR", scratch.artifacts())
        .env("DEPLOYER_TEMPLATE", scratch.template())
        // A stack made through a change set has no outputs on moto, so there is nothing to
        // publish the SPA with; publishing has its own moto test in `aws_ops.rs`.
        .env("DEPLOYER_NO_SITE", "true")
        .args(args)
        .output()
        .expect("running deployer")
}

/// The deployer with a clean AWS environment: nothing from the machine running the tests.
fn command(cwd: &Path, config: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd).arg("--config").arg(config);
    for var in [
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "DEPLOYER_CONFIG",
        "DEPLOYER_STAGE",
        "DEPLOYER_REGION",
        "DEPLOYER_ARTIFACTS_DIR",
        "DEPLOYER_TEMPLATE",
        "DEPLOYER_NO_SITE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_CONFIG_FILE", cwd.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            cwd.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", cwd);
    cmd
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(crate) fn ok(out: &Output) -> (String, String) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "deployer failed ({:?})\nstdout: {stdout}\nstderr: {stderr}",
        out.status.code()
    );
    (stdout, stderr)
}

/// SDK clients on moto, for looking behind the deployer's back.
pub(crate) struct Look {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) s3: aws_sdk_s3::Client,
    pub(crate) sdk: aws_config::SdkConfig,
    cfn: aws_sdk_cloudformation::Client,
}

impl Look {
    pub(crate) fn new(moto: &MotoServer) -> Look {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let sdk = rt.block_on(testkit::aws::sdk_config(moto));
        Look {
            s3: testkit::aws::s3_client(&sdk),
            cfn: aws_sdk_cloudformation::Client::new(&sdk),
            rt,
            sdk,
        }
    }

    /// The physical id of the stack's resource `logical`.
    fn physical_id(&self, logical: &str) -> String {
        let out = self
            .rt
            .block_on(self.cfn.list_stack_resources().stack_name(STACK).send())
            .unwrap();
        let resource = out
            .stack_resource_summaries()
            .iter()
            .find(|r| r.logical_resource_id() == Some(logical))
            .unwrap_or_else(|| panic!("no `{logical}` in the stack"));
        resource.physical_resource_id().unwrap().to_owned()
    }

    fn keys(&self) -> Vec<String> {
        let out = self
            .rt
            .block_on(self.s3.list_objects_v2().bucket(BUCKET).send())
            .unwrap();
        let mut keys: Vec<String> = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(ToOwned::to_owned))
            .collect();
        keys.sort();
        keys
    }

    /// The stack's status and parameters, or `None` when it does not exist.
    fn stack(&self) -> Option<(String, Vec<(String, String)>)> {
        let out = self
            .rt
            .block_on(self.cfn.describe_stacks().stack_name(STACK).send())
            .ok()?;
        let s = out.stacks().first()?;
        let mut params: Vec<(String, String)> = s
            .parameters()
            .iter()
            .map(|p| {
                (
                    p.parameter_key().unwrap_or_default().to_owned(),
                    p.parameter_value().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        params.sort();
        Some((s.stack_status()?.as_str().to_owned(), params))
    }

    pub(crate) fn param(&self, key: &str) -> String {
        let (_, params) = self.stack().expect("the stack exists");
        params
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .unwrap_or_default()
    }

    fn change_sets(&self) -> usize {
        self.rt
            .block_on(self.cfn.list_change_sets().stack_name(STACK).send())
            .map(|o| o.summaries().len())
            .unwrap_or(0)
    }
}

#[test]
fn up_uploads_what_is_missing_and_changes_only_what_changed() {
    let moto = MotoServer::start();
    moto.reset();
    let scratch = Scratch::new(CONFIG);
    let look = Look::new(&moto);
    let api_v1 = package_bootstrap(b"api v1").unwrap().sha256;
    let thumb_v1 = package_bootstrap(b"thumbnail v1").unwrap().sha256;

    // First deploy: creates the artifact bucket, uploads both zips and the template (which is
    // over the inline limit), creates the stack.
    let (stdout, stderr) = ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    assert!(
        stderr.contains(&format!("created the artifact bucket `{BUCKET}`")),
        "{stderr}"
    );
    assert!(
        stderr.contains("artifacts: 3 uploaded, 0 already in the bucket"),
        "{stderr}"
    );
    assert!(
        stdout.contains("stack `photo-app-dev` is CREATE_COMPLETE"),
        "{stdout}"
    );
    let keys = look.keys();
    assert!(
        keys.contains(&format!("functions/api/{api_v1}.zip")),
        "{keys:?}"
    );
    assert!(
        keys.contains(&format!("functions/thumbnail/{thumb_v1}.zip")),
        "{keys:?}"
    );
    assert_eq!(
        keys.iter()
            .filter(|k| k.starts_with("templates/photo-app-dev/"))
            .count(),
        1
    );
    // The photo bucket was looked through for objects under SSE-KMS, once: recorded.
    assert!(
        keys.contains(&"encryption/photo-app-dev.json".to_owned()),
        "{keys:?}"
    );
    // Created with the table and the user pool unprotected, then protected by an update.
    let (status, _) = look.stack().unwrap();
    assert_eq!(status, "UPDATE_COMPLETE");
    assert_eq!(look.param("DataProtection"), "true");
    assert_eq!(
        look.param("ApiCodeKey"),
        format!("functions/api/{api_v1}.zip")
    );
    assert_eq!(look.param("ArtifactBucket"), BUCKET);

    // The bucket is private, encrypted, TLS-only and expires old artifacts.
    look.rt.block_on(async {
        let pab = look
            .s3
            .get_public_access_block()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap();
        let pab = pab.public_access_block_configuration().unwrap();
        assert_eq!(pab.block_public_acls(), Some(true));
        assert_eq!(pab.restrict_public_buckets(), Some(true));
        let sse = look
            .s3
            .get_bucket_encryption()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap();
        assert!(sse.server_side_encryption_configuration().is_some());
        // moto enforces the TLS-only policy, and it speaks plain HTTP: against a plain-HTTP
        // endpoint the deployer leaves the policy out (its text is unit-tested).
        let policy = look.s3.get_bucket_policy().bucket(BUCKET).send().await;
        assert!(policy.is_err(), "{policy:?}");
        let life = look
            .s3
            .get_bucket_lifecycle_configuration()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap();
        assert_eq!(life.rules().len(), 2);
    });
    let change_sets = look.change_sets();
    // The stage's photos were placed on the timeline, once: recorded. A photo stored before the
    // timeline (no `tlsk`, not counted) is placed by the next `up` that finds no record.
    assert!(
        keys.contains(&"timeline/photo-app-dev.json".to_owned()),
        "{keys:?}"
    );
    let table = look.physical_id("PhotoTable");
    let legacy_key = |db: &aws_sdk_dynamodb::Client| {
        db.get_item()
            .table_name(&table)
            .key("pk", S("USER#legacy".into()))
            .key("sk", S("PHOTO#01ARZ3NDEKTSV4RRFFQ69G5FAV".into()))
            .consistent_read(true)
    };
    look.rt.block_on(async {
        let db = aws_sdk_dynamodb::Client::new(&look.sdk);
        let photo = [
            ("pk", S("USER#legacy".into())),
            ("sk", S("PHOTO#01ARZ3NDEKTSV4RRFFQ69G5FAV".into())),
            ("id", S("01ARZ3NDEKTSV4RRFFQ69G5FAV".into())),
            ("owner", S("legacy".into())),
            ("status", S("READY".into())),
            ("file_name", S("IMG_0001.jpg".into())),
            ("content_type", S("image/jpeg".into())),
            ("size", N("1".into())),
            ("sha256_declared", S("ab".repeat(32))),
            // 2024-06-01T12:03:09Z.
            ("taken_at", N("1717243389000".into())),
            ("created_at", N("1790000000000".into())),
            ("favourite", Bool(false)),
        ];
        db.put_item()
            .table_name(&table)
            .set_item(Some(photo.map(|(k, v)| (k.to_owned(), v)).into()))
            .send()
            .await
            .unwrap();
        look.s3
            .delete_object()
            .bucket(BUCKET)
            .key("timeline/photo-app-dev.json")
            .send()
            .await
            .unwrap();
    });

    // Nothing changed: nothing uploaded, no change set.
    let (stdout, stderr) = ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    assert!(
        stderr.contains("timeline: 1 of 1 photos stored before it placed by date taken, 0 albums"),
        "{stderr}"
    );
    look.rt.block_on(async {
        let db = aws_sdk_dynamodb::Client::new(&look.sdk);
        let item = legacy_key(&db).send().await.unwrap().item.unwrap();
        let tlsk = item["tlsk"].as_s().unwrap();
        assert!(tlsk.starts_with("TAKEN#063852840189000#"), "{tlsk}");
        let month = db
            .get_item()
            .table_name(&table)
            .key("pk", S("USER#legacy".into()))
            .key("sk", S("MONTH#2024-06".into()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        assert_eq!(month["photos"].as_n().unwrap(), "1");
    });
    assert!(
        stderr.contains("artifacts: 0 uploaded, 3 already in the bucket"),
        "{stderr}"
    );
    assert!(!stderr.contains("uploading"), "{stderr}");
    assert!(stdout.starts_with("no changes"), "{stdout}");
    assert_eq!(look.change_sets(), change_sets);
    assert_eq!(look.keys(), keys);

    // One function's code changed: only its zip is uploaded, and the stack is updated to it.
    // This one is larger than a part (incompressible bytes), so it goes up in parts.
    let api_v2 = scratch.function("api", &noise(12 * 1024 * 1024));
    let (stdout, stderr) = ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    assert!(
        stderr.contains("artifacts: 1 uploaded, 2 already in the bucket"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("uploading functions/api/{api_v2}.zip")),
        "{stderr}"
    );
    assert_eq!(stderr.matches("uploading ").count(), 1, "{stderr}");
    let zip_len = std::fs::metadata(scratch.artifacts().join("api.zip"))
        .unwrap()
        .len();
    let head = look
        .rt
        .block_on(
            look.s3
                .head_object()
                .bucket(BUCKET)
                .key(format!("functions/api/{api_v2}.zip"))
                .send(),
        )
        .unwrap();
    assert_eq!(head.content_length(), Some(zip_len as i64));
    assert!(zip_len > deployer_aws::artifacts::PART_BYTES as u64);
    assert!(
        stdout.contains("stack `photo-app-dev` is UPDATE_COMPLETE"),
        "{stdout}"
    );
    assert_eq!(
        look.param("ApiCodeKey"),
        format!("functions/api/{api_v2}.zip")
    );
    assert_eq!(
        look.param("ThumbnailCodeKey"),
        format!("functions/thumbnail/{thumb_v1}.zip")
    );
    assert_eq!(look.keys().len(), keys.len() + 1);

    // And once more: settled again.
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    assert!(stdout.starts_with("no changes"), "{stdout}");
}

#[test]
fn diff_outputs_and_down() {
    let moto = MotoServer::start();
    moto.reset();
    let scratch = Scratch::new(CONFIG);
    let look = Look::new(&moto);

    // `diff` before anything exists: every resource is added, and nothing is left behind.
    let (stdout, _) = ok(&deployer(
        &moto,
        &scratch,
        &["diff", "--stage", "dev", "--json"],
    ));
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["stack"], STACK);
    let changes = plan["changes"].as_array().unwrap();
    assert!(changes.iter().all(|c| c["action"] == "Add"), "{stdout}");
    assert!(
        changes.iter().any(
            |c| c["logical_id"] == "PhotoTable" && c["resource_type"] == "AWS::DynamoDB::Table"
        ),
        "{stdout}"
    );
    assert_eq!(look.stack(), None, "diff left a stack behind");
    assert_eq!(plan["drift"], Value::Null, "{stdout}");

    ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["diff", "--stage", "dev"]));
    // moto keeps no drift information: as for a stack never checked.
    assert_eq!(
        stdout,
        "no changes\ndrift: never checked; `deployer status --stage dev --drift` checks (it takes a minute or less)\n"
    );

    // A configuration change shows up in `diff`, which changes nothing.
    scratch.configure(&CONFIG.replace("= 30", "= 60"));
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["diff", "--stage", "dev"]));
    assert!(stdout.starts_with("ACTION"), "{stdout}");
    assert!(stdout.contains("Modify"), "{stdout}");
    assert!(stdout.contains("AWS::Logs::LogGroup"), "{stdout}");
    let (status, _) = look.stack().unwrap();
    assert_eq!(status, "UPDATE_COMPLETE", "diff executed its change set");
    scratch.configure(CONFIG);

    // `outputs --json` prints what CloudFormation holds, as one JSON object.
    let (stdout, _) = ok(&deployer(
        &moto,
        &scratch,
        &["outputs", "--stage", "dev", "--json"],
    ));
    let printed: Value = serde_json::from_str(&stdout).unwrap();
    let held = look
        .rt
        .block_on(look.cfn.describe_stacks().stack_name(STACK).send())
        .unwrap();
    let held: serde_json::Map<String, Value> = held.stacks()[0]
        .outputs()
        .iter()
        .map(|o| {
            (
                o.output_key().unwrap().to_owned(),
                o.output_value().unwrap_or_default().into(),
            )
        })
        .collect();
    assert_eq!(printed, Value::Object(held));

    let (stdout, _) = ok(&deployer(&moto, &scratch, &["status", "--stage", "dev"]));
    assert!(stdout.contains("status   UPDATE_COMPLETE"), "{stdout}");
    let (stdout, _) = ok(&deployer(
        &moto,
        &scratch,
        &["status", "--stage", "dev", "--json"],
    ));
    let status: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status["stack"], STACK);
    assert_eq!(status["exists"], true);
    assert_eq!(status["status"], "UPDATE_COMPLETE");
    assert_eq!(status["next_step"], Value::Null);
    // moto has no drift detection (`aws_drift` replays AWS's answers): one line, exit code 1.
    let out = deployer(&moto, &scratch, &["status", "--stage", "dev", "--drift"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert!(
        stderr.contains("error: cloudformation:DetectStackDrift failed: "),
        "{stderr}"
    );

    // `down` deletes the stack; the data resources stay, each with the command removing it.
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["down", "--stage", "dev"]));
    assert!(stdout.contains("stack `photo-app-dev` deleted"), "{stdout}");
    assert!(stdout.contains("AWS::DynamoDB::Table"), "{stdout}");
    assert!(
        stdout.contains("aws dynamodb update-table --table-name"),
        "{stdout}"
    );
    assert!(
        stdout.contains("AWS::S3::Bucket `photo-app-dev-photos-"),
        "{stdout}"
    );
    assert_eq!(look.stack(), None);
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["status", "--stage", "dev"]));
    assert!(stdout.contains("does not exist"), "{stdout}");
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["down", "--stage", "dev"]));
    assert!(stdout.contains("nothing to delete"), "{stdout}");
}

/// Deterministic incompressible bytes (xorshift), so a zip of them is as large as they are.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn down_with_delete_data_removes_the_data_too() {
    let moto = MotoServer::start();
    moto.reset();
    let scratch = Scratch::new(CONFIG);
    let look = Look::new(&moto);
    retain_literally(&scratch);
    ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    // ListStackResources, not DescribeStackResource: moto fails the latter (500) when a type it
    // does not model (the CloudFront Function) comes before the resource in the template.
    let photos = look
        .rt
        .block_on(look.cfn.list_stack_resources().stack_name(STACK).send())
        .unwrap()
        .stack_resource_summaries()
        .iter()
        .find(|r| r.logical_resource_id() == Some("PhotoBucket"))
        .and_then(|r| r.physical_resource_id())
        .expect("the photo bucket in the stack")
        .to_owned();
    look.rt
        .block_on(
            look.s3
                .put_object()
                .bucket(&photos)
                .key("originals/user-1/photo-1")
                .body(b"jpeg".to_vec().into())
                .send(),
        )
        .unwrap();

    // Without a terminal, deleting data needs `--yes`.
    let out = deployer(
        &moto,
        &scratch,
        &["down", "--stage", "dev", "--delete-data"],
    );
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    assert!(look.stack().is_some());

    let (stdout, _) = ok(&deployer(
        &moto,
        &scratch,
        &["down", "--stage", "dev", "--delete-data", "--yes"],
    ));
    assert!(stdout.contains("stack `photo-app-dev` deleted"), "{stdout}");
    assert!(
        stdout.contains(&format!("deleted AWS::S3::Bucket `{photos}`")),
        "{stdout}"
    );
    assert!(stdout.contains("deleted AWS::DynamoDB::Table"), "{stdout}");
    assert!(!stdout.contains("kept"), "{stdout}");
    assert_eq!(look.stack(), None);
    assert!(
        look.rt
            .block_on(look.s3.head_bucket().bucket(&photos).send())
            .is_err()
    );
}

/// The stage's template with its kept data's policy made the literal `Retain`: moto deletes
/// `RetainExceptOnCreate` resources with their stack (it spares only `Retain`), and `down` keeps
/// both alike.
fn retain_literally(scratch: &Scratch) {
    let template = std::fs::read_to_string(scratch.template()).unwrap();
    assert!(template.contains("\"RetainExceptOnCreate\""));
    std::fs::write(
        scratch.template(),
        template.replace("\"RetainExceptOnCreate\"", "\"Retain\""),
    )
    .unwrap();
}

#[test]
fn a_stage_taken_down_keeps_a_record_of_its_data_that_up_finds_and_down_can_delete() {
    let moto = MotoServer::start();
    moto.reset();
    let scratch = Scratch::new(CONFIG);
    let look = Look::new(&moto);
    retain_literally(&scratch);
    ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["down", "--stage", "dev"]));
    assert!(stdout.contains("kept (data outlives the stack"), "{stdout}");
    assert_eq!(look.stack(), None);
    // The record, in the artifact bucket: moto makes no user pool through CloudFormation, so
    // the bucket and the table.
    const RECORD: &str = "kept/photo-app-dev.json";
    let record_bytes = look
        .rt
        .block_on(async {
            let object = look
                .s3
                .get_object()
                .bucket(BUCKET)
                .key(RECORD)
                .send()
                .await?;
            Ok::<_, Box<dyn std::error::Error>>(object.body.collect().await?.into_bytes())
        })
        .expect("down records what it keeps");
    let record: Value = serde_json::from_slice(&record_bytes).unwrap();
    assert_eq!(record["stack"], STACK);
    let resources = record["resources"].as_array().unwrap();
    let mut kinds: Vec<&str> = resources
        .iter()
        .map(|r| r["resource_type"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        ["AWS::DynamoDB::Table", "AWS::S3::Bucket"],
        "{record}"
    );
    let photos = resources
        .iter()
        .find(|r| r["logical_id"] == "PhotoBucket")
        .and_then(|r| r["physical_id"].as_str())
        .unwrap()
        .to_owned();

    // The stage's kept data is found from the record: `diff` says that `up` adopts it (moto has
    // no resource import; `aws_replay` replays AWS's answers to one) and creates nothing.
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["diff", "--stage", "dev"]));
    assert!(
        stdout.contains("kept its data when it was taken down: `up` adopts")
            && stdout.contains(&format!("AWS::S3::Bucket `{photos}`"))
            && stdout.contains("AWS::DynamoDB::Table `photo-app-dev-PhotoTable-"),
        "{stdout}"
    );
    assert_eq!(look.stack(), None);
    // A stage taken down before records existed is found by its bucket's name and the
    // stack-name tag CloudFormation put on its table.
    look.rt
        .block_on(look.s3.delete_object().bucket(BUCKET).key(RECORD).send())
        .unwrap();
    // moto puts no `aws:cloudformation:*` tags on what its stacks create: the test puts the
    // one AWS puts on the table.
    let table = resources
        .iter()
        .find(|r| r["logical_id"] == "PhotoTable")
        .and_then(|r| r["physical_id"].as_str())
        .unwrap()
        .to_owned();
    let db = aws_sdk_dynamodb::Client::new(&look.sdk);
    let arn = look
        .rt
        .block_on(db.describe_table().table_name(&table).send())
        .unwrap()
        .table()
        .and_then(|t| t.table_arn())
        .unwrap()
        .to_owned();
    look.rt
        .block_on(
            db.tag_resource()
                .resource_arn(&arn)
                .tags(
                    aws_sdk_dynamodb::types::Tag::builder()
                        .key("aws:cloudformation:stack-name")
                        .value(STACK)
                        .build()
                        .unwrap(),
                )
                .send(),
        )
        .unwrap();
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["diff", "--stage", "dev"]));
    assert!(
        stdout.contains(&format!(
            "`up` adopts AWS::S3::Bucket `{photos}`, AWS::DynamoDB::Table `{table}` into"
        )),
        "{stdout}"
    );
    look.rt
        .block_on(
            look.s3
                .put_object()
                .bucket(BUCKET)
                .key(RECORD)
                .body(record_bytes.to_vec().into())
                .send(),
        )
        .unwrap();
    // `down` without `--delete-data` says what is kept.
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["down", "--stage", "dev"]));
    assert!(
        stdout.contains("does not exist; its data was kept when it was deleted"),
        "{stdout}"
    );

    // `down --delete-data` deletes it, and the record; then the stage starts afresh.
    let (stdout, _) = ok(&deployer(
        &moto,
        &scratch,
        &["down", "--stage", "dev", "--delete-data", "--yes"],
    ));
    assert!(
        stdout.contains(&format!("deleted AWS::S3::Bucket `{photos}`")),
        "{stdout}"
    );
    assert!(stdout.contains("deleted AWS::DynamoDB::Table"), "{stdout}");
    assert!(
        look.rt
            .block_on(look.s3.head_bucket().bucket(&photos).send())
            .is_err()
    );
    assert!(
        look.rt
            .block_on(look.s3.head_object().bucket(BUCKET).key(RECORD).send())
            .is_err(),
        "the record is gone"
    );
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    assert!(stdout.contains("CREATE_COMPLETE"), "{stdout}");
    assert!(look.stack().is_some());
}

#[test]
fn a_protected_stage_is_never_changed_without_a_terminal_or_yes() {
    let moto = MotoServer::start();
    moto.reset();
    let scratch =
        Scratch::new(&CONFIG.replace("[stages.dev]\n", "[stages.dev]\nprotected = true\n"));
    let look = Look::new(&moto);
    let out = deployer(&moto, &scratch, &["up", "--stage", "dev"]);
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: stage `dev` is protected: apply these changes to stage `dev`?: there is no terminal to ask on, pass `--yes`"),
        "{stderr}"
    );
    // The refused change set and the empty stack it made are gone.
    assert_eq!(look.stack(), None);
    let (stdout, _) = ok(&deployer(
        &moto,
        &scratch,
        &["up", "--stage", "dev", "--yes"],
    ));
    assert!(stdout.contains("CREATE_COMPLETE"), "{stdout}");
    let out = deployer(&moto, &scratch, &["down", "--stage", "dev"]);
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    assert!(look.stack().is_some());
}

/// Runs a failing command and checks its exit code and its single line on stderr.
fn check_error(out: &Output, code: i32, message: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(
        stderr.contains(message),
        "expected {message:?} in {stderr:?}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn wrong_account_is_refused_before_anything_changes() {
    let moto = MotoServer::start();
    moto.reset();
    let scratch = Scratch::new(&CONFIG.replace(
        "[stages.dev]\n",
        "[stages.dev]\naccount_id = \"111122223333\"\n",
    ));
    let out = deployer(&moto, &scratch, &["up", "--stage", "dev"]);
    check_error(
        &out,
        7,
        "error: stage `dev` deploys to account `111122223333` but the credentials are for account `123456789012`",
    );
    // Nothing was created: not even the artifact bucket.
    let look = Look::new(&moto);
    assert!(
        look.rt
            .block_on(look.s3.head_bucket().bucket(BUCKET).send())
            .is_err()
    );
}

#[test]
fn missing_credentials_is_one_line_with_what_to_do() {
    let scratch = Scratch::new(CONFIG);
    let out = command(scratch.dir.path(), &scratch.config())
        .args(["status", "--stage", "dev"])
        .output()
        .unwrap();
    check_error(&out, 5, "error: no usable AWS credentials (");
    assert!(text(&out.stderr).contains("pass `--profile NAME`"));
}

#[test]
fn an_unreachable_endpoint_is_one_line_naming_it() {
    let scratch = Scratch::new(CONFIG);
    let port = testkit::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let out = command(scratch.dir.path(), &scratch.config())
        .env("AWS_ACCESS_KEY_ID", testkit::aws::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", testkit::aws::SECRET_ACCESS_KEY)
        .args(["outputs", "--stage", "dev", "--endpoint-url", &url])
        .output()
        .unwrap();
    check_error(&out, 6, &format!("error: cannot reach AWS at `{url}`: "));
}

#[test]
fn an_unknown_stage_is_one_line_listing_the_stages() {
    let scratch = Scratch::new(CONFIG);
    let out = command(scratch.dir.path(), &scratch.config())
        .args(["up", "--stage", "staging"])
        .output()
        .unwrap();
    check_error(&out, 4, "error: unknown stage `staging`: ");
    assert!(text(&out.stderr).contains("defines the stages `dev`"));
}

#[test]
fn help_lists_the_exit_codes() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = text(&out.stdout);
    for line in [
        "4    unknown stage",
        "5    no AWS credentials",
        "6    AWS or --endpoint-url unreachable",
        "7    credentials for another account",
        "8    deploy failed",
    ] {
        assert!(help.contains(line), "{line:?} missing from --help");
    }
}

/// Every line of `up --json`'s standard output, parsed (the test fails on any line that is not
/// one JSON object).
fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}\nstdout: {stdout}"));
            assert!(value.is_object() && value["event"].is_string(), "{line}");
            value
        })
        .collect()
}

fn events<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["event"] == kind).collect()
}

#[test]
fn up_json_prints_one_object_per_event_and_a_summary() {
    let moto = MotoServer::start();
    moto.reset();
    let scratch = Scratch::new(CONFIG);

    // Creating the stack: builds (read from the artifacts directory), uploads, one change set,
    // the stack's events, the site step and the summary, last.
    let (stdout, stderr) = ok(&deployer(
        &moto,
        &scratch,
        &["up", "--stage", "dev", "--json"],
    ));
    let lines = json_lines(&stdout);
    let builds = events(&lines, "build");
    assert_eq!(builds.len(), 2, "{stdout}");
    assert!(builds.iter().any(|b| b["function"] == "api"), "{stdout}");
    let uploads = events(&lines, "upload");
    assert_eq!(uploads.len(), 3, "{stdout}");
    assert!(uploads.iter().all(|u| u["uploaded"] == true), "{stdout}");
    // The stack, then the update that turns on the data's deletion protection.
    let change_sets = events(&lines, "change_set");
    assert_eq!(change_sets.len(), 2, "{stdout}");
    assert!(
        !change_sets[0]["changes"].as_array().unwrap().is_empty(),
        "{stdout}"
    );
    // moto emits only the stack's own events (see above), which still come out one by one.
    let resources = events(&lines, "resource");
    assert!(
        resources
            .iter()
            .any(|r| r["logical_id"] == STACK && r["status"] == "CREATE_COMPLETE"),
        "{stdout}"
    );
    assert_eq!(events(&lines, "publish")[0]["published"], false);
    let summary = lines.last().unwrap();
    assert_eq!(summary["event"], "summary", "{stdout}");
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["outcome"], "deployed");
    assert_eq!(summary["status"], "CREATE_COMPLETE");
    assert_eq!(summary["uploaded"], 3);
    assert_eq!(summary["change_sets"], 2);
    assert_eq!(summary["stack"], STACK);
    // The human lines are unchanged, on standard error.
    assert!(
        stderr.contains("artifacts: 3 uploaded, 0 already in the bucket"),
        "{stderr}"
    );

    // Nothing changed: no upload, no change set, and a summary saying so; `--verbose` prints
    // where the time went on standard error, and the summary carries the same steps.
    let (stdout, stderr) = ok(&deployer(
        &moto,
        &scratch,
        &["up", "--stage", "dev", "--json", "--verbose"],
    ));
    for step in [
        "configuration",
        "connect",
        "read artifacts",
        "artifacts",
        "compare with the stack",
        "total",
    ] {
        assert!(
            stderr.contains(&format!("\n  {step} ")),
            "{step} missing: {stderr}"
        );
    }
    assert!(stderr.contains("time:"), "{stderr}");
    let lines = json_lines(&stdout);
    assert!(events(&lines, "change_set").is_empty(), "{stdout}");
    assert!(
        events(&lines, "upload")
            .iter()
            .all(|u| u["uploaded"] == false),
        "{stdout}"
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["event"], "summary", "{stdout}");
    assert_eq!(summary["outcome"], "no_changes");
    assert_eq!(summary["uploaded"], 0);
    assert_eq!(summary["already_present"], 3);
    assert_eq!(summary["change_sets"], 0);
    assert!(
        summary["steps_ms"]["compare with the stack"].is_f64(),
        "{summary}"
    );
    assert!(summary["seconds"].is_f64(), "{summary}");

    // A failure still ends with a summary, with the error and the usual exit code.
    let out = deployer(&moto, &scratch, &["up", "--stage", "staging", "--json"]);
    assert_eq!(out.status.code(), Some(4));
    let lines = json_lines(&text(&out.stdout));
    let summary = lines.last().expect("a summary");
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["ok"], false);
    assert!(
        summary["error"]
            .as_str()
            .unwrap()
            .contains("unknown stage `staging`"),
        "{summary}"
    );
}

/// The requests of a recording moto server that were signed for S3: (method, URL, headers).
fn s3_requests(moto: &MotoServer) -> Vec<(String, String, Value)> {
    let text = std::fs::read_to_string(moto.recording().unwrap()).unwrap_or_default();
    text.lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|v| {
            v["headers"]["Authorization"]
                .as_str()
                .is_some_and(|a| a.contains("/s3/aws4_request"))
        })
        .map(|v| {
            (
                v["method"].as_str().unwrap_or_default().to_owned(),
                v["url"].as_str().unwrap_or_default().to_owned(),
                v["headers"].clone(),
            )
        })
        .collect()
}

/// A bucket of another account under the artifact bucket's name must be refused by S3 itself:
/// every S3 request of the deployer but CreateBucket names the account that must own the bucket.
/// moto does not enforce the header, so the test reads the requests it recorded.
#[test]
fn every_s3_request_but_create_bucket_names_the_expected_owner() {
    let dir = tempfile::tempdir().unwrap();
    let moto = MotoServer::start_recording(&dir.path().join("requests.jsonl"));
    let scratch = Scratch::new(CONFIG);
    ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    scratch.function("api", b"api v2");
    ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    let requests = s3_requests(&moto);
    let create = |(method, url, _): &&(String, String, Value)| {
        method == "PUT" && url.trim_end_matches('/').ends_with(&format!("/{BUCKET}"))
    };
    assert_eq!(
        requests.iter().filter(create).count(),
        1,
        "one CreateBucket: {requests:#?}"
    );
    let others: Vec<_> = requests.iter().filter(|r| !create(r)).collect();
    assert!(others.len() > 10, "{others:#?}");
    for (method, url, headers) in others {
        let owner = headers.as_object().and_then(|h| {
            h.iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-expected-bucket-owner"))
                .and_then(|(_, value)| value.as_str())
        });
        assert_eq!(
            owner,
            Some("123456789012"),
            "{method} {url} does not name the bucket's owner: {headers}"
        );
    }
}

/// A bucket of this account that an earlier deployer made (configured, but without the mark) is
/// adopted: configured again and marked, then used.
#[test]
fn a_bucket_of_this_account_without_the_mark_is_adopted_and_marked() {
    let moto = MotoServer::start();
    let scratch = Scratch::new(CONFIG);
    let look = Look::new(&moto);
    look.rt.block_on(async {
        look.s3
            .create_bucket()
            .bucket(BUCKET)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
    let (_, stderr) = ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    assert!(
        stderr.contains(&format!("adopting the artifact bucket `{BUCKET}`")),
        "{stderr}"
    );
    assert!(!stderr.contains("created the artifact bucket"), "{stderr}");
    let tags = look
        .rt
        .block_on(look.s3.get_bucket_tagging().bucket(BUCKET).send())
        .unwrap();
    assert!(
        tags.tag_set()
            .iter()
            .any(|t| t.key() == deployer_aws::artifacts::MARK_KEY),
        "{tags:?}"
    );
    // Marked, it is used as it is.
    let (_, stderr) = ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    assert!(!stderr.contains("adopting"), "{stderr}");
}

/// An object under an artifact's content-hash key is trusted only when S3's checksum of what it
/// holds matches: one swapped behind the deployer's back is uploaded again.
#[test]
fn an_artifact_whose_checksum_does_not_match_is_uploaded_again() {
    let moto = MotoServer::start();
    let scratch = Scratch::new(CONFIG);
    let look = Look::new(&moto);
    ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    let api = package_bootstrap(b"api v1").unwrap();
    let key = format!("functions/api/{}.zip", api.sha256);
    look.rt.block_on(async {
        look.s3
            .put_object()
            .bucket(BUCKET)
            .key(&key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(
                b"not the zip",
            ))
            .send()
            .await
            .unwrap();
    });
    let (_, stderr) = ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    assert!(
        stderr.contains(&format!(
            "`s3://{BUCKET}/{key}` does not hold what its name says"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("artifacts: 1 uploaded, 2 already in the bucket"),
        "{stderr}"
    );
    let stored = look.rt.block_on(async {
        let out = look
            .s3
            .get_object()
            .bucket(BUCKET)
            .key(&key)
            .send()
            .await
            .unwrap();
        out.body.collect().await.unwrap().into_bytes()
    });
    assert_eq!(stored.as_ref(), api.bytes.as_slice());
}

/// The requests a recording moto server has seen, one JSON object each (method, URL, headers,
/// base64 body).
fn recorded(moto: &MotoServer) -> Vec<Value> {
    std::fs::read_to_string(moto.recording().unwrap())
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Whether a recorded request is the CloudFormation (query protocol) `action`.
fn is_cfn_action(request: &Value, action: &str) -> bool {
    use base64::Engine as _;
    let body = request["body"].as_str().unwrap_or_default();
    let body = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap_or_else(|_| body.as_bytes().to_vec());
    String::from_utf8_lossy(&body).contains(&format!("Action={action}&"))
}

/// Whether a recorded request is Lambda's `UpdateFunctionCode` (`PUT .../functions/NAME/code`).
fn is_update_function_code(request: &Value) -> bool {
    request["method"] == "PUT"
        && request["url"]
            .as_str()
            .is_some_and(|u| u.contains("/functions/") && u.ends_with("/code"))
}

/// `deployer watch --stage dev`: a change to a function's code alone is put in place with
/// `UpdateFunctionCode` and no change set, recorded, and shown by `status`; a template change
/// goes through a change set, which reconciles the record. Counted from moto's request recorder.
#[test]
fn watch_updates_code_without_a_change_set_and_a_template_change_with_one() {
    let dir = tempfile::tempdir().unwrap();
    let moto = MotoServer::start_recording(&dir.path().join("requests.jsonl"));
    let scratch = Scratch::new(CONFIG);
    let look = Look::new(&moto);
    // A workspace as `deployer watch` wants one: the SPA's crate beside a source file.
    let root = scratch.dir.path();
    std::fs::create_dir_all(root.join("frontend/app")).unwrap();
    std::fs::write(root.join("frontend/app/Cargo.toml"), "[package]\n").unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/lib.rs"), "// v1\n").unwrap();
    ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));

    let log = dir.path().join("watch.log");
    let mut command = command(root, &scratch.config());
    testkit::aws::moto_env(&mut command, &moto);
    let mut child = command
        .env("DEPLOYER_ARTIFACTS_DIR", scratch.artifacts())
        .env("DEPLOYER_TEMPLATE", scratch.template())
        .args(["watch", "--stage", "dev"])
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.path().join("watch.err")).unwrap())
        .spawn()
        .unwrap();
    let output = || {
        std::fs::read_to_string(&log).unwrap_or_default()
            + &std::fs::read_to_string(dir.path().join("watch.err")).unwrap_or_default()
    };
    let wait_for = |what: &str, count: usize| {
        let seen = testkit::wait_until(std::time::Duration::from_secs(120), || {
            output().matches(what).count() >= count
        });
        assert!(seen, "no `{what}` (x{count}) from watch:\n{}", output());
    };
    let stop = |child: &mut std::process::Child| {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let stopped = testkit::wait_until(std::time::Duration::from_secs(60), || {
            child.try_wait().ok().flatten().is_some()
        });
        if !stopped {
            let _ = child.kill();
        }
        let _ = child.wait();
        stopped
    };

    // The first round finds the stack as `up` left it.
    wait_for("and its functions are up to date", 1);
    let before = recorded(&moto).len();

    // New code for the API function, then a saved source file: a hot update, no change set.
    let api_v2 = scratch.function("api", b"api v2");
    std::fs::write(root.join("src/lib.rs"), "// v2\n").unwrap();
    wait_for("hot update: function `api` runs", 1);
    let requests = recorded(&moto);
    let round = &requests[before..];
    assert_eq!(
        round.iter().filter(|r| is_update_function_code(r)).count(),
        1,
        "{round:#?}"
    );
    assert!(
        !round.iter().any(|r| is_cfn_action(r, "CreateChangeSet")),
        "a code change made a change set"
    );
    let key = format!("functions/api/{api_v2}.zip");
    assert!(output().contains(&key), "{}", output());
    let record = look
        .rt
        .block_on(
            look.s3
                .get_object()
                .bucket(BUCKET)
                .key(format!("watch/{STACK}.json"))
                .send(),
        )
        .expect("the hot update is recorded");
    let record = look
        .rt
        .block_on(record.body.collect())
        .unwrap()
        .into_bytes();
    let record: Value = serde_json::from_slice(&record).unwrap();
    assert_eq!(record["functions"][0]["function"], "api", "{record}");
    assert_eq!(record["functions"][0]["key"], key.as_str(), "{record}");
    // The stack still names the first zip, and `status` says so.
    assert_ne!(look.param("ApiCodeKey"), key);
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["status", "--stage", "dev"]));
    assert!(
        stdout.contains(&format!("api runs {key} since")),
        "status does not show the lag: {stdout}"
    );

    // A template change: a change set, which moves the parameters; the record is reconciled.
    let before = recorded(&moto).len();
    let mut template: Value =
        serde_json::from_str(&std::fs::read_to_string(scratch.template()).unwrap()).unwrap();
    template["Resources"]["ApiFunction"]["Properties"]["MemorySize"] = 1024.into();
    std::fs::write(
        scratch.template(),
        serde_json::to_string_pretty(&template).unwrap(),
    )
    .unwrap();
    wait_for("reconciled the hot updates of `deployer watch` (api)", 1);
    let requests = recorded(&moto);
    assert!(
        requests[before..]
            .iter()
            .any(|r| is_cfn_action(r, "CreateChangeSet")),
        "a template change made no change set"
    );
    assert!(stop(&mut child), "watch did not stop on SIGTERM");
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["status", "--stage", "dev"]));
    assert!(!stdout.contains("hot updates"), "{stdout}");
}

/// A protected stage is never watched: refused before anything is built or sent.
#[test]
fn watch_refuses_a_protected_stage() {
    let scratch =
        Scratch::new(&CONFIG.replace("[stages.dev]\n", "[stages.dev]\nprotected = true\n"));
    let out = command(scratch.dir.path(), &scratch.config())
        .args(["watch", "--stage", "dev"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("stage `dev` is protected: `deployer watch` does not change it"),
        "{err}"
    );
}
