//! Installs the test oracles into private virtualenvs under `<target-dir>/oracles/<name>/`.
//!
//! Each tool gets its own virtualenv because their pins conflict (checkov pins an old boto3).
//! A virtualenv is reused when its marker file records the same requirement, so a warm run
//! costs nothing.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::run_checked;

/// One oracle: its virtualenv name and the exact requirement installed into it.
struct Oracle {
    name: &'static str,
    requirement: &'static str,
}

const ORACLES: &[Oracle] = &[
    Oracle {
        name: "moto",
        requirement: "moto[server]==5.2.5",
    },
    Oracle {
        name: "cfn-lint",
        requirement: "cfn-lint==1.58.0",
    },
    Oracle {
        name: "checkov",
        requirement: "checkov==3.3.30",
    },
];

/// Installs every oracle that is missing or out of date.
pub fn install_all(target: &Path) -> Result<()> {
    let root = target.join("oracles");
    fs::create_dir_all(&root).with_context(|| format!("creating `{}`", root.display()))?;
    for oracle in ORACLES {
        install(&root, oracle)
            .with_context(|| format!("installing test oracle `{}`", oracle.name))?;
    }
    Ok(())
}

fn install(root: &Path, oracle: &Oracle) -> Result<()> {
    let venv = root.join(oracle.name);
    let marker = venv.join(".installed");
    if fs::read_to_string(&marker).is_ok_and(|m| m.trim() == oracle.requirement) {
        return Ok(());
    }
    eprintln!(
        "xtask: installing {} into {}",
        oracle.requirement,
        venv.display()
    );
    if venv.exists() {
        fs::remove_dir_all(&venv).with_context(|| format!("removing `{}`", venv.display()))?;
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run_checked(Command::new(&python).args(["-m", "venv"]).arg(&venv))?;
    run_checked(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(oracle.requirement),
    )?;
    fs::write(&marker, oracle.requirement)
        .with_context(|| format!("writing `{}`", marker.display()))?;
    Ok(())
}
