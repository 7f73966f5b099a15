//! Which text an inbound work item stands for: its own body, or a long message's parts joined.
//!
//! A part is stored and acknowledged; the part that completes its set (in whatever order the
//! parts came) carries the joined text on. A retried part of a complete set yields the same
//! text, which the keyword transaction then catches as a duplicate, so a crash between storing
//! a part and applying the text loses nothing.

use crate::domain::{PhoneNumber, SenderAddress};
use crate::events::v1;
use crate::store::{JoinedText, NewInboundPart, PartsState, Store, StoreError};
use crate::telemetry::metrics::INBOUND_PARTS_TOTAL;

/// The text the keyword layer is asked to process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Text {
    pub provider_message_id: String,
    pub body: String,
    /// When the member sent it (the edge's clock, ms): orders one phone's keywords.
    pub sent_at_ms: i64,
    /// False for a flushed fragment: part of a message is not what the member said, so it goes
    /// to the leader's inbox but is never read as JOIN, STOP or HELP.
    pub keywords: bool,
    /// The concat reference to forget once the text is applied (a flushed fragment's set).
    pub forget: Option<String>,
}

/// What a work item amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Resolved {
    Text(Text),
    /// A part was kept; its message is not whole yet (or a flush found its set gone).
    Nothing,
}

fn count(carrier: &str, outcome: &'static str) {
    metrics::counter!(INBOUND_PARTS_TOTAL, "carrier" => carrier.to_owned(), "outcome" => outcome)
        .increment(1);
}

fn from_joined(joined: JoinedText, forget: Option<String>) -> Text {
    Text {
        provider_message_id: joined.provider_message_id,
        body: joined.body,
        sent_at_ms: joined.received_at_ms,
        keywords: forget.is_none(),
        forget,
    }
}

/// Resolves `cmd` (already checked to carry valid numbers) to the text to process, if any.
pub(super) async fn resolve(
    store: &Store,
    cmd: &v1::ProcessInbound,
    from: &PhoneNumber,
    to: &SenderAddress,
    sent_at_ms: i64,
) -> Result<Resolved, StoreError> {
    // Part numbers the edge would have refused cannot be joined: such a body stands alone.
    let joinable = |c: &&v1::ConcatPart| {
        c.total > 1
            && c.total <= u32::from(u16::MAX)
            && (cmd.flush_concat || (1..=c.total).contains(&c.part))
    };
    let Some(concat) = cmd.concat.as_ref().filter(joinable) else {
        return Ok(Resolved::Text(Text {
            provider_message_id: cmd.provider_message_id.clone(),
            body: cmd.body.clone(),
            sent_at_ms,
            keywords: true,
            forget: None,
        }));
    };
    if cmd.flush_concat {
        let Some(joined) = store
            .inbound_parts_so_far(&cmd.carrier, from, &concat.reference)
            .await?
        else {
            return Ok(Resolved::Nothing);
        };
        if joined.complete {
            // The last part came after all: an ordinary whole text, kept for retries like any.
            return Ok(Resolved::Text(from_joined(joined, None)));
        }
        count(&cmd.carrier, "flushed");
        tracing::warn!(carrier = %cmd.carrier, reference = %concat.reference, "long inbound text flushed with parts missing");
        return Ok(Resolved::Text(from_joined(
            joined,
            Some(concat.reference.clone()),
        )));
    }
    let part = NewInboundPart {
        carrier: &cmd.carrier,
        from,
        to,
        reference: &concat.reference,
        total: u16::try_from(concat.total).unwrap_or(u16::MAX),
        part: u16::try_from(concat.part).unwrap_or(u16::MAX),
        provider_message_id: &cmd.provider_message_id,
        body: &cmd.body,
        received_at_ms: sent_at_ms,
    };
    match store.add_inbound_part(&part).await? {
        PartsState::Waiting { .. } => {
            count(&cmd.carrier, "waiting");
            Ok(Resolved::Nothing)
        }
        PartsState::Complete(joined) => {
            count(&cmd.carrier, "complete");
            Ok(Resolved::Text(from_joined(joined, None)))
        }
    }
}
