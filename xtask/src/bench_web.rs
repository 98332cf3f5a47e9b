//! `cargo xtask bench web`: the SPA's first-load transfer and, with 1,000 photos in the
//! account, how soon the first screen of thumbnails is visible in headless Chromium on a local
//! stage. The measuring lives in the `web-e2e` crate's `bench-web` binary, next to the browser
//! harness it shares with the end-to-end tests; this task installs Chromium and runs it.

use std::process::Command;

use anyhow::{Result, bail};

use crate::{cargo, run_checked, workspace_root};

/// `[--photos N] [--runs N]`, passed on to `bench-web`.
pub fn run(args: &[String]) -> Result<()> {
    if !args.len().is_multiple_of(2)
        || args
            .chunks(2)
            .any(|p| !matches!(p[0].as_str(), "--photos" | "--runs"))
    {
        bail!("usage: cargo xtask bench web [--photos N] [--runs N]");
    }
    crate::apt::ensure(&[
        ("chromium", "chromium"),
        ("chromedriver", "chromium-driver"),
    ])?;
    // The dev profile, as `cargo run -p deployer -- up --stage local` runs the stage; the SPA
    // itself is always built in its size-optimised release profile.
    run_checked(
        Command::new(cargo())
            .current_dir(workspace_root())
            .args([
                "run",
                "--quiet",
                "-p",
                "web-e2e",
                "--bin",
                "bench-web",
                "--",
            ])
            .args(args),
    )
}
