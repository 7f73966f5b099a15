//! Extractors whose rejections are problem+json: axum's own answer plain text, which clients
//! cannot branch on.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use crate::http::Problem;

/// JSON bodies larger than this are refused with 413 (a broadcast body is at most 1,600 characters).
pub const JSON_LIMIT: usize = 64 * 1024;

/// A JSON request body; malformed JSON is a 400 `invalid_json` naming the offending field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Problem> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(unsupported_media_type("application/json"));
        }
        let bytes = read_body(req, JSON_LIMIT).await?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(ApiJson)
            .map_err(|e| Problem::bad_request("invalid_json", format!("malformed JSON: {e}")))
    }
}

/// A query string; a malformed one is a 400 `invalid_query`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map(ApiQuery)
            .map_err(|e| Problem::bad_request("invalid_query", format!("bad query string: {e}")))
    }
}

/// Reads at most `limit` bytes of body; more is a 413 `payload_too_large`.
pub async fn read_body(req: Request, limit: usize) -> Result<Bytes, Problem> {
    let limited = Limited::new(req.into_body(), limit);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is over {limit} bytes"),
        )),
        Err(e) => Err(Problem::bad_request(
            "unreadable_body",
            format!("cannot read the body: {e}"),
        )),
    }
}

/// Whether a Content-Type is JSON (`application/json`, or any `+json` type).
pub fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    media_type(content_type).is_some_and(|m| m == "application/json" || m.ends_with("+json"))
}

/// The lower-cased media type of a Content-Type header, without parameters.
pub fn media_type(content_type: Option<&header::HeaderValue>) -> Option<String> {
    let value = content_type?.to_str().ok()?;
    let media = value.split(';').next()?.trim().to_ascii_lowercase();
    Some(media)
}

/// 415 naming what the route accepts.
pub fn unsupported_media_type(accepted: &str) -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        format!("send the body as {accepted}"),
    )
}

/// A path id; anything that is not a positive integer cannot name a row, so it is a 404.
pub fn path_id(raw: &str, what: &str) -> Result<i64, Problem> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Problem::not_found(what))
}

/// Page size: `limit` clamped to 1..=`max`, `default` when absent.
pub fn page_limit(limit: Option<i64>, default: i64, max: i64) -> i64 {
    limit.unwrap_or(default).clamp(1, max)
}
