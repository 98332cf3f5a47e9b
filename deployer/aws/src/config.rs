//! Reads `deployer.toml`: the stages an operator can deploy, turned into typed stage configurations.
//!
//! The file is walked by hand rather than through serde derive so that every error names the
//! file, the stage and the exact key, in one line an operator can act on.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use stack::config::{
    AccountId, Architecture, CertificateArn, CustomDomain, DomainName, EmailAddress,
    FunctionSettings, LogRetentionDays, MailSender, MemoryMb, Region, RoleArn, SesIdentityArn,
    StageConfig, StageName, TimeoutSeconds,
};
use toml::{Table, Value};

/// The stage name the local stage answers to; `deployer.toml` may not define it.
pub use deployer_build::LOCAL_STAGE;

/// The default configuration file, relative to the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "deployer.toml";

/// What went wrong reading `deployer.toml`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read `{file}`")]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("`{file}` is not valid TOML: {message}")]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The parser's message, folded onto one line.
        message: String,
    },
    /// A key outside any stage is wrong.
    #[error("`{file}`: key `{key}`: {message}")]
    TopLevel {
        /// The file.
        file: PathBuf,
        /// The dotted key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// A stage's key has a missing, unknown or invalid value.
    #[error("`{file}`: stage `{stage}`, key `{key}`: {message}")]
    Value {
        /// The file.
        file: PathBuf,
        /// The stage.
        stage: String,
        /// The dotted key inside the stage.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// A stage as a whole is wrong (its name, or its shape).
    #[error("`{file}`: stage `{stage}`: {message}")]
    Stage {
        /// The file.
        file: PathBuf,
        /// The stage.
        stage: String,
        /// What is wrong with it.
        message: String,
    },
    /// The stage asked for is not in the file.
    #[error("unknown stage `{stage}`: `{file}` defines {known}")]
    UnknownStage {
        /// The file.
        file: PathBuf,
        /// The stage asked for.
        stage: String,
        /// The stages the file does define, listed for the operator.
        known: KnownStages,
    },
}

/// The stage names a file defines, printed as `` `dev`, `prod` `` (or `no stages`).
#[derive(Debug)]
pub struct KnownStages(pub Vec<String>);

impl fmt::Display for KnownStages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no stages");
        }
        let names: Vec<String> = self.0.iter().map(|s| format!("`{s}`")).collect();
        write!(f, "the stages {}", names.join(", "))
    }
}

/// The parsed file: every stage it defines, in file order.
#[derive(Debug)]
pub struct DeployerConfig {
    file: PathBuf,
    stages: Vec<StageConfig>,
}

impl DeployerConfig {
    /// Reads and checks the whole file: one bad stage fails every command, so that a typo is
    /// found before it matters.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            file: file.to_owned(),
            source,
        })?;
        Self::parse(file, &text)
    }

    /// Parses the text of a configuration file; `file` is only used in messages.
    pub fn parse(file: &Path, text: &str) -> Result<Self, ConfigError> {
        let table: Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Syntax {
                file: file.to_owned(),
                message: one_line(&e.to_string()),
            })?;
        let top_error = |key: &str, message: String| ConfigError::TopLevel {
            file: file.to_owned(),
            key: key.to_owned(),
            message,
        };
        let mut stages = Vec::new();
        for (key, value) in &table {
            if key != "stages" {
                return Err(top_error(
                    key,
                    "unknown key: expected only `[stages.NAME]` tables".into(),
                ));
            }
            let Value::Table(stage_tables) = value else {
                return Err(top_error(key, "must be a table of stages".into()));
            };
            for (name, value) in stage_tables {
                stages.push(parse_stage(file, name, value)?);
            }
        }
        Ok(DeployerConfig {
            file: file.to_owned(),
            stages,
        })
    }

    /// The configuration of stage `name`, or an error listing the stages there are.
    pub fn stage(&self, name: &str) -> Result<&StageConfig, ConfigError> {
        self.stages
            .iter()
            .find(|s| s.name.as_str() == name)
            .ok_or_else(|| ConfigError::UnknownStage {
                file: self.file.clone(),
                stage: name.to_owned(),
                known: KnownStages(self.stages.iter().map(|s| s.name.to_string()).collect()),
            })
    }

    /// Every stage, in file order.
    pub fn stages(&self) -> &[StageConfig] {
        &self.stages
    }
}

/// Folds a multi-line parser message (TOML errors show a source excerpt) onto one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "|")
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads the keys of one stage table, refusing unknown ones.
struct StageReader<'a> {
    file: &'a Path,
    stage: &'a str,
}

impl StageReader<'_> {
    fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Value {
            file: self.file.to_owned(),
            stage: self.stage.to_owned(),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    fn stage_error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::Stage {
            file: self.file.to_owned(),
            stage: self.stage.to_owned(),
            message: message.into(),
        }
    }

    /// Fails on any key of `table` (at `prefix`) that is not in `known`.
    fn only_keys(&self, table: &Table, prefix: &str, known: &[&str]) -> Result<(), ConfigError> {
        for key in table.keys() {
            if !known.contains(&key.as_str()) {
                let expected: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
                return Err(self.error(
                    &join_key(prefix, key),
                    format!("unknown key (expected one of {})", expected.join(", ")),
                ));
            }
        }
        Ok(())
    }

    fn table<'t>(
        &self,
        table: &'t Table,
        prefix: &str,
        key: &str,
    ) -> Result<Option<&'t Table>, ConfigError> {
        match table.get(key) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(t)),
            Some(other) => Err(self.error(
                &join_key(prefix, key),
                format!("must be a table, not {}", other.type_str()),
            )),
        }
    }

    fn string<'t>(
        &self,
        table: &'t Table,
        prefix: &str,
        key: &str,
    ) -> Result<Option<&'t str>, ConfigError> {
        match table.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.error(
                &join_key(prefix, key),
                format!("must be a string, not {}", other.type_str()),
            )),
        }
    }

    fn parsed<T>(&self, table: &Table, prefix: &str, key: &str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr<Err = stack::StackError>,
    {
        self.string(table, prefix, key)?
            .map(|s| {
                s.parse().map_err(|e: stack::StackError| {
                    self.error(&join_key(prefix, key), e.to_string())
                })
            })
            .transpose()
    }

    fn bool(&self, table: &Table, prefix: &str, key: &str) -> Result<Option<bool>, ConfigError> {
        match table.get(key) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(self.error(
                &join_key(prefix, key),
                format!("must be `true` or `false`, not {}", other.type_str()),
            )),
        }
    }

    fn u32(&self, table: &Table, prefix: &str, key: &str) -> Result<Option<u32>, ConfigError> {
        match table.get(key) {
            None => Ok(None),
            Some(Value::Integer(i)) => u32::try_from(*i)
                .map(Some)
                .map_err(|_| self.error(&join_key(prefix, key), format!("`{i}` is out of range"))),
            Some(other) => Err(self.error(
                &join_key(prefix, key),
                format!("must be a whole number, not {}", other.type_str()),
            )),
        }
    }

    /// A positive whole number no larger than `max`.
    fn bounded(
        &self,
        table: &Table,
        prefix: &str,
        key: &str,
        max: u32,
    ) -> Result<Option<u32>, ConfigError> {
        match self.u32(table, prefix, key)? {
            Some(n) if n == 0 || n > max => Err(self.error(
                &join_key(prefix, key),
                format!("`{n}` must be between 1 and {max}"),
            )),
            other => Ok(other),
        }
    }

    /// Reads a function's table: its settings, and its reserved concurrency when set.
    fn function(
        &self,
        table: &Table,
        key: &str,
        base: FunctionSettings,
    ) -> Result<(FunctionSettings, Option<u32>), ConfigError> {
        let Some(t) = self.table(table, "", key)? else {
            return Ok((base, None));
        };
        self.only_keys(
            t,
            key,
            &["memory_mb", "timeout_seconds", "reserved_concurrency"],
        )?;
        // Lambda keeps 100 of an account's concurrency unreserved; 1000 is a generous ceiling.
        let reserved = self.bounded(t, key, "reserved_concurrency", 1_000)?;
        let memory = match self.u32(t, key, "memory_mb")? {
            Some(mb) => MemoryMb::new(mb)
                .map_err(|e| self.error(&join_key(key, "memory_mb"), e.to_string()))?,
            None => base.memory,
        };
        let timeout = match self.u32(t, key, "timeout_seconds")? {
            Some(s) => TimeoutSeconds::new(s)
                .map_err(|e| self.error(&join_key(key, "timeout_seconds"), e.to_string()))?,
            None => base.timeout,
        };
        Ok((FunctionSettings { memory, timeout }, reserved))
    }
}

fn join_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

const STAGE_KEYS: &[&str] = &[
    "region",
    "account_id",
    "architecture",
    "protected",
    "alarm_email",
    "mail",
    "log_retention_days",
    "retain_data",
    "api",
    "thumbnail",
    "domain",
    "limits",
    "throttling",
    "detailed_metrics",
    "cloudformation_role_arn",
];

fn parse_stage(file: &Path, name: &str, value: &Value) -> Result<StageConfig, ConfigError> {
    let r = StageReader { file, stage: name };
    if name == LOCAL_STAGE {
        return Err(r.stage_error(
            "the name `local` is reserved for the local stage (`deployer up --stage local`)",
        ));
    }
    let stage_name: StageName = name
        .parse()
        .map_err(|e: stack::StackError| r.stage_error(e.to_string()))?;
    let Value::Table(t) = value else {
        return Err(r.stage_error("must be a table"));
    };
    r.only_keys(t, "", STAGE_KEYS)?;
    let region: Region = r.parsed(t, "", "region")?.ok_or_else(|| {
        r.error(
            "region",
            "is required (for example `region = \"eu-west-1\"`)",
        )
    })?;

    let mut c = StageConfig::with_defaults(stage_name, region);
    c.account_id = r.parsed::<AccountId>(t, "", "account_id")?;
    if let Some(arch) = r.parsed::<Architecture>(t, "", "architecture")? {
        c.architecture = arch;
    }
    if let Some(p) = r.bool(t, "", "protected")? {
        c.protected = p;
    }
    c.alarm_email = r.parsed::<EmailAddress>(t, "", "alarm_email")?;
    if let Some(m) = r.table(t, "", "mail")? {
        r.only_keys(m, "mail", &["from", "ses_identity_arn"])?;
        let from = r
            .parsed::<EmailAddress>(m, "mail", "from")?
            .ok_or_else(|| r.error("mail.from", "is required when `mail` is set"))?;
        let identity = r
            .parsed::<SesIdentityArn>(m, "mail", "ses_identity_arn")?
            .ok_or_else(|| r.error("mail.ses_identity_arn", "is required when `mail` is set"))?;
        c.mail = Some(MailSender::new(from, identity, &c.region).map_err(|e| r.error("mail", e))?);
    }
    if let Some(days) = r.u32(t, "", "log_retention_days")? {
        c.log_retention = LogRetentionDays::new(days)
            .map_err(|e| r.error("log_retention_days", e.to_string()))?;
    }
    if let Some(keep) = r.bool(t, "", "retain_data")? {
        c.retain_data = keep;
    }
    if let Some(detailed) = r.bool(t, "", "detailed_metrics")? {
        c.detailed_metrics = detailed;
    }
    c.cloudformation_role_arn = r.parsed::<RoleArn>(t, "", "cloudformation_role_arn")?;
    if let (Some(role), Some(account)) = (&c.cloudformation_role_arn, &c.account_id)
        && role.account() != account.as_str()
    {
        return Err(r.error(
            "cloudformation_role_arn",
            format!(
                "the role belongs to account `{}`, not the stage's `{account}`",
                role.account()
            ),
        ));
    }
    let (api, api_reserved) = r.function(t, "api", c.api)?;
    let (thumbnail, thumbnail_reserved) = r.function(t, "thumbnail", c.thumbnail)?;
    c.api = api;
    c.thumbnail = thumbnail;
    if let Some(n) = api_reserved {
        c.reserved_concurrency.api = n;
    }
    if let Some(n) = thumbnail_reserved {
        c.reserved_concurrency.thumbnail = n;
    }

    if let Some(d) = r.table(t, "", "domain")? {
        r.only_keys(d, "domain", &["name", "certificate_arn"])?;
        let name = r
            .parsed::<DomainName>(d, "domain", "name")?
            .ok_or_else(|| r.error("domain.name", "is required when `domain` is set"))?;
        let certificate_arn = r
            .parsed::<CertificateArn>(d, "domain", "certificate_arn")?
            .ok_or_else(|| r.error("domain.certificate_arn", "is required when `domain` is set"))?;
        c.domain = Some(CustomDomain {
            name,
            certificate_arn,
        });
    }
    if let Some(l) = r.table(t, "", "limits")? {
        r.only_keys(
            l,
            "limits",
            &["max_upload_mb", "quota_gb", "max_share_days"],
        )?;
        // S3 takes at most 5 GB in one POST upload.
        if let Some(mb) = r.bounded(l, "limits", "max_upload_mb", 5_000)? {
            c.limits.max_upload_bytes = u64::from(mb) * 1024 * 1024;
        }
        if let Some(gb) = r.bounded(l, "limits", "quota_gb", 1_000_000)? {
            c.limits.quota_bytes = u64::from(gb) * 1024 * 1024 * 1024;
        }
        if let Some(days) = r.bounded(l, "limits", "max_share_days", 3_650)? {
            c.limits.max_share_days = days;
        }
    }
    let mut public_set = false;
    if let Some(th) = r.table(t, "", "throttling")? {
        public_set = th.contains_key("public_rate_limit") || th.contains_key("public_burst_limit");
        r.only_keys(
            th,
            "throttling",
            &[
                "rate_limit",
                "burst_limit",
                "public_rate_limit",
                "public_burst_limit",
            ],
        )?;
        if let Some(rate) = r.bounded(th, "throttling", "rate_limit", 10_000)? {
            c.throttling.rate_limit = rate;
        }
        if let Some(burst) = r.bounded(th, "throttling", "burst_limit", 5_000)? {
            c.throttling.burst_limit = burst;
        }
        if let Some(rate) = r.bounded(th, "throttling", "public_rate_limit", 10_000)? {
            c.throttling.public_rate_limit = rate;
        }
        if let Some(burst) = r.bounded(th, "throttling", "public_burst_limit", 5_000)? {
            c.throttling.public_burst_limit = burst;
        }
    }
    // The public routes' own limits exist to be lower than everyone's; a stage that lowers
    // its own limits below the public defaults takes the public ones down with it unless
    // they are set, and setting them higher is refused.
    let th = &mut c.throttling;
    if public_set {
        if th.public_rate_limit > th.rate_limit || th.public_burst_limit > th.burst_limit {
            return Err(r.error(
                "throttling",
                format!(
                    "the public routes' limits ({} per second, bursts of {}) must not exceed \
                     the stage's ({} per second, bursts of {})",
                    th.public_rate_limit, th.public_burst_limit, th.rate_limit, th.burst_limit
                ),
            ));
        }
    } else {
        th.public_rate_limit = th.public_rate_limit.min(th.rate_limit);
        th.public_burst_limit = th.public_burst_limit.min(th.burst_limit);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DeployerConfig, ConfigError> {
        DeployerConfig::parse(Path::new("deployer.toml"), text)
    }

    /// Checks that `text` fails with exactly `expected`, on one line.
    fn check_err(text: &str, expected: &str) {
        let err = parse(text).expect_err("should fail").to_string();
        assert_eq!(err, expected);
        assert!(!err.contains('\n'), "error is not one line: {err}");
    }

    #[test]
    fn full_stage_parses() {
        let config = parse(
            r#"
            [stages.prod]
            region = "eu-west-1"
            account_id = "123456789012"
            architecture = "x86_64"
            protected = true
            alarm_email = "ops@example.com"
            log_retention_days = 365
            retain_data = true
            api = { memory_mb = 256, timeout_seconds = 5, reserved_concurrency = 7 }
            thumbnail = { memory_mb = 2048 }
            domain = { name = "photos.example.com", certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc" }
            limits = { max_upload_mb = 20, quota_gb = 2, max_share_days = 14 }
            throttling = { rate_limit = 10, burst_limit = 20 }
            "#,
        )
        .unwrap();
        let prod = config.stage("prod").unwrap();
        assert_eq!(prod.architecture, Architecture::X86_64);
        assert_eq!(prod.api.memory.get(), 256);
        assert_eq!(prod.api.timeout.get(), 5);
        assert_eq!(prod.reserved_concurrency.api, 7);
        assert_eq!(prod.thumbnail.memory.get(), 2048);
        assert_eq!(prod.thumbnail.timeout.get(), 60, "default kept");
        assert_eq!(prod.log_retention.get(), 365);
        assert_eq!(prod.limits.max_upload_bytes, 20 * 1024 * 1024);
        assert_eq!(prod.limits.max_share_days, 14);
        assert_eq!(prod.throttling.burst_limit, 20);
        // The public routes' defaults (10 and 20) fit under the stage's limits as they are.
        assert_eq!(prod.throttling.public_rate_limit, 10);
        assert_eq!(prod.throttling.public_burst_limit, 20);
        assert!(prod.protected);
        assert_eq!(
            prod.domain.as_ref().unwrap().name.as_str(),
            "photos.example.com"
        );
    }

    #[test]
    fn errors_name_file_stage_and_key() {
        check_err(
            "[stages.dev]\nregion = \"eu-west-1\"\napi = { memory_mb = 64 }\n",
            "`deployer.toml`: stage `dev`, key `api.memory_mb`: invalid memory size `64`: must be between 128 and 10240 MiB",
        );
        check_err(
            "[stages.dev]\nregoin = \"eu-west-1\"\n",
            "`deployer.toml`: stage `dev`, key `regoin`: unknown key (expected one of `region`, `account_id`, `architecture`, `protected`, `alarm_email`, `mail`, `log_retention_days`, `retain_data`, `api`, `thumbnail`, `domain`, `limits`, `throttling`, `detailed_metrics`, `cloudformation_role_arn`)",
        );
        check_err(
            "[stages.dev]\narchitecture = \"arm64\"\n",
            "`deployer.toml`: stage `dev`, key `region`: is required (for example `region = \"eu-west-1\"`)",
        );
        check_err(
            "[stages.dev]\nregion = \"eu-west-1\"\nprotected = \"yes\"\n",
            "`deployer.toml`: stage `dev`, key `protected`: must be `true` or `false`, not string",
        );
        check_err(
            "[stages.dev]\nregion = \"eu-west-1\"\nlog_retention_days = 31\n",
            "`deployer.toml`: stage `dev`, key `log_retention_days`: invalid log retention `31`: must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 days",
        );
        check_err(
            "[stages.local]\nregion = \"eu-west-1\"\n",
            "`deployer.toml`: stage `local`: the name `local` is reserved for the local stage (`deployer up --stage local`)",
        );
        check_err(
            "[stage.dev]\nregion = \"eu-west-1\"\n",
            "`deployer.toml`: key `stage`: unknown key: expected only `[stages.NAME]` tables",
        );
    }

    #[test]
    fn mail_goes_through_an_ses_identity_that_covers_the_sender() {
        let config = parse(
            "[stages.prod]\nregion = \"eu-central-1\"\nmail = { from = \"no-reply@photos.example.com\", ses_identity_arn = \"arn:aws:ses:eu-central-1:123456789012:identity/photos.example.com\" }\n",
        )
        .unwrap();
        let mail = config.stage("prod").unwrap().mail.clone().unwrap();
        assert_eq!(mail.from.as_str(), "no-reply@photos.example.com");
        check_err(
            "[stages.prod]\nregion = \"eu-central-1\"\nmail = { from = \"no-reply@other.example\", ses_identity_arn = \"arn:aws:ses:eu-central-1:123456789012:identity/photos.example.com\" }\n",
            "`deployer.toml`: stage `prod`, key `mail`: the identity `photos.example.com` does not cover the sender `no-reply@other.example`: use that address or its domain `other.example`",
        );
        check_err(
            "[stages.prod]\nregion = \"eu-central-1\"\nmail = { from = \"a@photos.example.com\", ses_identity_arn = \"arn:aws:ses:ap-south-1:123456789012:identity/photos.example.com\" }\n",
            "`deployer.toml`: stage `prod`, key `mail`: Cognito cannot send through an SES identity in `ap-south-1` for a pool in `eu-central-1`: use an identity in `eu-central-1`",
        );
        check_err(
            "[stages.prod]\nregion = \"eu-central-1\"\nmail = { from = \"a@photos.example.com\" }\n",
            "`deployer.toml`: stage `prod`, key `mail.ses_identity_arn`: is required when `mail` is set",
        );
    }

    #[test]
    fn a_service_role_must_be_a_role_of_the_stages_account() {
        let config = parse(
            "[stages.prod]\nregion = \"eu-west-1\"\naccount_id = \"123456789012\"\ncloudformation_role_arn = \"arn:aws:iam::123456789012:role/deployer-cloudformation\"\n",
        )
        .unwrap();
        let role = config
            .stage("prod")
            .unwrap()
            .cloudformation_role_arn
            .clone();
        assert_eq!(
            role.unwrap().as_str(),
            "arn:aws:iam::123456789012:role/deployer-cloudformation"
        );
        check_err(
            "[stages.prod]\nregion = \"eu-west-1\"\naccount_id = \"123456789012\"\ncloudformation_role_arn = \"arn:aws:iam::210987654321:role/deployer-cloudformation\"\n",
            "`deployer.toml`: stage `prod`, key `cloudformation_role_arn`: the role belongs to account `210987654321`, not the stage's `123456789012`",
        );
        check_err(
            "[stages.prod]\nregion = \"eu-west-1\"\ncloudformation_role_arn = \"arn:aws:iam::123456789012:user/ops\"\n",
            "`deployer.toml`: stage `prod`, key `cloudformation_role_arn`: invalid role ARN `arn:aws:iam::123456789012:user/ops`: must look like `arn:aws:iam::123456789012:role/NAME`",
        );
    }

    #[test]
    fn public_routes_get_limits_no_higher_than_the_stages() {
        let stage = |throttling: &str| {
            parse(&format!(
                "[stages.dev]\nregion = \"eu-west-1\"\nthrottling = {{ {throttling} }}\n"
            ))
            .map(|c| c.stage("dev").unwrap().throttling)
        };
        let own = stage("rate_limit = 100, public_rate_limit = 3, public_burst_limit = 6").unwrap();
        assert_eq!((own.public_rate_limit, own.public_burst_limit), (3, 6));
        // Lowering the stage's limits lowers the public defaults with them.
        let low = stage("rate_limit = 4, burst_limit = 8").unwrap();
        assert_eq!((low.public_rate_limit, low.public_burst_limit), (4, 8));
        check_err(
            "[stages.dev]\nregion = \"eu-west-1\"\nthrottling = { rate_limit = 5, public_rate_limit = 20 }\n",
            "`deployer.toml`: stage `dev`, key `throttling`: the public routes' limits (20 per second, bursts of 20) must not exceed the stage's (5 per second, bursts of 100)",
        );
    }

    #[test]
    fn syntax_errors_are_one_line() {
        let err = parse("[stages.dev\nregion = 1").unwrap_err().to_string();
        assert!(
            err.starts_with("`deployer.toml` is not valid TOML: "),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn unknown_stage_lists_known_ones() {
        let config =
            parse("[stages.dev]\nregion = \"eu-west-1\"\n[stages.prod]\nregion = \"eu-west-1\"\n")
                .unwrap();
        assert_eq!(
            config.stage("staging").unwrap_err().to_string(),
            "unknown stage `staging`: `deployer.toml` defines the stages `dev`, `prod`"
        );
    }

    #[test]
    fn the_shipped_file_parses() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deployer.toml");
        let config = DeployerConfig::load(&file).unwrap();
        assert!(config.stage("dev").is_ok());
        assert!(config.stage("prod").unwrap().protected);
    }
}
