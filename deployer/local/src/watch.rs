//! `deployer watch --stage local`: the local stage rebuilt and restarted whenever a source file
//! of the workspace changes, with its data directory kept, and open pages reloaded.
//!
//! The supervisor builds the `deployer` (`cargo build --bin deployer`), runs it as `deployer up
//! --stage local` with the same flags plus the build's number, and then polls the workspace's
//! source files. A burst of changes (an editor saving several files, a `git checkout`) is one
//! rebuild: the build starts once nothing has changed for [`QUIET`]. A build that succeeds
//! replaces the running stage (stopped with SIGTERM, so it finishes the photo in hand; the new
//! one opens the same data directory); a build that fails leaves the running stage as it was,
//! after cargo has printed why. One build runs at a time; changes made during a build start the
//! next one. Pages the stage served load its reload channel ([`crate::reload`]) and reload
//! themselves when the new build answers.
//!
//! The workspace is polled (sizes and modification times of its sources) rather than watched
//! through the operating system's notifications: it is a few hundred files, a scan takes about a
//! millisecond, and polling behaves the same on every platform and file system. Skipped: `target/`
//! (and `$CARGO_TARGET_DIR`), hidden directories (`.git`, the default data directory
//! `.deployer/`), `node_modules`, and the stage's data directory wherever it is.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use deployer_build::workspace::{find_workspace, target_dir};

use crate::LocalArgs;

/// How often the workspace is scanned.
const POLL: Duration = Duration::from_millis(250);

/// How long the sources must stay unchanged before a build starts.
pub const QUIET: Duration = Duration::from_millis(400);

/// How long a stopping stage may take before it is killed: its own grace period for the photo
/// in hand, and some.
const STOP_GRACE: Duration = Duration::from_secs(20);

/// The files whose changes rebuild the stage.
const SOURCE_EXTENSIONS: [&str; 8] = ["rs", "toml", "lock", "html", "css", "js", "svg", "json"];

/// `deployer watch`'s own flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WatchBuild {
    /// For tests: the command (run with `sh -c` in the workspace) that builds the stage, instead
    /// of `cargo build --bin deployer`.
    #[arg(long, hide = true, requires = "stage_binary")]
    pub build_command: Option<String>,

    /// For tests: the `deployer` binary to run as the stage, instead of the one cargo builds.
    #[arg(long, hide = true)]
    pub stage_binary: Option<PathBuf>,
}

/// How the stage is built, and which binary then runs it.
#[derive(Debug)]
enum Build {
    Cargo {
        workspace: PathBuf,
    },
    Command {
        line: String,
        workspace: PathBuf,
        binary: PathBuf,
    },
}

impl Build {
    /// Runs the build, its output going to the console; the binary to run when it succeeds.
    fn run(&self) -> Result<PathBuf, String> {
        let (mut command, binary) = match self {
            Build::Cargo { workspace } => {
                let mut command = Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()));
                command
                    .args(["build", "--bin", "deployer"])
                    .current_dir(workspace);
                let binary = target_dir(workspace)
                    .join("debug")
                    .join(format!("deployer{}", std::env::consts::EXE_SUFFIX));
                (command, binary)
            }
            Build::Command {
                line,
                workspace,
                binary,
            } => {
                let mut command = Command::new("sh");
                command.args(["-c", line]).current_dir(workspace);
                (command, binary.clone())
            }
        };
        let status = command
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("could not run the build: {e}"))?;
        if status.success() {
            Ok(binary)
        } else {
            Err(format!("the build failed ({status})"))
        }
    }
}

/// The size and modification time of every source file.
type Snapshot = BTreeMap<PathBuf, (u64, Option<SystemTime>)>;

/// The workspace's sources, skipping build output, hidden directories and `skip`.
fn scan(root: &Path, skip: &[PathBuf]) -> Snapshot {
    let mut files = Snapshot::new();
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // Editors' swap and backup files start with a dot or end with a tilde.
            if name.starts_with('.') || name.ends_with('~') {
                continue;
            }
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if name != "target" && name != "node_modules" && !skip.contains(&path) {
                    dirs.push(path);
                }
            } else if path
                .extension()
                .is_some_and(|e| SOURCE_EXTENSIONS.iter().any(|s| e == *s))
                && let Ok(meta) = entry.metadata()
            {
                files.insert(path, (meta.len(), meta.modified().ok()));
            }
        }
    }
    files
}

/// One path that differs between two snapshots, for the console.
fn a_change(before: &Snapshot, after: &Snapshot) -> Option<PathBuf> {
    after
        .iter()
        .find(|(path, seen)| before.get(*path) != Some(seen))
        .map(|(path, _)| path.clone())
        .or_else(|| before.keys().find(|p| !after.contains_key(*p)).cloned())
}

/// The flags of `deployer up --stage local` that run the stage as `args` describe, as build
/// `build` of a watch.
pub fn stage_args(args: &LocalArgs, with_site: bool, build: u64) -> Vec<OsString> {
    let mut out: Vec<OsString> = vec!["up".into(), "--stage".into(), "local".into()];
    let mut flag = |name: &str, value: OsString| {
        out.push(format!("--{name}").into());
        out.push(value);
    };
    flag("port", args.port.to_string().into());
    flag("data-dir", args.data_dir.clone().into_os_string());
    for host in &args.allow_host {
        flag("allow-host", host.into());
    }
    if let Some(secs) = args.upload_policy_secs {
        flag("upload-policy-secs", secs.to_string().into());
    }
    flag(
        "processing-delay-ms",
        args.processing_delay_ms.to_string().into(),
    );
    if let Some(n) = args.workers {
        flag("workers", n.to_string().into());
    }
    if let Some(mib) = args.processing_memory_mib {
        flag("processing-memory-mib", mib.to_string().into());
    }
    flag("watch-build", build.to_string().into());
    if args.fast_password_hashing {
        out.push("--fast-password-hashing".into());
    }
    if !with_site {
        out.push("--no-site".into());
    }
    out
}

/// The stage's process.
struct Running {
    child: Child,
    build: u64,
}

impl Running {
    fn start(binary: &Path, args: &LocalArgs, with_site: bool, build: u64) -> anyhow::Result<Self> {
        let child = Command::new(binary)
            .args(stage_args(args, with_site, build))
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting `{}`", binary.display()))?;
        println!("watch: started build {build} of the local stage");
        Ok(Running { child, build })
    }

    /// Whether it ended by itself, and how.
    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops it as Ctrl-C would, killing it if it does not stop in time.
    fn stop(mut self) {
        #[cfg(unix)]
        {
            use rustix::process::{Pid, Signal, kill_process};
            let _ = kill_process(Pid::from_child(&self.child), Signal::TERM);
        }
        #[cfg(not(unix))]
        let _ = self.child.kill();
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        println!("watch: the stage did not stop in time: killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a watch keeps up to date: the local stage, or an AWS stage.
pub trait Target {
    /// Builds and puts the sources' current state in place. An error is printed and the watch
    /// goes on: the next change tries again.
    fn update(&mut self) -> anyhow::Result<()>;
    /// Called at every poll, between updates.
    fn poll(&mut self) {}
    /// The watch ends.
    fn stop(&mut self) {}
}

/// The local stage: built with `build`, run as `up --stage local` with `args`.
struct LocalTarget<'a> {
    build: Build,
    running: Option<Running>,
    builds: u64,
    args: &'a LocalArgs,
    with_site: bool,
}

impl Target for LocalTarget<'_> {
    /// Builds the stage, and replaces the running one with the new build when it succeeds.
    fn update(&mut self) -> anyhow::Result<()> {
        let binary = match self.build.run() {
            Ok(binary) => binary,
            Err(why) => {
                match &self.running {
                    Some(stage) => println!(
                        "watch: {why}; build {} keeps running, waiting for the next change",
                        stage.build
                    ),
                    None => println!("watch: {why}; waiting for the next change"),
                }
                return Ok(());
            }
        };
        if let Some(old) = self.running.take() {
            println!("watch: stopping build {}", old.build);
            old.stop();
        }
        self.builds += 1;
        self.running = Some(Running::start(
            &binary,
            self.args,
            self.with_site,
            self.builds,
        )?);
        Ok(())
    }

    fn poll(&mut self) {
        if let Some(stage) = &mut self.running
            && let Some(status) = stage.exited()
        {
            println!(
                "watch: build {} of the stage stopped ({status}); it starts again after the next \
                 change",
                stage.build
            );
            self.running = None;
        }
    }

    fn stop(&mut self) {
        if let Some(stage) = self.running.take() {
            stage.stop();
        }
    }
}

/// The workspace above the current directory, which `watch` needs.
pub fn workspace() -> anyhow::Result<PathBuf> {
    let here = std::env::current_dir().context("reading the current directory")?;
    find_workspace(&here).with_context(|| {
        format!(
            "`deployer watch` rebuilds the app from its sources, and there are none above `{}`: \
             run it inside the repository",
            here.display()
        )
    })
}

/// Turns true on Ctrl-C or SIGTERM.
fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(crate::stop_signal());
            set.store(true, Ordering::SeqCst);
        }
    });
    flag
}

/// Updates `target` once, then after each burst of changes to the sources of `workspace`
/// (leaving out `skip`), until Ctrl-C or SIGTERM.
pub fn watch_sources(
    workspace: &Path,
    skip: &[PathBuf],
    target: &mut dyn Target,
) -> anyhow::Result<()> {
    let stop = stop_flag();
    let mut seen = scan(workspace, skip);
    report(target.update());
    let mut changed: Option<(Instant, PathBuf)> = None;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(POLL);
        target.poll();
        let now = scan(workspace, skip);
        if now != seen {
            let path = a_change(&seen, &now).unwrap_or_default();
            changed = Some((Instant::now(), path));
            seen = now;
            continue;
        }
        if let Some((at, path)) = &changed
            && at.elapsed() >= QUIET
        {
            let shown = path.strip_prefix(workspace).unwrap_or(path);
            println!("watch: {} changed: updating", shown.display());
            changed = None;
            report(target.update());
        }
    }
    println!("watch: stopping");
    target.stop();
    Ok(())
}

fn report(result: anyhow::Result<()>) {
    if let Err(err) = result {
        println!("watch: {err:#}; waiting for the next change");
    }
}

/// The directories a watch leaves out besides hidden ones: the target directory and `extra`.
pub fn skipped(workspace: &Path, extra: &[&Path]) -> Vec<PathBuf> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    std::iter::once(absolute(&target_dir(workspace)))
        .chain(extra.iter().map(|p| absolute(p)))
        .collect()
}

/// `deployer watch --stage local`: runs until Ctrl-C (or SIGTERM), then stops the stage.
pub fn run(args: &LocalArgs, with_site: bool, watch: &WatchBuild) -> anyhow::Result<()> {
    let workspace = workspace()?;
    let build = match (&watch.build_command, &watch.stage_binary) {
        (Some(line), Some(binary)) => Build::Command {
            line: line.clone(),
            workspace: workspace.clone(),
            binary: binary.clone(),
        },
        _ => Build::Cargo {
            workspace: workspace.clone(),
        },
    };
    println!(
        "watch: building, then watching the sources under {} (Ctrl-C stops)",
        workspace.display()
    );
    let skip = skipped(&workspace, &[&args.data_dir]);
    let mut target = LocalTarget {
        build,
        running: None,
        builds: 0,
        args,
        with_site,
    };
    watch_sources(&workspace, &skip, &mut target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Up {
        #[arg(long)]
        stage: String,
        #[arg(long)]
        no_site: bool,
        #[command(flatten)]
        local: LocalArgs,
    }

    fn parse(args: Vec<OsString>) -> Up {
        let mut argv: Vec<OsString> = vec!["deployer".into()];
        argv.extend(args.into_iter().skip(1));
        Up::try_parse_from(argv).unwrap()
    }

    #[test]
    fn the_stage_gets_every_flag_it_was_watched_with() {
        let args = LocalArgs {
            port: 9999,
            data_dir: "some dir/data".into(),
            allow_host: vec!["photos.test".into(), "other:81".into()],
            upload_policy_secs: Some(5),
            fast_password_hashing: true,
            processing_delay_ms: 7,
            workers: Some(3),
            processing_memory_mib: Some(64),
            watch_build: None,
        };
        let up = parse(stage_args(&args, false, 4));
        assert_eq!((up.stage.as_str(), up.no_site), ("local", true));
        assert_eq!(
            up.local,
            LocalArgs {
                watch_build: Some(4),
                ..args.clone()
            }
        );
        let defaults = LocalArgs {
            allow_host: Vec::new(),
            upload_policy_secs: None,
            fast_password_hashing: false,
            workers: None,
            processing_memory_mib: None,
            ..args
        };
        let up = parse(stage_args(&defaults, true, 1));
        assert!(!up.no_site);
        assert_eq!(
            up.local,
            LocalArgs {
                watch_build: Some(1),
                ..defaults
            }
        );
    }

    #[test]
    fn the_scan_sees_sources_and_skips_output_hidden_directories_and_data() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (path, body) in [
            ("src/lib.rs", "fn a() {}"),
            ("Cargo.toml", "[package]"),
            ("frontend/app/static/style.css", "p {}"),
            ("target/debug/build.rs", "x"),
            (".git/HEAD", "x"),
            ("src/.lib.rs.swp", "x"),
            ("src/lib.rs~", "x"),
            ("README.md", "x"),
            ("data/stage.json", "x"),
        ] {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
        let skip = [root.join("data")];
        let seen = scan(root, &skip);
        let names: Vec<_> = seen
            .keys()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["Cargo.toml", "frontend/app/static/style.css", "src/lib.rs"]
        );
        std::fs::write(root.join("src/lib.rs"), "fn a() { b() }").unwrap();
        let after = scan(root, &skip);
        assert_eq!(a_change(&seen, &after), Some(root.join("src/lib.rs")));
        std::fs::remove_file(root.join("Cargo.toml")).unwrap();
        let gone = scan(root, &skip);
        assert_eq!(a_change(&after, &gone), Some(root.join("Cargo.toml")));
    }
}
