//! A STOP applied by the webhook edge before the carrier gets its 2xx.
//!
//! During an inbound spike the inbound queue can hold minutes of work, and a broadcast sending
//! meanwhile must not reach a member who already said STOP. So the edge flips the member to
//! unsubscribed at once; the inbound stage later stores the text and queues the confirmation
//! as for any keyword, finding the member already unsubscribed.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::domain::PhoneNumber;

/// Unsubscribes unless a later keyword from this phone was applied already, or this very text
/// was (a carrier retry long after the member joined again must not undo that JOIN).
const OPT_OUT_NOW: &str = "UPDATE members SET status = 'unsubscribed', unsubscribed_at = $3, \
    last_keyword_at_ms = $4 \
    WHERE community_id = $1 AND phone = $2 AND status = 'subscribed' AND last_keyword_at_ms <= $4 \
    AND NOT EXISTS (SELECT 1 FROM inbound_messages WHERE carrier = $5 AND provider_message_id = $6)";

impl Store {
    /// Unsubscribes `phone` for an opt-out text the edge just verified; true when a subscribed
    /// member was switched off. `sent_at_ms` is the edge time the inbound stage orders by.
    pub async fn opt_out_now(
        &self,
        community_id: i64,
        phone: &PhoneNumber,
        at: DateTime<Utc>,
        sent_at_ms: i64,
        carrier: &str,
        provider_message_id: &str,
    ) -> Result<bool, StoreError> {
        let done = with_pool!(self, pool => sqlx::query(OPT_OUT_NOW)
            .bind(community_id)
            .bind(phone.as_str())
            .bind(at)
            .bind(sent_at_ms)
            .bind(carrier)
            .bind(provider_message_id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(done == 1)
    }
}
