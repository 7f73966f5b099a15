//! Twilio Programmable Messaging's wire format (carriers-reference §1): the send
//! endpoint, its error bodies, and signed status callbacks.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{
    CLIENT_ID_HEADER, CallbackRequest, DeliveryStatus, Message, Rejection, SendRequest, Wire,
    answer, field,
};
use crate::config::{Account, Carrier};
use crate::engine::Shared;
use crate::signing::{TWILIO_SIGNATURE_HEADER, twilio_signature};

/// The API version in Twilio's paths and callbacks.
pub const API_VERSION: &str = "2010-04-01";
/// `ErrorCode` of a finally `undelivered` callback: 30005, unknown destination handset. (30003,
/// unreachable for now, is transient: a client may rightly send the message again.)
const UNREACHABLE: u16 = 30005;

/// Marker for the [`Wire`] implementation.
pub(crate) struct Twilio;

/// The send route, mounted by the server.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route(
        "/2010-04-01/Accounts/{account_sid}/Messages.json",
        post(send),
    )
}

async fn send(
    State(shared): State<Arc<Shared>>,
    Path(account_sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer::<Twilio>(shared, parse(account_sid, &headers, &body)).await
}

/// Reads the form tolerantly: an undecodable body is treated as an empty one, so it is
/// recorded and rejected like any other invalid send.
fn parse(account_sid: String, headers: &HeaderMap, body: &[u8]) -> SendRequest {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    // A Messaging Service replaces `From` (§1.1); the engine sends it for `MG…` senders.
    let service = field(&form, "MessagingServiceSid").filter(|_| field(&form, "From").is_none());
    SendRequest {
        account_sid,
        credentials: text(header::AUTHORIZATION.as_str()).and_then(basic_credentials),
        to: field(&form, "To"),
        messaging_service: service.is_some(),
        from: field(&form, "From").or(service),
        body: field(&form, "Body"),
        status_callback: field(&form, "StatusCallback"),
        client_id: text(CLIENT_ID_HEADER).map(str::to_owned),
        ..SendRequest::default()
    }
}

/// `(user, secret)` of an HTTP Basic header; Vonage accepts the same form.
pub(crate) fn basic_credentials(value: &str) -> Option<(String, String)> {
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, secret) = decoded.split_once(':')?;
    Some((user.to_owned(), secret.to_owned()))
}

/// The Message resource; with a Messaging Service it is `accepted` and `from` stays null
/// until the service picks a sender.
fn message_json(m: &Message) -> Value {
    let (status, from, service) = if m.messaging_service {
        ("accepted", Value::Null, json!(m.from))
    } else {
        ("queued", json!(m.from), Value::Null)
    };
    let created = m.created.format("%a, %d %b %Y %H:%M:%S %z").to_string();
    let uri = format!(
        "/{API_VERSION}/Accounts/{}/Messages/{}",
        m.account_sid, m.id
    );
    json!({
        "account_sid": m.account_sid,
        "api_version": API_VERSION,
        "body": m.body,
        "date_created": created,
        "date_updated": created,
        "date_sent": null,
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": from,
        "messaging_service_sid": service,
        "num_media": "0",
        "num_segments": m.segments.to_string(),
        "price": null,
        "price_unit": "USD",
        "sid": m.id,
        "status": status,
        "subresource_uris": { "media": format!("{uri}/Media.json") },
        "to": m.to,
        "uri": format!("{uri}.json"),
    })
}

impl Wire for Twilio {
    const CARRIER: Carrier = Carrier::Twilio;

    fn owns(account: &Account, req: &SendRequest) -> bool {
        account.sid == req.account_sid
            && req
                .credentials
                .as_ref()
                .is_some_and(|(user, secret)| *user == account.sid && *secret == account.auth_token)
    }

    fn http_status(rejection: Rejection) -> u16 {
        match rejection {
            Rejection::Unauthenticated => 401,
            Rejection::MissingFrom
            | Rejection::MissingBody
            | Rejection::InvalidTo
            | Rejection::OptedOut
            | Rejection::SenderQueueFull => 400,
            Rejection::Throttled => 429,
            Rejection::ServerError => 500,
        }
    }

    fn accepted(message: &Message) -> Response {
        (StatusCode::CREATED, axum::Json(message_json(message))).into_response()
    }

    fn refused(rejection: Rejection, request: &SendRequest) -> Response {
        let code = Self::error_code(rejection);
        let message = match rejection {
            Rejection::Unauthenticated => "Authenticate".to_owned(),
            Rejection::MissingFrom => "A 'From' phone number is required.".to_owned(),
            Rejection::MissingBody => "Message body is required.".to_owned(),
            Rejection::InvalidTo => format!(
                "The 'To' number {} is not a valid phone number.",
                request.to.as_deref().unwrap_or("")
            ),
            Rejection::OptedOut => "Attempt to send to unsubscribed recipient".to_owned(),
            Rejection::Throttled => "Too Many Requests".to_owned(),
            Rejection::SenderQueueFull => {
                "This 'From' number has exceeded the maximum number of queued messages".to_owned()
            }
            Rejection::ServerError => "An internal server error has occurred".to_owned(),
        };
        let status = StatusCode::from_u16(Self::http_status(rejection))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status.as_u16(),
        });
        (status, axum::Json(body)).into_response()
    }

    fn error_code(rejection: Rejection) -> u16 {
        match rejection {
            Rejection::Unauthenticated => 20003,
            Rejection::MissingFrom => 21603,
            Rejection::MissingBody => 21602,
            Rejection::InvalidTo => 21211,
            Rejection::OptedOut => 21610,
            Rejection::Throttled => 20429,
            Rejection::SenderQueueFull => 21611,
            Rejection::ServerError => 20500,
        }
    }

    fn status_callbacks(
        message: &Message,
        status: DeliveryStatus,
        url: &str,
        account: &Account,
    ) -> Vec<CallbackRequest> {
        let status_name = match status {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Undelivered => "undelivered",
        };
        let mut params = vec![
            ("MessageSid", message.id.clone()),
            ("MessageStatus", status_name.to_owned()),
            ("SmsSid", message.id.clone()),
            ("SmsStatus", status_name.to_owned()),
            ("AccountSid", message.account_sid.clone()),
            ("To", message.to.clone()),
            ("ApiVersion", API_VERSION.to_owned()),
        ];
        // The simulator models no pool numbers, so a service message names only the service.
        let sender = if message.messaging_service {
            "MessagingServiceSid"
        } else {
            "From"
        };
        params.push((sender, message.from.clone()));
        if status == DeliveryStatus::Undelivered {
            params.push(("ErrorCode", UNREACHABLE.to_string()));
        }
        vec![form_request(url, &account.auth_token, &params)]
    }
}

/// A signed form POST, shared by status callbacks and inbound webhooks.
pub(crate) fn form_request(
    url: &str,
    auth_token: &str,
    params: &[(&str, String)],
) -> CallbackRequest {
    let signature = twilio_signature(auth_token, url, params);
    CallbackRequest {
        url: url.to_owned(),
        content_type: "application/x-www-form-urlencoded",
        headers: vec![(TWILIO_SIGNATURE_HEADER, signature)],
        // Encoding a list of string pairs cannot fail.
        body: serde_urlencoded::to_string(params).unwrap_or_default(),
    }
}
