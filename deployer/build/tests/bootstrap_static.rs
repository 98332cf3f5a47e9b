//! The deployer's function build, end to end, on a small crate: for each Lambda architecture it
//! yields a static ELF `bootstrap` that the ELF check accepts.
//!
//! Building the real `photo-api` for x86_64 musl in release from cold takes far longer than a
//! test should: 16.5 minutes wall (400 s of CPU) on a shared 2-core machine, for fat LTO over
//! the AWS SDK and its TLS stack. So this drives the same code path (`build_bootstrap`: musl target,
//! rust-lld for arm64, release, `--locked`, the ELF check) on a crate that builds in seconds.
//! `cargo xtask bench api` and `deployer package` build the real one; so do photo-lambda's
//! `cross` tests, for both architectures, in a quicker profile, and run them (arm64 under qemu).

use std::path::Path;

use deployer_build::function::build_bootstrap;
use stack::config::Architecture;

/// A crate with one binary named after it, as the function crates have, and a lock file, so
/// `--locked` holds.
fn tiny_crate(dir: &Path) {
    std::fs::create_dir_all(dir.join("src/bin")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"tiny-fn\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"tiny-fn\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    // Enough of the standard library (threads, the environment, I/O) that a dynamic libc
    // would show up if the target were wrong.
    std::fs::write(
        dir.join("src/bin/tiny-fn.rs"),
        "fn main() {\n    let api = std::env::var(\"AWS_LAMBDA_RUNTIME_API\").unwrap_or_default();\n    \
         let t = std::thread::spawn(move || api.len());\n    println!(\"{}\", t.join().unwrap());\n}\n",
    )
    .unwrap();
}

const EM_X86_64: u16 = 0x3e;
const EM_AARCH64: u16 = 0xb7;

#[test]
fn bootstraps_are_static_for_both_architectures() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("tiny");
    tiny_crate(&src);
    let target = dir.path().join("target");
    for (arch, machine) in [
        (Architecture::X86_64, EM_X86_64),
        (Architecture::Arm64, EM_AARCH64),
    ] {
        let binary = build_bootstrap(&src, &target, "tiny-fn", "tiny-fn", arch, None)
            .unwrap_or_else(|e| panic!("{arch}: {e}"));
        assert_eq!(u16::from_le_bytes([binary[18], binary[19]]), machine);
    }

    // The host build of the same crate needs glibc's loader and is refused.
    let status = std::process::Command::new(env!("CARGO"))
        .current_dir(&src)
        .args(["build", "--release", "--locked", "--bin", "tiny-fn"])
        .arg("--target-dir")
        .arg(&target)
        .status()
        .unwrap();
    assert!(status.success());
    let host = std::fs::read(target.join("release/tiny-fn")).unwrap();
    let arch = if cfg!(target_arch = "aarch64") {
        Architecture::Arm64
    } else {
        Architecture::X86_64
    };
    let err = deployer_build::elf::check_lambda_binary(&host, arch).unwrap_err();
    assert!(
        matches!(err, deployer_build::elf::ElfError::Dynamic(_)),
        "{err}"
    );
}
