//! Share-link passwords: argon2id hashes, never the password itself.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use std::sync::LazyLock;

use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::model::{PasswordHash, Share, ShareAttempts};
use crate::ports::Repository;
use crate::types::Timestamp;

/// How expensive new hashes are. Verification reads the cost from the stored hash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PasswordCost {
    /// argon2id with the OWASP minimum: 19 MiB, 2 passes, 1 lane.
    #[default]
    Standard,
    /// 8 KiB, 1 pass: for tests, where the standard cost dominates run time in debug builds.
    Minimal,
}

/// The fewest characters a new share-link password may have.
pub const MIN_CHARS: usize = 8;
/// The most characters a share-link password may have.
pub const MAX_CHARS: usize = 128;

/// A share-link password, 8 to 128 characters; its `Debug` output hides it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(s: &str) -> Result<Self> {
        let n = s.chars().count();
        if !(MIN_CHARS..=MAX_CHARS).contains(&n) {
            return Err(Error::invalid(
                "password",
                format!("expected {MIN_CHARS} to {MAX_CHARS} characters, got {n}"),
            ));
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

/// Hashes running at once in this process: one per core. Each takes a core and 19 MiB for tens
/// of milliseconds, so guesses beyond that wait their turn instead of taking every thread.
static HASHING: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(1, usize::from)));

/// Runs `work` on the blocking pool once a hashing permit is free: never on the threads that
/// answer requests.
async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| Error::Backend(format!("password hashing: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Backend(format!("password hashing: {e}")))
}

/// [`hash`] on the blocking pool, within the bound on hashes at once.
pub async fn hash_off_thread(password: Password, cost: PasswordCost) -> Result<PasswordHash> {
    off_thread(move || hash(&password, cost)).await?
}

/// [`verify`] on the blocking pool, within the bound on hashes at once.
pub async fn verify_off_thread(stored: PasswordHash, candidate: String) -> Result<bool> {
    off_thread(move || verify(&stored, &candidate)).await
}

/// Counts one password attempt on `share` before the password is checked, and returns the
/// count. While the link hears no attempts, [`Error::TooManyAttempts`] says for how long,
/// and nothing is hashed. The count is a conditional write on the count read, so attempts
/// made together are each counted: one that loses the race reads again (a few times, then is
/// refused for a second).
pub(crate) async fn count_attempt(
    repo: &dyn Repository,
    share: &Share,
    now: Timestamp,
) -> Result<ShareAttempts> {
    let mut seen = share.attempts;
    for _ in 0..4 {
        if let Some(retry_after_secs) = seen.retry_after(now) {
            return Err(Error::TooManyAttempts { retry_after_secs });
        }
        let next = seen.after_one_more(now);
        match repo
            .set_share_attempts(&share.token, seen.failed, next)
            .await
        {
            Ok(()) => return Ok(next),
            Err(Error::Conflict(_)) => {
                seen = repo
                    .get_share(&share.token)
                    .await?
                    .ok_or(Error::NotFound)?
                    .attempts;
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::TooManyAttempts {
        retry_after_secs: 1,
    })
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
        let refusal = |p: &str| match Password::parse(p) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("`{p}` accepted"),
        };
        assert_eq!(
            refusal("1234567"),
            "invalid `password`: expected 8 to 128 characters, got 7"
        );
        assert!(refusal(&"a".repeat(129)).contains("got 129"));
        assert!(Password::parse("12345678").is_ok());
        // Characters, not bytes: eight accented letters are sixteen bytes, and enough.
        assert!(Password::parse("éééééééé").is_ok());
        assert!(Password::parse("ééééééé").is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret words").unwrap()),
            "Password(..)"
        );
    }
}
