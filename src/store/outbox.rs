//! Events waiting for the broker: written when a publish cannot be confirmed, forwarded later.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::{Store, StoreError};

/// One event to publish; `id` orders the items and names them for deletion.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxItem {
    pub id: i64,
    pub routing_key: String,
    pub payload: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
}

/// Ids per DELETE statement, far below both engines' parameter limits.
const DELETE_CHUNK: usize = 1_000;

impl Store {
    /// Stores an event durably; once this returns, the event will be published eventually.
    pub async fn outbox_push(&self, routing_key: &str, payload: &[u8]) -> Result<i64, StoreError> {
        let sql = "INSERT INTO outbox (routing_key, payload, created_at) VALUES ($1, $2, $3) RETURNING id";
        let id = with_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(routing_key).bind(payload).bind(Utc::now()).fetch_one(pool).await)?;
        Ok(id)
    }

    /// The oldest items, left in place (and counted as an attempt) until `outbox_delete` after the broker confirms.
    pub async fn outbox_peek(&self, limit: i64) -> Result<Vec<OutboxItem>, StoreError> {
        let sql = "SELECT id, routing_key, payload, created_at, attempts FROM outbox ORDER BY id LIMIT $1";
        let items: Vec<OutboxItem> =
            with_pool!(self, pool => sqlx::query_as(sql).bind(limit).fetch_all(pool).await)?;
        if let (Some(first), Some(last)) = (items.first(), items.last()) {
            let bump = "UPDATE outbox SET attempts = attempts + 1 WHERE id BETWEEN $1 AND $2";
            with_pool!(self, pool => sqlx::query(bump).bind(first.id).bind(last.id).execute(pool).await.map(|r| r.rows_affected()))?;
        }
        Ok(items)
    }

    /// Removes published items; unknown ids are ignored, so a repeated delete is harmless.
    pub async fn outbox_delete(&self, ids: &[i64]) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for chunk in ids.chunks(DELETE_CHUNK) {
            let mut sql = String::from("DELETE FROM outbox WHERE id IN (");
            for i in 1..=chunk.len() {
                let _ = write!(sql, "{}${i}", if i == 1 { "" } else { ", " });
            }
            sql.push(')');
            let done = with_pool!(self, pool => {
                let mut query = sqlx::query(&sql);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.execute(pool).await.map(|r| r.rows_affected())
            })?;
            deleted += done;
        }
        Ok(deleted)
    }

    /// Items waiting, for the outbox depth metric.
    pub async fn outbox_len(&self) -> Result<i64, StoreError> {
        let n = with_read_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(pool).await)?;
        Ok(n)
    }
}
