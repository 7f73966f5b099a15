//! Who is calling: `Authorization: Bearer <key>` resolved to the key's community, then rate-limited.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiState, keys};
use crate::http::Problem;

/// The authenticated caller; every handler scopes its queries to `community_id`.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub community_id: i64,
    pub key_id: i64,
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Response> {
        let key = bearer(parts).ok_or_else(|| {
            unauthorized(
                "send `Authorization: Bearer <API key>`; create one with `floodgate key create`",
            )
        })?;
        let stored = match keys::prefix_of(key) {
            Some(prefix) => state
                .app
                .store
                .api_key_by_prefix(prefix)
                .await
                .map_err(|e| Problem::from(e).into_response())?,
            None => None,
        };
        // Unknown, wrong and revoked keys get the same answer: a caller learns nothing about which.
        let stored = stored
            .filter(|k| keys::verify(key, &k.hash) && k.revoked_at.is_none())
            .ok_or_else(|| unauthorized("the API key is unknown or revoked"))?;
        state
            .limiter
            .check(stored.id)
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            community_id: stored.community_id,
            key_id: stored.id,
        })
    }
}

/// The token of a `Bearer` Authorization header (scheme case-insensitive, RFC 6750).
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// 401 problem with the `WWW-Authenticate` challenge RFC 6750 asks for.
fn unauthorized(detail: &str) -> Response {
    let mut response =
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"floodgate\""),
    );
    response
}
