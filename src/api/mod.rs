//! The leader API under `/v1`: API-key authentication scoped to one community, per-key rate
//! limits, problem+json errors and a generated OpenAPI document.
//!
//! # Layout
//! - `keys`: generating, hashing and revoking API keys (shared with the CLI).
//! - `auth`: the [`Caller`] extractor; `rate_limit`: the per-key token buckets.
//! - `extract`: JSON, query and body extractors whose rejections are problem+json.
//! - `broadcasts` (+ `broadcast_json`, `cap`), `members` (+ `import`), `inbound`: the handlers.
//! - `openapi`: the document and `GET /openapi.json`.

mod auth;
pub(crate) mod broadcast_json;
mod broadcasts;
mod cap;
mod extract;
mod import;
mod import_csv;
mod inbound;
pub mod keys;
mod members;
mod openapi;
mod rate_limit;

use std::sync::Arc;

use axum::Router;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};

pub use auth::Caller;
pub use import::{IMPORT_BODY_LIMIT, MAX_IMPORT_ROWS};
pub use openapi::ApiDoc;
pub use rate_limit::{KeyLimiter, RateLimit};

use crate::http::AppState;

/// What API handlers reach: the application's state and the per-key limiter.
#[derive(Clone)]
pub struct ApiState {
    pub app: AppState,
    pub limiter: Arc<KeyLimiter>,
}

/// Every API route, in one list: the router is built from it and the OpenAPI test checks it.
fn routes() -> Vec<(Method, &'static str, MethodRouter<ApiState>)> {
    vec![
        (Method::POST, "/v1/broadcasts", post(broadcasts::create)),
        (Method::GET, "/v1/broadcasts", get(broadcasts::list)),
        (Method::GET, "/v1/broadcasts/{id}", get(broadcasts::get)),
        (
            Method::POST,
            "/v1/broadcasts/{id}/cancel",
            post(broadcasts::cancel),
        ),
        (Method::GET, "/v1/members", get(members::list)),
        (Method::POST, "/v1/members/import", post(members::import)),
        (Method::GET, "/v1/inbound", get(inbound::list)),
        (Method::GET, "/openapi.json", get(openapi::document)),
    ]
}

/// The method and path of every route the API serves.
pub fn route_list() -> Vec<(Method, &'static str)> {
    routes().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// The API routes with the default rate limit.
pub fn router(state: AppState) -> Router {
    router_with(state, RateLimit::default())
}

/// The API routes with an explicit per-key rate limit.
pub fn router_with(state: AppState, limit: RateLimit) -> Router {
    let api = ApiState {
        app: state,
        limiter: Arc::new(KeyLimiter::new(limit)),
    };
    routes()
        .into_iter()
        .fold(Router::new(), |router, (_, path, handler)| {
            router.route(path, handler)
        })
        .with_state(api)
}
