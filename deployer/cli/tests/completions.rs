//! `deployer completions SHELL`: the scripts load in their shell and know the commands.

use std::path::Path;
use std::process::Command;

fn deployer_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_deployer"))
}

fn completions(shell: &str) -> String {
    let out = Command::new(deployer_bin())
        .args(["completions", shell])
        .output()
        .expect("running deployer completions");
    assert!(
        out.status.success(),
        "deployer completions {shell} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the script is UTF-8")
}

/// The check, as an operator types it: the script sourced in bash registers a
/// completion for `deployer`.
#[test]
fn bash_completion_registers_for_deployer() {
    let dir = deployer_bin().parent().expect("the binary's directory");
    let path = match std::env::var_os("PATH") {
        Some(path) => {
            let mut dirs = vec![dir.to_path_buf()];
            dirs.extend(std::env::split_paths(&path));
            std::env::join_paths(dirs).expect("joining PATH")
        }
        None => dir.as_os_str().to_owned(),
    };
    let out = Command::new("bash")
        .args([
            "-c",
            "source <(deployer completions bash); complete -p deployer",
        ])
        .env("PATH", path)
        .output()
        .expect("running bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "no completion registered: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("complete ") && stdout.trim_end().ends_with(" deployer"),
        "unexpected `complete -p` output: {stdout}"
    );
}

/// Bash completes the subcommands and a subcommand's flags from the script.
#[test]
fn bash_completion_offers_commands_and_flags() {
    let script = completions("bash");
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("deployer.bash");
    std::fs::write(&file, script).expect("writing the script");
    let words = |line: &str| {
        let program = format!(
            "source '{}'; COMP_WORDS=({line}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); \
             COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; _deployer deployer; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            file.display()
        );
        let out = Command::new("bash")
            .args(["-c", &program])
            .output()
            .expect("running bash");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let commands = words("deployer ''");
    for command in ["up", "diff", "status", "completions"] {
        assert!(
            commands.iter().any(|c| c == command),
            "`{command}` missing from {commands:?}"
        );
    }
    let flags = words("deployer up --");
    assert!(
        flags.iter().any(|f| f == "--stage"),
        "`--stage` missing from {flags:?}"
    );
}

/// Every shell the issue names gets a script naming the program and its commands; an unknown
/// shell is a usage error.
#[test]
fn every_supported_shell_has_a_script() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = completions(shell);
        assert!(script.contains("deployer"), "{shell}: {script}");
        assert!(script.contains("completions"), "{shell}: {script}");
    }
    let out = Command::new(deployer_bin())
        .args(["completions", "tcsh"])
        .output()
        .expect("running deployer completions");
    assert_eq!(out.status.code(), Some(2), "a usage error");
}
