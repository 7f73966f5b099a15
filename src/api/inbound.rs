//! `/v1/inbound`: the leader's inbox, texts from members that were not keywords.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiQuery, page_limit};
use super::{ApiState, Caller};
use crate::http::Problem;
use crate::store::Inbound;

/// A text a member sent to the community's number.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundJson {
    pub id: i64,
    pub from: String,
    pub to: String,
    pub body: String,
    /// The keyword the text matched, if any.
    pub keyword: Option<String>,
    pub received_at: DateTime<Utc>,
}

impl From<&Inbound> for InboundJson {
    fn from(m: &Inbound) -> Self {
        Self {
            id: m.id,
            from: m.from.as_str().to_owned(),
            to: m.to.as_str().to_owned(),
            body: m.body.clone(),
            keyword: m.keyword.clone(),
            received_at: m.received_at,
        }
    }
}

/// One page of the inbox, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundPage {
    pub messages: Vec<InboundJson>,
    /// Pass as `after` for the next page; null on the last page.
    pub next: Option<i64>,
}

/// `GET /v1/inbound` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct InboundQuery {
    /// The previous page's `next`.
    pub after: Option<i64>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// Lists inbound texts in the order they arrived.
#[utoipa::path(get, path = "/v1/inbound", tag = "inbound", security(("bearer" = [])), params(InboundQuery),
    responses((status = 200, body = InboundPage)))]
pub async fn list(
    State(api): State<ApiState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<InboundQuery>,
) -> Result<Json<InboundPage>, Problem> {
    let limit = page_limit(q.limit, 100, 500);
    let page = api
        .app
        .store
        .inbound_page(caller.community_id, q.after, limit)
        .await?;
    let next = (page.len() as i64 == limit)
        .then(|| page.last().map(|m| m.id))
        .flatten();
    Ok(Json(InboundPage {
        messages: page.iter().map(InboundJson::from).collect(),
        next,
    }))
}
