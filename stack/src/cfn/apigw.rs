//! `AWS::ApiGatewayV2::*`: an HTTP API, its JWT authorizer, integration, routes and stage.
//! `Ref` gives the API id, authorizer id, integration id and so on.

use indexmap::IndexMap;
use serde::Serialize;

use super::{Expr, Res, Resource};

/// `AWS::ApiGatewayV2::Api`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Api {
    /// The API's name.
    pub name: Expr,
    /// `HTTP` or `WEBSOCKET`.
    pub protocol_type: &'static str,
    /// What the API is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Resource for Api {
    const TYPE: &'static str = "AWS::ApiGatewayV2::Api";
}

impl Res<Api> {
    /// `ApiEndpoint`: `https://{id}.execute-api.{region}.amazonaws.com`.
    pub fn api_endpoint(&self) -> Expr {
        self.get_att("ApiEndpoint")
    }
}

/// `AWS::ApiGatewayV2::Authorizer`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Authorizer {
    /// The API's id.
    pub api_id: Expr,
    /// `JWT` or `REQUEST`.
    pub authorizer_type: &'static str,
    /// Where the token is, such as `$request.header.Authorization`.
    pub identity_source: Vec<&'static str>,
    /// The authorizer's name.
    pub name: String,
    /// Issuer and audience for `JWT`.
    pub jwt_configuration: JwtConfiguration,
}

impl Resource for Authorizer {
    const TYPE: &'static str = "AWS::ApiGatewayV2::Authorizer";
}

/// `JWTConfiguration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct JwtConfiguration {
    /// Accepted `aud` (or, for Cognito access tokens, `client_id`) values.
    pub audience: Vec<Expr>,
    /// The `iss` the token must carry.
    pub issuer: Expr,
}

/// `AWS::ApiGatewayV2::Integration`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Integration {
    /// The API's id.
    pub api_id: Expr,
    /// `AWS_PROXY` for Lambda.
    pub integration_type: &'static str,
    /// The function's ARN.
    pub integration_uri: Expr,
    /// `2.0` for HTTP APIs.
    pub payload_format_version: &'static str,
    /// Milliseconds, at most 30,000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_in_millis: Option<u32>,
}

impl Resource for Integration {
    const TYPE: &'static str = "AWS::ApiGatewayV2::Integration";
}

/// `AWS::ApiGatewayV2::Route`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    /// The API's id.
    pub api_id: Expr,
    /// Such as `GET /photos/{id}`.
    pub route_key: String,
    /// `integrations/{integration id}`.
    pub target: Expr,
    /// `JWT` or `NONE`.
    pub authorization_type: &'static str,
    /// The authorizer for `JWT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<Expr>,
}

impl Resource for Route {
    const TYPE: &'static str = "AWS::ApiGatewayV2::Route";
}

/// `AWS::ApiGatewayV2::Stage`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stage {
    /// The API's id.
    pub api_id: Expr,
    /// `$default` serves the API at its root URL.
    pub stage_name: &'static str,
    /// Deploy every change without a separate deployment resource.
    pub auto_deploy: bool,
    /// Access logs.
    pub access_log_settings: AccessLogSettings,
    /// Throttling and metrics for every route.
    pub default_route_settings: RouteSettings,
    /// Settings of single routes, by route key (`GET /openapi.json`), replacing the default's
    /// for that route. The stage must depend on those routes: CloudFormation refuses settings
    /// for a route that does not exist yet.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub route_settings: IndexMap<String, RouteSettings>,
}

impl Resource for Stage {
    const TYPE: &'static str = "AWS::ApiGatewayV2::Stage";
}

/// `AccessLogSettings`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessLogSettings {
    /// The log group's ARN.
    pub destination_arn: Expr,
    /// The line format, with `$context` variables.
    pub format: String,
}

/// `RouteSettings`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteSettings {
    /// Per-route metrics in CloudWatch.
    pub detailed_metrics_enabled: bool,
    /// Requests allowed in a burst.
    pub throttling_burst_limit: u32,
    /// Steady-state requests per second.
    pub throttling_rate_limit: f64,
}
