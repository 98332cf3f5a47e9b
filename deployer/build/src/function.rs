//! Builds the function crates for Lambda's `provided.al2023` runtime.
//!
//! The build host's glibc (2.36 here) is newer than AL2023's (2.34), so a binary linked against
//! it could fail to start on Lambda. Building for the `-musl` targets gives static binaries that
//! need no libc at all; [`crate::elf::check_lambda_binary`] proves it for every build.
//! Cross-linking for arm64 uses `rust-lld`, which ships with the toolchain. Crates with C code
//! (`ring`, the TLS stack's crypto) also need a C compiler for the target: `musl-gcc`
//! for x86_64, a Debian aarch64 cross gcc for arm64. `cargo xtask toolchain` installs all of it;
//! whatever is missing is reported with the exact command that installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use photo_contract::functions::Function;
use stack::config::Architecture;

use crate::elf::{ElfError, check_lambda_binary};

/// What can go wrong building a function.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Rust standard library for the target is not installed.
    #[error(
        "the Rust target `{0}` is not installed: run `rustup target add {0}` (or `cargo xtask toolchain` for everything the build needs)"
    )]
    MissingTarget(&'static str),
    /// The C compiler for the target is not installed.
    #[error(
        "the C compiler `{}` for `{target}` is not installed (ring, under the TLS stack, compiles C): run `apt-get install {}` (or `cargo xtask toolchain` for everything the build needs)",
        .compiler.program, .compiler.apt_packages
    )]
    MissingCCompiler {
        /// The target triple.
        target: &'static str,
        /// The compiler and its package.
        compiler: CCompiler,
    },
    /// A tool could not be started.
    #[error("cannot run `{tool}`: {source}")]
    Spawn {
        /// The program.
        tool: String,
        /// Why.
        source: std::io::Error,
    },
    /// Cargo failed; its own output has already been shown.
    #[error("`cargo build` of `{package}` for `{target}` failed")]
    Cargo {
        /// The package.
        package: String,
        /// The target triples, comma-separated.
        target: String,
    },
    /// The binary was built but cannot run on Lambda.
    #[error("`{path}` cannot run on Lambda: {source}")]
    NotShippable {
        /// The binary.
        path: PathBuf,
        /// Why.
        source: ElfError,
    },
    /// The binary could not be read back.
    #[error("reading `{path}`: {source}")]
    Read {
        /// The binary.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The Rust target triple for a Lambda architecture.
pub fn rust_target(arch: Architecture) -> &'static str {
    match arch {
        Architecture::X86_64 => "x86_64-unknown-linux-musl",
        Architecture::Arm64 => "aarch64-unknown-linux-musl",
    }
}

/// A C compiler for a musl target and the Debian packages that provide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CCompiler {
    /// The program on `PATH`.
    pub program: &'static str,
    /// A C header it needs besides, when that comes in another package.
    pub header: Option<&'static str>,
    /// The Debian packages, space-separated as `apt-get install` takes them.
    pub apt_packages: &'static str,
}

/// The C compiler for `arch`'s musl target.
///
/// x86_64: `musl-gcc`, gcc wrapped to use musl's headers and libc. arm64: Debian has no musl
/// cross gcc, but ring's C needs little of libc, so the glibc-targeting aarch64 cross gcc with
/// its headers compiles objects that link statically against musl (checked by building
/// `photo-api` for `aarch64-unknown-linux-musl` with it). The headers are a separate package
/// that `--no-install-recommends` leaves out, hence the explicit check.
pub fn c_compiler(arch: Architecture) -> CCompiler {
    match arch {
        Architecture::X86_64 => CCompiler {
            program: "musl-gcc",
            header: None,
            apt_packages: "musl-tools",
        },
        Architecture::Arm64 => CCompiler {
            program: "aarch64-linux-gnu-gcc",
            header: Some(AARCH64_LIBC_HEADER),
            apt_packages: "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
        },
    }
}

/// A header of Debian's aarch64 cross libc (`libc6-dev-arm64-cross`).
pub const AARCH64_LIBC_HEADER: &str = "/usr/aarch64-linux-gnu/include/bits/libc-header-start.h";

/// The variable cc-rs reads for a target's C compiler, e.g. `CC_x86_64_unknown_linux_musl`.
pub fn cc_variable(target: &str) -> String {
    format!("CC_{}", target.replace('-', "_"))
}

/// Whether `program` is an executable file in one of the `PATH`-style `dirs`.
pub fn on_path(program: &str, dirs: Option<&std::ffi::OsStr>) -> bool {
    dirs.is_some_and(|dirs| std::env::split_paths(dirs).any(|dir| dir.join(program).is_file()))
}

/// The C compiler to build `arch` with: the operator's `CC_<target>` when set, else the
/// Debian one, which must be installed.
pub fn ensure_c_compiler(arch: Architecture) -> Result<String, BuildError> {
    let target = rust_target(arch);
    if let Some(cc) = std::env::var_os(cc_variable(target)) {
        return Ok(cc.to_string_lossy().into_owned());
    }
    let compiler = c_compiler(arch);
    let headers = compiler.header.is_none_or(|h| Path::new(h).is_file());
    if headers && on_path(compiler.program, std::env::var_os("PATH").as_deref()) {
        Ok(compiler.program.to_owned())
    } else {
        Err(BuildError::MissingCCompiler { target, compiler })
    }
}

/// Whether `target` is in the output of `rustup target list --installed`.
pub fn is_listed(installed: &str, target: &str) -> bool {
    installed.lines().any(|l| l.trim() == target)
}

/// The standard library of `target` in the toolchain rustup runs us under, when rustup says
/// which (`cargo run` and cargo's own child processes carry `RUSTUP_HOME` and
/// `RUSTUP_TOOLCHAIN`).
pub fn toolchain_rustlib(
    rustup_home: Option<&std::ffi::OsStr>,
    toolchain: Option<&std::ffi::OsStr>,
    target: &str,
) -> Option<PathBuf> {
    let toolchain = toolchain?;
    // A toolchain given as a path (a custom one) is its own directory.
    let root = if Path::new(toolchain).is_absolute() {
        PathBuf::from(toolchain)
    } else {
        Path::new(rustup_home?).join("toolchains").join(toolchain)
    };
    Some(root.join("lib").join("rustlib").join(target).join("lib"))
}

/// Fails with the exact command to run when the target's standard library is missing. Under
/// rustup's proxies (the README's `cargo run`) a look at the toolchain's directory answers
/// without starting a process; otherwise `rustup target list --installed` does.
pub fn ensure_target(target: &'static str) -> Result<(), BuildError> {
    if toolchain_rustlib(
        std::env::var_os("RUSTUP_HOME").as_deref(),
        std::env::var_os("RUSTUP_TOOLCHAIN").as_deref(),
        target,
    )
    .is_some_and(|lib| lib.is_dir())
    {
        return Ok(());
    }
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|source| BuildError::Spawn {
            tool: "rustup".into(),
            source,
        })?;
    if is_listed(&String::from_utf8_lossy(&out.stdout), target) {
        Ok(())
    } else {
        Err(BuildError::MissingTarget(target))
    }
}

/// Builds `function`'s `bootstrap` for `arch` in release mode and returns its bytes, after
/// checking that Lambda can run it.
pub fn build_function(
    workspace: &Path,
    target_dir: &Path,
    function: Function,
    arch: Architecture,
) -> Result<Vec<u8>, BuildError> {
    let cc = ensure_c_compiler(arch)?;
    build_bootstrap(
        workspace,
        target_dir,
        function.package,
        function.binary,
        arch,
        Some(&cc),
    )
}

/// Builds every function's `bootstrap` for `arch` in one `cargo build` (one dependency
/// resolution and one lock of the target directory instead of one per function), returning each
/// binary's bytes in the order given, after checking that Lambda can run them.
pub fn build_functions(
    workspace: &Path,
    target_dir: &Path,
    functions: &[Function],
    arch: Architecture,
) -> Result<Vec<Vec<u8>>, BuildError> {
    build_functions_for(workspace, target_dir, functions, &[arch], RELEASE)
        .map(|mut built| built.pop().unwrap_or_default())
}

/// Builds every function's `bootstrap` for each of `archs` in one `cargo build` in the cargo
/// `profile`, returning per architecture, in order, each binary's bytes in the order given,
/// after checking that Lambda can run them. The test suite builds the same static binaries for
/// both architectures in a quicker profile than the release one that ships, to run them; one
/// cargo for both targets keeps the cores busy through each target's slowest crates.
pub fn build_functions_for(
    workspace: &Path,
    target_dir: &Path,
    functions: &[Function],
    archs: &[Architecture],
    profile: &str,
) -> Result<Vec<Vec<Vec<u8>>>, BuildError> {
    let compilers = archs
        .iter()
        .map(|&arch| ensure_c_compiler(arch).map(|cc| (arch, cc)))
        .collect::<Result<Vec<_>, _>>()?;
    let archs: Vec<(Architecture, Option<&str>)> = compilers
        .iter()
        .map(|(arch, cc)| (*arch, Some(cc.as_str())))
        .collect();
    let binaries: Vec<(&str, &str)> = functions.iter().map(|f| (f.package, f.binary)).collect();
    build_binaries_for(workspace, target_dir, &binaries, &archs, profile)
}

/// Builds `binary` of `package` in `workspace` (the function's `bootstrap`) for `arch` (release,
/// locked), with `cc` as the target's C compiler when given, and checks that Lambda can run it.
pub fn build_bootstrap(
    workspace: &Path,
    target_dir: &Path,
    package: &str,
    binary: &str,
    arch: Architecture,
    cc: Option<&str>,
) -> Result<Vec<u8>, BuildError> {
    build_binaries(
        workspace,
        target_dir,
        &[(package, binary)],
        arch,
        cc,
        RELEASE,
    )?
    .pop()
    .ok_or_else(|| BuildError::Cargo {
        package: package.to_owned(),
        target: rust_target(arch).to_owned(),
    })
}

/// The cargo profile of the binaries that ship: size-optimised, fat LTO (the root `Cargo.toml`).
pub const RELEASE: &str = "release";

/// Where cargo puts `binary` built for `arch` in `profile` under `target_dir`.
pub fn binary_path(target_dir: &Path, arch: Architecture, profile: &str, binary: &str) -> PathBuf {
    // The `dev` profile's directory is the one exception to "named after the profile".
    let dir = if profile == "dev" { "debug" } else { profile };
    target_dir.join(rust_target(arch)).join(dir).join(binary)
}

/// Builds each `(package, binary)` in one `cargo build` (locked, in the cargo `profile`:
/// [`RELEASE`] for what ships) for `arch`, with `cc` as the target's C compiler when given;
/// returns the binaries' bytes in order, each checked to run on Lambda.
pub fn build_binaries(
    workspace: &Path,
    target_dir: &Path,
    binaries: &[(&str, &str)],
    arch: Architecture,
    cc: Option<&str>,
    profile: &str,
) -> Result<Vec<Vec<u8>>, BuildError> {
    build_binaries_for(workspace, target_dir, binaries, &[(arch, cc)], profile)
        .map(|mut built| built.pop().unwrap_or_default())
}

/// [`build_binaries`] for each `(arch, cc)` of `archs`, all in one `cargo build`: returns, per
/// architecture in order, the binaries' bytes in order.
pub fn build_binaries_for(
    workspace: &Path,
    target_dir: &Path,
    binaries: &[(&str, &str)],
    archs: &[(Architecture, Option<&str>)],
    profile: &str,
) -> Result<Vec<Vec<Vec<u8>>>, BuildError> {
    for (arch, _) in archs {
        ensure_target(rust_target(*arch))?;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace)
        .args(["build", "--locked", "--profile", profile]);
    let mut packages: Vec<&str> = binaries.iter().map(|(p, _)| *p).collect();
    packages.dedup();
    for package in &packages {
        command.args(["--package", package]);
    }
    for (_, binary) in binaries {
        command.args(["--bin", binary]);
    }
    for (arch, cc) in archs {
        let target = rust_target(*arch);
        command.args(["--target", target]);
        if let Some(cc) = cc {
            command.env(cc_variable(target), cc);
        }
    }
    command
        .arg("--target-dir")
        .arg(target_dir)
        // rust-lld links the self-contained musl objects for either architecture, so no cross
        // linker is needed.
        .env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "rust-lld");
    let status = command.status().map_err(|source| BuildError::Spawn {
        tool: cargo.clone(),
        source,
    })?;
    if !status.success() {
        return Err(BuildError::Cargo {
            package: packages.join(", "),
            target: archs
                .iter()
                .map(|(arch, _)| rust_target(*arch))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    archs
        .iter()
        .map(|(arch, _)| {
            binaries
                .iter()
                .map(|(_, binary)| {
                    let path = binary_path(target_dir, *arch, profile, binary);
                    let bytes = std::fs::read(&path).map_err(|source| BuildError::Read {
                        path: path.clone(),
                        source,
                    })?;
                    check_lambda_binary(&bytes, *arch)
                        .map_err(|source| BuildError::NotShippable { path, source })?;
                    Ok(bytes)
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_per_architecture() {
        assert_eq!(
            rust_target(Architecture::X86_64),
            "x86_64-unknown-linux-musl"
        );
        assert_eq!(
            rust_target(Architecture::Arm64),
            "aarch64-unknown-linux-musl"
        );
    }

    #[test]
    fn binaries_are_found_in_their_profile_directory() {
        let target = Path::new("/t");
        assert_eq!(
            binary_path(target, Architecture::Arm64, RELEASE, "photo-api"),
            Path::new("/t/aarch64-unknown-linux-musl/release/photo-api")
        );
        assert_eq!(
            binary_path(target, Architecture::X86_64, "lambda-test", "photo-api"),
            Path::new("/t/x86_64-unknown-linux-musl/lambda-test/photo-api")
        );
        assert_eq!(
            binary_path(target, Architecture::X86_64, "dev", "photo-api"),
            Path::new("/t/x86_64-unknown-linux-musl/debug/photo-api")
        );
    }

    #[test]
    fn installed_list_is_read_line_by_line() {
        let list = "x86_64-unknown-linux-gnu\nwasm32-unknown-unknown\n";
        assert!(is_listed(list, "wasm32-unknown-unknown"));
        assert!(!is_listed(list, "x86_64-unknown-linux-musl"));
        assert!(!is_listed(list, "x86_64-unknown-linux"));
    }

    #[test]
    fn an_installed_target_is_found_in_the_toolchain_without_rustup() {
        let home = tempfile::tempdir().unwrap();
        let toolchain = "stable-x86_64-unknown-linux-gnu";
        let lib = home
            .path()
            .join("toolchains")
            .join(toolchain)
            .join("lib/rustlib/aarch64-unknown-linux-musl/lib");
        std::fs::create_dir_all(&lib).unwrap();
        let found = |target| {
            toolchain_rustlib(
                Some(home.path().as_os_str()),
                Some(std::ffi::OsStr::new(toolchain)),
                target,
            )
            .filter(|dir| dir.is_dir())
        };
        assert_eq!(found("aarch64-unknown-linux-musl"), Some(lib));
        // Not installed: no directory, so rustup is asked (and says so).
        assert_eq!(found("x86_64-unknown-linux-musl"), None);
        // Not under rustup: nothing to look at.
        assert_eq!(
            toolchain_rustlib(None, None, "aarch64-unknown-linux-musl"),
            None
        );
        // A custom toolchain named by its path.
        let custom = home.path().join("toolchains").join(toolchain);
        assert_eq!(
            toolchain_rustlib(None, Some(custom.as_os_str()), "aarch64-unknown-linux-musl"),
            Some(custom.join("lib/rustlib/aarch64-unknown-linux-musl/lib"))
        );
    }

    #[test]
    fn a_missing_target_says_the_exact_command() {
        assert_eq!(
            BuildError::MissingTarget("aarch64-unknown-linux-musl").to_string(),
            "the Rust target `aarch64-unknown-linux-musl` is not installed: run `rustup target add aarch64-unknown-linux-musl` (or `cargo xtask toolchain` for everything the build needs)"
        );
    }

    #[test]
    fn a_missing_c_compiler_says_the_exact_command() {
        let err = BuildError::MissingCCompiler {
            target: rust_target(Architecture::Arm64),
            compiler: c_compiler(Architecture::Arm64),
        };
        assert_eq!(
            err.to_string(),
            "the C compiler `aarch64-linux-gnu-gcc` for `aarch64-unknown-linux-musl` is not installed (ring, under the TLS stack, compiles C): run `apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross` (or `cargo xtask toolchain` for everything the build needs)"
        );
        assert_eq!(
            cc_variable("x86_64-unknown-linux-musl"),
            "CC_x86_64_unknown_linux_musl"
        );
    }

    #[test]
    fn compilers_are_looked_up_on_the_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("musl-gcc"), "").unwrap();
        let path = std::env::join_paths([dir.path()]).unwrap();
        assert!(on_path("musl-gcc", Some(&path)));
        assert!(!on_path("aarch64-linux-gnu-gcc", Some(&path)));
        assert!(!on_path("musl-gcc", None));
    }
}
