//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{broadcasts, inbound, members};

/// An error (RFC 9457 problem+json); clients branch on `code`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemJson {
    /// `urn:floodgate:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Stable: `unauthorized`, `not_found`, `invalid_json`, `invalid_query`, `invalid_body`,
    /// `invalid_send_at`, `invalid_idempotency_key`, `idempotency_key_reused`,
    /// `daily_cap_exceeded`, `rate_limited`, `payload_too_large`, `too_many_rows`,
    /// `unsupported_media_type`, `unavailable`, `internal`.
    pub code: String,
    pub detail: String,
}

/// The leader API's document; every handler must be listed in `paths`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Floodgate leader API", description = "Broadcast to your members, import them, read your inbox."),
    paths(
        broadcasts::create, broadcasts::list, broadcasts::get, broadcasts::cancel,
        members::list, members::import, inbound::list, document,
    ),
    components(schemas(ProblemJson)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme the paths refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key from `floodgate key create`"))
                    .build(),
            ),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
