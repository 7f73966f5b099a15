//! `/v1/members`: keyset-paged listing and bulk import for leaders moving from another platform.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::header;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{
    ApiQuery, is_json, media_type, page_limit, read_body, unsupported_media_type,
};
use super::import::{IMPORT_BODY_LIMIT, ImportReport, parse_json};
use super::import_csv::parse_csv;
use super::{ApiState, Caller};
use crate::domain::MemberStatus;
use crate::http::Problem;
use crate::store::Member;

/// A member of the caller's community.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberJson {
    pub id: i64,
    /// E.164.
    pub phone: String,
    /// `subscribed` or `unsubscribed`.
    pub status: String,
    pub subscribed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
    /// `keyword`, `import` or `api`.
    pub joined_via: String,
}

impl From<&Member> for MemberJson {
    fn from(m: &Member) -> Self {
        Self {
            id: m.id,
            phone: m.phone.as_str().to_owned(),
            status: m.status.as_str().to_owned(),
            subscribed_at: m.subscribed_at,
            unsubscribed_at: m.unsubscribed_at,
            joined_via: m.joined_via.as_str().to_owned(),
        }
    }
}

/// One page of members in id order.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberPage {
    pub members: Vec<MemberJson>,
    /// Pass as `after` for the next page; null on the last page.
    pub next: Option<i64>,
}

/// `GET /v1/members` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MembersQuery {
    /// `subscribed` or `unsubscribed`; all when absent.
    pub status: Option<String>,
    /// The previous page's `next`.
    pub after: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<i64>,
}

/// Lists members, oldest first, keyset-paged so pages never overlap or skip.
#[utoipa::path(get, path = "/v1/members", tag = "members", security(("bearer" = [])), params(MembersQuery),
    responses((status = 200, body = MemberPage),
        (status = 400, body = super::openapi::ProblemJson, content_type = "application/problem+json")))]
pub async fn list(
    State(api): State<ApiState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MembersQuery>,
) -> Result<Json<MemberPage>, Problem> {
    let status = match q.status.as_deref() {
        Some(s) => Some(MemberStatus::parse(s).ok_or_else(|| {
            Problem::bad_request(
                "invalid_query",
                format!("status `{s}` is not `subscribed` or `unsubscribed`"),
            )
        })?),
        None => None,
    };
    let limit = page_limit(q.limit, 100, 1000);
    let page = api
        .app
        .store
        .members_page(caller.community_id, status, q.after, limit)
        .await?;
    let next = (page.len() as i64 == limit)
        .then(|| page.last().map(|m| m.id))
        .flatten();
    Ok(Json(MemberPage {
        members: page.iter().map(MemberJson::from).collect(),
        next,
    }))
}

/// Imports phone numbers as subscribed members: a JSON array of strings, or `text/csv` with one
/// number per line (optional `phone` header) or another platform's export whose header row
/// names the phone column (`phone`, `mobile`, `number`, ...). Invalid rows are reported, valid
/// ones imported; members already present (including those who said STOP) are left as they are.
#[utoipa::path(post, path = "/v1/members/import", tag = "members", security(("bearer" = [])),
    request_body(content(
        (Vec<String> = "application/json", example = json!(["+14155550100"])),
        (String = "text/csv", example = "First Name,Mobile Number\nAda,+14155550100\n"))),
    responses((status = 200, body = ImportReport),
        (status = 400, body = super::openapi::ProblemJson, content_type = "application/problem+json"),
        (status = 413, description = "Over 100,000 rows or 4 MiB", body = super::openapi::ProblemJson, content_type = "application/problem+json"),
        (status = 415, body = super::openapi::ProblemJson, content_type = "application/problem+json")))]
pub async fn import(
    State(api): State<ApiState>,
    caller: Caller,
    req: Request,
) -> Result<Json<ImportReport>, Problem> {
    let content_type = req.headers().get(header::CONTENT_TYPE).cloned();
    let parsed = if is_json(content_type.as_ref()) {
        parse_json(&read_body(req, IMPORT_BODY_LIMIT).await?)?
    } else if media_type(content_type.as_ref()).as_deref() == Some("text/csv") {
        parse_csv(&read_body(req, IMPORT_BODY_LIMIT).await?)?
    } else {
        return Err(unsupported_media_type(
            "application/json (an array of strings) or text/csv",
        ));
    };
    let now = (api.app.clock)();
    let outcome = api
        .app
        .store
        .import_members(caller.community_id, &parsed.phones, now)
        .await?;
    Ok(Json(ImportReport::new(outcome, parsed.invalid)))
}
