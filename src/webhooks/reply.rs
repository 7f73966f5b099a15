//! Answering each carrier in the form it expects.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::carriers::CarrierKind;

/// Twilio wants TwiML; an empty `<Response/>` means "no reply message" (twilio-python's exact output).
const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response />";

/// The 2xx that tells a carrier its webhook is safely ours.
pub fn accepted(kind: CarrierKind) -> Response {
    match kind {
        CarrierKind::Twilio => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/xml")],
            EMPTY_TWIML,
        )
            .into_response(),
        CarrierKind::Telnyx => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{}",
        )
            .into_response(),
        CarrierKind::Vonage => StatusCode::NO_CONTENT.into_response(),
    }
}
