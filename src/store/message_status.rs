//! Status changes of sent messages: the carrier's answer and its later callbacks, forward only.

use chrono::{DateTime, Utc};

use super::decode::{message_status, opt_sender_address, phone};
use super::{Store, StoreError};
use crate::domain::{MessageStatus, PhoneNumber, SenderAddress};

/// What a status callback did.
#[derive(Debug, Clone, PartialEq)]
pub enum AdvanceOutcome {
    Advanced {
        message_id: i64,
        /// What the message moved to: the report's status, or for a part's report the status
        /// derived from all its parts (`store::message_parts`).
        status: MessageStatus,
        community_id: i64,
        broadcast_id: Option<i64>,
        from: Option<SenderAddress>,
        to: PhoneNumber,
        /// When the carrier accepted it; equal to `delivered_at` if this callback set both.
        sent_at: Option<DateTime<Utc>>,
        /// When the delivered callback was applied; `None` until delivered.
        delivered_at: Option<DateTime<Utc>>,
    },
    /// The message is already at or past the reported status (duplicate or out-of-order callback).
    Stale {
        message_id: i64,
        current: MessageStatus,
    },
    /// No message has this provider id (yet): the callback may have beaten `record_send_result`.
    Unknown,
}

/// Sets every status column; the `status_rank < $rank` guard in each WHERE clause is what makes
/// concurrent updates unable to move a message backward on either engine.
pub(super) const SET_STATUS: &str = "status = $3, status_rank = $4, last_error_code = COALESCE($5, last_error_code), \
    updated_at = $6, sent_at = COALESCE(sent_at, $7), delivered_at = COALESCE(delivered_at, $8)";

/// How many times a callback looks for its message when a concurrent write hid it.
const ADVANCE_LOOKS: usize = 3;

/// The times a status implies: (sent_at, delivered_at); any carrier verdict means it was sent.
pub(super) fn implied_times(
    status: MessageStatus,
    at: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let sent = (status.rank() >= MessageStatus::Sent.rank() && status != MessageStatus::Cancelled)
        .then_some(at);
    let delivered = (status == MessageStatus::Delivered).then_some(at);
    (sent, delivered)
}

impl Store {
    /// Records the carrier's answer to a send; false if the message was already further along.
    pub async fn record_send_result(
        &self,
        id: i64,
        provider_message_id: Option<&str>,
        status: MessageStatus,
        error_code: Option<&str>,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE messages SET provider_message_id = COALESCE($2, provider_message_id), {SET_STATUS} \
             WHERE id = $1 AND status_rank < $4"
        );
        let at = Utc::now();
        let (sent, delivered) = implied_times(status, at);
        let done = with_pool!(self, pool => sqlx::query(&sql)
            .bind(id)
            .bind(provider_message_id)
            .bind(status.as_str())
            .bind(i32::from(status.rank()))
            .bind(error_code)
            .bind(at)
            .bind(sent)
            .bind(delivered)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Applies a carrier status callback if it moves the message forward.
    pub async fn advance_status_by_provider_id(
        &self,
        carrier: &str,
        provider_message_id: &str,
        status: MessageStatus,
        error_code: Option<&str>,
    ) -> Result<AdvanceOutcome, StoreError> {
        let update = StatusUpdate {
            carrier: carrier.to_owned(),
            provider_message_id: provider_message_id.to_owned(),
            status,
            error_code: error_code.map(str::to_owned),
        };
        let mut outcomes = self.advance_statuses(std::slice::from_ref(&update)).await?;
        Ok(outcomes.pop().unwrap_or(AdvanceOutcome::Unknown))
    }

    /// Applies many status callbacks in one transaction (one commit, one write lock) and says
    /// what each did, in the order given. Rows are visited in provider-id order, so two batches
    /// on PostgreSQL always lock shared messages in the same order and never deadlock.
    pub async fn advance_statuses(
        &self,
        updates: &[StatusUpdate],
    ) -> Result<Vec<AdvanceOutcome>, StoreError> {
        let sql = format!(
            "UPDATE messages SET {SET_STATUS} WHERE carrier = $1 AND provider_message_id = $2 \
             AND status_rank < $4 \
             RETURNING id, community_id, broadcast_id, from_number, to_number, sent_at, delivered_at"
        );
        let current_sql =
            "SELECT id, status FROM messages WHERE carrier = $1 AND provider_message_id = $2";
        let mut order: Vec<usize> = (0..updates.len()).collect();
        order.sort_by_key(|&i| (&updates[i].carrier, &updates[i].provider_message_id));
        let found: Vec<(usize, Found)> = with_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let mut found = Vec::with_capacity(updates.len());
            for &i in &order {
                let u = &updates[i];
                // The UPDATE and the SELECT are two statements: on PostgreSQL a send result
                // committing between them makes the UPDATE miss a row the SELECT then sees
                // behind the reported status. That is no duplicate; look again rather than
                // drop the callback as stale. Still behind after every look: some writer keeps
                // racing us, and the stage retries it later as unknown.
                let mut result = Found::Unknown;
                for _ in 0..ADVANCE_LOOKS {
                    let at = Utc::now();
                    let (sent, delivered) = implied_times(u.status, at);
                    let moved: Option<Moved> = sqlx::query_as(&sql)
                        .bind(&u.carrier)
                        .bind(&u.provider_message_id)
                        .bind(u.status.as_str())
                        .bind(i32::from(u.status.rank()))
                        .bind(u.error_code.as_deref())
                        .bind(at)
                        .bind(sent)
                        .bind(delivered)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if let Some(moved) = moved {
                        result = Found::Moved(moved);
                        break;
                    }
                    let current: Option<(i64, String)> = sqlx::query_as(current_sql)
                        .bind(&u.carrier)
                        .bind(&u.provider_message_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some((id, stored)) = current else { break };
                    // Behind the report means a racing write: look again.
                    let behind = message_status(&stored).is_ok_and(|c| c.rank() < u.status.rank());
                    if !behind {
                        result = Found::Current(id, stored);
                        break;
                    }
                }
                found.push((i, result));
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(found)
        }
        .await)?;
        let mut outcomes: Vec<Option<AdvanceOutcome>> = vec![None; updates.len()];
        for (i, result) in found {
            outcomes[i] = Some(decode_found(result, updates[i].status)?);
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or(AdvanceOutcome::Unknown))
            .collect())
    }
}

/// One status callback for [`Store::advance_statuses`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    pub carrier: String,
    pub provider_message_id: String,
    pub status: MessageStatus,
    pub error_code: Option<String>,
}

/// The row an UPDATE moved: id, community, broadcast, from, to, sent_at, delivered_at.
pub(super) type Moved = (
    i64,
    i64,
    Option<i64>,
    Option<String>,
    String,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// What the transaction found for one update, before decoding.
enum Found {
    Moved(Moved),
    /// Not moved: the message's id and stored status, at or past the report.
    Current(i64, String),
    Unknown,
}

fn decode_found(found: Found, status: MessageStatus) -> Result<AdvanceOutcome, StoreError> {
    Ok(match found {
        Found::Moved(moved) => advanced(moved, status)?,
        Found::Current(message_id, current) => AdvanceOutcome::Stale {
            message_id,
            current: message_status(&current)?,
        },
        Found::Unknown => AdvanceOutcome::Unknown,
    })
}

/// The outcome for a row an UPDATE moved to `status`.
pub(super) fn advanced(moved: Moved, status: MessageStatus) -> Result<AdvanceOutcome, StoreError> {
    let (message_id, community_id, broadcast_id, from, to, sent_at, delivered_at) = moved;
    Ok(AdvanceOutcome::Advanced {
        message_id,
        status,
        community_id,
        broadcast_id,
        from: opt_sender_address("messages.from_number", from.as_deref())?,
        to: phone("messages.to_number", &to)?,
        sent_at,
        delivered_at,
    })
}
