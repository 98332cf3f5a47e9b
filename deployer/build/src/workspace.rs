//! The repository the deployer runs from: where the SPA's and the functions' sources are, and
//! where their builds go.

use std::path::{Path, PathBuf};

/// The workspace the deployer is run from: the nearest ancestor of `start` holding the SPA's
/// crate (the functions' crates sit beside it).
pub fn find_workspace(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(spa_build::APP_DIR).join("Cargo.toml").is_file())
        .map(Path::to_owned)
}

/// Cargo's target directory for `workspace`: `$CARGO_TARGET_DIR`, or `target` inside it.
pub fn target_dir(workspace: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
}
