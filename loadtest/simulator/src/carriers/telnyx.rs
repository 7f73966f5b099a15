//! Telnyx Messaging v2's wire format (carriers-reference §2): `POST /v2/messages` with a
//! Bearer API key and a JSON body, `{"data":{…}}` answers, `{"errors":[…]}` refusals with
//! string codes, and `message.sent` / `message.finalized` webhooks signed with Ed25519.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::ids::message_id;
use super::{
    CLIENT_ID_HEADER, CallbackRequest, DeliveryStatus, Message, Rejection, SendRequest, Wire,
    answer,
};
use crate::config::{Account, Carrier};
use crate::engine::Shared;
use crate::segments;
use crate::signing::{TELNYX_SIGNATURE_HEADER, TELNYX_TIMESTAMP_HEADER, telnyx_signature};

/// Error code of a `delivery_failed` webhook: 40008, undeliverable.
const UNDELIVERABLE: &str = "40008";

/// Marker for the [`Wire`] implementation.
pub(crate) struct Telnyx;

/// The send route, mounted by the server.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/v2/messages", post(send))
}

async fn send(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    answer::<Telnyx>(shared, parse(&headers, &body)).await
}

/// Reads the JSON tolerantly: a body that is not an object is recorded and refused like
/// any other invalid send. Only string fields count; Telnyx refuses others anyway.
fn parse(headers: &HeaderMap, body: &[u8]) -> SendRequest {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |name: &str| json.get(name).and_then(Value::as_str).map(str::to_owned);
    let header_text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let key = header_text(header::AUTHORIZATION.as_str())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|key| (String::new(), key.trim().to_owned()));
    SendRequest {
        credentials: key,
        to: text("to"),
        from: text("from"),
        body: text("text"),
        status_callback: text("webhook_url"),
        client_id: header_text(CLIENT_ID_HEADER).map(str::to_owned),
        ..SendRequest::default()
    }
}

fn message_json(m: &Message, status: &str, errors: Value) -> Value {
    let encoding = if segments::is_gsm7(&m.body) {
        "GSM-7"
    } else {
        "UCS-2"
    };
    json!({
        "record_type": "message",
        "id": m.id,
        "direction": "outbound",
        "type": "SMS",
        "from": { "phone_number": m.from, "carrier": "Telnyx", "line_type": "Wireless" },
        "to": [{ "phone_number": m.to, "status": status, "carrier": "", "line_type": "" }],
        "text": m.body,
        "parts": m.segments,
        "encoding": encoding,
        "cost": null,
        "errors": errors,
        "created_at": m.created.to_rfc3339_opts(SecondsFormat::Millis, true),
    })
}

impl Wire for Telnyx {
    const CARRIER: Carrier = Carrier::Telnyx;

    /// The Bearer key alone names the account.
    fn owns(account: &Account, req: &SendRequest) -> bool {
        req.credentials
            .as_ref()
            .is_some_and(|(_, key)| *key == account.auth_token)
    }

    /// Codes from §2.1; the two for missing fields (10015) and the internal error (10007)
    /// are not in the reference, and the engine treats them as any other 4xx / 5xx.
    fn error_code(rejection: Rejection) -> u16 {
        match rejection {
            Rejection::Unauthenticated => 10009,
            Rejection::MissingFrom | Rejection::MissingBody => 10015,
            Rejection::InvalidTo => 10016,
            Rejection::OptedOut => 40300,
            Rejection::Throttled | Rejection::SenderQueueFull => 40318,
            Rejection::ServerError => 10007,
        }
    }

    fn http_status(rejection: Rejection) -> u16 {
        match rejection {
            Rejection::Unauthenticated => 401,
            Rejection::MissingFrom | Rejection::MissingBody | Rejection::InvalidTo => 422,
            Rejection::OptedOut => 409,
            Rejection::Throttled | Rejection::SenderQueueFull => 429,
            Rejection::ServerError => 500,
        }
    }

    fn accepted(message: &Message) -> Response {
        let data = message_json(message, "queued", json!([]));
        (StatusCode::OK, axum::Json(json!({ "data": data }))).into_response()
    }

    fn refused(rejection: Rejection, request: &SendRequest) -> Response {
        let (title, detail, pointer) = match rejection {
            Rejection::Unauthenticated => (
                "Authentication failed",
                "The API key in the Authorization header is missing or unknown.".to_owned(),
                None,
            ),
            Rejection::MissingFrom => (
                "Bad request",
                "`from` is required.".to_owned(),
                Some("/from"),
            ),
            Rejection::MissingBody => (
                "Bad request",
                "`text` is required.".to_owned(),
                Some("/text"),
            ),
            Rejection::InvalidTo => (
                "Invalid destination number",
                format!(
                    "The 'to' number {} must be in +E.164 format.",
                    request.to.as_deref().unwrap_or("")
                ),
                Some("/to"),
            ),
            Rejection::OptedOut => (
                "Blocked due to STOP message",
                "The recipient has opted out of messages from this messaging profile.".to_owned(),
                Some("/to"),
            ),
            Rejection::Throttled | Rejection::SenderQueueFull => (
                "Message queue full",
                "The message queue for this account or number is full; try again later.".to_owned(),
                None,
            ),
            Rejection::ServerError => ("Unexpected error", "Please try again.".to_owned(), None),
        };
        let mut error = json!({
            "code": Self::error_code(rejection).to_string(),
            "title": title,
            "detail": detail,
        });
        if let Some(pointer) = pointer {
            error["source"] = json!({ "pointer": pointer });
        }
        let status = StatusCode::from_u16(Self::http_status(rejection))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(json!({ "errors": [error] }))).into_response()
    }

    fn status_callbacks(
        message: &Message,
        status: DeliveryStatus,
        url: &str,
        account: &Account,
    ) -> Vec<CallbackRequest> {
        let (event_type, to_status, errors) = match status {
            DeliveryStatus::Sent => ("message.sent", "sent", json!([])),
            DeliveryStatus::Delivered => ("message.finalized", "delivered", json!([])),
            DeliveryStatus::Undelivered => (
                "message.finalized",
                "delivery_failed",
                json!([{ "code": UNDELIVERABLE, "title": "Undeliverable",
                         "detail": "The destination handset could not be reached." }]),
            ),
        };
        let now = Utc::now();
        let mut payload = message_json(message, to_status, errors);
        payload["completed_at"] = json!(now.to_rfc3339_opts(SecondsFormat::Millis, true));
        // Each event gets its own id; deriving it from the message keeps runs replayable.
        let event_bits = [message.bits[1], message.bits[0] ^ status as u64];
        let event = json!({
            "data": {
                "event_type": event_type,
                "id": message_id(Carrier::Telnyx, event_bits),
                "occurred_at": now.to_rfc3339_opts(SecondsFormat::Millis, true),
                "payload": payload,
                "record_type": "event",
            },
            "meta": { "attempt": 1, "delivered_to": url },
        });
        let body = event.to_string();
        let timestamp = now.timestamp().to_string();
        let signature = telnyx_signature(&account.signing_seed, &timestamp, body.as_bytes());
        vec![CallbackRequest {
            url: url.to_owned(),
            content_type: "application/json",
            headers: vec![
                (TELNYX_SIGNATURE_HEADER, signature),
                (TELNYX_TIMESTAMP_HEADER, timestamp),
            ],
            body,
        }]
    }
}
