//! Carrier wire formats. The engine decides what happens to a send in carrier-neutral
//! terms ([`SendRequest`] in, [`Rejection`] or [`Message`] out); each carrier module
//! turns its HTTP shape into those and renders the answers and status callbacks back,
//! behind the one [`Wire`] trait. The path picks the module: Twilio's
//! `/2010-04-01/Accounts/{sid}/Messages.json`, Telnyx's `/v2/messages`, Vonage's
//! `/sms/json`.

pub(crate) mod ids;
pub(crate) mod telnyx;
pub(crate) mod twilio;
pub(crate) mod vonage;

use std::sync::Arc;

use axum::response::Response;
use chrono::{DateTime, Utc};

use crate::config::{Account, Carrier};
use crate::engine::Shared;

/// The header Floodgate may send to tie a carrier request to its own message.
pub const CLIENT_ID_HEADER: &str = "x-floodgate-message-id";

/// A send request, stripped of its wire format.
#[derive(Debug, Default)]
pub(crate) struct SendRequest {
    /// The account the request names (Twilio's URL, Vonage's `api_key`); empty when the
    /// credentials alone name it (Telnyx's Bearer key).
    pub account_sid: String,
    /// The credentials presented, as `(user, secret)`; Telnyx has an empty user.
    pub credentials: Option<(String, String)>,
    /// The recipient as `+E.164` when the wire form was right, else as sent.
    pub to: Option<String>,
    /// The recipient was present but in a form this carrier refuses (Vonage with `+`).
    pub to_malformed: bool,
    /// The sender; for a Twilio Messaging Service, its `MG…` SID (the pool is one sender
    /// as far as limits and the record go).
    pub from: Option<String>,
    /// Twilio: the sender is a Messaging Service (`MessagingServiceSid`, no `From`).
    pub messaging_service: bool,
    pub body: Option<String>,
    pub status_callback: Option<String>,
    /// Vonage's `client-ref`, echoed in the answer and the DLRs.
    pub client_ref: Option<String>,
    /// The `X-Floodgate-Message-Id` header, which lets the record link back to Floodgate.
    pub client_id: Option<String>,
}

/// Why a send was not accepted; each carrier maps these to its own codes and statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    Unauthenticated,
    MissingFrom,
    MissingBody,
    InvalidTo,
    OptedOut,
    Throttled,
    /// The sender's own queue at the carrier is full (Twilio 21611).
    SenderQueueFull,
    ServerError,
}

/// An accepted message, as the answer and the callbacks need it.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    /// The carrier-shaped id (`SM…`, a UUID, Vonage hex).
    pub id: String,
    /// The 128 random bits the id is made from; Vonage derives its per-part ids from them.
    pub bits: [u64; 2],
    pub account_sid: String,
    pub from: String,
    /// Twilio: `from` is a Messaging Service SID.
    pub messaging_service: bool,
    /// `+E.164`, whatever the carrier's wire form.
    pub to: String,
    pub body: String,
    pub segments: u16,
    pub client_ref: Option<String>,
    pub created: DateTime<Utc>,
    /// The status the final callback reports.
    pub outcome: DeliveryStatus,
}

/// Statuses the simulator reports after accepting a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeliveryStatus {
    Sent,
    Delivered,
    Undelivered,
}

/// One HTTP request ready to post, already signed.
#[derive(Debug, Clone)]
pub(crate) struct CallbackRequest {
    pub url: String,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// What a carrier module supplies to the engine, the send handler and the callback workers.
pub(crate) trait Wire {
    /// The carrier whose accounts this wire format serves.
    const CARRIER: Carrier;
    /// Whether `req`'s credentials are `account`'s (the carrier is checked by the caller).
    fn owns(account: &Account, req: &SendRequest) -> bool;
    /// The carrier's error code for a rejection (recorded, and put in the answer).
    fn error_code(rejection: Rejection) -> u16;
    /// The HTTP status the carrier answers a rejection with.
    fn http_status(rejection: Rejection) -> u16;
    /// The answer to an accepted send.
    fn accepted(message: &Message) -> Response;
    /// The answer to a refused send.
    fn refused(rejection: Rejection, request: &SendRequest) -> Response;
    /// Signed status callbacks for `message` reaching `status` (Vonage: one per part).
    fn status_callbacks(
        message: &Message,
        status: DeliveryStatus,
        url: &str,
        account: &Account,
    ) -> Vec<CallbackRequest>;
}

/// The send path every carrier shares once its request is parsed: decide, queue the
/// callbacks (the carrier has the message even if the client never hears back), wait the
/// sampled latency and any hang (cut short by shutdown), then answer.
pub(crate) async fn answer<C: Wire>(shared: Arc<Shared>, request: SendRequest) -> Response {
    let decision = shared.decide::<C>(&request);
    if let Some(job) = decision.callback {
        shared.callbacks.enqueue(job);
    }
    shared.wait(decision.delay).await;
    match decision.result {
        Ok(message) => C::accepted(&message),
        Err(rejection) => C::refused(rejection, &request),
    }
}

/// The first value of `name` among decoded form or JSON pairs.
pub(crate) fn field(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}
