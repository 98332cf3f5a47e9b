//! The local stage: the whole app in one process on 127.0.0.1, with its state in a data directory.

pub mod cognito;
pub mod datadir;
pub mod objects;
pub mod queue;
pub mod s3;
pub mod server;
pub mod site;
pub mod store;
pub mod thumbnail;
pub mod users;

use anyhow::{Context as _, bail};
use photo_domain::PasswordCost;

use crate::cli::UpArgs;
use crate::config::LOCAL_STAGE;

/// `deployer up`: runs the local stage until Ctrl-C.
pub fn run(args: &UpArgs) -> anyhow::Result<()> {
    if args.stage != LOCAL_STAGE {
        bail!(
            "deploying stage `{}` to AWS is not supported by this build yet (`deployer up --stage local` runs the app locally)",
            args.stage
        );
    }
    let defaults = stack::config::StageConfig::with_defaults(
        LOCAL_STAGE.parse().context("naming the local stage")?,
        "us-east-1".parse().context("naming the local region")?,
    );
    let options = server::UpOptions {
        port: args.port,
        data_dir: args.data_dir.clone(),
        upload_policy_secs: args.upload_policy_secs,
        password_cost: if args.fast_password_hashing {
            PasswordCost::Minimal
        } else {
            PasswordCost::Standard
        },
        limits: defaults.limits,
        processing_delay: std::time::Duration::from_millis(args.processing_delay_ms),
        site_workspace: if args.no_site {
            None
        } else {
            let here = std::env::current_dir().context("reading the current directory")?;
            Some(site::find_workspace(&here).with_context(|| {
                format!(
                    "no SPA sources above `{}`: run from the repository, or pass --no-site",
                    here.display()
                )
            })?)
        },
    };
    // One line per request on the console (route template, status, request id; never tokens).
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(server::up(options, async {
        stop_signal().await;
        println!("stopping: finishing requests in flight");
    }))
}

/// Ctrl-C, or SIGTERM as a service manager or `kill` sends. If a handler cannot be installed
/// the stage still runs; it then stops with the process.
async fn stop_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
