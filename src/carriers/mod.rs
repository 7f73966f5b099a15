//! One adapter per carrier, each in its own folder with the same files.

mod mac;
pub mod twilio;
pub mod webhook;

pub use webhook::{
    CarrierKind, ConcatPart, InboundSms, SignatureFailure, StatusReport, WebhookError,
    WebhookEvent, WebhookRequest, WebhookRoute,
};
