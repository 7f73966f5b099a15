//! API keys: a public prefix finds the row, the secret is only ever compared by hash.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};

/// A leader's API key as stored; `hash` is whatever the API layer computed from the secret.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiKey {
    pub id: i64,
    pub community_id: i64,
    pub prefix: String,
    pub hash: String,
    pub created_at: DateTime<Utc>,
    /// Set once; a revoked key is kept so its prefix is never reused.
    pub revoked_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, community_id, prefix, hash, created_at, revoked_at";

impl Store {
    /// Stores a new key; a prefix that already exists is a database error (unique).
    pub async fn insert_api_key(
        &self,
        community_id: i64,
        prefix: &str,
        hash: &str,
    ) -> Result<ApiKey, StoreError> {
        let sql = format!(
            "INSERT INTO api_keys (community_id, prefix, hash, created_at) VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
        );
        let key = with_pool!(self, pool => sqlx::query_as(&sql)
            .bind(community_id)
            .bind(prefix)
            .bind(hash)
            .bind(Utc::now())
            .fetch_one(pool)
            .await)?;
        Ok(key)
    }

    /// The key with this prefix, revoked or not: the caller must check `revoked_at`.
    pub async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE prefix = $1");
        let key = with_read_pool!(self, pool => sqlx::query_as(&sql).bind(prefix).fetch_optional(pool).await)?;
        Ok(key)
    }

    /// Revokes a key; returns false if it does not exist. Revoking twice keeps the first time.
    pub async fn revoke_api_key(&self, id: i64) -> Result<bool, StoreError> {
        let sql = "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1";
        let done = with_pool!(self, pool => sqlx::query(sql).bind(id).bind(Utc::now()).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
