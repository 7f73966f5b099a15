//! Messages a carrier split into parts and reports on part by part (Vonage: one DLR per part,
//! each under its own id, all carrying our `client-ref`): every part's report is kept, and the
//! message's status is derived from them all.
//!
//! The rule ([`derive_status`]): a `failed` part makes the message `failed`, an `undelivered` one
//! makes it `undelivered` (failed wins when both), at once; the message is `delivered` only when
//! as many parts as its body has segments are delivered; any other report means it is `sent`.
//! The segment count is ours (§8: 153 GSM-7 or 67 UCS-2 characters per part), the split Vonage
//! makes too; if Vonage reports on more parts than that, the parts seen count instead. Statuses
//! only move forward, for each part and for the message.

use chrono::Utc;

use super::decode::message_status;
use super::message_status::{Moved, SET_STATUS, advanced, implied_times};
use super::{AdvanceOutcome, Store, StoreError};
use crate::domain::{MessageBody, MessageStatus};

/// Locks the message row for the rest of the transaction (so two parts' reports are derived one
/// after the other) and makes the SQLite transaction a writer from its first statement.
const LOCK: &str =
    "UPDATE messages SET status_rank = status_rank WHERE id = $1 AND carrier = $2 RETURNING status";
const UPSERT_PART: &str = "INSERT INTO message_parts (message_id, provider_message_id, status, status_rank, error_code, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_id, provider_message_id) DO UPDATE SET \
    status = excluded.status, status_rank = excluded.status_rank, \
    error_code = COALESCE(excluded.error_code, message_parts.error_code), updated_at = excluded.updated_at \
    WHERE message_parts.status_rank < excluded.status_rank";
const PARTS: &str = "SELECT status, error_code FROM message_parts WHERE message_id = $1";
const BODY: &str = "SELECT COALESCE(m.body, b.body) FROM messages m \
    LEFT JOIN broadcasts b ON b.id = m.broadcast_id WHERE m.id = $1";

/// The message's status from its parts' (`expected` = parts it was sent in), and the error code
/// of the part that decided a negative outcome.
pub fn derive_status(
    parts: &[(MessageStatus, Option<String>)],
    expected: usize,
) -> (MessageStatus, Option<String>) {
    for negative in [MessageStatus::Failed, MessageStatus::Undelivered] {
        if let Some((status, code)) = parts.iter().find(|(s, _)| *s == negative) {
            return (*status, code.clone());
        }
    }
    let delivered = parts
        .iter()
        .filter(|(s, _)| *s == MessageStatus::Delivered)
        .count();
    if delivered >= expected.max(1) && delivered == parts.len() {
        (MessageStatus::Delivered, None)
    } else {
        (MessageStatus::Sent, None)
    }
}

impl Store {
    /// Applies one part's report to message `message_id` of `carrier`, named by our reference.
    /// `Unknown` when no such message was sent through this carrier.
    pub async fn advance_part_status(
        &self,
        carrier: &str,
        message_id: i64,
        part_id: &str,
        status: MessageStatus,
        error_code: Option<&str>,
    ) -> Result<AdvanceOutcome, StoreError> {
        let update = format!(
            "UPDATE messages SET {SET_STATUS} WHERE id = $1 AND carrier = $2 AND status_rank < $4 \
             RETURNING id, community_id, broadcast_id, from_number, to_number, sent_at, delivered_at"
        );
        let at = Utc::now();
        let outcome: Option<(String, Option<(MessageStatus, Moved)>)> = with_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let current: Option<String> = sqlx::query_scalar(LOCK)
                .bind(message_id).bind(carrier).fetch_optional(&mut *tx).await?;
            let Some(current) = current else {
                return Ok(None);
            };
            sqlx::query(UPSERT_PART)
                .bind(message_id).bind(part_id).bind(status.as_str()).bind(i32::from(status.rank()))
                .bind(error_code).bind(at).execute(&mut *tx).await?;
            let parts: Vec<(String, Option<String>)> = sqlx::query_as(PARTS)
                .bind(message_id).fetch_all(&mut *tx).await?;
            let body: Option<String> = sqlx::query_scalar(BODY)
                .bind(message_id).fetch_optional(&mut *tx).await?.flatten();
            let parts: Vec<(MessageStatus, Option<String>)> = parts
                .into_iter()
                .filter_map(|(s, code)| MessageStatus::parse(&s).ok().map(|s| (s, code)))
                .collect();
            let expected = body
                .as_deref()
                .and_then(|b| MessageBody::parse(b).ok())
                .map_or(1, |b| b.segments() as usize);
            let (derived, code) = derive_status(&parts, expected);
            let (sent, delivered) = implied_times(derived, at);
            let moved: Option<Moved> = sqlx::query_as(&update)
                .bind(message_id).bind(carrier).bind(derived.as_str()).bind(i32::from(derived.rank()))
                .bind(code.as_deref()).bind(at).bind(sent).bind(delivered)
                .fetch_optional(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Some((current, moved.map(|m| (derived, m)))))
        }.await)?;
        let Some((current, moved)) = outcome else {
            return Ok(AdvanceOutcome::Unknown);
        };
        let Some((status, moved)) = moved else {
            return Ok(AdvanceOutcome::Stale {
                message_id,
                current: message_status(&current)?,
            });
        };
        advanced(moved, status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MessageStatus::{Delivered, Failed, Sent, Undelivered};

    fn parts(statuses: &[MessageStatus]) -> Vec<(MessageStatus, Option<String>)> {
        statuses
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, (*s != Delivered && *s != Sent).then(|| format!("e{i}"))))
            .collect()
    }

    #[test]
    fn delivered_only_when_every_part_is() {
        assert_eq!(derive_status(&parts(&[Delivered]), 1), (Delivered, None));
        assert_eq!(derive_status(&parts(&[Delivered]), 2), (Sent, None));
        assert_eq!(derive_status(&parts(&[Delivered, Sent]), 2), (Sent, None));
        assert_eq!(
            derive_status(&parts(&[Delivered, Delivered]), 2),
            (Delivered, None)
        );
        // Vonage split it into more parts than we counted: the parts seen decide.
        assert_eq!(derive_status(&parts(&[Delivered; 3]), 2), (Delivered, None));
        assert_eq!(derive_status(&parts(&[Sent]), 1), (Sent, None));
    }

    #[test]
    fn one_negative_part_decides_and_failed_wins() {
        let undelivered = derive_status(&parts(&[Delivered, Undelivered]), 2);
        assert_eq!(undelivered, (Undelivered, Some("e1".into())));
        assert_eq!(derive_status(&parts(&[Undelivered]), 3).0, Undelivered);
        let failed = derive_status(&parts(&[Undelivered, Failed, Delivered]), 3);
        assert_eq!(failed, (Failed, Some("e1".into())));
    }
}
