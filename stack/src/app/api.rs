//! The HTTP API: the routes with their JWT authorizer, the Lambda integration, and the
//! stage with its access logs and throttling.

use photo_contract::api::{Access, Endpoint};
use serde_json::json;

use super::{Names, log_group_skips};
use crate::StackError;
use crate::cfn::apigw::{
    AccessLogSettings, Api, Authorizer, Integration, JwtConfiguration, Route, RouteSettings, Stage,
};
use crate::cfn::cognito::{UserPool, UserPoolClient};
use crate::cfn::lambda::{Function, Permission};
use crate::cfn::logs::LogGroup;
use crate::cfn::{Expr, Options, Res, Template};
use crate::config::StageConfig;

/// The API. It has no CORS: the SPA reaches it on its own origin, through the site's
/// distribution (`/api/*`), and no other site's scripts may call it with a user's token.
pub(super) fn http_api(t: &mut Template, names: &Names) -> Result<Res<Api>, StackError> {
    t.add(
        "HttpApi",
        Api {
            name: Expr::from(format!("{}-api", names.prefix)),
            protocol_type: "HTTP",
            description: Some("The photo API".to_owned()),
        },
    )
}

/// A logical id for a route key: `GET /albums/{id}/photos` gives `RouteGetAlbumsIdPhotos`.
pub fn route_logical_id(route_key: &str) -> String {
    let mut id = String::from("Route");
    let mut upper = true;
    for c in route_key.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                id.push(c.to_ascii_uppercase());
            } else {
                id.push(c.to_ascii_lowercase());
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    id
}

pub(super) fn api_routes(
    t: &mut Template,
    config: &StageConfig,
    names: &Names,
    api: &Res<Api>,
    pool: &Res<UserPool>,
    client: &Res<UserPoolClient>,
    api_fn: &Res<Function>,
) -> Result<(), StackError> {
    let authorizer = t.add(
        "HttpApiAuthorizer",
        Authorizer {
            api_id: api.reference(),
            authorizer_type: "JWT",
            identity_source: vec!["$request.header.Authorization"],
            name: "cognito".to_owned(),
            jwt_configuration: JwtConfiguration {
                audience: vec![client.reference()],
                issuer: Expr::sub_with(
                    "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${Pool}",
                    [("Pool", pool.reference())],
                ),
            },
        },
    )?;
    let integration = t.add(
        "HttpApiIntegration",
        Integration {
            api_id: api.reference(),
            integration_type: "AWS_PROXY",
            integration_uri: api_fn.arn(),
            payload_format_version: "2.0",
            // HTTP APIs wait at most 30 s; the function's own timeout is usually shorter.
            timeout_in_millis: Some((config.api.timeout.get() * 1000).min(30_000)),
        },
    )?;
    t.add(
        "ApiInvokePermission",
        Permission {
            action: "lambda:InvokeFunction",
            function_name: api_fn.reference(),
            principal: "apigateway.amazonaws.com",
            source_account: None,
            source_arn: Some(Expr::sub_with(
                "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*",
                [("Api", api.reference())],
            )),
        },
    )?;
    let target = Expr::sub_with(
        "integrations/${Integration}",
        [("Integration", integration.reference())],
    );
    // One route per endpoint of the contract, which the function's router is built from too.
    let mut public_routes = Vec::new();
    for endpoint in Endpoint::ALL {
        let route_key = endpoint.route().key();
        let signed_in = endpoint.route().access == Access::SignedIn;
        let route = Route {
            api_id: api.reference(),
            route_key: route_key.clone(),
            target: target.clone(),
            authorization_type: if signed_in { "JWT" } else { "NONE" },
            authorizer_id: signed_in.then(|| authorizer.reference()),
        };
        let route = t.add(&route_logical_id(&route_key), route)?;
        if !signed_in {
            public_routes.push((route_key, route));
        }
    }
    // Under `/aws/vendedlogs/`, API Gateway's log delivery needs no statement of its own in the
    // account's log resource policy (5,120 characters, shared by every stage of the account).
    let access_logs = t.add_with(
        "HttpApiAccessLogGroup",
        LogGroup {
            log_group_name: Some(Expr::from(format!(
                "/aws/vendedlogs/{}-api-access",
                names.prefix
            ))),
            retention_in_days: config.log_retention.get(),
        },
        log_group_skips(),
    )?;
    let format = json!({
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "latency": "$context.responseLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error"
    })
    .to_string();
    // Anonymous callers get their own, lower limits on the public routes, so one client cannot
    // use up the stage's rate that signed-in users share.
    let public = RouteSettings {
        detailed_metrics_enabled: config.detailed_metrics,
        throttling_burst_limit: config.throttling.public_burst_limit,
        throttling_rate_limit: f64::from(config.throttling.public_rate_limit),
    };
    let mut stage_options = Options::new();
    for (_, route) in &public_routes {
        stage_options = stage_options.depends_on(route);
    }
    t.add_with(
        "HttpApiStage",
        Stage {
            api_id: api.reference(),
            stage_name: "$default",
            auto_deploy: true,
            access_log_settings: AccessLogSettings {
                destination_arn: access_logs.arn(),
                format,
            },
            // Per-route metrics are about 120 paid metrics a stage that nothing reads: on only
            // when the stage asks.
            default_route_settings: RouteSettings {
                detailed_metrics_enabled: config.detailed_metrics,
                throttling_burst_limit: config.throttling.burst_limit,
                throttling_rate_limit: f64::from(config.throttling.rate_limit),
            },
            route_settings: public_routes
                .iter()
                .map(|(key, _)| (key.clone(), public.clone()))
                .collect(),
        },
        stage_options,
    )?;
    Ok(())
}
