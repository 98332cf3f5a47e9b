//! The local user pool: accounts, one-time codes and refresh tokens in SQLite, with Cognito's rules.
//!
//! Passwords are stored as argon2id hashes (photo-domain's hashing), refresh tokens as SHA-256
//! digests, so the database file holds no credential that works as is. Every refusal is a
//! [`UserError`] carrying the Cognito exception name the browser's client already understands.

use std::sync::{Arc, Mutex, MutexGuard};

use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use photo_domain::password::{self, Password};
use photo_domain::{PasswordCost, PasswordHash};
use rusqlite::{Connection, OptionalExtension as _, params};
use sha2::{Digest as _, Sha256};
use thiserror::Error;

mod hashing;
mod rules;

pub use hashing::HashWork;
pub use rules::canonical_username;
use rules::{check_password, check_username, is_email};

/// How long a mailed code works: Cognito's 24 hours for sign-up, one hour for a reset.
const CONFIRM_CODE_SECS: i64 = 24 * 3600;
const RESET_CODE_SECS: i64 = 3600;
/// Wrong tries a mailed code takes: the fifth wrong one invalidates it (a new one must be asked
/// for).
pub const MAX_CODE_ATTEMPTS: i64 = 5;
/// Failed sign-ins in a row before the user is locked out, as Cognito: from the fifth, each
/// failure locks the account for the base lockout (Cognito's 1 s) doubled per further failure,
/// up to 15 minutes; a success clears the count.
pub const FREE_SIGN_IN_FAILURES: i64 = 5;
pub const MAX_LOCKOUT_SECS: i64 = 15 * 60;
/// Cognito's first lockout.
pub const DEFAULT_LOCKOUT_SECS: i64 = 1;
/// Unknown usernames whose failures are remembered (in memory), so that they lock out and
/// their codes run out as a real user's do; the memory is emptied when full.
const MAX_PHANTOMS: usize = 10_000;
/// Cognito's default refresh-token lifetime: 30 days.
pub const REFRESH_TOKEN_SECS: i64 = 30 * 24 * 3600;

/// A refusal, named as Cognito names it.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum UserError {
    #[error("User already exists")]
    UsernameExists,
    #[error("{0}")]
    InvalidPassword(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("User does not exist.")]
    UserNotFound,
    #[error("Invalid verification code provided, please try again.")]
    CodeMismatch,
    #[error("Invalid code provided, please request a code again.")]
    ExpiredCode,
    #[error("{0}")]
    NotAuthorized(String),
    #[error("User is not confirmed.")]
    UserNotConfirmed,
    #[error("Password attempts exceeded")]
    AttemptsExceeded,
    #[error("local user pool storage: {0}")]
    Storage(String),
}

impl UserError {
    /// The `__type` of Cognito's JSON error body.
    pub fn cognito_type(&self) -> &'static str {
        match self {
            UserError::UsernameExists => "UsernameExistsException",
            UserError::InvalidPassword(_) => "InvalidPasswordException",
            UserError::InvalidParameter(_) => "InvalidParameterException",
            UserError::UserNotFound => "UserNotFoundException",
            UserError::CodeMismatch => "CodeMismatchException",
            UserError::ExpiredCode => "ExpiredCodeException",
            UserError::NotAuthorized(_) => "NotAuthorizedException",
            UserError::UserNotConfirmed => "UserNotConfirmedException",
            UserError::AttemptsExceeded => "NotAuthorizedException",
            UserError::Storage(_) => "InternalErrorException",
        }
    }
}

impl From<rusqlite::Error> for UserError {
    fn from(e: rusqlite::Error) -> Self {
        UserError::Storage(e.to_string())
    }
}

/// What a one-time code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    ConfirmSignUp,
    ResetPassword,
}

impl CodePurpose {
    fn as_str(self) -> &'static str {
        match self {
            CodePurpose::ConfirmSignUp => "confirm",
            CodePurpose::ResetPassword => "reset",
        }
    }
    fn lifetime_secs(self) -> i64 {
        match self {
            CodePurpose::ConfirmSignUp => CONFIRM_CODE_SECS,
            CodePurpose::ResetPassword => RESET_CODE_SECS,
        }
    }
}

/// A code to mail to a user: the caller delivers it (the local stage writes it to its outbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub username: String,
    pub email: String,
    pub purpose: CodePurpose,
    pub code: String,
}

/// What a code request answers: where the code went (masked by the caller), and the mail to
/// send, none for an unknown user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub destination: String,
    pub mail: Option<Mail>,
}

impl Delivery {
    fn mail(mail: Mail) -> Delivery {
        Delivery {
            destination: mail.email.clone(),
            mail: Some(mail),
        }
    }

    /// For an unknown user: the address their username is, as a known user's would show.
    fn nowhere(username: &str) -> Delivery {
        Delivery {
            destination: username.to_owned(),
            mail: None,
        }
    }
}

/// A signed-in user, for the token issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub username: String,
    pub sub: String,
    pub email: String,
}

fn random_u64() -> u64 {
    OsRng.next_u64()
}

fn new_code() -> String {
    format!("{:06}", random_u64() % 1_000_000)
}

/// A random UUID v4, the shape of Cognito's `sub`.
fn new_sub() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// What the database keeps of a mailed code: a SHA-256 of it with its user and purpose.
fn code_digest(username: &str, purpose: CodePurpose, code: &str) -> String {
    digest(&format!("{}\n{username}\n{code}", purpose.as_str()))
}

fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What is remembered of an unknown username: its wrong code tries and failed sign-ins, counted
/// as a real user's are, so the answers run out and lock out alike.
#[derive(Debug, Default, Clone, Copy)]
struct Phantom {
    code_tries: [i64; 2],
    failures: i64,
    locked_until: i64,
}

/// The lockout after `failures` failed sign-ins in a row: none before the fifth.
fn lockout_secs(base: i64, failures: i64) -> i64 {
    if failures < FREE_SIGN_IN_FAILURES {
        return 0;
    }
    let doublings = (failures - FREE_SIGN_IN_FAILURES).min(20) as u32;
    base.saturating_mul(1 << doublings)
        .min(MAX_LOCKOUT_SECS.max(base))
}

/// The user pool's tables.
#[derive(Debug)]
pub struct UserPool {
    conn: Mutex<Connection>,
    cost: PasswordCost,
    work: Arc<HashWork>,
    /// A hash of no one's password: an unknown user's sign-in is checked against it, so it costs
    /// the one hash a wrong password costs.
    decoy: PasswordHash,
    phantoms: Mutex<std::collections::HashMap<String, Phantom>>,
    lockout_base_secs: i64,
}

impl UserPool {
    /// Opens the pool's tables in `conn`, creating them when missing; its hashing runs within
    /// `work`.
    pub fn open(
        mut conn: Connection,
        cost: PasswordCost,
        work: Arc<HashWork>,
    ) -> Result<Self, UserError> {
        crate::store::schema::migrate(&mut conn)?;
        let decoy = password::hash(
            &Password::parse(&new_sub()).map_err(|e| UserError::Storage(e.to_string()))?,
            cost,
        )
        .map_err(|e| UserError::Storage(e.to_string()))?;
        Ok(UserPool {
            conn: Mutex::new(conn),
            cost,
            work,
            decoy,
            phantoms: Mutex::default(),
            lockout_base_secs: DEFAULT_LOCKOUT_SECS,
        })
    }

    /// The first lockout after failed sign-ins (Cognito's 1 s by default; tests lengthen it).
    pub fn with_lockout(mut self, base_secs: i64) -> Self {
        self.lockout_base_secs = base_secs.max(1);
        self
    }

    /// Updates what is remembered of the unknown `username`.
    fn phantom<T>(&self, username: &str, f: impl FnOnce(&mut Phantom) -> T) -> T {
        let mut phantoms = self.phantoms.lock().unwrap_or_else(|e| e.into_inner());
        if phantoms.len() >= MAX_PHANTOMS && !phantoms.contains_key(username) {
            phantoms.clear();
        }
        f(phantoms.entry(username.to_owned()).or_default())
    }

    /// A code offered for an unknown user: wrong, as a real user's wrong code, until it would
    /// have run out.
    fn phantom_code(&self, username: &str, purpose: CodePurpose) -> UserError {
        self.phantom(username, |p| {
            let tries = &mut p.code_tries[purpose as usize];
            if *tries >= MAX_CODE_ATTEMPTS {
                UserError::ExpiredCode
            } else {
                *tries += 1;
                UserError::CodeMismatch
            }
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn hash(&self, password: &Password) -> Result<PasswordHash, UserError> {
        self.work
            .run(|| password::hash(password, self.cost))
            .map_err(|e| UserError::Storage(e.to_string()))
    }

    fn verify(&self, hash: &PasswordHash, password: &str) -> bool {
        self.work.run(|| password::verify(hash, password))
    }

    fn issue_code(
        conn: &Connection,
        username: &str,
        email: &str,
        purpose: CodePurpose,
        now: i64,
    ) -> Result<Mail, UserError> {
        let code = new_code();
        conn.execute(
            "INSERT OR REPLACE INTO codes (username, purpose, digest, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                username,
                purpose.as_str(),
                code_digest(username, purpose, &code),
                now + purpose.lifetime_secs()
            ],
        )?;
        Ok(Mail {
            username: username.to_owned(),
            email: email.to_owned(),
            purpose,
            code,
        })
    }

    /// Checks a code, and consumes it when `consume`; a wrong code counts one try, and the
    /// fifth wrong try invalidates it. The caller commits even when this refuses, so the try
    /// counts.
    fn take_code(
        conn: &Connection,
        username: &str,
        purpose: CodePurpose,
        code: &str,
        now: i64,
        consume: bool,
    ) -> Result<(), UserError> {
        let stored: Option<(String, i64, i64)> = conn
            .query_row(
                "SELECT digest, expires_at, attempts FROM codes WHERE username = ?1 AND purpose = ?2",
                params![username, purpose.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((stored, expires_at, attempts)) = stored else {
            return Err(UserError::ExpiredCode);
        };
        if now >= expires_at {
            return Err(UserError::ExpiredCode);
        }
        let offered = code_digest(username, purpose, code);
        let same: bool = stored.len() == offered.len()
            && stored
                .bytes()
                .zip(offered.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            if attempts + 1 >= MAX_CODE_ATTEMPTS {
                conn.execute(
                    "DELETE FROM codes WHERE username = ?1 AND purpose = ?2",
                    params![username, purpose.as_str()],
                )?;
            } else {
                conn.execute(
                    "UPDATE codes SET attempts = attempts + 1 WHERE username = ?1 AND purpose = ?2",
                    params![username, purpose.as_str()],
                )?;
            }
            return Err(UserError::CodeMismatch);
        }
        if consume {
            conn.execute(
                "DELETE FROM codes WHERE username = ?1 AND purpose = ?2",
                params![username, purpose.as_str()],
            )?;
        }
        Ok(())
    }

    /// `take_code` in its own transaction, committed whatever it answers.
    fn try_code<'c>(
        tx: rusqlite::Transaction<'c>,
        username: &str,
        purpose: CodePurpose,
        code: &str,
        now: i64,
        consume: bool,
    ) -> Result<rusqlite::Transaction<'c>, UserError> {
        match Self::take_code(&tx, username, purpose, code, now, consume) {
            Ok(()) => Ok(tx),
            Err(e) => {
                tx.commit()?;
                Err(e)
            }
        }
    }

    /// The failed sign-ins in a row and the end of the lockout, of a known user.
    fn lock_state(conn: &Connection, username: &str) -> Result<(i64, i64), UserError> {
        Ok(conn.query_row(
            "SELECT failed_sign_ins, locked_until FROM users WHERE username = ?1",
            params![username],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    fn user(conn: &Connection, username: &str) -> Result<Option<(User, String, bool)>, UserError> {
        Ok(conn
            .query_row(
                "SELECT username, sub, email, password_hash, confirmed FROM users WHERE username = ?1",
                params![username],
                |r| {
                    Ok((
                        User {
                            username: r.get(0)?,
                            sub: r.get(1)?,
                            email: r.get(2)?,
                        },
                        r.get(3)?,
                        r.get::<_, i64>(4)? != 0,
                    ))
                },
            )
            .optional()?)
    }

    /// `SignUp`: a new unconfirmed user, and the confirmation code to mail.
    pub fn sign_up(
        &self,
        username: &str,
        password: &str,
        email: &str,
        now: i64,
    ) -> Result<(User, Mail), UserError> {
        check_username(username)?;
        let username = &canonical_username(username);
        let password = check_password(password)?;
        if !is_email(email) {
            return Err(UserError::InvalidParameter(
                "Invalid email address format.".into(),
            ));
        }
        let hash = self.hash(&password)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if Self::user(&tx, username)?.is_some() {
            return Err(UserError::UsernameExists);
        }
        let user = User {
            username: username.to_owned(),
            sub: new_sub(),
            email: email.to_owned(),
        };
        tx.execute(
            "INSERT INTO users (username, sub, email, password_hash, confirmed, created_at) VALUES (?1, ?2, ?3, ?4, 0, ?5)",
            params![user.username, user.sub, user.email, hash.as_str(), now],
        )?;
        let mail = Self::issue_code(&tx, username, email, CodePurpose::ConfirmSignUp, now)?;
        tx.commit()?;
        Ok((user, mail))
    }

    /// `ConfirmSignUp`.
    pub fn confirm_sign_up(&self, username: &str, code: &str, now: i64) -> Result<(), UserError> {
        let username = &canonical_username(username);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        // As Cognito with PreventUserExistenceErrors: an unknown user's code is just wrong.
        let Some((_, _, confirmed)) = Self::user(&tx, username)? else {
            return Err(self.phantom_code(username, CodePurpose::ConfirmSignUp));
        };
        if confirmed {
            return Err(UserError::NotAuthorized(
                "User cannot be confirmed. Current status is CONFIRMED".into(),
            ));
        }
        let tx = Self::try_code(tx, username, CodePurpose::ConfirmSignUp, code, now, true)?;
        tx.execute(
            "UPDATE users SET confirmed = 1 WHERE username = ?1",
            params![username],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// `ResendConfirmationCode`: a new code replaces the old one. An unknown user is answered as
    /// a known one (the delivery, masked), and nothing is sent.
    pub fn resend_confirmation_code(
        &self,
        username: &str,
        now: i64,
    ) -> Result<Delivery, UserError> {
        let username = &canonical_username(username);
        let conn = self.conn();
        let Some((user, _, confirmed)) = Self::user(&conn, username)? else {
            return Ok(Delivery::nowhere(username));
        };
        if confirmed {
            return Err(UserError::InvalidParameter(
                "User is already confirmed.".into(),
            ));
        }
        Self::issue_code(
            &conn,
            username,
            &user.email,
            CodePurpose::ConfirmSignUp,
            now,
        )
        .map(Delivery::mail)
    }

    /// `InitiateAuth` with `USER_PASSWORD_AUTH`: the user, and a new refresh token for them.
    /// A wrong password and an unknown user get the same answer, so names cannot be probed.
    pub fn sign_in(
        &self,
        username: &str,
        password: &str,
        now: i64,
    ) -> Result<(User, String), UserError> {
        let wrong = || UserError::NotAuthorized("Incorrect username or password.".into());
        let username = &canonical_username(username);
        // The row is read, then the lock let go: other calls must not wait for a hash.
        let found = Self::user(&self.conn(), username)?;
        let base = self.lockout_base_secs;
        let Some((user, hash, confirmed)) = found else {
            if self.phantom(username, |p| now < p.locked_until) {
                return Err(UserError::AttemptsExceeded);
            }
            // The same one hash a wrong password costs.
            self.verify(&self.decoy, password);
            self.phantom(username, |p| {
                p.failures += 1;
                p.locked_until = now + lockout_secs(base, p.failures);
            });
            return Err(wrong());
        };
        let (failures, locked_until) = Self::lock_state(&self.conn(), username)?;
        if now < locked_until {
            return Err(UserError::AttemptsExceeded);
        }
        if !self.verify(&PasswordHash::from_stored(hash), password) {
            // Read and written under one hold of the connection: failures that finish together
            // each count.
            let conn = self.conn();
            let (failures, _) = Self::lock_state(&conn, username)?;
            conn.execute(
                "UPDATE users SET failed_sign_ins = ?2, locked_until = ?3 WHERE username = ?1",
                params![
                    username,
                    failures + 1,
                    now + lockout_secs(base, failures + 1)
                ],
            )?;
            return Err(wrong());
        }
        if failures > 0 {
            self.conn().execute(
                "UPDATE users SET failed_sign_ins = 0, locked_until = 0 WHERE username = ?1",
                params![username],
            )?;
        }
        if !confirmed {
            return Err(UserError::UserNotConfirmed);
        }
        let conn = self.conn();
        let mut raw = [0u8; 32];
        OsRng.fill_bytes(&mut raw);
        let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        conn.execute(
            "INSERT INTO refresh_tokens (digest, username, expires_at) VALUES (?1, ?2, ?3)",
            params![digest(&token), username, now + REFRESH_TOKEN_SECS],
        )?;
        Ok((user, token))
    }

    /// `InitiateAuth` with `REFRESH_TOKEN_AUTH`: the user a live refresh token belongs to.
    pub fn refresh(&self, refresh_token: &str, now: i64) -> Result<User, UserError> {
        let invalid = || UserError::NotAuthorized("Invalid Refresh Token".into());
        let conn = self.conn();
        let row: Option<(String, i64)> = conn
            .query_row(
                "SELECT username, expires_at FROM refresh_tokens WHERE digest = ?1",
                params![digest(refresh_token)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            Some((username, expires_at)) if now < expires_at => Self::user(&conn, &username)?
                .map(|(u, _, _)| u)
                .ok_or_else(invalid),
            Some(_) => Err(UserError::NotAuthorized("Refresh Token has expired".into())),
            None => Err(invalid()),
        }
    }

    /// `GetUser`: the user an access token names, and whether their address is confirmed.
    pub fn get_user(&self, username: &str) -> Result<(User, bool), UserError> {
        Self::user(&self.conn(), username)?
            .map(|(user, _, confirmed)| (user, confirmed))
            .ok_or(UserError::UserNotFound)
    }

    /// `GlobalSignOut`: every refresh token of the user stops working.
    pub fn sign_out_everywhere(&self, username: &str) -> Result<(), UserError> {
        self.conn().execute(
            "DELETE FROM refresh_tokens WHERE username = ?1",
            params![username],
        )?;
        Ok(())
    }

    /// `ForgotPassword`: a reset code to mail. An unknown user is answered as a known one (the
    /// delivery, masked), and nothing is sent.
    pub fn forgot_password(&self, username: &str, now: i64) -> Result<Delivery, UserError> {
        let username = &canonical_username(username);
        let conn = self.conn();
        let Some((user, _, _)) = Self::user(&conn, username)? else {
            return Ok(Delivery::nowhere(username));
        };
        Self::issue_code(
            &conn,
            username,
            &user.email,
            CodePurpose::ResetPassword,
            now,
        )
        .map(Delivery::mail)
    }

    /// `ConfirmForgotPassword`: sets the new password and signs the user out everywhere.
    pub fn confirm_forgot_password(
        &self,
        username: &str,
        code: &str,
        new_password: &str,
        now: i64,
    ) -> Result<(), UserError> {
        let username = &canonical_username(username);
        let password = check_password(new_password)?;
        // The code first: a wrong one costs no hash.
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            if Self::user(&tx, username)?.is_none() {
                return Err(self.phantom_code(username, CodePurpose::ResetPassword));
            }
            Self::try_code(tx, username, CodePurpose::ResetPassword, code, now, false)?.commit()?;
        }
        let hash = self.hash(&password)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let tx = Self::try_code(tx, username, CodePurpose::ResetPassword, code, now, true)?;
        tx.execute(
            "UPDATE users SET password_hash = ?2 WHERE username = ?1",
            params![username, hash.as_str()],
        )?;
        tx.execute(
            "DELETE FROM refresh_tokens WHERE username = ?1",
            params![username],
        )?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> UserPool {
        UserPool::open(
            Connection::open_in_memory().unwrap(),
            PasswordCost::Minimal,
            HashWork::new(2),
        )
        .unwrap()
    }

    /// Signs alice up, confirms her and signs her in; her refresh token.
    fn signed_in_alice(pool: &UserPool) -> String {
        let (_, mail) = pool
            .sign_up("alice@example.com", "Correct-Horse-1", "a@example.com", 0)
            .unwrap();
        pool.confirm_sign_up("alice@example.com", &mail.code, 0)
            .unwrap();
        pool.sign_in("alice@example.com", "Correct-Horse-1", 0)
            .unwrap()
            .1
    }

    fn check<T: std::fmt::Debug>(got: Result<T, UserError>, expected: &str) {
        match got {
            Err(e) => assert_eq!(e.cognito_type(), expected, "{e}"),
            Ok(v) => panic!("expected {expected}, got {v:?}"),
        }
    }

    #[test]
    fn sign_up_confirm_and_sign_in() {
        let pool = pool();
        let (user, mail) = pool
            .sign_up("alice@example.com", "Correct-Horse-1", "a@example.com", 0)
            .unwrap();
        assert_eq!(mail.code.len(), 6);
        assert_eq!(user.sub.len(), 36);
        photo_domain::UserId::parse(&user.sub).unwrap();
        check(
            pool.sign_up("alice@example.com", "Correct-Horse-1", "a@example.com", 0),
            "UsernameExistsException",
        );
        check(
            pool.sign_up("bob@example.com", "short", "b@example.com", 0),
            "InvalidPasswordException",
        );
        check(
            pool.sign_in("alice@example.com", "Correct-Horse-1", 1),
            "UserNotConfirmedException",
        );
        let wrong = if mail.code == "000000" {
            "000001"
        } else {
            "000000"
        };
        check(
            pool.confirm_sign_up("alice@example.com", wrong, 1),
            "CodeMismatchException",
        );
        check(
            pool.confirm_sign_up("alice@example.com", &mail.code, CONFIRM_CODE_SECS),
            "ExpiredCodeException",
        );
        pool.confirm_sign_up("alice@example.com", &mail.code, 1)
            .unwrap();
        check(
            pool.confirm_sign_up("alice@example.com", &mail.code, 1),
            "NotAuthorizedException",
        );
        check(
            pool.sign_in("alice@example.com", "Wrong-Horse-1", 2),
            "NotAuthorizedException",
        );
        check(
            pool.sign_in("nobody@example.com", "Correct-Horse-1", 2),
            "NotAuthorizedException",
        );
        let (signed_in, refresh) = pool
            .sign_in("alice@example.com", "Correct-Horse-1", 2)
            .unwrap();
        assert_eq!(signed_in, user);
        assert_eq!(pool.refresh(&refresh, 3).unwrap(), user);
        check(
            pool.refresh(&refresh, 2 + REFRESH_TOKEN_SECS),
            "NotAuthorizedException",
        );
        check(pool.refresh("forged", 3), "NotAuthorizedException");
        pool.sign_out_everywhere("alice@example.com").unwrap();
        check(pool.refresh(&refresh, 3), "NotAuthorizedException");
    }

    #[test]
    fn a_reset_code_sets_a_new_password_and_ends_sessions() {
        let pool = pool();
        let refresh = signed_in_alice(&pool);
        let decoy = pool.forgot_password("nobody@example.com", 0).unwrap();
        assert_eq!(decoy.mail, None);
        let reset = pool
            .forgot_password("alice@example.com", 0)
            .unwrap()
            .mail
            .unwrap();
        assert_eq!(reset.purpose, CodePurpose::ResetPassword);
        check(
            pool.confirm_forgot_password("alice@example.com", &reset.code, "tiny", 1),
            "InvalidPasswordException",
        );
        pool.confirm_forgot_password("alice@example.com", &reset.code, "Battery-Staple-2", 1)
            .unwrap();
        check(
            pool.confirm_forgot_password("alice@example.com", &reset.code, "Battery-Staple-2", 1),
            "ExpiredCodeException",
        );
        check(pool.refresh(&refresh, 2), "NotAuthorizedException");
        check(
            pool.sign_in("alice@example.com", "Correct-Horse-1", 2),
            "NotAuthorizedException",
        );
        pool.sign_in("alice@example.com", "Battery-Staple-2", 2)
            .unwrap();
    }

    #[test]
    fn lockouts_start_at_the_fifth_failure_and_double_up_to_fifteen_minutes() {
        let lockouts: Vec<i64> = (3..=8).map(|n| lockout_secs(1, n)).collect();
        assert_eq!(lockouts, [0, 0, 1, 2, 4, 8]);
        assert_eq!(lockout_secs(1, 15), 900);
        assert_eq!(lockout_secs(1, 1000), 900);
        assert_eq!(lockout_secs(3600, 5), 3600);
    }

    #[test]
    fn the_database_holds_no_usable_credential() {
        let pool = pool();
        let refresh = signed_in_alice(&pool);
        let conn = pool.conn();
        let hash: String = conn
            .query_row("SELECT password_hash FROM users", [], |r| r.get(0))
            .unwrap();
        assert!(hash.starts_with("$argon2id$") && !hash.contains("Correct-Horse-1"));
        let stored: String = conn
            .query_row("SELECT digest FROM refresh_tokens", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, refresh);
    }
}
