//! The events of the deliver stage's transitions: a carrier took a message, or it ended
//! without being sent. Built from a batch of send results once that batch is durable.
//!
//! Event ids are per message and transition (`sent-{id}`, `failed-{id}`), the same ids the
//! receipts stage uses for a carrier's `sent` callback, so a consumer that deduplicates by id
//! sees each transition once however many times it was announced.

use bytes::Bytes;
use chrono::Utc;

use crate::domain::MessageStatus;
use crate::events::{Event, seal, timestamp, v1};
use crate::store::SendRecord;

/// Who publishes these, in the envelope's `producer`.
const PRODUCER: &str = "floodgate/deliver";

/// One event per result that changes what the outside world knows; retries and deferrals
/// (a message back to `queued`/`sending`) announce nothing.
pub fn send_events(carrier: &str, records: &[SendRecord]) -> Vec<(&'static str, Bytes)> {
    let now = Utc::now();
    let at = Some(timestamp(now));
    records
        .iter()
        .filter_map(|r| {
            let correlation = r.id.to_string();
            match r.status {
                MessageStatus::Sent => {
                    let event = v1::MessageSent {
                        message_id: r.id,
                        carrier: carrier.to_owned(),
                        provider_message_id: r.provider_message_id.clone().unwrap_or_default(),
                        at,
                    };
                    let bytes = seal(
                        &event,
                        format!("sent-{}", r.id),
                        PRODUCER,
                        &correlation,
                        now,
                    );
                    Some((v1::MessageSent::TYPE, Bytes::from(bytes)))
                }
                MessageStatus::Failed | MessageStatus::Undelivered | MessageStatus::Cancelled => {
                    let event = v1::MessageFailed {
                        message_id: r.id,
                        carrier: carrier.to_owned(),
                        provider_message_id: r.provider_message_id.clone().unwrap_or_default(),
                        error_code: r.error_code.clone().unwrap_or_default(),
                        status: r.status.as_str().to_owned(),
                        at,
                    };
                    let bytes = seal(
                        &event,
                        format!("failed-{}", r.id),
                        PRODUCER,
                        &correlation,
                        now,
                    );
                    Some((v1::MessageFailed::TYPE, Bytes::from(bytes)))
                }
                MessageStatus::Queued | MessageStatus::Sending | MessageStatus::Delivered => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::open;

    fn record(id: i64, status: MessageStatus, code: Option<&str>) -> SendRecord {
        SendRecord {
            id,
            provider_message_id: (status == MessageStatus::Sent).then(|| format!("SM{id}")),
            status,
            error_code: code.map(str::to_owned),
        }
    }

    #[test]
    fn sends_and_endings_are_announced_retries_are_not() {
        let events = send_events(
            "twilio",
            &[
                record(1, MessageStatus::Sent, None),
                record(2, MessageStatus::Failed, Some("21211")),
                record(3, MessageStatus::Cancelled, Some("opted_out")),
                record(4, MessageStatus::Sending, Some("throttled")),
                record(5, MessageStatus::Queued, Some("429")),
            ],
        );
        let keys: Vec<&str> = events.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                v1::MessageSent::TYPE,
                v1::MessageFailed::TYPE,
                v1::MessageFailed::TYPE
            ]
        );
        let (envelope, sent) = open::<v1::MessageSent>(&events[0].1).unwrap();
        assert_eq!(
            (envelope.id.as_str(), sent.provider_message_id.as_str()),
            ("sent-1", "SM1")
        );
        let (_, failed) = open::<v1::MessageFailed>(&events[1].1).unwrap();
        assert_eq!(
            (failed.error_code.as_str(), failed.status.as_str()),
            ("21211", "failed")
        );
        let (_, cancelled) = open::<v1::MessageFailed>(&events[2].1).unwrap();
        assert_eq!(cancelled.status, "cancelled");
    }
}
