//! The OpenAPI document, generated from the handlers and request/response types.

use std::sync::OnceLock;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Photo sharing API", description = "Upload, organise and share photos."),
    paths(
        routes::start_upload, routes::list_photos, routes::get_photo, routes::patch_photo, routes::delete_photo,
        routes::create_album, routes::list_albums, routes::get_album, routes::rename_album, routes::delete_album,
        routes::list_album_photos, routes::add_album_photo, routes::remove_album_photo,
        routes::create_share, routes::list_shares, routes::revoke_share,
        routes::open_share, routes::open_share_with_password, routes::me, routes::openapi,
    ),
    modifiers(&BearerAuth)
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
