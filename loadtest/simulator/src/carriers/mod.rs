//! Carrier wire formats. The engine decides what happens to a send in carrier-neutral
//! terms ([`SendRequest`] in, [`Rejection`] or [`Message`] out); each carrier module
//! turns its HTTP shape into those and renders the answers and status callbacks back.
//! Telnyx and Vonage will sit next to `twilio` behind the same [`Carrier`] trait.

pub(crate) mod twilio;

use chrono::{DateTime, Utc};

/// A send request, stripped of its wire format.
#[derive(Debug, Default)]
pub(crate) struct SendRequest {
    /// The account named by the request (URL, body or key, depending on the carrier).
    pub account_sid: String,
    /// The credentials presented, as `(user, secret)`.
    pub credentials: Option<(String, String)>,
    pub to: Option<String>,
    pub from: Option<String>,
    pub body: Option<String>,
    pub status_callback: Option<String>,
    /// The `X-Floodgate-Message-Id` header, which lets the record link back to Floodgate.
    pub client_id: Option<String>,
}

/// Why a send was not accepted; each carrier maps these to its own codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    Unauthenticated,
    MissingFrom,
    MissingBody,
    InvalidTo,
    OptedOut,
    Throttled,
    ServerError,
}

impl Rejection {
    /// The HTTP status, which every carrier here uses the same way.
    pub fn status(self) -> u16 {
        match self {
            Self::Unauthenticated => 401,
            Self::MissingFrom | Self::MissingBody | Self::InvalidTo | Self::OptedOut => 400,
            Self::Throttled => 429,
            Self::ServerError => 500,
        }
    }
}

/// An accepted message, as the callbacks need it.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub sid: String,
    pub account_sid: String,
    pub from: String,
    pub to: String,
    pub body: String,
    pub segments: u16,
    pub created: DateTime<Utc>,
    /// The status the second callback reports.
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

/// What a carrier module supplies to the engine and the callback workers.
pub(crate) trait Carrier {
    /// The carrier's error code for a rejection (recorded, and put in the error body).
    fn error_code(rejection: Rejection) -> u16;
    /// A signed status callback for `message` reaching `status`.
    fn status_callback(
        message: &Message,
        status: DeliveryStatus,
        url: &str,
        auth_token: &str,
    ) -> CallbackRequest;
}
