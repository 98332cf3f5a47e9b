//! The OpenAPI document, generated from the handlers and request/response types.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Photo sharing API", description = "Upload, organise and share photos."),
    paths(
        routes::start_upload, routes::list_photos, routes::timeline, routes::timeline_months, routes::get_photo, routes::patch_photo, routes::delete_photo,
        routes::batch_photos,
        routes::create_album, routes::list_albums, routes::get_album, routes::rename_album, routes::delete_album,
        routes::list_album_photos, routes::add_album_photo, routes::remove_album_photo,
        routes::create_share, routes::list_shares, routes::revoke_share,
        routes::open_share, routes::open_share_with_password, routes::download_shared, routes::me, routes::update_me, routes::openapi,
    ),
    components(schemas(crate::error::ErrorCode)),
    modifiers(&BearerAuth, &CommonRefusals)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The refusals any operation of a kind can answer: a body that is not JSON or too large, a query
/// or path parameter that does not parse, a token refused or not checkable, a method the path
/// lacks, our own failure. Each names its codes ([`crate::ErrorCode`]); a status the operation's
/// annotation already lists gets them after its own words.
struct CommonRefusals;

impl Modify for CommonRefusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{Ref, RefOr, ResponseBuilder};
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let mut refusals: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
                let mut refuse = |status, description| {
                    refusals.entry(status).or_default().push(description);
                };
                if operation.request_body.is_some() {
                    refuse(
                        "400",
                        "`invalid_json`: the body is not JSON; `invalid_body`: a field is missing, unknown or of the wrong type (the message names it); `invalid_input`: a value is not acceptable",
                    );
                    refuse(
                        "413",
                        "`body_too_large`: the body is larger than the API takes",
                    );
                    refuse(
                        "415",
                        "`unsupported_media_type`: the body is not sent as `application/json`",
                    );
                }
                let params = operation.parameters.as_deref().unwrap_or_default();
                if params.iter().any(|p| p.parameter_in == ParameterIn::Query) {
                    refuse(
                        "400",
                        "`invalid_query`: a query parameter does not parse (the message names it); `invalid_cursor`, `invalid_input`",
                    );
                }
                if params.iter().any(|p| p.parameter_in == ParameterIn::Path) {
                    refuse(
                        "400",
                        "`invalid_path`: a path parameter is not valid UTF-8; `invalid_input`: an id that is not one",
                    );
                }
                if operation.security.is_some() {
                    refuse(
                        "401",
                        "`unauthorized`: no token, or one forged, expired or for another pool",
                    );
                    refuse(
                        "503",
                        "`auth_unavailable`: tokens cannot be checked right now; try again shortly",
                    );
                }
                refuse(
                    "405",
                    "`method_not_allowed`: the path exists, the method does not",
                );
                refuse(
                    "500",
                    "`internal`: our failure; the request id finds it in the logs",
                );
                for (status, descriptions) in refusals {
                    let description = descriptions.join("; ");
                    match operation.responses.responses.get_mut(status) {
                        // Annotated already: its own words first, then the common codes.
                        Some(RefOr::T(response)) if response.description.is_empty() => {
                            response.description = description;
                        }
                        Some(RefOr::T(response)) => {
                            response.description =
                                format!("{}; {description}", response.description);
                        }
                        Some(RefOr::Ref(_)) => {}
                        None => {
                            let response = ResponseBuilder::new()
                                .description(description)
                                .content(
                                    "application/json",
                                    utoipa::openapi::ContentBuilder::new()
                                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                                        .build(),
                                )
                                .build();
                            operation
                                .responses
                                .responses
                                .insert(status.to_owned(), response.into());
                        }
                    }
                }
            }
        }
    }
}

/// The document as pretty JSON with a final newline, built once.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        // The crate version would make the checked-in copy churn on every release bump.
        doc.info.version = "1".into();
        let mut text = doc
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    })
}
