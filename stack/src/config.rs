//! The configuration of one stage: the typed values the photo-app template is built from.
//!
//! Every field is a type that can only hold a valid value, so the template builder never
//! re-checks its input. Parsing `deployer.toml` into these types is the deployer's job.

use std::fmt;
use std::str::FromStr;

use crate::StackError;

/// Defines a string newtype that is validated once, on construction.
macro_rules! validated_string {
    ($(#[$doc:meta])* $name:ident, $what:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The value as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = StackError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let check: fn(&str) -> Result<(), &'static str> = $check;
                match check(s) {
                    Ok(()) => Ok(Self(s.to_owned())),
                    Err(why) => Err(StackError::InvalidValue {
                        what: $what,
                        value: s.to_owned(),
                        why,
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

validated_string!(
    /// A stage name: lowercase letters, digits and hyphens, starting with a letter, at most 16
    /// characters (it becomes part of resource names that AWS limits in length).
    StageName,
    "stage name",
    |s| {
        if s.is_empty() || s.len() > 16 {
            return Err("must be 1 to 16 characters");
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err("must start with a lowercase letter");
        }
        if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err("may contain only lowercase letters, digits and hyphens");
        }
        if s.ends_with('-') {
            return Err("must not end with a hyphen");
        }
        Ok(())
    }
);

validated_string!(
    /// An AWS region code such as `eu-west-1`.
    Region,
    "region",
    |s| {
        let parts: Vec<&str> = s.split('-').collect();
        let ok = parts.len() >= 3
            && parts.iter().all(|p| !p.is_empty())
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| p.chars().all(|c| c.is_ascii_lowercase()))
            && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit());
        if !ok {
            return Err("must look like `eu-west-1`");
        }
        // GovCloud, China and the isolated regions lack parts of the stack (CloudFront's
        // managed policies, Origin Access Control, Cognito's features) and name resources
        // with other ARN partitions and URL suffixes.
        if ["us-gov-", "cn-", "us-iso", "eu-isoe-", "eusc-"]
            .iter()
            .any(|p| s.starts_with(p))
        {
            return Err("is outside the commercial partition (`aws`), which is the only one the stack supports");
        }
        Ok(())
    }
);

validated_string!(
    /// A twelve-digit AWS account id.
    AccountId,
    "account id",
    |s| {
        if s.len() == 12 && s.chars().all(|c| c.is_ascii_digit()) {
            Ok(())
        } else {
            Err("must be exactly 12 digits")
        }
    }
);

validated_string!(
    /// An e-mail address for alarm notifications.
    EmailAddress,
    "e-mail address",
    |s| {
        match s.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !s.chars().any(|c| c.is_whitespace()) =>
            {
                Ok(())
            }
            _ => Err("must look like `name@example.com`"),
        }
    }
);

validated_string!(
    /// A fully qualified domain name for the site, such as `photos.example.com`.
    DomainName,
    "domain name",
    |s| {
        let labels_ok = s.split('.').count() >= 2
            && s.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            });
        if labels_ok && s.len() <= 253 {
            Ok(())
        } else {
            Err("must be a lowercase fully qualified domain name")
        }
    }
);

validated_string!(
    /// The ARN of an ACM certificate. CloudFront only accepts certificates from `us-east-1`.
    CertificateArn,
    "certificate ARN",
    |s| {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        if parts.len() != 6
            || parts[0] != "arn"
            || parts[1] != "aws"
            || parts[2] != "acm"
            || !parts[5].starts_with("certificate/")
        {
            return Err("must be an ACM certificate ARN");
        }
        if parts[3] != "us-east-1" {
            return Err("CloudFront needs a certificate in `us-east-1`");
        }
        Ok(())
    }
);

validated_string!(
    /// The ARN of a verified SES identity (a domain or an address), such as
    /// `arn:aws:ses:eu-west-1:123456789012:identity/example.com`.
    SesIdentityArn,
    "SES identity ARN",
    |s| {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[1] == "aws"
            && parts[2] == "ses"
            && !parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].chars().all(|c| c.is_ascii_digit())
            && parts[5].strip_prefix("identity/").is_some_and(|i| !i.is_empty());
        if ok {
            Ok(())
        } else {
            Err("must look like `arn:aws:ses:REGION:ACCOUNT:identity/example.com`")
        }
    }
);

impl SesIdentityArn {
    /// The identity: a domain (`example.com`) or an e-mail address.
    pub fn identity(&self) -> &str {
        self.as_str()
            .split_once(":identity/")
            .map_or("", |(_, i)| i)
    }

    /// The region the identity lives in.
    pub fn region(&self) -> &str {
        self.as_str().split(':').nth(3).unwrap_or("")
    }
}

validated_string!(
    /// The ARN of an IAM role, such as `arn:aws:iam::123456789012:role/deployer-cloudformation`.
    RoleArn,
    "role ARN",
    |s| {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[1] == "aws"
            && parts[2] == "iam"
            && parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].chars().all(|c| c.is_ascii_digit())
            && parts[5].strip_prefix("role/").is_some_and(|r| !r.is_empty());
        if ok {
            Ok(())
        } else {
            Err("must look like `arn:aws:iam::123456789012:role/NAME`")
        }
    }
);

impl RoleArn {
    /// The account the role belongs to.
    pub fn account(&self) -> &str {
        self.as_str().split(':').nth(4).unwrap_or("")
    }
}

/// The user pool's mail (sign-up codes, password resets) sent through SES instead of Cognito's
/// default sender, which allows only a few dozen mails a day to the whole pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSender {
    /// The sender's address.
    pub from: EmailAddress,
    /// A verified SES identity covering `from`: that address, or its domain.
    pub identity_arn: SesIdentityArn,
}

impl MailSender {
    /// A sender, if `identity_arn` covers `from` and is in a region Cognito can send from for
    /// a pool in `region` (the pool's own, or `us-east-1`, `us-west-2` or `eu-west-1`).
    pub fn new(
        from: EmailAddress,
        identity_arn: SesIdentityArn,
        region: &Region,
    ) -> Result<MailSender, String> {
        let identity = identity_arn.identity().to_ascii_lowercase();
        let address = from.as_str().to_ascii_lowercase();
        let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
        if identity != address && identity != domain {
            return Err(format!(
                "the identity `{identity}` does not cover the sender `{address}`: use that \
                 address or its domain `{domain}`"
            ));
        }
        let identity_region = identity_arn.region();
        if identity_region != region.as_str()
            && !["us-east-1", "us-west-2", "eu-west-1"].contains(&identity_region)
        {
            return Err(format!(
                "Cognito cannot send through an SES identity in `{identity_region}` for a \
                 pool in `{region}`: use an identity in `{region}`"
            ));
        }
        Ok(MailSender { from, identity_arn })
    }
}

/// The instruction set the functions are built for and run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Architecture {
    /// `x86_64`.
    X86_64,
    /// `arm64` (Graviton): cheaper per GB-second.
    Arm64,
}

impl Architecture {
    /// The value Lambda's `Architectures` property takes.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

impl FromStr for Architecture {
    type Err = StackError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "x86_64" => Ok(Architecture::X86_64),
            "arm64" => Ok(Architecture::Arm64),
            _ => Err(StackError::InvalidValue {
                what: "architecture",
                value: s.to_owned(),
                why: "must be `x86_64` or `arm64`",
            }),
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.lambda_name())
    }
}

/// Lambda memory in MiB: 128 to 10,240.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemoryMb(u32);

impl MemoryMb {
    /// Checks that `mb` is a memory size Lambda accepts.
    pub fn new(mb: u32) -> Result<Self, StackError> {
        if (128..=10_240).contains(&mb) {
            Ok(Self(mb))
        } else {
            Err(StackError::InvalidValue {
                what: "memory size",
                value: mb.to_string(),
                why: "must be between 128 and 10240 MiB",
            })
        }
    }

    /// The size in MiB.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// Lambda timeout in seconds: 1 to 900.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeoutSeconds(u32);

impl TimeoutSeconds {
    /// Checks that `seconds` is a timeout Lambda accepts.
    pub fn new(seconds: u32) -> Result<Self, StackError> {
        if (1..=900).contains(&seconds) {
            Ok(Self(seconds))
        } else {
            Err(StackError::InvalidValue {
                what: "timeout",
                value: seconds.to_string(),
                why: "must be between 1 and 900 seconds",
            })
        }
    }

    /// The timeout in seconds.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// A CloudWatch Logs retention period; only the values CloudWatch accepts can be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogRetentionDays(u32);

impl LogRetentionDays {
    /// The retention periods CloudWatch Logs accepts, in days.
    pub const ALLOWED: [u32; 22] = [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
        2922, 3288, 3653,
    ];

    /// Checks that `days` is a retention CloudWatch Logs accepts.
    pub fn new(days: u32) -> Result<Self, StackError> {
        if Self::ALLOWED.contains(&days) {
            Ok(Self(days))
        } else {
            Err(StackError::InvalidValue {
                what: "log retention",
                value: days.to_string(),
                why: "must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 days",
            })
        }
    }

    /// The retention in days.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// How one function runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionSettings {
    /// Memory, which also scales the CPU share.
    pub memory: MemoryMb,
    /// The longest one invocation may run.
    pub timeout: TimeoutSeconds,
}

/// A custom domain for the site, served by CloudFront with an ACM certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomDomain {
    /// The site's host name.
    pub name: DomainName,
    /// A certificate in `us-east-1` covering `name`.
    pub certificate_arn: CertificateArn,
}

/// Limits the photo service enforces; passed to the functions as environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppLimits {
    /// The largest original a user may upload, in bytes.
    pub max_upload_bytes: u64,
    /// How many bytes of originals one user may store.
    pub quota_bytes: u64,
    /// The longest a share link may live, in days.
    pub max_share_days: u32,
}

/// API Gateway throttling: the stage's, and the lower one of each public route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttling {
    /// Steady-state requests per second.
    pub rate_limit: u32,
    /// Requests allowed in a burst.
    pub burst_limit: u32,
    /// Steady-state requests per second of each public route (share pages, the API's
    /// description): anonymous callers get their own, lower limit, so they cannot use up what
    /// signed-in users need.
    pub public_rate_limit: u32,
    /// Requests allowed in a burst on each public route.
    pub public_burst_limit: u32,
}

/// Lambda concurrency reserved for each function: a guaranteed share of the account's pool and
/// a cap that bounds cost and the load on DynamoDB. Lambda keeps at least 100 of the account's
/// concurrency unreserved, so the sum must fit the account's limit minus 100 (a new account
/// whose limit is still 10 cannot reserve any: raise the quota first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservedConcurrency {
    /// The HTTP API function.
    pub api: u32,
    /// The thumbnail function.
    pub thumbnail: u32,
}

/// Everything the photo-app template depends on for one stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageConfig {
    /// The stage's name; it prefixes the stack and its resources.
    pub name: StageName,
    /// The region the stage is deployed to.
    pub region: Region,
    /// The account the stage must be deployed to, when pinned.
    pub account_id: Option<AccountId>,
    /// The functions' instruction set.
    pub architecture: Architecture,
    /// The HTTP API function.
    pub api: FunctionSettings,
    /// The thumbnail function.
    pub thumbnail: FunctionSettings,
    /// How long function and API logs are kept.
    pub log_retention: LogRetentionDays,
    /// Where alarms are e-mailed, if anywhere.
    pub alarm_email: Option<EmailAddress>,
    /// Who sends the user pool's mail; Cognito's default sender when `None`.
    pub mail: Option<MailSender>,
    /// Whether deploying asks for confirmation.
    pub protected: bool,
    /// The site's custom domain, if any.
    pub domain: Option<CustomDomain>,
    /// Whether the photo bucket, the table and the user pool survive deleting the stack.
    pub retain_data: bool,
    /// Limits the photo service enforces.
    pub limits: AppLimits,
    /// API Gateway throttling.
    pub throttling: Throttling,
    /// Per-route CloudWatch metrics on the API (paid per metric; no alarm or widget reads them).
    pub detailed_metrics: bool,
    /// The role CloudFormation assumes to create the stage's resources; the deploying
    /// identity's own credentials when `None`.
    pub cloudformation_role_arn: Option<RoleArn>,
    /// Lambda concurrency reserved for (and capping) each function.
    pub reserved_concurrency: ReservedConcurrency,
}

impl StageConfig {
    /// A stage with the defaults the deployer uses for anything `deployer.toml` leaves out.
    pub fn with_defaults(name: StageName, region: Region) -> Self {
        StageConfig {
            name,
            region,
            account_id: None,
            architecture: Architecture::Arm64,
            api: FunctionSettings {
                memory: MemoryMb(512),
                timeout: TimeoutSeconds(10),
            },
            thumbnail: FunctionSettings {
                memory: MemoryMb(1024),
                timeout: TimeoutSeconds(60),
            },
            log_retention: LogRetentionDays(30),
            alarm_email: None,
            mail: None,
            protected: false,
            domain: None,
            retain_data: true,
            limits: AppLimits {
                max_upload_bytes: 50 * 1024 * 1024,
                quota_bytes: 5 * 1024 * 1024 * 1024,
                max_share_days: 30,
            },
            throttling: Throttling {
                rate_limit: 50,
                burst_limit: 100,
                public_rate_limit: 10,
                public_burst_limit: 20,
            },
            detailed_metrics: false,
            cloudformation_role_arn: None,
            reserved_concurrency: ReservedConcurrency {
                api: 20,
                thumbnail: 5,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: FromStr<Err = StackError>>(input: &str, ok: bool) {
        assert_eq!(T::from_str(input).is_ok(), ok, "{input}");
    }

    #[test]
    fn stage_names() {
        check::<StageName>("dev", true);
        check::<StageName>("prod-eu1", true);
        check::<StageName>("", false);
        check::<StageName>("Prod", false);
        check::<StageName>("1dev", false);
        check::<StageName>("dev_1", false);
        check::<StageName>("dev-", false);
        check::<StageName>("abcdefghijklmnopq", false);
    }

    #[test]
    fn regions_accounts_and_domains() {
        check::<Region>("eu-west-1", true);
        check::<Region>("ap-southeast-5", true);
        // Only the commercial partition.
        for other in [
            "us-gov-west-1",
            "cn-north-1",
            "cn-northwest-1",
            "us-iso-east-1",
            "us-isob-east-1",
            "eu-isoe-west-1",
            "eusc-de-east-1",
        ] {
            check::<Region>(other, false);
            assert!(
                other
                    .parse::<Region>()
                    .unwrap_err()
                    .to_string()
                    .contains("commercial partition"),
                "{other}"
            );
        }
        check::<Region>("eu-west", false);
        check::<Region>("EU-west-1", false);
        check::<AccountId>("123456789012", true);
        check::<AccountId>("12345678901", false);
        check::<AccountId>("12345678901a", false);
        check::<DomainName>("photos.example.com", true);
        check::<DomainName>("localhost", false);
        check::<DomainName>("-a.example.com", false);
        check::<EmailAddress>("ops@example.com", true);
        check::<EmailAddress>("ops@example", false);
        check::<CertificateArn>(
            "arn:aws:acm:us-east-1:123456789012:certificate/0b1f2a3c-aaaa-bbbb-cccc-111122223333",
            true,
        );
        check::<CertificateArn>(
            "arn:aws:acm:eu-west-1:123456789012:certificate/0b1f2a3c-aaaa-bbbb-cccc-111122223333",
            false,
        );
        check::<CertificateArn>(
            "arn:aws-cn:acm:us-east-1:123456789012:certificate/0b1f2a3c-aaaa-bbbb-cccc-111122223333",
            false,
        );
        check::<SesIdentityArn>(
            "arn:aws:ses:eu-west-1:123456789012:identity/example.com",
            true,
        );
        check::<SesIdentityArn>(
            "arn:aws-us-gov:ses:us-gov-west-1:123456789012:identity/example.com",
            false,
        );
        check::<SesIdentityArn>("arn:aws:ses:eu-west-1:123456789012:identity/", false);
        check::<Architecture>("arm64", true);
        check::<Architecture>("aarch64", false);
    }

    #[test]
    fn numeric_limits() {
        assert!(MemoryMb::new(127).is_err());
        assert!(MemoryMb::new(128).is_ok());
        assert!(MemoryMb::new(10_241).is_err());
        assert!(TimeoutSeconds::new(0).is_err());
        assert!(TimeoutSeconds::new(900).is_ok());
        assert!(LogRetentionDays::new(30).is_ok());
        assert!(LogRetentionDays::new(31).is_err());
    }
}
