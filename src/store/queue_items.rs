//! Rows of the embedded bus: enqueue, lease, acknowledge, delay, dead-letter.

use super::{Store, StoreError};

/// A leased work item.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueItem {
    pub id: i64,
    pub payload: Vec<u8>,
    pub attempt: i32,
}

/// Rows per INSERT; SQLite allows 32,766 bound variables and we bind 4 per row.
const INSERT_CHUNK: usize = 1000;

impl Store {
    /// Appends items to `queue` in one transaction, visible from `visible_at_ms`.
    pub async fn enqueue(
        &self,
        queue: &str,
        payloads: &[&[u8]],
        attempt: i32,
        visible_at_ms: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if payloads.is_empty() {
            return Ok(());
        }
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for chunk in payloads.chunks(INSERT_CHUNK) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO queue_items (queue, payload, attempt, visible_at_ms, enqueued_at_ms) ",
                );
                qb.push_values(chunk, |mut row, payload| {
                    row.push_bind(queue).push_bind(payload.to_vec()).push_bind(attempt).push_bind(visible_at_ms).push_bind(now_ms);
                });
                qb.build().persistent(false).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Leases up to `limit` visible items until `lease_until_ms`; the outer re-check keeps two leasers apart.
    pub async fn lease_items(
        &self,
        queue: &str,
        limit: i64,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Vec<QueueItem>, StoreError> {
        let sql = "UPDATE queue_items SET visible_at_ms = $1 \
                   WHERE id IN (SELECT id FROM queue_items WHERE queue = $2 AND visible_at_ms <= $3 \
                                ORDER BY visible_at_ms, id LIMIT $4) \
                   AND visible_at_ms <= $3 \
                   RETURNING id, payload, attempt";
        let mut items: Vec<QueueItem> = with_pool!(self, pool => sqlx::query_as(sql)
            .bind(lease_until_ms).bind(queue).bind(now_ms).bind(limit)
            .fetch_all(pool).await)?;
        items.sort_by_key(|i| i.id);
        Ok(items)
    }

    /// Keeps leases alive for items still being worked on.
    pub async fn extend_leases(&self, ids: &[i64], lease_until_ms: i64) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        with_pool!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new("UPDATE queue_items SET visible_at_ms = ");
            qb.push_bind(lease_until_ms).push(" WHERE id IN (");
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            qb.push(")");
            qb.build().persistent(false).execute(pool).await?;
        });
        Ok(())
    }

    /// Makes every leased item visible again; only for a single embedded instance at start.
    pub async fn release_all_leases(&self, now_ms: i64) -> Result<u64, StoreError> {
        let done = with_pool!(self, pool => sqlx::query("UPDATE queue_items SET visible_at_ms = $1 WHERE visible_at_ms > $1")
            .bind(now_ms).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(done)
    }

    /// Acknowledges: the item's effect is durable, so the item goes.
    pub async fn delete_item(&self, id: i64) -> Result<(), StoreError> {
        self.delete_items(&[id]).await
    }

    /// Acknowledges many items in one statement (the embedded bus group-commits its acks).
    pub async fn delete_items(&self, ids: &[i64]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        // Integers only, so the list needs no binding; one statement whatever the count.
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        let sql = format!("DELETE FROM queue_items WHERE id IN ({})", ids.join(","));
        with_pool!(self, pool => sqlx::query(&sql).persistent(false).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Schedules another attempt of the same row.
    pub async fn delay_item(
        &self,
        id: i64,
        attempt: i32,
        visible_at_ms: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query("UPDATE queue_items SET attempt = $1, visible_at_ms = $2 WHERE id = $3")
            .bind(attempt).bind(visible_at_ms).bind(id).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Moves an item to `dead_letters` in one transaction.
    pub async fn dead_letter_item(
        &self,
        id: i64,
        queue: &str,
        payload: &[u8],
        attempt: i32,
        reason: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO dead_letters (queue, payload, attempt, reason, dead_at_ms) VALUES ($1, $2, $3, $4, $5)")
                .bind(queue).bind(payload.to_vec()).bind(attempt).bind(reason).bind(now_ms)
                .execute(&mut *tx).await?;
            sqlx::query("DELETE FROM queue_items WHERE id = $1").bind(id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Items waiting or leased in `queue`.
    pub async fn queue_depth(&self, queue: &str) -> Result<i64, StoreError> {
        let n: i64 = with_read_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM queue_items WHERE queue = $1")
            .bind(queue).fetch_one(pool).await)?;
        Ok(n)
    }

    /// Dead-lettered items of `queue` (all queues when `None`), for tests and operators.
    pub async fn dead_letter_count(&self, queue: Option<&str>) -> Result<i64, StoreError> {
        let n: i64 = with_read_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM dead_letters WHERE (CAST($1 AS TEXT) IS NULL OR queue = $1)")
            .bind(queue).fetch_one(pool).await)?;
        Ok(n)
    }
}
