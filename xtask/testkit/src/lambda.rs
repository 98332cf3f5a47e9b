//! The functions' `bootstrap` binaries as Lambda runs them: static musl builds for either
//! architecture, made by the deployer's own build code, and started under `qemu-user` when the
//! architecture is not the host's.
//!
//! [`bootstrap`] builds every function of [`FUNCTIONS`] for both architectures the way `deployer
//! package` does ([`build_functions_for`]: the musl targets, each target's C compiler for
//! `ring`, `rust-lld` for arm64, `--locked`, the ELF check), in one `cargo build` into the
//! shared target directory. Only the cargo profile differs: [`PROFILE`] keeps the release
//! profile's settings and optimised image crates but drops fat LTO and the optimisation of
//! everything else, so a cold build stays within a test's budget. [`command`] starts a binary of the other
//! architecture under Debian's `qemu-user-static` (`cargo xtask test` installs it).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use deployer_build::function::{binary_path, build_functions_for, rust_target};
use photo_contract::functions::{FUNCTIONS, Function};

use crate::runtime_api::RuntimeApi;

pub use stack::config::Architecture;

/// The cargo profile of the test builds (`[profile.lambda-test]` in the root `Cargo.toml`).
pub const PROFILE: &str = "lambda-test";

/// The architecture the tests run on.
pub fn host() -> Architecture {
    if cfg!(target_arch = "aarch64") {
        Architecture::Arm64
    } else {
        Architecture::X86_64
    }
}

/// The `qemu-user` program that runs a static binary of `arch` on this host, or `None` when
/// `arch` is the host's own.
pub fn emulator(arch: Architecture) -> Option<&'static str> {
    (arch != host()).then_some(match arch {
        Architecture::X86_64 => "qemu-x86_64-static",
        Architecture::Arm64 => "qemu-aarch64-static",
    })
}

/// Lambda's architectures, in the order [`bootstrap`] builds them.
pub const ARCHITECTURES: [Architecture; 2] = [Architecture::X86_64, Architecture::Arm64];

/// The path of `function`'s static `bootstrap` for `arch`, building every function for every
/// one of [`ARCHITECTURES`] first, in one `cargo build` (once per test process; concurrent
/// callers wait for it). A failed build fails every caller with the build's error.
pub fn bootstrap(function: Function, arch: Architecture) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let started = Instant::now();
        let result = build_functions_for(
            &crate::workspace_root(),
            &crate::target_dir(),
            FUNCTIONS,
            &ARCHITECTURES,
            PROFILE,
        )
        .map(drop)
        .map_err(|e| e.to_string());
        if result.is_ok() {
            eprintln!(
                "built {} for {} in the `{PROFILE}` profile in {:.1?}",
                FUNCTIONS
                    .iter()
                    .map(|f| f.binary)
                    .collect::<Vec<_>>()
                    .join(", "),
                ARCHITECTURES
                    .iter()
                    .map(|&arch| rust_target(arch))
                    .collect::<Vec<_>>()
                    .join(", "),
                started.elapsed()
            );
        }
        result
    });
    if let Err(e) = built {
        panic!("building the functions for Lambda: {e}");
    }
    binary_path(&crate::target_dir(), arch, PROFILE, function.binary)
}

/// [`RuntimeApi::command`] for the `bin` of `arch`: the binary itself on its own architecture,
/// else the binary under [`emulator`], which must be installed.
pub fn command(
    runtime: &RuntimeApi,
    arch: Architecture,
    bin: &std::path::Path,
    name: &str,
    memory_mb: u32,
) -> Command {
    let Some(emulator) = emulator(arch) else {
        return runtime.command(bin, name, memory_mb);
    };
    // The function's environment is cleared, so the emulator is found on the test's `PATH`.
    let program = std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(emulator))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "`{emulator}` is not installed, so the {arch} build cannot run here: \
                 `cargo xtask test` installs it (Debian: `apt-get install qemu-user-static`)"
            )
        });
    let mut command = runtime.command(program, name, memory_mb);
    command.arg(bin);
    command
}
