//! Long inbound texts that arrive one webhook per part (Vonage `concat`): each part is kept
//! until the last one is here, whatever the order and however often the carrier resends one.
//!
//! A set is keyed as the carrier keys it, by sender and concat reference. A handset reuses its
//! references (they are 8 or 16 bits), so a part that cannot belong to the stored set (another
//! total, a part number already held under another message id, or a set already complete)
//! starts the set again. Complete sets are kept for [`Store::purge_inbound_part_sets`] so a
//! late retry is recognised; incomplete ones are flushed by the part sweep.

use super::decode::{phone, sender_address};
use super::{Store, StoreError};
use crate::domain::{PhoneNumber, SenderAddress};

/// One part as the webhook delivered it.
#[derive(Debug, Clone, Copy)]
pub struct NewInboundPart<'a> {
    pub carrier: &'a str,
    pub from: &'a PhoneNumber,
    pub to: &'a SenderAddress,
    /// The carrier's concat reference, shared by the parts of one message.
    pub reference: &'a str,
    pub total: u16,
    /// 1-based.
    pub part: u16,
    /// The carrier's id of this part (each part has its own).
    pub provider_message_id: &'a str,
    pub body: &'a str,
    /// When the edge received this part, ms since the epoch.
    pub received_at_ms: i64,
}

/// The parts of one message joined in order: the whole text, or what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedText {
    /// The lowest part's id (part 1's when complete): the same whichever part completed the set,
    /// so processing the text twice is caught as a duplicate.
    pub provider_message_id: String,
    pub to: SenderAddress,
    pub body: String,
    /// The earliest part's arrival, ms since the epoch.
    pub received_at_ms: i64,
    /// Every part is here.
    pub complete: bool,
}

/// What adding a part left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartsState {
    /// Parts still missing; nothing to process yet.
    Waiting { have: usize, total: u16 },
    /// Every part is here (now, or already: a retried part gets the text again).
    Complete(JoinedText),
}

/// An incomplete set the sweep should flush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StalePartSet {
    pub carrier: String,
    pub from: PhoneNumber,
    pub to: SenderAddress,
    pub reference: String,
    pub total: u16,
}

/// Creates the set or locks it (the no-op update takes the row lock on PostgreSQL and makes the
/// SQLite transaction a writer from its first statement).
const LOCK_SET: &str = "INSERT INTO inbound_part_sets (carrier, from_number, concat_ref, total, to_number, first_seen_ms) \
    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (carrier, from_number, concat_ref) \
    DO UPDATE SET total = inbound_part_sets.total RETURNING total";
const RESET_SET: &str = "UPDATE inbound_part_sets SET total = $4, to_number = $5, first_seen_ms = $6 \
    WHERE carrier = $1 AND from_number = $2 AND concat_ref = $3";
const KEY: &str = "WHERE carrier = $1 AND from_number = $2 AND concat_ref = $3";
const INSERT_PART: &str = "INSERT INTO inbound_parts (carrier, from_number, concat_ref, part, provider_message_id, body, received_at_ms) \
    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (carrier, from_number, concat_ref, part) DO NOTHING";
const PARTS: &str = "SELECT part, provider_message_id, body, received_at_ms FROM inbound_parts \
    WHERE carrier = $1 AND from_number = $2 AND concat_ref = $3 ORDER BY part";

/// A stored part: (part, provider id, body, received at ms).
type PartRow = (i32, String, String, i64);

/// Whether `new` can belong to the set stored with `total` and `parts`.
fn belongs(new: &NewInboundPart<'_>, total: i32, parts: &[PartRow]) -> bool {
    let same = |row: &&PartRow| row.0 == i32::from(new.part);
    match parts.iter().find(same) {
        // A retry of a part we hold.
        Some(row) => row.1 == new.provider_message_id,
        None => total == i32::from(new.total) && parts.len() < total as usize,
    }
}

fn joined(parts: &[PartRow], to: &SenderAddress, total: i32) -> Option<JoinedText> {
    let first = parts.first()?;
    Some(JoinedText {
        provider_message_id: first.1.clone(),
        to: to.clone(),
        body: parts.iter().map(|p| p.2.as_str()).collect(),
        received_at_ms: parts.iter().map(|p| p.3).min().unwrap_or(first.3),
        complete: parts.len() >= total as usize,
    })
}

impl Store {
    /// Keeps one part (once) and says whether its message is now whole; atomic per set.
    pub async fn add_inbound_part(
        &self,
        new: &NewInboundPart<'_>,
    ) -> Result<PartsState, StoreError> {
        let (carrier, from, reference) = (new.carrier, new.from.as_str(), new.reference);
        let total = i32::from(new.total);
        let delete_parts = format!("DELETE FROM inbound_parts {KEY}");
        let (total, parts, restarted) = with_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let stored_total: i32 = sqlx::query_scalar(LOCK_SET)
                .bind(carrier).bind(from).bind(reference).bind(total).bind(new.to.as_str())
                .bind(new.received_at_ms).fetch_one(&mut *tx).await?;
            let held: Vec<PartRow> = sqlx::query_as(PARTS)
                .bind(carrier).bind(from).bind(reference).fetch_all(&mut *tx).await?;
            let restarted = !held.is_empty() && !belongs(new, stored_total, &held);
            if restarted || held.is_empty() {
                // A new message under a reused reference (or the first part of this one).
                sqlx::query(&delete_parts).bind(carrier).bind(from).bind(reference).execute(&mut *tx).await?;
                sqlx::query(RESET_SET)
                    .bind(carrier).bind(from).bind(reference).bind(total).bind(new.to.as_str())
                    .bind(new.received_at_ms).execute(&mut *tx).await?;
            }
            sqlx::query(INSERT_PART)
                .bind(carrier).bind(from).bind(reference).bind(i32::from(new.part))
                .bind(new.provider_message_id).bind(new.body).bind(new.received_at_ms)
                .execute(&mut *tx).await?;
            let parts: Vec<PartRow> = sqlx::query_as(PARTS)
                .bind(carrier).bind(from).bind(reference).fetch_all(&mut *tx).await?;
            let total = if restarted || held.is_empty() { total } else { stored_total };
            tx.commit().await?;
            Ok::<_, sqlx::Error>((total, parts, restarted && !held.is_empty()))
        }.await)?;
        if restarted {
            tracing::warn!(
                carrier,
                reference,
                "a part under a reused concat reference started its message again"
            );
        }
        match joined(&parts, new.to, total) {
            Some(text) if text.complete => Ok(PartsState::Complete(text)),
            _ => Ok(PartsState::Waiting {
                have: parts.len(),
                total: u16::try_from(total).unwrap_or(u16::MAX),
            }),
        }
    }

    /// The parts of a set joined as they are; `None` when the set is gone (flushed already).
    pub async fn inbound_parts_so_far(
        &self,
        carrier: &str,
        from: &PhoneNumber,
        reference: &str,
    ) -> Result<Option<JoinedText>, StoreError> {
        let set = format!("SELECT total, to_number FROM inbound_part_sets {KEY}");
        let (set, parts): (Option<(i32, String)>, Vec<PartRow>) = with_read_pool!(self, pool => async {
            let set = sqlx::query_as(&set).bind(carrier).bind(from.as_str()).bind(reference)
                .fetch_optional(pool).await?;
            let parts = sqlx::query_as(PARTS).bind(carrier).bind(from.as_str()).bind(reference)
                .fetch_all(pool).await?;
            Ok::<_, sqlx::Error>((set, parts))
        }.await)?;
        let Some((total, to)) = set else {
            return Ok(None);
        };
        let to = sender_address("inbound_part_sets.to_number", &to)?;
        Ok(joined(&parts, &to, total))
    }

    /// Deletes a set and its parts, once its text has been processed as it was.
    pub async fn forget_inbound_parts(
        &self,
        carrier: &str,
        from: &PhoneNumber,
        reference: &str,
    ) -> Result<(), StoreError> {
        let parts = format!("DELETE FROM inbound_parts {KEY}");
        let set = format!("DELETE FROM inbound_part_sets {KEY}");
        with_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            for sql in [&parts, &set] {
                sqlx::query(sql).bind(carrier).bind(from.as_str()).bind(reference).execute(&mut *tx).await?;
            }
            tx.commit().await
        }.await)?;
        Ok(())
    }

    /// Incomplete sets whose first part came before `before_ms`, oldest first.
    pub async fn stale_inbound_part_sets(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<Vec<StalePartSet>, StoreError> {
        let sql = "SELECT s.carrier, s.from_number, s.to_number, s.concat_ref, s.total FROM inbound_part_sets s \
                   WHERE s.first_seen_ms < $1 AND s.total > (SELECT COUNT(*) FROM inbound_parts p \
                   WHERE p.carrier = s.carrier AND p.from_number = s.from_number AND p.concat_ref = s.concat_ref) \
                   ORDER BY s.first_seen_ms LIMIT $2";
        type Row = (String, String, String, String, i32);
        let rows: Vec<Row> = with_read_pool!(self, pool => sqlx::query_as(sql)
            .bind(before_ms).bind(limit).fetch_all(pool).await)?;
        rows.into_iter()
            .map(|(carrier, from, to, reference, total)| {
                Ok(StalePartSet {
                    carrier,
                    from: phone("inbound_part_sets.from_number", &from)?,
                    to: sender_address("inbound_part_sets.to_number", &to)?,
                    reference,
                    total: u16::try_from(total).unwrap_or(u16::MAX),
                })
            })
            .collect()
    }

    /// Deletes complete sets whose first part came before `before_ms` (past any carrier retry).
    pub async fn purge_inbound_part_sets(&self, before_ms: i64) -> Result<u64, StoreError> {
        let complete = "FROM inbound_part_sets s WHERE s.first_seen_ms < $1 AND s.total <= (SELECT COUNT(*) \
                        FROM inbound_parts p WHERE p.carrier = s.carrier AND p.from_number = s.from_number \
                        AND p.concat_ref = s.concat_ref)";
        let parts = format!(
            "DELETE FROM inbound_parts WHERE EXISTS (SELECT 1 {complete} AND s.carrier = inbound_parts.carrier \
             AND s.from_number = inbound_parts.from_number AND s.concat_ref = inbound_parts.concat_ref)"
        );
        let sets = "DELETE FROM inbound_part_sets WHERE first_seen_ms < $1 AND NOT EXISTS (SELECT 1 \
                    FROM inbound_parts p WHERE p.carrier = inbound_part_sets.carrier \
                    AND p.from_number = inbound_part_sets.from_number AND p.concat_ref = inbound_part_sets.concat_ref)";
        let deleted = with_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            sqlx::query(&parts).bind(before_ms).execute(&mut *tx).await?;
            let n = sqlx::query(sets).bind(before_ms).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n)
        }.await)?;
        Ok(deleted)
    }
}
