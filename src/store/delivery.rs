//! What the deliver and fan-out stages need: batch claims with leases, batch results,
//! and the cursors that make fan-out resumable.

use chrono::Utc;

use super::decode::{opt_sender_address, phone};
use super::{BroadcastStatus, Store, StoreError};
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
    /// `id` as text: the reference carriers echo in their reports (Vonage `client-ref`).
    pub reference: String,
}

/// What the last look before a carrier call found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendCheck {
    /// Still ours and still wanted: send.
    Go,
    /// A broadcast member who opted out, or a welcome overtaken by a STOP: do not send.
    OptedOut,
    /// Its broadcast was cancelled after the message was claimed: do not send.
    Cancelled,
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
    broadcast_id: Option<i64>,
    attempts: i32,
}

/// Send results per UPDATE statement: 6 parameters each, far below both engines' limits.
const RECORD_CHUNK: usize = 500;

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
        // One statement claims and returns the rows (atomic on both engines); a broadcast's
        // messages carry no body of their own, so their broadcasts' bodies come in a second,
        // tiny query. Rows another worker holds are looked up only when some were not claimed.
        let claim = format!(
            "UPDATE messages SET status = 'sending', status_rank = 1, attempts = attempts + 1, \
             claimed_until_ms = $1, updated_at = $2 \
             WHERE id IN ({list}) AND (status = 'queued' OR (status = 'sending' AND claimed_until_ms < $3)) \
             RETURNING id, community_id, member_id, to_number, from_number, body, broadcast_id, attempts"
        );
        let rows: Vec<ClaimedRow> = with_pool!(self, pool => sqlx::query_as(&claim)
            .bind(lease_until_ms).bind(Utc::now()).bind(now_ms)
            .persistent(false)
            .fetch_all(pool).await)?;
        let broadcasts: std::collections::BTreeSet<i64> = rows
            .iter()
            .filter(|r| r.body.is_none())
            .filter_map(|r| r.broadcast_id)
            .collect();
        let mut bodies: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
        if !broadcasts.is_empty() {
            let list: Vec<i64> = broadcasts.into_iter().collect();
            let sql = format!(
                "SELECT id, body FROM broadcasts WHERE id IN ({})",
                id_list(&list)
            );
            let found: Vec<(i64, String)> = with_pool!(self, pool => sqlx::query_as(&sql)
                .persistent(false).fetch_all(pool).await)?;
            bodies.extend(found);
        }
        let mut by_id: std::collections::HashMap<i64, ClaimedRow> =
            rows.into_iter().map(|r| (r.id, r)).collect();
        let mut outcome = ClaimOutcome::default();
        for id in ids {
            let Some(row) = by_id.remove(id) else {
                continue;
            };
            let body = match (row.body, row.broadcast_id) {
                (Some(body), _) => body,
                (None, Some(b)) => bodies.get(&b).cloned().ok_or_else(|| {
                    StoreError::Corrupt(format!("message {id}: broadcast {b} has no body"))
                })?,
                (None, None) => {
                    return Err(StoreError::Corrupt(format!("message {id} has no body")));
                }
            };
            outcome.claimed.push(Claimed {
                id: row.id,
                community_id: row.community_id,
                member_id: row.member_id,
                to: phone("messages.to_number", &row.to_number)?,
                from: opt_sender_address("messages.from_number", row.from_number.as_deref())?,
                body,
                attempts: row.attempts,
                claimed_until_ms: lease_until_ms,
                reference: row.id.to_string(),
            });
        }
        if outcome.claimed.len() < ids.len() {
            let busy_sql = format!(
                "SELECT id, claimed_until_ms FROM messages WHERE id IN ({list}) AND status = 'sending'"
            );
            let busy: Vec<(i64, i64)> = with_pool!(self, pool => sqlx::query_as(&busy_sql)
                .persistent(false).fetch_all(pool).await)?;
            let claimed: std::collections::HashSet<i64> =
                outcome.claimed.iter().map(|c| c.id).collect();
            outcome.busy = busy
                .into_iter()
                .filter(|(id, _)| !claimed.contains(id))
                .collect();
        }
        Ok(outcome)
    }

    /// Writes many send results in one statement; each only moves its message forward.
    ///
    /// One `UPDATE ... FROM (VALUES ...)` per chunk rather than one UPDATE per message: on
    /// SQLite every statement is a hop to the connection's thread, and at thousands of sends
    /// per second those hops were most of the engine's CPU.
    pub async fn record_send_results(&self, records: &[SendRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        // Two results for one message in a batch: the furthest along wins, as it would have
        // one statement after the other.
        let mut furthest: std::collections::HashMap<i64, &SendRecord> =
            std::collections::HashMap::with_capacity(records.len());
        for r in records {
            furthest
                .entry(r.id)
                .and_modify(|kept| {
                    if r.status.rank() >= kept.status.rank() {
                        *kept = r;
                    }
                })
                .or_insert(r);
        }
        let mut rows: Vec<&SendRecord> = furthest.into_values().collect();
        rows.sort_by_key(|r| r.id);
        let at = Utc::now();
        with_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            for chunk in rows.chunks(RECORD_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "UPDATE messages SET provider_message_id = COALESCE(v.column2, messages.provider_message_id), \
                     status = v.column3, status_rank = v.column4, \
                     last_error_code = COALESCE(v.column5, messages.last_error_code), updated_at = ",
                );
                qb.push_bind(at);
                qb.push(", sent_at = CASE WHEN v.column6 = 1 THEN COALESCE(messages.sent_at, ");
                qb.push_bind(at);
                qb.push(") ELSE messages.sent_at END FROM (VALUES ");
                let mut values = qb.separated(", ");
                for r in chunk {
                    let sent = r.status.rank() >= MessageStatus::Sent.rank() && r.status != MessageStatus::Cancelled;
                    values.push("(CAST(");
                    values.push_bind_unseparated(r.id);
                    values.push_unseparated(" AS BIGINT), CAST(");
                    values.push_bind_unseparated(r.provider_message_id.clone());
                    values.push_unseparated(" AS TEXT), CAST(");
                    values.push_bind_unseparated(r.status.as_str());
                    values.push_unseparated(" AS TEXT), CAST(");
                    values.push_bind_unseparated(i32::from(r.status.rank()));
                    values.push_unseparated(" AS INTEGER), CAST(");
                    values.push_bind_unseparated(r.error_code.clone());
                    values.push_unseparated(" AS TEXT), CAST(");
                    values.push_bind_unseparated(i32::from(sent));
                    values.push_unseparated(" AS INTEGER))");
                }
                qb.push(") AS v WHERE messages.id = v.column1 AND messages.status_rank < v.column4");
                qb.build().persistent(false).execute(&mut *tx).await?;
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
        let ids = with_read_pool!(self, pool => sqlx::query_scalar(sql).bind(broadcast_id).bind(after_id).bind(limit).fetch_all(pool).await)?;
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
        let cursor: Option<i64> = with_read_pool!(self, pool => sqlx::query_scalar(sql).bind(broadcast_id).fetch_optional(pool).await)?;
        Ok(cursor.unwrap_or(0))
    }

    /// The keyword reply queued for an inbound text, if any: (message id, status).
    pub async fn reply_for_inbound(
        &self,
        inbound_id: i64,
    ) -> Result<Option<(i64, MessageStatus)>, StoreError> {
        let sql = "SELECT id, status FROM messages WHERE reply_to_inbound_id = $1";
        let row: Option<(i64, String)> = with_read_pool!(self, pool => sqlx::query_as(sql).bind(inbound_id).fetch_optional(pool).await)?;
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
        let ids = with_read_pool!(self, pool => sqlx::query_scalar(sql).bind(before_ms).bind(limit).fetch_all(pool).await)?;
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
        let checks = self.send_checks(&[(message_id, claimed_until_ms)]).await?;
        Ok(checks.into_iter().next().unwrap_or(SendCheck::NotOurs))
    }

    /// [`Store::send_check`] for many messages in one query, in the order asked: the deliver
    /// stage batches the last looks of concurrent sends into one round trip.
    pub async fn send_checks(&self, claims: &[(i64, i64)]) -> Result<Vec<SendCheck>, StoreError> {
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = claims.iter().map(|(id, _)| *id).collect();
        let sql = format!(
            "SELECT m.id, m.status, m.claimed_until_ms, m.broadcast_id, mem.status, i.keyword, \
             b.status \
             FROM messages m \
             LEFT JOIN members mem ON mem.id = m.member_id \
             LEFT JOIN inbound_messages i ON i.id = m.reply_to_inbound_id \
             LEFT JOIN broadcasts b ON b.id = m.broadcast_id WHERE m.id IN ({})",
            id_list(&ids)
        );
        type Row = (
            i64,
            String,
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = with_read_pool!(self, pool => sqlx::query_as(&sql).persistent(false).fetch_all(pool).await)?;
        let mut by_id: std::collections::HashMap<i64, Row> =
            rows.into_iter().map(|row| (row.0, row)).collect();
        claims
            .iter()
            .map(|(id, claimed_until_ms)| {
                let Some((_, status, until, broadcast_id, member_status, keyword, broadcast)) =
                    by_id.remove(id)
                else {
                    return Ok(SendCheck::NotOurs);
                };
                if status != "sending" || until != *claimed_until_ms {
                    return Ok(SendCheck::NotOurs);
                }
                if broadcast.as_deref() == Some(BroadcastStatus::Cancelled.as_str()) {
                    return Ok(SendCheck::Cancelled);
                }
                let needs_subscription =
                    broadcast_id.is_some() || keyword.as_deref() == Some("opt_in");
                let subscribed = match member_status {
                    Some(s) => {
                        super::decode::member_status(&s)? == crate::domain::MemberStatus::Subscribed
                    }
                    // No member row to check (not made by the fan-out or the keyword path): send.
                    None => true,
                };
                Ok(if !needs_subscription || subscribed {
                    SendCheck::Go
                } else {
                    SendCheck::OptedOut
                })
            })
            .collect()
    }
}
