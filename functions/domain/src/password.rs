//! Share-link passwords: argon2id hashes, never the password itself.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};
use crate::model::PasswordHash;

/// How expensive new hashes are. Verification reads the cost from the stored hash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PasswordCost {
    /// argon2id with the OWASP minimum: 19 MiB, 2 passes, 1 lane.
    #[default]
    Standard,
    /// 8 KiB, 1 pass: for tests, where the standard cost dominates run time in debug builds.
    Minimal,
}

/// A share-link password, 4 to 128 characters; its `Debug` output hides it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(s: &str) -> Result<Self> {
        let n = s.chars().count();
        if !(4..=128).contains(&n) {
            return Err(Error::invalid("password", "expected 4 to 128 characters"));
        }
        Ok(Password(s.to_owned()))
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

fn argon2(cost: PasswordCost) -> Result<Argon2<'static>> {
    let params = match cost {
        PasswordCost::Standard => Params::default(),
        PasswordCost::Minimal => {
            Params::new(8, 1, 1, None).map_err(|e| Error::Backend(e.to_string()))?
        }
    };
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash(password: &Password, cost: PasswordCost) -> Result<PasswordHash> {
    let salt = SaltString::generate(&mut OsRng);
    let phc = argon2(cost)?
        .hash_password(password.0.as_bytes(), &salt)
        .map_err(|e| Error::Backend(format!("hashing a password: {e}")))?;
    Ok(PasswordHash(phc.to_string()))
}

/// True if `candidate` matches; a stored hash that does not parse matches nothing.
pub fn verify(stored: &PasswordHash, candidate: &str) -> bool {
    let Ok(parsed) = argon2::password_hash::PasswordHash::new(&stored.0) else {
        return false;
    };
    Argon2::default()
        .verify_password(candidate.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_the_right_password() {
        for cost in [PasswordCost::Minimal, PasswordCost::Standard] {
            let h = hash(&Password::parse("correct horse").unwrap(), cost).unwrap();
            assert!(h.as_str().starts_with("$argon2id$"));
            assert!(!h.as_str().contains("correct horse"));
            assert!(verify(&h, "correct horse"));
            assert!(!verify(&h, "correct horsE"));
        }
        assert!(!verify(&PasswordHash::from_stored("garbage".into()), "x"));
    }

    #[test]
    fn passwords_have_bounds_and_hide_in_debug() {
        assert!(Password::parse("abc").is_err());
        assert!(Password::parse(&"a".repeat(129)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret").unwrap()),
            "Password(..)"
        );
    }
}
