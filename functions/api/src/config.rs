//! The API's limits, read from the function environment the contract names
//! ([`photo_contract::env`]).

use photo_contract::env::{MAX_SHARE_DAYS, MAX_UPLOAD_BYTES, QUOTA_BYTES};
use photo_domain::{Limits, PasswordCost};

use crate::error::Error;

/// Limits the API enforces, from `MAX_UPLOAD_BYTES`, `QUOTA_BYTES` and `MAX_SHARE_DAYS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiConfig {
    pub max_upload_bytes: u64,
    pub quota_bytes: u64,
    pub max_share_days: u32,
}

impl ApiConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        fn number<T: std::str::FromStr>(
            lookup: &impl Fn(&str) -> Option<String>,
            var: &'static str,
        ) -> Result<T, Error> {
            let raw = lookup(var).ok_or(Error::Config {
                var,
                reason: "is not set".into(),
            })?;
            raw.trim().parse::<T>().map_err(|_| Error::Config {
                var,
                reason: format!("`{raw}` is not a whole number"),
            })
        }
        let config = ApiConfig {
            max_upload_bytes: number(&lookup, MAX_UPLOAD_BYTES)?,
            quota_bytes: number(&lookup, QUOTA_BYTES)?,
            max_share_days: number(&lookup, MAX_SHARE_DAYS)?,
        };
        let positive = |var: &'static str, v: u64| {
            if v == 0 {
                Err(Error::Config {
                    var,
                    reason: "must be greater than zero".into(),
                })
            } else {
                Ok(())
            }
        };
        positive(MAX_UPLOAD_BYTES, config.max_upload_bytes)?;
        positive(QUOTA_BYTES, config.quota_bytes)?;
        positive(MAX_SHARE_DAYS, u64::from(config.max_share_days))?;
        Ok(config)
    }

    /// The domain limits for this configuration, with standard lifetimes and password cost.
    pub fn limits(&self) -> Limits {
        Limits {
            max_upload_bytes: self.max_upload_bytes,
            quota_bytes: self.quota_bytes,
            max_share_days: self.max_share_days,
            default_share_days: 7.min(self.max_share_days),
            password_cost: PasswordCost::Standard,
            ..Limits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(vars: &[(&str, &str)], expected: Result<ApiConfig, &str>) {
        let got = ApiConfig::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        });
        match (got, expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want),
            (Err(e), Err(want)) => assert_eq!(e.to_string(), want),
            (got, want) => panic!("got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn reads_and_names_bad_variables() {
        let good = [
            ("MAX_UPLOAD_BYTES", "100"),
            ("QUOTA_BYTES", "1000"),
            ("MAX_SHARE_DAYS", "30"),
        ];
        check(
            &good,
            Ok(ApiConfig {
                max_upload_bytes: 100,
                quota_bytes: 1000,
                max_share_days: 30,
            }),
        );
        check(
            &good[1..],
            Err("environment variable `MAX_UPLOAD_BYTES` is not set"),
        );
        check(
            &[
                ("MAX_UPLOAD_BYTES", "100"),
                ("QUOTA_BYTES", "lots"),
                ("MAX_SHARE_DAYS", "30"),
            ],
            Err("environment variable `QUOTA_BYTES` `lots` is not a whole number"),
        );
        check(
            &[
                ("MAX_UPLOAD_BYTES", "100"),
                ("QUOTA_BYTES", "1"),
                ("MAX_SHARE_DAYS", "0"),
            ],
            Err("environment variable `MAX_SHARE_DAYS` must be greater than zero"),
        );
    }

    #[test]
    fn default_share_days_never_exceed_the_maximum() {
        let c = ApiConfig {
            max_upload_bytes: 1,
            quota_bytes: 1,
            max_share_days: 3,
        };
        assert_eq!(c.limits().default_share_days, 3);
    }
}
