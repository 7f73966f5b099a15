//! The Vonage (legacy) SMS API's wire format (carriers-reference §3): `POST /sms/json` with
//! `api_key`/`api_secret` in a form or JSON body (or HTTP Basic), numbers as digits without
//! `+`, and **HTTP 200 whatever happened**: the outcome is `messages[].status`. A long message
//! is answered with one entry per part, and gets one DLR per part, signed with the account's
//! signature secret.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::ids::vonage_part_id;
use super::twilio::basic_credentials;
use super::{
    CLIENT_ID_HEADER, CallbackRequest, DeliveryStatus, Message, Rejection, SendRequest, Wire,
    answer, field,
};
use crate::config::{Account, Carrier};
use crate::engine::Shared;
use crate::signing::vonage_signature;

/// DLR `err-code` of a finally failed message: 3, absent subscriber (permanent). (2, the
/// temporary kind, invites the client to send again.)
const ABSENT_SUBSCRIBER: &str = "3";
/// The `network` / `network-code` every message is routed through (a US MCC-MNC).
const NETWORK: &str = "310260";
/// What each part costs, as Vonage writes prices.
const PRICE: &str = "0.03330000";

/// Marker for the [`Wire`] implementation.
pub(crate) struct Vonage;

/// The send route, mounted by the server.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/sms/json", post(send))
}

async fn send(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    answer::<Vonage>(shared, parse(&headers, &body)).await
}

/// The request's fields from a JSON object or a form, whichever the content type says
/// (a form when it says nothing); JSON numbers are taken as written.
fn pairs(headers: &HeaderMap, body: &[u8]) -> Vec<(String, String)> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if !is_json {
        return serde_urlencoded::from_bytes(body).unwrap_or_default();
    }
    let object: Map<String, Value> = serde_json::from_slice(body).unwrap_or_default();
    object
        .into_iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k, s)),
            Value::Number(n) => Some((k, n.to_string())),
            Value::Bool(b) => Some((k, b.to_string())),
            _ => None,
        })
        .collect()
}

fn parse(headers: &HeaderMap, body: &[u8]) -> SendRequest {
    let pairs = pairs(headers, body);
    let header_text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let credentials = match (field(&pairs, "api_key"), field(&pairs, "api_secret")) {
        (Some(key), Some(secret)) => Some((key, secret)),
        _ => header_text(header::AUTHORIZATION.as_str()).and_then(basic_credentials),
    };
    // Vonage wants digits; `+E.164` would be refused (status 3), which we record as such.
    let raw_to = field(&pairs, "to");
    let to_malformed = raw_to.as_deref().is_some_and(|to| to.starts_with('+'));
    let to = raw_to.map(|to| {
        if !to.is_empty() && to.bytes().all(|b| b.is_ascii_digit()) {
            format!("+{to}")
        } else {
            to
        }
    });
    SendRequest {
        account_sid: credentials
            .as_ref()
            .map(|(key, _)| key.clone())
            .unwrap_or_default(),
        credentials,
        to,
        to_malformed,
        from: field(&pairs, "from"),
        body: field(&pairs, "text"),
        status_callback: field(&pairs, "callback"),
        client_ref: field(&pairs, "client-ref"),
        client_id: header_text(CLIENT_ID_HEADER).map(str::to_owned),
        messaging_service: false,
    }
}

/// Vonage's digits-only form of a `+E.164` number.
fn digits(number: &str) -> &str {
    number.strip_prefix('+').unwrap_or(number)
}

fn ok(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

impl Wire for Vonage {
    const CARRIER: Carrier = Carrier::Vonage;

    fn owns(account: &Account, req: &SendRequest) -> bool {
        req.credentials
            .as_ref()
            .is_some_and(|(key, secret)| *key == account.sid && *secret == account.auth_token)
    }

    /// The `status` of §3.1. Opted-out recipients get 7 ("number barred"), the closest the
    /// legacy API has to a STOP block.
    fn error_code(rejection: Rejection) -> u16 {
        match rejection {
            Rejection::Throttled | Rejection::SenderQueueFull => 1,
            Rejection::MissingFrom | Rejection::MissingBody => 2,
            Rejection::InvalidTo => 3,
            Rejection::Unauthenticated => 4,
            Rejection::ServerError => 5,
            Rejection::OptedOut => 7,
        }
    }

    /// Always 200: the SMS API reports failures inside the body.
    fn http_status(_rejection: Rejection) -> u16 {
        200
    }

    fn accepted(m: &Message) -> Response {
        let parts: Vec<Value> = (0..m.segments.max(1))
            .map(|part| {
                let mut entry = json!({
                    "to": digits(&m.to),
                    "message-id": vonage_part_id(m.bits, part),
                    "status": "0",
                    "remaining-balance": "100.00000000",
                    "message-price": PRICE,
                    "network": NETWORK,
                });
                if let Some(reference) = &m.client_ref {
                    entry["client-ref"] = json!(reference);
                }
                entry
            })
            .collect();
        ok(json!({ "message-count": parts.len().to_string(), "messages": parts }))
    }

    fn refused(rejection: Rejection, request: &SendRequest) -> Response {
        let text = match rejection {
            Rejection::Throttled | Rejection::SenderQueueFull => "Throttled",
            Rejection::MissingFrom => "Missing from param",
            Rejection::MissingBody => "Missing text param",
            Rejection::InvalidTo => "Invalid to param",
            Rejection::Unauthenticated => "Bad Credentials",
            Rejection::ServerError => "Internal Error",
            Rejection::OptedOut => "Number barred",
        };
        let mut entry = json!({
            "status": Self::error_code(rejection).to_string(),
            "error-text": text,
        });
        if let Some(reference) = &request.client_ref {
            entry["client-ref"] = json!(reference);
        }
        ok(json!({ "message-count": "1", "messages": [entry] }))
    }

    fn status_callbacks(
        message: &Message,
        status: DeliveryStatus,
        url: &str,
        account: &Account,
    ) -> Vec<CallbackRequest> {
        let (status_name, err_code) = match status {
            DeliveryStatus::Sent => ("accepted", "0"),
            DeliveryStatus::Delivered => ("delivered", "0"),
            DeliveryStatus::Undelivered => ("failed", ABSENT_SUBSCRIBER),
        };
        let now = Utc::now();
        (0..message.segments.max(1))
            .map(|part| {
                let mut params = vec![
                    ("msisdn", digits(&message.to).to_owned()),
                    ("to", message.from.clone()),
                    ("network-code", NETWORK.to_owned()),
                    ("messageId", vonage_part_id(message.bits, part)),
                    ("price", PRICE.to_owned()),
                    ("status", status_name.to_owned()),
                    ("scts", now.format("%y%m%d%H%M").to_string()),
                    ("err-code", err_code.to_owned()),
                    ("api-key", message.account_sid.clone()),
                    (
                        "message-timestamp",
                        now.format("%Y-%m-%d %H:%M:%S").to_string(),
                    ),
                ];
                if let Some(reference) = &message.client_ref {
                    params.push(("client-ref", reference.clone()));
                }
                if !account.signature_secret.is_empty() {
                    params.push(("timestamp", now.timestamp().to_string()));
                    let nonce = message.bits[1] ^ (u64::from(part) << 8) ^ status as u64;
                    params.push(("nonce", format!("{nonce:016x}")));
                    let sig = vonage_signature(
                        &params,
                        &account.signature_secret,
                        account.signature_method,
                    );
                    params.push(("sig", sig));
                }
                CallbackRequest {
                    url: url.to_owned(),
                    content_type: "application/x-www-form-urlencoded",
                    headers: Vec::new(),
                    // Encoding a list of string pairs cannot fail.
                    body: serde_urlencoded::to_string(&params).unwrap_or_default(),
                }
            })
            .collect()
    }
}
