//! Checks that a function binary will run on Lambda: an ELF executable for the stage's
//! architecture that needs no dynamic loader, so it cannot depend on a glibc newer than
//! `provided.al2023`'s (2.34).

use stack::config::Architecture;

/// Why a binary cannot be shipped to Lambda.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    /// Not a 64-bit little-endian ELF file.
    #[error("not a 64-bit little-endian ELF executable")]
    NotElf64,
    /// Built for another instruction set.
    #[error("built for machine `{found:#x}`, but the stage runs on `{expected}`")]
    WrongMachine {
        /// The ELF machine number found.
        found: u16,
        /// The stage's architecture.
        expected: Architecture,
    },
    /// The binary asks for a dynamic loader, so it links against the build host's libc.
    #[error(
        "dynamically linked (needs the loader `{0}`); build for a `-musl` target so it is static"
    )]
    Dynamic(String),
    /// The headers point outside the file.
    #[error("truncated or corrupt ELF headers")]
    Corrupt,
}

const PT_INTERP: u32 = 3;
const EM_X86_64: u16 = 0x3e;
const EM_AARCH64: u16 = 0xb7;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?)).ok()
}

/// Checks that `binary` is a static (or static-pie) ELF executable for `arch`.
pub fn check_lambda_binary(binary: &[u8], arch: Architecture) -> Result<(), ElfError> {
    // e_ident: magic, ELFCLASS64 (2), ELFDATA2LSB (1).
    if binary.get(..6) != Some(b"\x7fELF\x02\x01".as_slice()) {
        return Err(ElfError::NotElf64);
    }
    let machine = u16_at(binary, 18).ok_or(ElfError::Corrupt)?;
    let expected = match arch {
        Architecture::X86_64 => EM_X86_64,
        Architecture::Arm64 => EM_AARCH64,
    };
    if machine != expected {
        return Err(ElfError::WrongMachine {
            found: machine,
            expected: arch,
        });
    }
    let phoff = u64_at(binary, 32).ok_or(ElfError::Corrupt)?;
    let phentsize = usize::from(u16_at(binary, 54).ok_or(ElfError::Corrupt)?);
    let phnum = usize::from(u16_at(binary, 56).ok_or(ElfError::Corrupt)?);
    if phentsize < 56 {
        return Err(ElfError::Corrupt);
    }
    for i in 0..phnum {
        let header = phoff
            .checked_add(i.checked_mul(phentsize).ok_or(ElfError::Corrupt)?)
            .ok_or(ElfError::Corrupt)?;
        let p_type = u32_at(binary, header).ok_or(ElfError::Corrupt)?;
        if p_type == PT_INTERP {
            let offset = u64_at(binary, header + 8).ok_or(ElfError::Corrupt)?;
            let size = u64_at(binary, header + 32).ok_or(ElfError::Corrupt)?;
            let end = offset.checked_add(size).ok_or(ElfError::Corrupt)?;
            let interp = binary.get(offset..end).ok_or(ElfError::Corrupt)?;
            let interp = String::from_utf8_lossy(interp)
                .trim_end_matches('\0')
                .to_owned();
            return Err(ElfError::Dynamic(interp));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_host_binary_is_refused() {
        // The test binary itself is built for the (glibc) host, so it names a loader.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let arch = if cfg!(target_arch = "aarch64") {
            Architecture::Arm64
        } else {
            Architecture::X86_64
        };
        match check_lambda_binary(&me, arch) {
            Err(ElfError::Dynamic(loader)) => assert!(loader.contains("ld-linux"), "{loader}"),
            other => panic!("expected a dynamic binary, got {other:?}"),
        }
    }

    #[test]
    fn wrong_machine_and_garbage_are_refused() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let other = if cfg!(target_arch = "aarch64") {
            Architecture::X86_64
        } else {
            Architecture::Arm64
        };
        assert!(matches!(
            check_lambda_binary(&me, other),
            Err(ElfError::WrongMachine { .. })
        ));
        assert_eq!(
            check_lambda_binary(b"#!/bin/sh\n", Architecture::X86_64),
            Err(ElfError::NotElf64)
        );
        assert_eq!(
            check_lambda_binary(&me[..40], arch_of_host()),
            Err(ElfError::Corrupt)
        );
    }

    #[test]
    fn a_static_binary_is_accepted() {
        // A minimal static ELF: header plus one PT_LOAD program header, no PT_INTERP.
        let mut elf = vec![0u8; 64 + 56];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
        elf[32..40].copy_from_slice(&64u64.to_le_bytes());
        elf[54..56].copy_from_slice(&56u16.to_le_bytes());
        elf[56..58].copy_from_slice(&1u16.to_le_bytes());
        elf[64..68].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        assert_eq!(check_lambda_binary(&elf, Architecture::X86_64), Ok(()));
        elf[64..68].copy_from_slice(&PT_INTERP.to_le_bytes());
        assert!(matches!(
            check_lambda_binary(&elf, Architecture::X86_64),
            Err(ElfError::Dynamic(_))
        ));
        // An interpreter segment pointing past the end of the file is corrupt, not a panic.
        elf[64 + 32..64 + 40].copy_from_slice(&1000u64.to_le_bytes());
        assert_eq!(
            check_lambda_binary(&elf, Architecture::X86_64),
            Err(ElfError::Corrupt)
        );
    }

    fn arch_of_host() -> Architecture {
        if cfg!(target_arch = "aarch64") {
            Architecture::Arm64
        } else {
            Architecture::X86_64
        }
    }
}
