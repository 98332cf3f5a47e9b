//! The deployer's exit codes: stable, documented in `--help` and `docs/operations.md`.

/// Every way the deployer can end, with its process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Done.
    Success = 0,
    /// A failure with no more specific code.
    Failure = 1,
    /// The command line is wrong (clap's own code).
    Usage = 2,
    /// `deployer.toml` is unreadable or invalid, or names no such stage.
    Config = 3,
}

impl ExitCode {
    /// The process exit code.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// The exit-code table shown at the end of `deployer --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  failure not covered below
  2  invalid command line
  3  invalid deployer.toml, or unknown stage";
