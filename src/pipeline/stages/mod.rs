//! The five stages' processors: what each does with one work item.
//!
//! `inbound_parts` is the inbound stage's joining of long texts delivered per part.

mod deliver;
mod deliver_events;
mod deliver_metrics;
mod fanout;
mod inbound;
mod inbound_parts;
mod receipts;

pub use deliver::DeliverStage;
pub use deliver_events::send_events;
pub use deliver_metrics::DeliverMetrics;
pub use fanout::FanOutStage;
pub use inbound::InboundStage;
pub use receipts::ReceiptsStage;

use prost::Message;

use crate::bus::Outcome;

/// Decodes a work item's payload; an undecodable one can never succeed, so it is rejected.
pub(crate) fn decode<M: Message + Default>(payload: &[u8]) -> Result<M, Outcome> {
    M::decode(payload).map_err(|e| Outcome::Reject {
        reason: format!("undecodable payload: {e}"),
    })
}

/// A store or bus failure is passing: retry later.
pub(crate) fn retry(reason: impl std::fmt::Display) -> Outcome {
    Outcome::Retry {
        hint: None,
        reason: reason.to_string(),
    }
}
