//! The runtime configuration, `config.json`, fetched at start so one build serves every stage.

use serde::{Deserialize, Serialize};

/// `config.json`: where the API and Cognito are for this stage. On AWS `cognito_endpoint` is
/// `https://cognito-idp.{region}.amazonaws.com/`; on the local stage it is a local URL that
/// speaks the same JSON protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuntimeConfig {
    pub api_url: String,
    pub region: String,
    pub user_pool_id: String,
    pub user_pool_client_id: String,
    pub cognito_endpoint: String,
}

/// Why `config.json` was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("config.json is not valid: {0}")]
    Json(String),
    #[error("`{field}` is empty")]
    Empty { field: &'static str },
    #[error("`{field}` must be an https URL (or http on localhost), got `{value}`")]
    NotUrl { field: &'static str, value: String },
}

impl RuntimeConfig {
    /// Parses and validates `config.json`; `api_url` loses any trailing slash so paths join
    /// with a single `/`, `cognito_endpoint` keeps its own form (AWS documents the slash).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let mut config: RuntimeConfig =
            serde_json::from_str(text).map_err(|e| ConfigError::Json(e.to_string()))?;
        for (field, value) in [
            ("region", &config.region),
            ("userPoolId", &config.user_pool_id),
            ("userPoolClientId", &config.user_pool_client_id),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::Empty { field });
            }
        }
        for (field, value) in [
            ("apiUrl", &config.api_url),
            ("cognitoEndpoint", &config.cognito_endpoint),
        ] {
            if !is_allowed_url(value) {
                return Err(ConfigError::NotUrl {
                    field,
                    value: value.clone(),
                });
            }
        }
        while config.api_url.ends_with('/') {
            config.api_url.pop();
        }
        Ok(config)
    }

    /// The absolute URL of an API path such as `/photos`.
    pub fn api(&self, path: &str) -> String {
        format!("{}{path}", self.api_url)
    }
}

/// https anywhere; plain http only on the loopback, for the local stage.
fn is_allowed_url(url: &str) -> bool {
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty() && !rest.starts_with('/');
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    matches!(host, "localhost" | "127.0.0.1") || rest.starts_with("[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWS: &str = r#"{"apiUrl":"https://abc.execute-api.eu-west-1.amazonaws.com/",
        "region":"eu-west-1","userPoolId":"eu-west-1_X","userPoolClientId":"c1",
        "cognitoEndpoint":"https://cognito-idp.eu-west-1.amazonaws.com/"}"#;

    fn check(text: &str, expected: Result<&str, ConfigError>) {
        let got = RuntimeConfig::parse(text).map(|c| c.api("/photos"));
        assert_eq!(got, expected.map(str::to_owned));
    }

    #[test]
    fn parses_aws_and_local_configs() {
        check(
            AWS,
            Ok("https://abc.execute-api.eu-west-1.amazonaws.com/photos"),
        );
        let local = AWS
            .replace(
                "https://abc.execute-api.eu-west-1.amazonaws.com/",
                "http://127.0.0.1:9000",
            )
            .replace(
                "https://cognito-idp.eu-west-1.amazonaws.com/",
                "http://localhost:9001/",
            );
        check(&local, Ok("http://127.0.0.1:9000/photos"));
    }

    #[test]
    fn refuses_bad_configs() {
        check(
            &AWS.replace("https://abc", "http://abc"),
            Err(ConfigError::NotUrl {
                field: "apiUrl",
                value: "http://abc.execute-api.eu-west-1.amazonaws.com/".into(),
            }),
        );
        check(
            &AWS.replace("\"c1\"", "\" \""),
            Err(ConfigError::Empty {
                field: "userPoolClientId",
            }),
        );
        assert!(matches!(
            RuntimeConfig::parse(r#"{"apiUrl":"https://a"}"#),
            Err(ConfigError::Json(_))
        ));
        assert!(matches!(
            RuntimeConfig::parse("not json"),
            Err(ConfigError::Json(_))
        ));
        check(
            &AWS.replace("https://cognito-idp", "ftp://cognito-idp"),
            Err(ConfigError::NotUrl {
                field: "cognitoEndpoint",
                value: "ftp://cognito-idp.eu-west-1.amazonaws.com/".into(),
            }),
        );
    }
}
