//! Installs the Debian packages a developer task needs, when their tools are missing.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

/// Installs, with apt-get, the package of each `(tool, package)` pair whose tool is not found.
pub fn ensure(tools: &[(&str, &str)]) -> Result<()> {
    let mut missing: Vec<&str> = tools
        .iter()
        .filter(|(bin, _)| !found(bin))
        .map(|(_, package)| *package)
        .collect();
    // One package may bring several of the tools.
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("installing {} with apt-get", missing.join(", "));
    crate::run_checked(Command::new("apt-get").args(["update", "-qq"]))?;
    crate::run_checked(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .with_context(|| format!("installing {} (needs root)", missing.join(", ")))
}

/// Whether `bin` is an existing path, or a program on `PATH`.
pub fn found(bin: &str) -> bool {
    if bin.contains('/') {
        return Path::new(bin).is_file();
    }
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(bin).is_file()))
        .unwrap_or(false)
}
