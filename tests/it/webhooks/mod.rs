//! Issue 3's carrier-facing webhooks, end to end over loopback HTTP on both store backends:
//! signatures, each carrier's wire format and answer, keywords, duplicates, status callbacks
//! and limits.

mod helpers;

mod channels;
mod concat;
mod keywords;
mod limits;
mod signatures;
mod status;
mod stop_at_edge;
mod twilio_sdk;
