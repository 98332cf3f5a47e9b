//! The two stage configurations the acceptance tests synthesize (`deployer.toml` matches them).

use stack::StageConfig;
use stack::config::{Architecture, CustomDomain, LogRetentionDays, MailSender};

/// `dev`: arm64, no alarm e-mail, data retained.
pub fn dev() -> StageConfig {
    let mut c = StageConfig::with_defaults("dev".parse().unwrap(), "eu-west-1".parse().unwrap());
    c.architecture = Architecture::Arm64;
    c.alarm_email = None;
    c.retain_data = true;
    c
}

/// `prod`: pinned account, x86_64, alarm e-mail, protected, custom domain, a year of logs, the
/// pool's mail through SES.
pub fn prod() -> StageConfig {
    let mut c = StageConfig::with_defaults("prod".parse().unwrap(), "eu-west-1".parse().unwrap());
    c.account_id = Some("123456789012".parse().unwrap());
    c.architecture = Architecture::X86_64;
    c.alarm_email = Some("ops@example.com".parse().unwrap());
    c.protected = true;
    c.domain = Some(CustomDomain {
        name: "photos.example.com".parse().unwrap(),
        certificate_arn:
            "arn:aws:acm:us-east-1:123456789012:certificate/0b1f2a3c-aaaa-bbbb-cccc-111122223333"
                .parse()
                .unwrap(),
    });
    c.log_retention = LogRetentionDays::new(365).unwrap();
    c.mail = Some(
        MailSender::new(
            "no-reply@photos.example.com".parse().unwrap(),
            "arn:aws:ses:eu-west-1:123456789012:identity/photos.example.com"
                .parse()
                .unwrap(),
            &c.region,
        )
        .unwrap(),
    );
    c
}

/// Both stages with their names.
pub fn stages() -> [(&'static str, StageConfig); 2] {
    [("dev", dev()), ("prod", prod())]
}

/// The synthesized JSON template of `config`.
pub fn synth(config: &StageConfig) -> String {
    stack::app::photo_app(config)
        .unwrap_or_else(|e| panic!("synthesizing `{}`: {e}", config.name))
        .to_json()
}
