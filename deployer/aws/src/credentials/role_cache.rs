//! The AWS CLI's cache of assumed-role sessions, shared with it: a session the deployer got with
//! an MFA code serves the AWS CLI too, and the other way round, until it nears its expiry.
//!
//! The layout is the AWS CLI's (botocore's `AssumeRoleCredentialFetcher` over a
//! `JSONFileCache` in `~/.aws/cli/cache`):
//! - the file is `<key>.json`, where `<key>` is the hex SHA-1 of the `AssumeRole` arguments the
//!   profile fixes (`RoleArn`, `SerialNumber`, and `ExternalId`, `DurationSeconds` and
//!   `RoleSessionName` when the profile sets them) as Python's `json.dumps(args,
//!   sort_keys=True)` writes them;
//! - the content is the `AssumeRole` response: `Credentials` (`AccessKeyId`, `SecretAccessKey`,
//!   `SessionToken`, `Expiration`, `AccountId`) and `AssumedRoleUser`;
//! - a session with less than 15 minutes left is not used.
//!
//! The file holds a secret: it is written readable by its owner only, through a temporary file
//! renamed into place.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_sts::primitives::{DateTime, DateTimeFormat};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::profiles::MfaRole;

/// A cached session with less time left than this is not used (the AWS CLI's window).
pub const EXPIRY_WINDOW: Duration = Duration::from_secs(15 * 60);

/// An assumed-role session, as `AssumeRole` returned it.
#[derive(Clone)]
pub struct RoleSession {
    /// The temporary credentials, with their expiry.
    pub credentials: Credentials,
    /// The assumed role's session ARN.
    pub arn: String,
    /// The assumed role's id and session name.
    pub role_id: String,
}

impl std::fmt::Debug for RoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `Credentials` redacts its secrets in `Debug`.
        f.debug_struct("RoleSession")
            .field("credentials", &self.credentials)
            .field("arn", &self.arn)
            .finish_non_exhaustive()
    }
}

/// The cache directory, `~/.aws/cli/cache`; `None` without a home directory.
#[derive(Debug, Clone)]
pub struct RoleCache {
    dir: Option<PathBuf>,
}

impl RoleCache {
    /// The AWS CLI's cache in the home directory.
    pub fn in_home() -> RoleCache {
        RoleCache {
            dir: std::env::home_dir().map(|home| home.join(".aws").join("cli").join("cache")),
        }
    }

    /// A cache in `dir` (tests).
    pub fn at(dir: &Path) -> RoleCache {
        RoleCache {
            dir: Some(dir.to_owned()),
        }
    }

    /// The file `role`'s session is kept in.
    pub fn file(&self, role: &MfaRole) -> Option<PathBuf> {
        Some(self.dir.as_ref()?.join(format!("{}.json", key(role))))
    }

    /// `role`'s cached session, when it has more than [`EXPIRY_WINDOW`] left at `now`. A
    /// missing, unreadable or foreign file is no session.
    pub fn read(&self, role: &MfaRole, now: SystemTime) -> Option<Credentials> {
        let text = std::fs::read_to_string(self.file(role)?).ok()?;
        let value: Value = serde_json::from_str(&text).ok()?;
        let c = value.get("Credentials")?;
        let field = |name: &str| c.get(name).and_then(Value::as_str);
        let expiry = parse_expiration(field("Expiration")?)?;
        if expiry < now + EXPIRY_WINDOW {
            return None;
        }
        let mut builder = Credentials::builder()
            .access_key_id(field("AccessKeyId")?)
            .secret_access_key(field("SecretAccessKey")?)
            .expiry(expiry)
            .provider_name("AwsCliCache");
        builder.set_session_token(field("SessionToken").map(str::to_owned));
        if let Some(account) = field("AccountId") {
            builder = builder.account_id(account);
        }
        Some(builder.build())
    }

    /// Keeps `session` for `role`, as the AWS CLI would.
    pub fn write(&self, role: &MfaRole, session: &RoleSession) -> std::io::Result<PathBuf> {
        let (Some(dir), Some(file)) = (&self.dir, self.file(role)) else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no home directory",
            ));
        };
        let c = &session.credentials;
        let mut credentials = json!({
            "AccessKeyId": c.access_key_id(),
            "SecretAccessKey": c.secret_access_key(),
            "SessionToken": c.session_token(),
            "Expiration": c.expiry().map(cli_expiration),
        });
        if let Some(account) = c.account_id() {
            credentials["AccountId"] = json!(account.as_str());
        }
        let content = json!({
            "Credentials": credentials,
            "AssumedRoleUser": { "AssumedRoleId": session.role_id, "Arn": session.arn },
        });
        create_private_dir(dir)?;
        let temp = dir.join(format!(".{}.{}.tmp", key(role), std::process::id()));
        let mut out = private_file(&temp)?;
        let written = out
            .write_all(content.to_string().as_bytes())
            .and_then(|()| out.sync_all());
        if let Err(e) = written.and_then(|()| std::fs::rename(&temp, &file)) {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
        Ok(file)
    }
}

/// The cache key of `role`: the hex SHA-1 of its fixed `AssumeRole` arguments in Python's JSON.
pub fn key(role: &MfaRole) -> String {
    let mut args: BTreeMap<&str, Value> = BTreeMap::new();
    args.insert("RoleArn", json!(role.role_arn));
    args.insert("SerialNumber", json!(role.mfa_serial));
    if let Some(name) = &role.session_name {
        args.insert("RoleSessionName", json!(name));
    }
    if let Some(id) = &role.external_id {
        args.insert("ExternalId", json!(id));
    }
    if let Some(seconds) = role.duration_seconds {
        args.insert("DurationSeconds", json!(seconds));
    }
    let hash = Sha1::digest(python_json(&args).as_bytes());
    hash.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// `json.dumps(args, sort_keys=True)` of Python for a flat object of strings and integers:
/// `", "` and `": "` as separators, non-ASCII escaped as `\uXXXX`.
fn python_json(args: &BTreeMap<&str, Value>) -> String {
    let items: Vec<String> = args
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => python_string(s),
                other => other.to_string(),
            };
            format!("{}: {value}", python_string(k))
        })
        .collect();
    format!("{{{}}}", items.join(", "))
}

fn python_string(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_ascii() && !c.is_ascii_control() || c == '\u{7f}' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

/// An expiry as the AWS CLI writes it in the cache: `2024-05-01T12:00:00UTC`.
fn cli_expiration(time: SystemTime) -> String {
    rfc3339(time).replace('Z', "UTC")
}

/// A time as RFC 3339 in UTC, whole seconds: `2024-05-01T12:00:00Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let secs = DateTime::from(time).secs();
    DateTime::from_secs(secs)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_else(|_| format!("{secs} s after the epoch"))
}

/// An `Expiration` of the cache: the AWS CLI's `...UTC`, or RFC 3339 in UTC.
fn parse_expiration(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let utc = text
        .strip_suffix("UTC")
        .or_else(|| text.strip_suffix("+00:00"))
        .or_else(|| text.strip_suffix('Z'))?;
    let parsed = DateTime::from_str(&format!("{utc}Z"), DateTimeFormat::DateTime).ok()?;
    SystemTime::try_from(parsed).ok()
}

/// Creates `dir` (and its parents) readable by its owner only.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// A new file readable by its owner only.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::super::profiles::RoleFrom;
    use super::*;

    fn role() -> MfaRole {
        MfaRole {
            profile: "ops".into(),
            role_arn: "arn:aws:iam::111111111111:role/deployer".into(),
            mfa_serial: "arn:aws:iam::123456789012:mfa/operator".into(),
            session_name: None,
            external_id: None,
            duration_seconds: None,
            from: RoleFrom::Profile("keys".into()),
        }
    }

    /// The file names are the AWS CLI's: the expected hashes were computed with Python, as
    /// botocore does:
    /// `hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest()`.
    #[test]
    fn keys_are_the_aws_clis() {
        assert_eq!(
            python_json(&BTreeMap::from([
                ("SerialNumber", json!("s")),
                ("DurationSeconds", json!(900)),
                ("RoleArn", json!("r\u{e9}\"")),
            ])),
            r#"{"DurationSeconds": 900, "RoleArn": "r\u00e9\"", "SerialNumber": "s"}"#
        );
        assert_eq!(key(&role()), "31c4a7bb5843cb589703099c3c76eaeea2c24495");
        let full = MfaRole {
            session_name: Some("alice".into()),
            external_id: Some("ext-1".into()),
            duration_seconds: Some(7200),
            ..role()
        };
        assert_eq!(key(&full), "f3efdd2de3a784330111eed18e9dc647b0b4377d");
    }

    #[test]
    fn a_session_is_used_until_fifteen_minutes_before_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RoleCache::at(dir.path());
        let now = SystemTime::now();
        let expiry = SystemTime::UNIX_EPOCH
            + Duration::from_secs(
                (now + Duration::from_secs(3600))
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap()
                    .as_secs(),
            );
        let session = RoleSession {
            credentials: Credentials::builder()
                .access_key_id("ASIACACHED")
                .secret_access_key("cached-secret")
                .session_token("cached-token")
                .expiry(expiry)
                .account_id("111111111111")
                .provider_name("test")
                .build(),
            arn: "arn:aws:sts::111111111111:assumed-role/deployer/s".into(),
            role_id: "AROAEXAMPLE:s".into(),
        };
        let file = cache.write(&role(), &session).unwrap();
        assert_eq!(file, dir.path().join(format!("{}.json", key(&role()))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(&format!("\"Expiration\":\"{}\"", cli_expiration(expiry))));
        assert!(cli_expiration(expiry).ends_with("UTC"));

        let read = cache.read(&role(), now).expect("a fresh session is used");
        assert_eq!(read.access_key_id(), "ASIACACHED");
        assert_eq!(read.session_token(), Some("cached-token"));
        assert_eq!(read.expiry(), Some(expiry));
        assert_eq!(read.account_id().map(|a| a.as_str()), Some("111111111111"));
        // 46 minutes later, 14 are left: too few.
        assert!(
            cache
                .read(&role(), now + Duration::from_secs(46 * 60))
                .is_none()
        );
        // Another role has no session.
        let other = MfaRole {
            duration_seconds: Some(900),
            ..role()
        };
        assert!(cache.read(&other, now).is_none());
    }

    #[test]
    fn expirations_in_every_form_the_cache_may_hold() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_564_800);
        for text in [
            "2024-05-01T12:00:00UTC",
            "2024-05-01T12:00:00Z",
            "2024-05-01T12:00:00+00:00",
        ] {
            assert_eq!(parse_expiration(text), Some(t), "{text}");
        }
        assert_eq!(parse_expiration("2024-05-01T12:00:00+02:00"), None);
        assert_eq!(parse_expiration("soon"), None);
        assert_eq!(rfc3339(t), "2024-05-01T12:00:00Z");
    }
}
