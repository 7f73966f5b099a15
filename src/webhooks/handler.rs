//! The webhook handler: verify, parse, make durable, answer.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use prost::Message as _;

use super::{opt_out, reply};
use crate::bus::QueueName;
use crate::carriers::{WebhookError, WebhookEvent, WebhookRequest, WebhookRoute, verify_and_parse};
use crate::events::{timestamp, v1};
use crate::http::{AppState, Problem};
use crate::telemetry::metrics::{WEBHOOK_SIGNATURE_FAILURES_TOTAL, WEBHOOKS_TOTAL};

/// Largest webhook body accepted; carriers send a few KiB, anything bigger is abuse.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The carrier routes; Vonage may be configured to call with GET, so both methods are served.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/webhooks/{carrier}/{route}", post(handle).get(handle))
        .with_state(state)
}

fn count(carrier: &str, kind: &'static str, outcome: &'static str) {
    metrics::counter!(WEBHOOKS_TOTAL, "carrier" => carrier.to_owned(), "kind" => kind, "outcome" => outcome).increment(1);
}

async fn handle(
    State(state): State<AppState>,
    Path((carrier, route)): Path<(String, String)>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (Some(edge), Some(route)) = (state.edges.get(&carrier), WebhookRoute::parse(&route)) else {
        return Problem::not_found("webhook route").into_response();
    };
    let kind = route.as_str();
    let body: Bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            count(&carrier, kind, "too_large");
            return Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("webhook bodies are limited to {MAX_BODY_BYTES} bytes"),
            )
            .into_response();
        }
    };
    let public_url = public_url(&state, &uri);
    let request = WebhookRequest {
        method,
        public_url: &public_url,
        headers: &headers,
        body: &body,
    };
    let event = match verify_and_parse(
        edge.kind,
        route,
        &request,
        &edge.credentials,
        (state.clock)(),
    ) {
        Ok(event) => event,
        Err(WebhookError::Signature(failure)) => {
            count(&carrier, kind, "bad_signature");
            metrics::counter!(WEBHOOK_SIGNATURE_FAILURES_TOTAL, "carrier" => carrier.clone(), "reason" => failure.as_str()).increment(1);
            tracing::warn!(
                carrier,
                reason = failure.as_str(),
                "webhook refused: signature"
            );
            return Problem::new(
                StatusCode::FORBIDDEN,
                "bad_signature",
                format!("webhook signature check failed: {}", failure.as_str()),
            )
            .into_response();
        }
        Err(WebhookError::Malformed(reason)) => {
            count(&carrier, kind, "malformed");
            return Problem::bad_request("malformed_webhook", reason).into_response();
        }
    };
    let now = (state.clock)();
    let (queue, payload, kind) = match event {
        WebhookEvent::Inbound(sms) => {
            match state.numbers.community_of(&sms.to).await {
                Ok(Some(community)) if opt_out::is_opt_out(&sms) => {
                    let stop = opt_out::apply(&state, community, &carrier, &sms, now);
                    crate::store::at_the_edge(stop).await;
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    count(&carrier, "inbound", "unknown_number");
                    tracing::warn!(carrier, to = %sms.to, "inbound text to a number no community owns; ignored");
                    return reply::accepted(edge.kind);
                }
                Err(e) => return Problem::internal(e).into_response(),
            }
            // A part is durable in the queue like any text; the inbound stage joins the parts.
            let concat = sms.parts.filter(|p| p.total > 1).map(|p| v1::ConcatPart {
                reference: p.reference,
                total: u32::from(p.total),
                part: u32::from(p.part),
            });
            let command = v1::ProcessInbound {
                carrier: carrier.clone(),
                provider_message_id: sms.provider_message_id,
                from: sms.from.as_str().to_owned(),
                to: sms.to.as_str().to_owned(),
                body: sms.body,
                received_at: Some(timestamp(now)),
                concat,
                flush_concat: false,
            };
            (QueueName::inbound(), command.encode_to_vec(), "inbound")
        }
        WebhookEvent::Status(report) => {
            let command = v1::ApplyReceipt {
                carrier: carrier.clone(),
                provider_message_id: report.provider_message_id,
                status: report.status.as_str().to_owned(),
                raw_status: report.raw_status,
                error_code: report.error_code.unwrap_or_default(),
                received_at: Some(timestamp(now)),
                client_ref: report.client_ref.unwrap_or_default(),
                opted_out: report.opted_out,
                resend_after_ms: report
                    .resend_after
                    .map_or(0, |d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX)),
            };
            (QueueName::receipts(), command.encode_to_vec(), "status")
        }
        WebhookEvent::Ignored { reason } => {
            count(&carrier, kind, "ignored");
            tracing::debug!(carrier, reason, "webhook ignored");
            return reply::accepted(edge.kind);
        }
    };
    match state.ingest.accept(&queue, Bytes::from(payload)).await {
        Ok(_) => {
            count(&carrier, kind, "accepted");
            reply::accepted(edge.kind)
        }
        Err(e) => {
            count(&carrier, kind, "unavailable");
            tracing::error!(carrier, error = %e, "webhook could not be made durable; the carrier will retry");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "try again later",
            )
            .retry_after(5)
            .into_response()
        }
    }
}

/// The URL the carrier called, as it saw it: `FLOODGATE_PUBLIC_URL` plus our path and query.
fn public_url(state: &AppState, uri: &axum::http::Uri) -> String {
    let base = state.settings.public_url.as_str().trim_end_matches('/');
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    format!("{base}{path_and_query}")
}
