//! STOP takes effect before the carrier hears back, not when the inbound queue reaches it.

use chrono::{DateTime, Utc};

use crate::carriers::InboundSms;
use crate::domain::Keyword;
use crate::http::AppState;
use crate::telemetry::metrics::EDGE_OPT_OUTS_TOTAL;

/// Whether `sms` is a whole opt-out text (a part of a long text never is: STOP fits one part).
pub(super) fn is_opt_out(sms: &InboundSms) -> bool {
    let whole = sms.parts.as_ref().is_none_or(|p| p.total <= 1);
    // Join keywords may not be opt-out words, so the community's own word cannot matter here.
    whole && Keyword::classify(&sms.body, "") == Some(Keyword::OptOut)
}

/// Unsubscribes the sender now; on a store error the text still goes to its queue, and the
/// inbound stage applies the STOP when it gets there, so nothing is lost, only later.
pub(super) async fn apply(
    state: &AppState,
    community_id: i64,
    carrier: &str,
    sms: &InboundSms,
    now: DateTime<Utc>,
) {
    let outcome = match state
        .store
        .opt_out_now(
            community_id,
            &sms.from,
            now,
            now.timestamp_millis(),
            carrier,
            &sms.provider_message_id,
        )
        .await
    {
        Ok(true) => "applied",
        Ok(false) => "unchanged",
        Err(e) => {
            tracing::warn!(carrier, error = %e, "STOP not applied at the edge; the inbound stage will apply it");
            "failed"
        }
    };
    metrics::counter!(EDGE_OPT_OUTS_TOTAL, "outcome" => outcome).increment(1);
}
