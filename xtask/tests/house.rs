//! The house rules, checked on the repository itself: it is self-contained, no source file grows
//! into a god file, the Lambda `main`s stay thin, and the local stage and the browser tests never
//! compile the AWS SDK. See ARCHITECTURE.md, "Architecture invariants".

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The longest a non-test source file may be, counting the lines before its `#[cfg(test)]`.
const MAX_SOURCE_LINES: usize = 700;
/// The longest a Lambda function's `main` file may be.
const MAX_MAIN_LINES: usize = 60;

fn root() -> PathBuf {
    testkit::workspace_root()
}

/// The repository's files as git sees them: tracked, plus new ones it does not ignore, so a
/// file not yet added is checked too.
fn repository_files() -> Vec<PathBuf> {
    let out = Command::new("git")
        .current_dir(root())
        .args([
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "-z",
        ])
        .output()
        .expect("running `git ls-files` (the house checks need git)");
    assert!(
        out.status.success(),
        "git ls-files: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        .filter(|p| root().join(p).is_file())
        .collect()
}

/// Whether `path` is test code: anything under a `tests` directory.
fn is_test_file(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "tests")
}

/// The lines of `text` before its first `#[cfg(test)]` line (all of them when there is none).
fn lines_before_tests(text: &str) -> usize {
    text.lines()
        .position(|line| line.trim_start().starts_with("#[cfg(test)]"))
        .unwrap_or_else(|| text.lines().count())
}

#[test]
fn no_file_reaches_outside_the_repository() {
    // Spelled in two pieces so that this file does not match itself.
    let needle = format!("{}/{}", "..", "shared");
    let offenders: Vec<String> = repository_files()
        .into_iter()
        .filter(|path| {
            let bytes = std::fs::read(root().join(path)).unwrap_or_default();
            bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "these files mention `{needle}`, which a fresh clone does not have: {offenders:?}"
    );
}

#[test]
fn no_source_file_passes_the_line_limit_before_its_tests() {
    let mut checked = 0;
    let mut offenders = Vec::new();
    for path in repository_files() {
        if path.extension().is_none_or(|e| e != "rs") || is_test_file(&path) {
            continue;
        }
        let text = std::fs::read_to_string(root().join(&path)).unwrap();
        checked += 1;
        let lines = lines_before_tests(&text);
        if lines > MAX_SOURCE_LINES {
            offenders.push(format!("{} ({lines} lines)", path.display()));
        }
    }
    assert!(checked > 50, "only {checked} source files found");
    assert!(
        offenders.is_empty(),
        "split these by concern, at most {MAX_SOURCE_LINES} lines before their tests: {offenders:?}"
    );
}

#[test]
fn the_lambda_mains_stay_thin() {
    let dir = root().join("functions/lambda/src/bin");
    let mains: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(mains.len(), 2, "{mains:?}");
    for main in mains {
        let lines = std::fs::read_to_string(&main).unwrap().lines().count();
        assert!(
            lines <= MAX_MAIN_LINES,
            "`{}` has {lines} lines: start-up belongs in `photo_lambda::startup`",
            main.display()
        );
    }
}

/// The packages `package` compiles for its tests on this machine: its normal and
/// dev-dependencies, then their normal ones, transitively, with the features `cargo test -p
/// package` resolves (`cargo tree` shows dev-dependencies of the named package only).
fn compiled_by(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args(["tree", "--locked", "-p", package, "-e", "normal,dev"])
        .args(["--prefix", "none", "--format", "{p}"])
        .output()
        .expect("running `cargo tree`");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_local_stage_and_the_browser_tests_compile_no_aws_sdk() {
    let is_sdk = |name: &String| name.starts_with("aws-sdk-") || name == "aws-config";
    // The walk sees the SDK where it is: the deployer's AWS engine.
    assert!(compiled_by("deployer-aws").iter().any(is_sdk));
    for package in ["local-stage", "web-e2e"] {
        let sdk: Vec<String> = compiled_by(package).into_iter().filter(is_sdk).collect();
        assert!(
            sdk.is_empty(),
            "`{package}` compiles the AWS SDK ({sdk:?}): the local stage must run without it"
        );
    }
}

#[test]
fn lines_are_counted_up_to_the_tests() {
    assert_eq!(lines_before_tests("a\nb\n#[cfg(test)]\nmod tests {}\n"), 2);
    assert_eq!(lines_before_tests("a\nb\n"), 2);
    assert!(is_test_file(Path::new("functions/api/tests/acceptance.rs")));
    assert!(!is_test_file(Path::new("functions/api/src/lib.rs")));
}
