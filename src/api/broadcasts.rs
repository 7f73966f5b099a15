//! `/v1/broadcasts`: create (idempotently, within the daily cap), list, read with progress, cancel.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use prost::Message as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use super::broadcast_json::{
    BroadcastDetail, BroadcastJson, BroadcastPage, CreateBroadcastRequest, eta_seconds, remaining,
};
use super::extract::{ApiJson, ApiQuery, page_limit, path_id};
use super::{ApiState, Caller, cap};
use crate::bus::QueueName;
use crate::domain::{MemberStatus, MessageBody};
use crate::events::{Event, seal, timestamp, v1};
use crate::http::Problem;
use crate::store::{Broadcast, BroadcastStatus, CreateBroadcast, NewBroadcast};

/// Longest accepted `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// Creates a broadcast to every subscribed member and queues its fan-out.
///
/// If the fan-out cannot be queued the broadcast row exists but the answer is 503; the scheduler
/// sweep re-queues scheduled broadcasts, and a retry with the same `Idempotency-Key` re-queues at once.
#[utoipa::path(post, path = "/v1/broadcasts", tag = "broadcasts", security(("bearer" = [])),
    request_body = CreateBroadcastRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: same key and body return the same broadcast")),
    responses(
        (status = 202, description = "Accepted", body = BroadcastJson),
        (status = 200, description = "Replay of an idempotent request", body = BroadcastJson),
        (status = 400, description = "Malformed JSON", body = super::openapi::ProblemJson, content_type = "application/problem+json"),
        (status = 422, description = "invalid_body, invalid_send_at, idempotency_key_reused or daily_cap_exceeded", body = super::openapi::ProblemJson, content_type = "application/problem+json"),
        (status = 503, description = "Saved but not queued; retry", body = super::openapi::ProblemJson, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(api): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateBroadcastRequest>,
) -> Result<(StatusCode, Json<BroadcastJson>), Problem> {
    let body = MessageBody::parse(&req.body)
        .map_err(|e| Problem::unprocessable("invalid_body", e.to_string()))?;
    let now = (api.app.clock)();
    let send_at = match req.send_at.as_deref() {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                Problem::unprocessable(
                    "invalid_send_at",
                    format!("send_at `{text}` is not RFC 3339: {e}"),
                )
            })?,
        None => now,
    };
    let send_at_ms = send_at.max(now).timestamp_millis();
    let key = idempotency_key(&headers)?;
    let hash = request_hash(&body, req.send_at.as_ref().map(|_| send_at));
    let store = &api.app.store;
    if let Some(key) = key {
        if let Some(existing) = store
            .broadcast_by_idempotency_key(caller.community_id, key)
            .await?
        {
            return replay(&api, existing, &hash).await;
        }
    }
    let recipients = store
        .count_members(caller.community_id, Some(MemberStatus::Subscribed))
        .await?;
    cap::check(&api, caller.community_id, recipients, now).await?;
    let new = NewBroadcast {
        community_id: caller.community_id,
        body: &body,
        idempotency_key: key,
        request_hash: Some(&hash),
        send_at_ms,
        recipients,
    };
    match store.create_broadcast(&new).await? {
        CreateBroadcast::Created(b) => {
            queue_fanout(&api, b.id).await?;
            announce(&api, &b).await;
            Ok((StatusCode::ACCEPTED, Json(BroadcastJson::from(&b))))
        }
        CreateBroadcast::Existing(b) => replay(&api, b, &hash).await,
    }
}

/// Answers a repeated `Idempotency-Key`: the same request gets the same broadcast (and its
/// fan-out queued again, which is harmless because fan-out resumes from its cursor).
async fn replay(
    api: &ApiState,
    b: Broadcast,
    hash: &str,
) -> Result<(StatusCode, Json<BroadcastJson>), Problem> {
    if b.request_hash.as_deref() != Some(hash) {
        return Err(Problem::unprocessable(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        )
        .with("broadcast_id", b.id));
    }
    if !matches!(
        b.status,
        BroadcastStatus::Completed | BroadcastStatus::Cancelled
    ) {
        queue_fanout(api, b.id).await?;
    }
    Ok((StatusCode::OK, Json(BroadcastJson::from(&b))))
}

/// Publishes `BroadcastRequested`; best effort, as the store holds the broadcast already.
async fn announce(api: &ApiState, b: &Broadcast) {
    let now = Utc::now();
    let event = v1::BroadcastRequested {
        broadcast_id: b.id,
        community_id: b.community_id,
        send_at: DateTime::from_timestamp_millis(b.send_at_ms).map(timestamp),
    };
    let correlation = format!("broadcast-{}", b.id);
    let bytes = seal(
        &event,
        correlation.clone(),
        "floodgate/api",
        &correlation,
        now,
    );
    if let Err(e) = api
        .app
        .ingest
        .bus()
        .publish_event(v1::BroadcastRequested::TYPE, Bytes::from(bytes))
        .await
    {
        tracing::warn!(broadcast_id = b.id, error = %e, "broadcast event not published");
    }
}

/// Makes the fan-out command durable on the bus (or its outbox).
async fn queue_fanout(api: &ApiState, broadcast_id: i64) -> Result<(), Problem> {
    let payload = Bytes::from(v1::FanOutBroadcast { broadcast_id }.encode_to_vec());
    api.app
        .ingest
        .accept(&QueueName::fanout(), payload)
        .await
        .map(drop)
        .map_err(|e| {
            tracing::warn!(broadcast_id, error = %e, "cannot queue a broadcast's fan-out");
            Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the broadcast was saved but could not be queued; retry with the same Idempotency-Key",
        )
        .with("broadcast_id", broadcast_id)
        .retry_after(5)
        })
}

/// The `Idempotency-Key` header, if any: 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, Problem> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY);
    key.map(Some).ok_or_else(|| {
        Problem::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )
    })
}

/// What makes two requests "the same": the text and the requested send time.
fn request_hash(body: &MessageBody, send_at: Option<DateTime<Utc>>) -> String {
    let send_at = send_at
        .map(|t| t.timestamp_millis().to_string())
        .unwrap_or_default();
    hex::encode(Sha256::digest(
        format!("{}\n{send_at}", body.text()).as_bytes(),
    ))
}

/// `GET /v1/broadcasts` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only broadcasts older than this id (the previous page's `next`).
    pub before: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// Lists broadcasts, newest first.
#[utoipa::path(get, path = "/v1/broadcasts", tag = "broadcasts", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = BroadcastPage)))]
pub async fn list(
    State(api): State<ApiState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<BroadcastPage>, Problem> {
    let limit = page_limit(q.limit, 50, 200);
    let page = api
        .app
        .store
        .broadcasts_page(caller.community_id, q.before, limit)
        .await?;
    let next = (page.len() as i64 == limit)
        .then(|| page.last().map(|b| b.id))
        .flatten();
    let broadcasts = page.iter().map(BroadcastJson::from).collect();
    Ok(Json(BroadcastPage { broadcasts, next }))
}

/// One broadcast with its counts per message status and an ETA.
#[utoipa::path(get, path = "/v1/broadcasts/{id}", tag = "broadcasts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BroadcastDetail),
        (status = 404, body = super::openapi::ProblemJson, content_type = "application/problem+json")))]
pub async fn get(
    State(api): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<BroadcastDetail>, Problem> {
    let id = path_id(&id, "broadcast")?;
    let store = &api.app.store;
    let b = store
        .broadcast(caller.community_id, id)
        .await?
        .ok_or_else(|| Problem::not_found("broadcast"))?;
    let counts = store.message_counts(b.id).await?;
    let left = remaining(&b, &counts);
    let json = BroadcastJson::from(&b);
    let rate = cap::send_rate(&api, caller.community_id).await?;
    Ok(Json(BroadcastDetail {
        broadcast: json,
        counts: counts.into(),
        remaining: left,
        eta_seconds: eta_seconds(left, rate),
    }))
}

/// Cancels a broadcast: queued messages are not sent; those already handed to a carrier are.
#[utoipa::path(post, path = "/v1/broadcasts/{id}/cancel", tag = "broadcasts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BroadcastJson),
        (status = 404, body = super::openapi::ProblemJson, content_type = "application/problem+json")))]
pub async fn cancel(
    State(api): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<BroadcastJson>, Problem> {
    let id = path_id(&id, "broadcast")?;
    let now = (api.app.clock)();
    let b = api
        .app
        .store
        .cancel_broadcast(caller.community_id, id, now)
        .await?;
    let b = b.ok_or_else(|| Problem::not_found("broadcast"))?;
    Ok(Json(BroadcastJson::from(&b)))
}
