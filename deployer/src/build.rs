//! Builds the function crates for Lambda's `provided.al2023` runtime.
//!
//! The build host's glibc (2.36 here) is newer than AL2023's (2.34), so a binary linked against
//! it could fail to start on Lambda. Building for the `-musl` targets gives static binaries that
//! need no libc at all; [`crate::elf::check_lambda_binary`] proves it for every build.
//! Cross-linking for arm64 uses `rust-lld`, which ships with the toolchain.

use std::path::{Path, PathBuf};
use std::process::Command;

use stack::config::Architecture;

use crate::elf::{ElfError, check_lambda_binary};

/// A function crate and the name the deployer knows it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionSpec {
    /// The short name used in commands and artifact keys (`api`, `thumbnail`).
    pub name: &'static str,
    /// The cargo package that holds its `bootstrap` binary.
    pub package: &'static str,
}

/// Every function the stack deploys.
pub const FUNCTIONS: [FunctionSpec; 2] = [
    FunctionSpec {
        name: "api",
        package: "photo-api",
    },
    FunctionSpec {
        name: "thumbnail",
        package: "photo-thumbnail",
    },
];

/// What can go wrong building a function.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The Rust standard library for the target is not installed.
    #[error("the Rust target `{0}` is not installed: run `rustup target add {0}`")]
    MissingTarget(&'static str),
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
        /// The target triple.
        target: &'static str,
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

/// Whether `target` is in the output of `rustup target list --installed`.
pub fn is_listed(installed: &str, target: &str) -> bool {
    installed.lines().any(|l| l.trim() == target)
}

/// Fails with the exact command to run when the target's standard library is missing.
pub fn ensure_target(target: &'static str) -> Result<(), BuildError> {
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
    function: FunctionSpec,
    arch: Architecture,
) -> Result<Vec<u8>, BuildError> {
    let target = rust_target(arch);
    ensure_target(target)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--release",
            "--locked",
            "--package",
            function.package,
        ])
        .args(["--bin", "bootstrap", "--target", target])
        .arg("--target-dir")
        .arg(target_dir)
        // rust-lld links the self-contained musl objects for either architecture, so no cross
        // toolchain is needed for pure-Rust crates.
        .env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "rust-lld")
        .status()
        .map_err(|source| BuildError::Spawn {
            tool: cargo.clone(),
            source,
        })?;
    if !status.success() {
        return Err(BuildError::Cargo {
            package: function.package.to_owned(),
            target,
        });
    }
    let path = target_dir.join(target).join("release/bootstrap");
    let binary = std::fs::read(&path).map_err(|source| BuildError::Read {
        path: path.clone(),
        source,
    })?;
    check_lambda_binary(&binary, arch)
        .map_err(|source| BuildError::NotShippable { path, source })?;
    Ok(binary)
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
    fn installed_list_is_read_line_by_line() {
        let list = "x86_64-unknown-linux-gnu\nwasm32-unknown-unknown\n";
        assert!(is_listed(list, "wasm32-unknown-unknown"));
        assert!(!is_listed(list, "x86_64-unknown-linux-musl"));
        assert!(!is_listed(list, "x86_64-unknown-linux"));
    }

    #[test]
    fn a_missing_target_says_the_exact_command() {
        assert_eq!(
            BuildError::MissingTarget("aarch64-unknown-linux-musl").to_string(),
            "the Rust target `aarch64-unknown-linux-musl` is not installed: run `rustup target add aarch64-unknown-linux-musl`"
        );
    }
}
