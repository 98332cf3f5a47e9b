//! `cargo xtask toolchain`: installs what building the functions for Lambda needs beyond cargo:
//! the two musl Rust targets, and the C compilers `ring` (the TLS stack's crypto) needs for them (`musl-gcc` from
//! `musl-tools` for x86_64; for arm64 `aarch64-linux-gnu-gcc` from `gcc-aarch64-linux-gnu`, with
//! its libc headers from `libc6-dev-arm64-cross`, which apt leaves out as a mere recommendation).
//!
//! `deployer` names the same commands when something is missing; keep the two lists in step
//! (`deployer/build/src/function.rs`).

use std::process::Command;

use anyhow::Result;

use crate::run_checked;

/// The Rust targets of Lambda's two architectures.
pub const RUST_TARGETS: [&str; 2] = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"];

/// `(program or file, Debian package)` of the C compilers and headers the targets need.
pub const C_COMPILERS: [(&str, &str); 3] = [
    ("musl-gcc", "musl-tools"),
    ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
    (
        "/usr/aarch64-linux-gnu/include/bits/libc-header-start.h",
        "libc6-dev-arm64-cross",
    ),
];

/// Adds the musl Rust targets (rustup does nothing for one already installed).
pub fn rust_targets() -> Result<()> {
    run_checked(
        Command::new("rustup")
            .arg("target")
            .arg("add")
            .args(RUST_TARGETS),
    )
}

/// Installs everything: the Rust targets and the C compilers.
pub fn install() -> Result<()> {
    rust_targets()?;
    crate::apt::ensure(&C_COMPILERS)?;
    println!(
        "toolchain ready: {} with {}",
        RUST_TARGETS.join(", "),
        C_COMPILERS[..2]
            .iter()
            .map(|(bin, _)| *bin)
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
