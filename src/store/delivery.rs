//! What the deliver and fan-out stages need: batch claims with leases, batch results,
//! and the cursors that make fan-out resumable.

use chrono::Utc;

use super::decode::{opt_sender_address, phone};
use super::{Store, StoreError};
use crate::domain::{MessageStatus, PhoneNumber, SenderAddress};

/// A message claimed for sending, with everything the carrier call needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub id: i64,
    pub community_id: i64,
    pub member_id: Option<i64>,
    pub to: PhoneNumber,
    /// The number or short code it goes from.
    pub from: Option<SenderAddress>,
    pub body: String,
    /// Including this one.
    pub attempts: i32,
    /// The claim's lease end: it tells this claim from a later one ([`Store::send_check`]).
    pub claimed_until_ms: i64,
}

/// What the last look before a carrier call found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendCheck {
    /// Still ours and still wanted: send.
    Go,
    /// A broadcast member who opted out, or a welcome overtaken by a STOP: do not send.
    OptedOut,
    /// Our claim ran out and another worker claimed the message (or it has a result already):
    /// leave it to them.
    NotOurs,
}

/// The result of claiming a chunk of messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimOutcome {
    /// Now ours (`sending`), in the order asked.
    pub claimed: Vec<Claimed>,
    /// Claimed by another worker whose lease has not run out: (id, lease end in ms).
    pub busy: Vec<(i64, i64)>,
}

/// One send's result, written with others in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct SendRecord {
    pub id: i64,
    pub provider_message_id: Option<String>,
    pub status: MessageStatus,
    pub error_code: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    community_id: i64,
    member_id: Option<i64>,
    to_number: String,
    from_number: Option<String>,
    body: Option<String>,
    attempts: i32,
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

impl Store {
    /// Claims `queued` messages (and `sending` ones whose lease ran out) until `lease_until_ms`.
    ///
    /// The lease is what turns a crash into a bounded duplicate instead of a lost message:
    /// a message stuck in `sending` becomes claimable again once its lease has passed.
    pub async fn claim_for_delivery(
        &self,
        ids: &[i64],
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<ClaimOutcome, StoreError> {
        if ids.is_empty() {
            return Ok(ClaimOutcome::default());
        }
        let list = id_list(ids);
        let claim = format!(
            "UPDATE messages SET status = 'sending', status_rank = 1, attempts = attempts + 1, \
             claimed_until_ms = $1, updated_at = $2 \
             WHERE id IN ({list}) AND (status = 'queued' OR (status = 'sending' AND claimed_until_ms < $3)) RETURNING id"
        );
        let details = format!(
            "SELECT m.id, m.community_id, m.member_id, m.to_number, m.from_number, \
             COALESCE(m.body, b.body) AS body, m.attempts \
             FROM messages m LEFT JOIN broadcasts b ON b.id = m.broadcast_id WHERE m.id IN ({list})"
        );
        let busy_sql = format!(
            "SELECT id, claimed_until_ms FROM messages WHERE id IN ({list}) AND status = 'sending'"
        );
        let (claimed_ids, rows, busy): (Vec<i64>, Vec<ClaimedRow>, Vec<(i64, i64)>) = with_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let claimed_ids: Vec<i64> = sqlx::query_scalar(&claim)
                .bind(lease_until_ms).bind(Utc::now()).bind(now_ms).fetch_all(&mut *tx).await?;
            let rows: Vec<ClaimedRow> = sqlx::query_as(&details).fetch_all(&mut *tx).await?;
            let busy: Vec<(i64, i64)> = sqlx::query_as(&busy_sql).fetch_all(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>((claimed_ids, rows, busy))
        }.await)?;
        let claimed_ids: std::collections::HashSet<i64> = claimed_ids.into_iter().collect();
        let mut by_id: std::collections::HashMap<i64, ClaimedRow> =
            rows.into_iter().map(|r| (r.id, r)).collect();
        let mut outcome = ClaimOutcome::default();
        for id in ids {
            if claimed_ids.contains(id) {
                let Some(row) = by_id.remove(id) else {
                    continue;
                };
                outcome.claimed.push(Claimed {
                    id: row.id,
                    community_id: row.community_id,
                    member_id: row.member_id,
                    to: phone("messages.to_number", &row.to_number)?,
                    from: opt_sender_address("messages.from_number", row.from_number.as_deref())?,
                    body: row
                        .body
                        .ok_or_else(|| StoreError::Corrupt(format!("message {id} has no body")))?,
                    attempts: row.attempts,
                    claimed_until_ms: lease_until_ms,
                });
            }
        }
        outcome.busy = busy
            .into_iter()
            .filter(|(id, _)| !claimed_ids.contains(id))
            .collect();
        Ok(outcome)
    }

    /// Writes many send results in one transaction; each only moves its message forward.
    pub async fn record_send_results(&self, records: &[SendRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let sql = "UPDATE messages SET provider_message_id = COALESCE($2, provider_message_id), status = $3, \
                   status_rank = $4, last_error_code = COALESCE($5, last_error_code), updated_at = $6, \
                   sent_at = COALESCE(sent_at, $7) WHERE id = $1 AND status_rank < $4";
        let at = Utc::now();
        with_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            for r in records {
                let sent = (r.status.rank() >= MessageStatus::Sent.rank() && r.status != MessageStatus::Cancelled).then_some(at);
                sqlx::query(sql)
                    .bind(r.id).bind(r.provider_message_id.as_deref()).bind(r.status.as_str())
                    .bind(i32::from(r.status.rank())).bind(r.error_code.as_deref()).bind(at).bind(sent)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await
        }.await)?;
        Ok(())
    }

    /// Message ids of a broadcast above `after_id`, in id order: the fan-out's publish cursor walks these.
    pub async fn broadcast_message_ids(
        &self,
        broadcast_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let sql =
            "SELECT id FROM messages WHERE broadcast_id = $1 AND id > $2 ORDER BY id LIMIT $3";
        let ids = with_pool!(self, pool => sqlx::query_scalar(sql).bind(broadcast_id).bind(after_id).bind(limit).fetch_all(pool).await)?;
        Ok(ids)
    }

    /// Remembers that delivery work up to message `last_id` is published (only moves forward).
    pub async fn save_publish_cursor(
        &self,
        broadcast_id: i64,
        last_id: i64,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE broadcasts SET publish_cursor = $2 WHERE id = $1 AND publish_cursor < $2";
        with_pool!(self, pool => sqlx::query(sql).bind(broadcast_id).bind(last_id).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// The publish cursor of a broadcast.
    pub async fn publish_cursor(&self, broadcast_id: i64) -> Result<i64, StoreError> {
        let sql = "SELECT publish_cursor FROM broadcasts WHERE id = $1";
        let cursor: Option<i64> = with_pool!(self, pool => sqlx::query_scalar(sql).bind(broadcast_id).fetch_optional(pool).await)?;
        Ok(cursor.unwrap_or(0))
    }

    /// The keyword reply queued for an inbound text, if any: (message id, status).
    pub async fn reply_for_inbound(
        &self,
        inbound_id: i64,
    ) -> Result<Option<(i64, MessageStatus)>, StoreError> {
        let sql = "SELECT id, status FROM messages WHERE reply_to_inbound_id = $1";
        let row: Option<(i64, String)> = with_pool!(self, pool => sqlx::query_as(sql).bind(inbound_id).fetch_optional(pool).await)?;
        row.map(|(id, status)| Ok((id, super::decode::message_status(&status)?)))
            .transpose()
    }

    /// Releases every `sending` claim and carrier lease at once; only for a single embedded
    /// instance starting up.
    pub async fn release_all_claims(&self) -> Result<u64, StoreError> {
        let sql = "UPDATE messages SET claimed_until_ms = 0 WHERE status = 'sending'";
        let n = with_pool!(self, pool => sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected()))?;
        // The previous run's carrier leases too: no other instance can share this store.
        with_pool!(self, pool => sqlx::query("DELETE FROM carrier_leases").execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }
}

impl Store {
    /// Broadcasts still `scheduled` although their time passed before `before_ms`: their fan-out
    /// work was lost (e.g. the API crashed between the commit and the publish).
    pub async fn overdue_broadcasts(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let sql = "SELECT id FROM broadcasts WHERE status = 'scheduled' AND send_at_ms < $1 ORDER BY send_at_ms LIMIT $2";
        let ids = with_pool!(self, pool => sqlx::query_scalar(sql).bind(before_ms).bind(limit).fetch_all(pool).await)?;
        Ok(ids)
    }

    /// The last look before sending a message claimed until `claimed_until_ms`: is the claim
    /// still ours, and is the message still wanted? A broadcast message needs a subscribed
    /// member; a welcome too (a STOP since wins); a stop confirmation or help reply always goes,
    /// since the member asked for it.
    pub async fn send_check(
        &self,
        message_id: i64,
        claimed_until_ms: i64,
    ) -> Result<SendCheck, StoreError> {
        let sql = "SELECT m.status, m.claimed_until_ms, m.broadcast_id, mem.status, i.keyword \
                   FROM messages m \
                   LEFT JOIN members mem ON mem.id = m.member_id \
                   LEFT JOIN inbound_messages i ON i.id = m.reply_to_inbound_id WHERE m.id = $1";
        type Row = (String, i64, Option<i64>, Option<String>, Option<String>);
        let row: Option<Row> = with_pool!(self, pool => sqlx::query_as(sql).bind(message_id).fetch_optional(pool).await)?;
        let Some((status, until, broadcast_id, member_status, keyword)) = row else {
            return Ok(SendCheck::NotOurs);
        };
        if status != "sending" || until != claimed_until_ms {
            return Ok(SendCheck::NotOurs);
        }
        let needs_subscription = broadcast_id.is_some() || keyword.as_deref() == Some("opt_in");
        let subscribed = match member_status {
            Some(s) => super::decode::member_status(&s)? == crate::domain::MemberStatus::Subscribed,
            // No member row to check (not made by the fan-out or the keyword path): send.
            None => true,
        };
        Ok(if !needs_subscription || subscribed {
            SendCheck::Go
        } else {
            SendCheck::OptedOut
        })
    }
}
