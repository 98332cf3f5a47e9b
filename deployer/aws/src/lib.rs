//! The AWS stages: `up`, `diff`, `outputs`, `status`, `down` and `package` against a real
//! account (or an emulator through `--endpoint-url`).
//!
//! [`Session`] is the checked connection every command starts from; [`deploy::Deployer`] drives
//! CloudFormation; [`artifacts`] keeps the per-account artifact bucket; [`plan`] and [`report`]
//! are the pure decisions and renderings, unit-tested without AWS. [`publish`] puts the SPA on
//! the site bucket; [`logs`] and [`smoke`] read and check a deployed stage.

pub mod adopt;
pub mod args;
pub mod artifacts;
pub mod calls;
pub mod config;
pub mod credentials;
pub mod deploy;
pub mod down;
pub mod drift;
pub mod error;
pub mod hot;
pub mod kept;
pub mod logs;
pub mod media_key;
pub mod ops_sdk;
pub mod owner;
pub mod plan;
pub mod protection;
pub mod publish;
pub mod quota;
pub mod reencrypt;
pub mod report;
pub mod session;
pub mod smoke;
mod status;
pub mod synth;
pub mod timeline;
pub mod timing;
pub mod ui;

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use stack::config::StageConfig;

pub use error::AwsError;
pub use session::Session;
pub use status::status;

use crate::args::{
    ArtifactArgs, AwsArgs, DeployArgs, DiffArgs, DownArgs, OutputsArgs, PackageArgs, RotateArgs,
};
use crate::config::DeployerConfig;
use crate::synth::stack_name;
use artifacts::{ArtifactBucket, Put};
use deploy::{Deployer, Outcome, TemplateSource};
use deployer_build::function::build_functions;
use deployer_build::package::{Package, package_bootstrap_cached};
use photo_contract::functions::{FUNCTIONS, Function};
use plan::{Desired, Pairs};
use ui::Ui;

/// The tag every stack the deployer makes carries, naming its stage.
pub const STAGE_TAG: &str = "photo-app:stage";

/// The tag saying which tool manages the stack.
pub const MANAGED_BY_TAG: &str = "managed-by";

/// Reads stage `name` from the configuration file, with `--region` applied.
pub fn load_stage(config_file: &Path, name: &str, aws: &AwsArgs) -> Result<StageConfig> {
    if name == config::LOCAL_STAGE {
        anyhow::bail!(
            "the local stage runs on this machine, not on AWS: `deployer up --stage local` starts it"
        );
    }
    let config = DeployerConfig::load(config_file)?;
    let mut stage = config.stage(name)?.clone();
    if let Some(region) = &aws.region {
        stage.region = region
            .parse()
            .with_context(|| format!("`--region {region}`"))?;
    }
    Ok(stage)
}

/// Runs an AWS command on a fresh runtime, turning Ctrl-C into [`AwsError::Interrupted`] with
/// the stack's state (via `interrupted`), instead of a silent kill mid-operation.
fn block_on<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(work);
    // A prompt left waiting for input after Ctrl-C must not keep the process alive.
    runtime.shutdown_background();
    result
}

/// Runs `work`; on Ctrl-C stops it and reports where the stack is.
async fn interruptible<T>(deployer: &Deployer, work: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        result = work => result,
        _ = tokio::signal::ctrl_c() => Err(deployer.interrupted().await.into()),
    }
}

/// The function zips to deploy: read from `--artifacts-dir`, or built (all in one `cargo
/// build`) and zipped now, reusing the zip of an unchanged binary. The time goes to `steps`.
pub fn function_packages(
    stage: &StageConfig,
    args: &ArtifactArgs,
    steps: &timing::Steps,
) -> Result<Vec<(Function, Package)>> {
    if let Some(dir) = &args.artifacts_dir {
        return steps.time("read artifacts", || {
            FUNCTIONS
                .iter()
                .map(|f| {
                    let path = dir.join(format!("{}.zip", f.name));
                    let bytes = std::fs::read(&path)
                        .with_context(|| format!("reading `{}`", path.display()))?;
                    let sha256 = Sha256::digest(&bytes)
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    Ok((*f, Package { bytes, sha256 }))
                })
                .collect()
        });
    }
    let here = std::env::current_dir().context("reading the current directory")?;
    let workspace = deployer_build::workspace::find_workspace(&here).with_context(|| {
        format!(
            "no function sources above `{}`: run from the repository, or pass `--artifacts-dir` with zips from `deployer package`",
            here.display()
        )
    })?;
    let target_dir = deployer_build::workspace::target_dir(&workspace);
    let names: Vec<&str> = FUNCTIONS.iter().map(|f| f.name).collect();
    let binaries = steps
        .time("build", || {
            build_functions(&workspace, &target_dir, FUNCTIONS, stage.architecture)
        })
        .with_context(|| format!("building the functions `{}`", names.join("`, `")))?;
    let cache = target_dir.join("lambda-zips");
    steps.time("package", || {
        FUNCTIONS
            .iter()
            .zip(binaries)
            .map(|(f, binary)| {
                let (package, _) = package_bootstrap_cached(&binary, &cache)
                    .with_context(|| format!("zipping function `{}`", f.name))?;
                Ok((*f, package))
            })
            .collect()
    })
}

/// `deployer package`: builds and zips every function, writes `NAME.zip` into `--out`.
pub fn package(config_file: &Path, args: &PackageArgs, aws: &AwsArgs) -> Result<()> {
    let stage = load_stage(config_file, &args.stage, aws)?;
    let packages = function_packages(
        &stage,
        &ArtifactArgs {
            artifacts_dir: None,
            template: None,
        },
        &timing::Steps::default(),
    )?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating `{}`", args.out.display()))?;
    for (f, p) in packages {
        let path = args.out.join(format!("{}.zip", f.name));
        std::fs::write(&path, &p.bytes).with_context(|| format!("writing `{}`", path.display()))?;
        println!(
            "{}  {} bytes  sha256 {}",
            path.display(),
            p.bytes.len(),
            p.sha256
        );
    }
    Ok(())
}

/// Everything a deploy of one stage needs, prepared: session, uploaded artifacts, the template
/// and where CloudFormation reads it.
struct Prepared {
    desired: Desired,
    /// The kept data of a stage taken down, which `up` imports before creating the rest.
    adopt: Vec<kept::Kept>,
    /// The media signing keys the stack is deployed with.
    keys: media_key::MediaKeys,
    source: TemplateSource,
    uploaded: usize,
    present: usize,
}

/// Builds (or reads) the functions, makes sure the artifact bucket holds them and the
/// template, and returns what the stack should be.
async fn prepare(
    session: &Session,
    stage: &StageConfig,
    artifacts: &ArtifactArgs,
    ui: &Ui,
    create_keys: bool,
) -> Result<Prepared> {
    let steps = ui.steps();
    let packages = function_packages(stage, artifacts, steps)?;
    for (f, p) in &packages {
        ui.event(
            "build",
            serde_json::json!({
                "function": f.name,
                "bytes": p.bytes.len(),
                "sha256": p.sha256,
                "source": if artifacts.artifacts_dir.is_some() { "artifacts-dir" } else { "built" },
            }),
        );
    }
    let template = steps.time("template", || -> Result<String> {
        Ok(match &artifacts.template {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading the template `{}`", path.display()))?,
            None => stack::app::photo_app(stage)
                .with_context(|| format!("building the template of stage `{}`", stage.name))?
                .to_json(),
        })
    })?;
    let stack = stack_name(stage.name.as_str());
    // How the deploy starts: a creation first adopts the data a stage kept when it was taken
    // down, and creates new data unprotected.
    let status = deploy::describe(&session.cloudformation(), &stack)
        .await?
        .map(|s| s.status);
    let start = plan::start_from(
        status.as_deref(),
        stage.name.as_str(),
        &stack,
        &session.region,
    );
    // A stage taken down with its data kept gets that data back, never new data beside it.
    let adopt = if protection::creates(&start) {
        let photos =
            photo_contract::stack::photo_bucket(&stack, &session.account_id, &session.region);
        kept::remaining(session, &stack, &photos).await?
    } else {
        Vec::new()
    };
    let bucket = ArtifactBucket::of(session);
    steps
        .time_async("artifact bucket", bucket.ensure(ui))
        .await?;
    let (mut uploaded, mut present) = (0, 0);
    let mut count = |key: &str, bytes: usize, put: Put| {
        ui.event(
            "upload",
            serde_json::json!({
                "bucket": bucket.name,
                "key": key,
                "bytes": bytes,
                "uploaded": matches!(put, Put::Uploaded),
            }),
        );
        match put {
            Put::Uploaded => uploaded += 1,
            Put::Present => present += 1,
        }
    };
    let mut parameters = Pairs::new();
    parameters.insert(
        photo_contract::stack::parameters::ARTIFACT_BUCKET.into(),
        bucket.name.clone(),
    );
    for (f, p) in &packages {
        let key = artifacts::function_key(f.name, &p.sha256);
        let put = steps
            .time_async(
                "artifacts",
                bucket.put_if_missing(ui, &key, &p.bytes, "application/zip"),
            )
            .await?;
        count(&key, p.bytes.len(), put);
        parameters.insert(f.code_parameter.into(), key);
    }
    let keys = steps
        .time_async(
            "media keys",
            media_key::KeyStore::new(session, &stack).ensure(create_keys),
        )
        .await?;
    for (name, value) in keys.parameters() {
        parameters.insert(name.to_owned(), value);
    }
    let (source, uploaded_template) = steps
        .time_async(
            "artifacts",
            bucket.template_source(session, ui, &stack, &template),
        )
        .await?;
    if let Some((key, put)) = uploaded_template {
        count(&key, template.len(), put);
    }
    let tags = Pairs::from([
        (STAGE_TAG.to_owned(), stage.name.to_string()),
        (MANAGED_BY_TAG.to_owned(), "deployer".to_owned()),
    ]);
    let mut desired = Desired {
        template,
        parameters,
        tags,
    };
    // Adopted data keeps the protection it has; new data is unprotected until it exists.
    protection::set(
        &mut desired,
        !protection::creates(&start) || !adopt.is_empty(),
    );
    Ok(Prepared {
        keys,
        desired,
        adopt,
        source,
        uploaded,
        present,
    })
}

/// Loads stage `name`, connects to its account (checking it), and runs `work` on the stage, the
/// session and a deployer for its stack, on a fresh runtime.
fn on_stack<T>(
    config_file: &Path,
    name: &str,
    aws: &AwsArgs,
    work: impl AsyncFnOnce(&StageConfig, &Session, &Deployer) -> Result<T>,
) -> Result<T> {
    on_stack_with(config_file, name, aws, Ui::detect(), work)
}

/// [`on_stack`] with progress going to `ui`.
fn on_stack_with<T>(
    config_file: &Path,
    name: &str,
    aws: &AwsArgs,
    ui: Ui,
    work: impl AsyncFnOnce(&StageConfig, &Session, &Deployer) -> Result<T>,
) -> Result<T> {
    let stage = ui
        .steps()
        .time("configuration", || load_stage(config_file, name, aws))?;
    block_on(async {
        let session = ui
            .steps()
            .time_async("connect", Session::connect(&stage, aws))
            .await?;
        let mut deployer = deployer_for(&session, &stage, aws);
        deployer.ui = ui;
        work(&stage, &session, &deployer).await
    })
}

/// [`on_stack`], then uploads the stage's artifacts and prepares the desired stack before `work`
/// (what `up` and `diff` share); Ctrl-C stops it and reports where the stack is. A stage's
/// first media key is made and kept when `create_keys` says so (`up`, not `diff`).
fn with_prepared(
    config_file: &Path,
    name: &str,
    artifacts: &ArtifactArgs,
    aws: &AwsArgs,
    ui: Ui,
    create_keys: bool,
    work: impl AsyncFnOnce(&StageConfig, &Session, &Deployer, Prepared) -> Result<()>,
) -> Result<()> {
    on_stack_with(
        config_file,
        name,
        aws,
        ui,
        async |stage, session, deployer| {
            interruptible(deployer, async {
                let prepared =
                    prepare(session, stage, artifacts, &deployer.ui, create_keys).await?;
                work(stage, session, deployer, prepared).await
            })
            .await
        },
    )
}

fn deployer_for(session: &Session, stage: &StageConfig, aws: &AwsArgs) -> Deployer {
    let mut deployer = Deployer::new(
        session.cloudformation(),
        &stack_name(stage.name.as_str()),
        stage.name.as_str(),
        &session.region,
        Duration::from_secs(aws.timeout),
    );
    deployer.role_arn = stage
        .cloudformation_role_arn
        .as_ref()
        .map(|r| r.as_str().to_owned());
    deployer
}

/// `deployer up --stage NAME` for an AWS stage; `publish_site` builds the SPA and publishes it
/// once the stack is deployed (`--no-site` turns it off). With `--json` every step is also one
/// JSON object per line on standard output, ending with a `summary` object (also on failure).
pub fn up(config_file: &Path, args: &DeployArgs, publish_site: bool, aws: &AwsArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let ui = if args.json { Ui::json() } else { Ui::detect() };
    let summary = std::sync::Mutex::new(serde_json::json!({
        "stage": args.stage,
        "stack": stack_name(&args.stage),
    }));
    let record = |key: &str, value: serde_json::Value| {
        if let Ok(mut summary) = summary.lock() {
            summary[key] = value;
        }
    };
    let work = async |stage: &StageConfig,
                      session: &Session,
                      deployer: &Deployer,
                      prepared: Prepared| {
        let checked = quota::checking(deployer, session, stage);
        let deployer = &checked;
        deployer.ui.line(&format!(
            "artifacts: {} uploaded, {} already in the bucket",
            prepared.uploaded, prepared.present
        ));
        record("uploaded", prepared.uploaded.into());
        record("already_present", prepared.present.into());
        let mut confirm = (stage.protected && !args.yes).then(|| deploy::Confirmation {
            stage: stage.name.to_string(),
            question: format!("apply these changes to stage `{}`?", stage.name),
        });
        if !prepared.adopt.is_empty() {
            deployer.ui.line(&format!(
                    "stage `{}` kept its data when it was taken down: adopting {} into the new stack before creating the rest",
                    stage.name,
                    kept::listed(&prepared.adopt)
                ));
            // A protected stage is asked once, for the adoption and the rest.
            if let Some(ask) = confirm.take() {
                deployer.ui.ask(&ask.stage, &ask.question).await?;
            }
            adopt::import(deployer, &prepared.desired, &prepared.adopt).await?;
            record("adopted", kept::listed(&prepared.adopt).into());
        }
        let outcome = deployer
            .deploy(&prepared.desired, &prepared.source, confirm)
            .await?;
        if !prepared.adopt.is_empty() {
            // The data belongs to a stack again.
            kept::forget(session, &deployer.stack).await?;
        }
        let json = deployer.ui.is_json();
        match &outcome {
            Outcome::NoChanges => {
                record("outcome", "no_changes".into());
                record("change_sets", 0.into());
                if !json {
                    println!("no changes: stack `{}` is up to date", deployer.stack);
                }
            }
            Outcome::Deployed { status, changes } => {
                record("outcome", "deployed".into());
                record("change_sets", 1.into());
                record("status", status.clone().into());
                record("resource_changes", changes.len().into());
                if !json {
                    println!(
                        "stack `{}` is {status} ({} resource changes)",
                        deployer.stack,
                        changes.len()
                    );
                }
            }
        }
        if let Some(line) =
            protection::after_deploy(deployer, &prepared.desired, &prepared.source, &outcome)
                .await?
        {
            deployer.ui.line(&line);
            record("change_sets", 2.into());
        }
        if let Some(line) = hot::reconcile(session, deployer, &prepared.desired).await? {
            deployer.ui.line(&line);
            record("reconciled_hot_updates", true.into());
        }
        if let Some(line) = reencrypt::after_deploy(session, deployer).await? {
            deployer.ui.line(&line);
        }
        if let Some(line) = timeline::after_deploy(session, deployer).await? {
            deployer.ui.line(&line);
        }
        media_key::after_deploy(session, deployer, &prepared.keys).await?;
        // The SPA goes out once the stack (and so its outputs) is up.
        if !publish_site {
            deployer.ui.line("site: not published (--no-site)");
            deployer
                .ui
                .event("publish", serde_json::json!({ "published": false }));
            record("site", "not published".into());
            return Ok(());
        }
        let info = deployer
            .describe(&deployer.stack)
            .await?
            .with_context(|| format!("stack `{}` is gone after deploying it", deployer.stack))?;
        let outputs = info.outputs.into_iter().collect();
        let cwd = std::env::current_dir().context("reading the working directory")?;
        let publish_started = std::time::Instant::now();
        let report = publish::publish_stage_site(
            &session.s3(),
            &crate::client!(aws_sdk_cloudfront, &session.sdk),
            &outputs,
            &cwd,
            &publish::PublishOptions::default(),
        )
        .await
        .context("publishing the SPA (the stack itself is deployed)")?;
        deployer
            .ui
            .steps()
            .record("publish the site", publish_started.elapsed());
        deployer.ui.line(&report.summary());
        deployer.ui.event(
            "publish",
            serde_json::json!({ "published": true, "summary": report.summary() }),
        );
        record("site", "published".into());
        Ok(())
    };
    let result = with_prepared(
        config_file,
        &args.stage,
        &args.artifacts,
        aws,
        ui.clone(),
        true,
        work,
    );
    let mut summary = summary
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    summary["ok"] = result.is_ok().into();
    if let Err(err) = &result {
        summary["error"] = format!("{err:#}").into();
    }
    let total = started.elapsed();
    summary["seconds"] = total.as_secs_f64().into();
    summary["steps_ms"] = ui.steps().json();
    if args.verbose {
        ui.line(ui.steps().render(total).trim_end());
    }
    ui.event("summary", summary);
    result
}

/// `deployer diff`: the change set `up` would execute, shown and then deleted.
pub fn diff(config_file: &Path, args: &DiffArgs, aws: &AwsArgs) -> Result<()> {
    let work = async |stage: &StageConfig, _: &Session, deployer: &Deployer, prepared: Prepared| {
        if !prepared.adopt.is_empty() {
            // An import cannot be previewed beside a creation: say what `up` would do.
            println!(
                "stage `{}` kept its data when it was taken down: `up` adopts {} into a new stack `{}`, then creates the rest around it",
                stage.name,
                kept::listed(&prepared.adopt),
                deployer.stack
            );
            return Ok(());
        }
        let plan = deployer
            .prepare(&prepared.desired, &prepared.source, false)
            .await?;
        let changes = match &plan {
            Some(plan) => {
                deployer.discard(plan).await;
                plan.changes.clone()
            }
            None => Vec::new(),
        };
        // What the last drift detection found: a diff cannot show changes made outside
        // CloudFormation, so it says when there were some.
        let last_check = match deployer.describe(&deployer.stack).await? {
            Some(info) => Some(deployer.last_drift_check(&info).await),
            None => None,
        };
        if args.json {
            let mut value = report::changes_value(&deployer.stack, &changes);
            value["drift"] = last_check
                .as_ref()
                .map(drift::last_check_json)
                .unwrap_or_default();
            println!(
                "{}",
                serde_json::to_string_pretty(&value).context("writing the changes as JSON")?
            );
        } else {
            print!("{}", report::render_changes(&changes));
            if let Some(check) = &last_check {
                println!("{}", drift::render_last_check(check, stage.name.as_str()));
            }
        }
        Ok(())
    };
    with_prepared(
        config_file,
        &args.stage,
        &args.artifacts,
        aws,
        Ui::detect(),
        false,
        work,
    )
}

/// `deployer outputs`: the stack's outputs as `KEY  VALUE` lines or one JSON object.
pub fn outputs(config_file: &Path, args: &OutputsArgs, aws: &AwsArgs) -> Result<()> {
    on_stack(config_file, &args.stage, aws, async |stage, _, deployer| {
        let info = deployer.describe(&deployer.stack).await?.with_context(|| {
            format!(
                "stack `{}` does not exist: `deployer up --stage {}` creates it",
                deployer.stack, stage.name
            )
        })?;
        if args.json {
            let map: serde_json::Map<String, serde_json::Value> = info
                .outputs
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&map).context("writing the outputs as JSON")?
            );
        } else {
            let width = info.outputs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (k, v) in &info.outputs {
                println!("{k:<width$}  {v}");
            }
        }
        Ok(())
    })
}

/// `deployer rotate-media-key`: see [`media_key::rotate`].
pub fn rotate_media_key(config_file: &Path, args: &RotateArgs, aws: &AwsArgs) -> Result<()> {
    on_stack(
        config_file,
        &args.stage,
        aws,
        async |_, session, deployer| {
            let done = interruptible(deployer, media_key::rotate(session, deployer)).await?;
            println!("{done}");
            Ok(())
        },
    )
}

/// `deployer down`: see [`down::run`].
pub fn down(config_file: &Path, args: &DownArgs, aws: &AwsArgs) -> Result<()> {
    on_stack(
        config_file,
        &args.stage,
        aws,
        async |stage, session, deployer| {
            interruptible(deployer, down::run(session, deployer, stage, args)).await
        },
    )
}
