//! The local stage: the whole app in one process on 127.0.0.1, with its state in a data directory.

pub mod cognito;
pub mod console;
pub mod datadir;
pub mod objects;
pub mod queue;
pub mod reload;
pub mod s3;
pub mod server;
pub mod site;
pub mod store;
pub mod thumbnail;
pub mod users;
pub mod watch;

use std::path::PathBuf;

use anyhow::Context as _;
use deployer_build::LOCAL_STAGE;
use deployer_build::workspace::find_workspace;
use photo_domain::PasswordCost;

/// The local stage's flags of `deployer up --stage local`: every doc comment is `--help` text.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct LocalArgs {
    /// Local stage: the port on 127.0.0.1 to serve the app on.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Local stage: where it keeps its database, photos, keys and outgoing mail. Created when
    /// missing; one `deployer up` at a time may use it.
    #[arg(long, value_name = "DIR", default_value = ".deployer/local")]
    pub data_dir: PathBuf,

    /// Local stage: a host name requests may use besides 127.0.0.1 and localhost (such as a name
    /// in /etc/hosts for 127.0.0.1), with or without a port; repeatable. Requests naming any
    /// other host are refused (a guard against DNS rebinding).
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_host: Vec<String>,

    /// For tests: cap the lifetime of upload forms, in seconds.
    #[arg(long, hide = true, env = "DEPLOYER_LOCAL_UPLOAD_POLICY_SECS")]
    pub upload_policy_secs: Option<u64>,

    /// For tests: hash passwords with minimal argon2 cost. Never for real accounts.
    #[arg(long, hide = true)]
    pub fast_password_hashing: bool,

    /// For tests: wait this long before processing each upload, so a test can stop the stage
    /// while a job is in hand.
    #[arg(long, hide = true, default_value_t = 0)]
    pub processing_delay_ms: u64,

    /// Local stage: how many uploads to decode at once, at most [default: one per core]; twice
    /// as many are in flight, reading and writing files around them.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: Option<u16>,

    /// Local stage: the memory, in MiB, that the uploads processed at once may hold together;
    /// each holds its original plus the imaging estimate for it, and one needing more than all
    /// of it is processed alone [default: 256, the imaging budget of one photo].
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(16..=1_048_576))]
    pub processing_memory_mib: Option<u64>,

    /// Set by `deployer watch` on the stage it starts: the build's number, announced on the
    /// reload channel (`/_watch/`), which only a stage started this way serves.
    #[arg(long, hide = true)]
    pub watch_build: Option<u64>,
}

/// `deployer up --stage local`: runs the local stage until Ctrl-C; `with_site` builds and
/// serves the SPA too.
pub fn run(args: &LocalArgs, with_site: bool) -> anyhow::Result<()> {
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
        password_hashing: None,
        lock_wait: datadir::DEFAULT_LOCK_WAIT,
        allowed_hosts: args.allow_host.clone(),
        sign_in_lockout_secs: users::DEFAULT_LOCKOUT_SECS,
        limits: defaults.limits,
        processing_delay: std::time::Duration::from_millis(args.processing_delay_ms),
        workers: args
            .workers
            .map_or_else(server::UpOptions::default_workers, usize::from),
        watch_build: args.watch_build,
        sweep_every: server::UpOptions::DEFAULT_SWEEP_EVERY,
        clock: None,
        processing_memory: args
            .processing_memory_mib
            .map_or_else(server::UpOptions::default_processing_memory, |mib| {
                mib << 20
            }),
        site_workspace: if !with_site {
            None
        } else {
            let here = std::env::current_dir().context("reading the current directory")?;
            Some(find_workspace(&here).with_context(|| {
                format!(
                    "no SPA sources above `{}`: run from the repository, or pass --no-site",
                    here.display()
                )
            })?)
        },
    };
    // One line per request on the console (route template, status, request id; never tokens),
    // written by the console's own thread.
    let console = console::Console::start(std::io::stdout()).context("starting the console log")?;
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .with_writer(console.clone())
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(request_threads())
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let stopped = runtime.block_on(server::up(options, async {
        stop_signal().await;
        println!("stopping: finishing requests in flight");
    }));
    console.finish();
    stopped
}

/// Threads serving requests: two per core. The repository answers on the thread that asks
/// (SQLite calls are short, and blocking), so a request waiting for the write lock, or the
/// disk, holds its thread; with only one per core, the requests queued behind it wait too. On
/// two cores with the load generator beside it, `cargo xtask bench local` measured 55 to 59 us
/// of CPU a listing with four threads against 58 to 73 us with two.
fn request_threads() -> usize {
    2 * std::thread::available_parallelism().map_or(1, usize::from)
}

/// Ctrl-C, or SIGTERM as a service manager or `kill` sends. If a handler cannot be installed
/// the stage still runs; it then stops with the process.
pub(crate) async fn stop_signal() {
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Up {
        #[command(flatten)]
        local: LocalArgs,
    }

    fn parse(args: &[&str]) -> Result<LocalArgs, String> {
        Up::try_parse_from(std::iter::once("up").chain(args.iter().copied()))
            .map(|up| up.local)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn processing_flags_take_sane_values_and_refuse_the_rest_clearly() {
        let args = parse(&["--workers", "3", "--processing-memory-mib", "512"]).unwrap();
        assert_eq!(
            (args.workers, args.processing_memory_mib),
            (Some(3), Some(512))
        );
        let defaults = parse(&[]).unwrap();
        assert_eq!(
            (defaults.workers, defaults.processing_memory_mib),
            (None, None)
        );
        for (bad, says) in [
            (["--workers", "0"], "--workers <N>"),
            (["--workers", "many"], "--workers <N>"),
            (
                ["--processing-memory-mib", "8"],
                "--processing-memory-mib <MIB>",
            ),
        ] {
            let err = parse(&bad).unwrap_err();
            assert!(err.contains(says) && err.contains(bad[1]), "{err}");
        }
    }
}
