//! The synthesized templates pass cfn-lint and checkov (the oracles from `cargo xtask oracles`).

use crate::common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Writes the stage's template into `dir` and returns its path.
fn write_template(dir: &Path, stage: &str, config: &stack::StageConfig) -> std::path::PathBuf {
    let path = dir.join(format!("{stage}.json"));
    std::fs::write(&path, common::synth(config)).unwrap();
    path
}

#[test]
fn cfn_lint_finds_nothing_not_even_informational() {
    let cfn_lint = testkit::oracle_bin("cfn-lint", "cfn-lint");
    let dir = tempfile::tempdir().unwrap();
    for (stage, config) in common::stages() {
        // Both forms: the YAML must survive CloudFormation's YAML reading too.
        let json = write_template(dir.path(), stage, &config);
        let yaml = dir.path().join(format!("{stage}.yaml"));
        let template = stack::app::photo_app(&config).unwrap();
        std::fs::write(&yaml, template.to_yaml()).unwrap();
        for path in [json, yaml] {
            let out = Command::new(&cfn_lint)
                // Informational findings (stateful resources without an explicit deletion
                // policy, say) fail too.
                .args([
                    "--include-checks",
                    "I",
                    "--non-zero-exit-code",
                    "informational",
                    "--",
                ])
                .arg(&path)
                .output()
                .expect("running cfn-lint");
            assert!(
                out.status.success(),
                "cfn-lint on `{}` exited with {}:\n{}{}",
                path.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn checkov_finds_no_failed_checks() {
    let checkov = testkit::oracle_bin("checkov", "checkov");
    let dir = tempfile::tempdir().unwrap();
    for (stage, config) in common::stages() {
        let path = write_template(dir.path(), stage, &config);
        let out = Command::new(&checkov)
            .args([
                "--framework",
                "cloudformation",
                "--skip-download",
                "--quiet",
                "-o",
                "json",
            ])
            .arg("-f")
            .arg(&path)
            .env("BC_SKIP_MAPPING", "TRUE")
            .env("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
            .output()
            .expect("running checkov");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "checkov on `{stage}` printed no JSON report ({e}):\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let summary = &report["summary"];
        let failed: Vec<String> = report["results"]["failed_checks"]
            .as_array()
            .map(|checks| {
                checks
                    .iter()
                    .map(|c| {
                        format!(
                            "{} on {}: {}",
                            c["check_id"], c["resource"], c["check_name"]
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            summary["failed"],
            0,
            "checkov failures on `{stage}`:\n{}",
            failed.join("\n")
        );
        // Guards against a vacuous pass (checkov parsing nothing).
        assert!(
            summary["passed"].as_u64().unwrap_or(0) > 50,
            "{stage}: {summary}"
        );
        assert_eq!(summary["parsing_errors"], 0, "{stage}: {summary}");
        // Every skip in the template is used: a skip for a check that passes anyway (or does
        // not exist) is noise that hides what really is waived.
        let declared = declared_skips(&common::synth(&config));
        assert_eq!(
            summary["skipped"].as_u64(),
            Some(declared),
            "{stage}: the template declares {declared} checkov skips but checkov used {}",
            summary["skipped"]
        );
    }
}

/// How many `Metadata.checkov.skip` entries the template declares.
fn declared_skips(template: &str) -> u64 {
    let v: Value = serde_json::from_str(template).unwrap();
    v["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|r| r["Metadata"]["checkov"]["skip"].as_array())
        .map(|skips| {
            for skip in skips {
                let comment = skip["comment"].as_str().unwrap_or_default();
                assert!(comment.len() > 20, "a skip without a reason: {skip}");
            }
            skips.len() as u64
        })
        .sum()
}
