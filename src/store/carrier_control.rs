//! Shared state that makes N engine instances send to a carrier account as one: the lease
//! naming the one instance that sends, limits changed at runtime, and daily-cap usage.

use super::{Store, StoreError};

/// Limits set at runtime for a carrier account; `None` fields keep the profile's value.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LimitOverride {
    pub rate_per_second: Option<f64>,
    pub burst: Option<u32>,
    /// When it was set (ms since the Unix epoch); 0 when nothing is set.
    pub updated_at_ms: i64,
}

impl Store {
    /// Takes or renews the sending lease for `carrier`; `true` when `holder` has it until
    /// `now_ms + ttl_ms`. A lease held by another instance is taken only once it has run out.
    pub async fn acquire_carrier_lease(
        &self,
        carrier: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = "INSERT INTO carrier_leases (carrier, holder, expires_at_ms) VALUES ($1, $2, $3) \
                   ON CONFLICT (carrier) DO UPDATE SET holder = excluded.holder, \
                   expires_at_ms = excluded.expires_at_ms \
                   WHERE carrier_leases.holder = excluded.holder OR carrier_leases.expires_at_ms < $4";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(carrier).bind(holder).bind(now_ms + ttl_ms).bind(now_ms)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Gives the lease up at once (a clean shutdown), so another instance need not wait it out.
    pub async fn release_carrier_lease(
        &self,
        carrier: &str,
        holder: &str,
    ) -> Result<(), StoreError> {
        let sql = "DELETE FROM carrier_leases WHERE carrier = $1 AND holder = $2";
        with_pool!(self, pool => sqlx::query(sql).bind(carrier).bind(holder).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Who holds the sending lease for `carrier` and until when, if anyone.
    pub async fn carrier_lease(&self, carrier: &str) -> Result<Option<(String, i64)>, StoreError> {
        let sql = "SELECT holder, expires_at_ms FROM carrier_leases WHERE carrier = $1";
        let row = with_read_pool!(self, pool => sqlx::query_as(sql).bind(carrier).fetch_optional(pool).await)?;
        Ok(row)
    }

    /// Sets runtime limits for `carrier`; every instance's lane holder picks them up.
    pub async fn set_carrier_limits(
        &self,
        carrier: &str,
        limits: LimitOverride,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO carrier_limits (carrier, rate_per_second, burst, updated_at_ms) \
                   VALUES ($1, $2, $3, $4) ON CONFLICT (carrier) DO UPDATE SET \
                   rate_per_second = COALESCE(excluded.rate_per_second, carrier_limits.rate_per_second), \
                   burst = COALESCE(excluded.burst, carrier_limits.burst), \
                   updated_at_ms = excluded.updated_at_ms";
        let burst = limits.burst.map(i64::from);
        with_pool!(self, pool => sqlx::query(sql)
            .bind(carrier).bind(limits.rate_per_second).bind(burst).bind(limits.updated_at_ms)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Drops the runtime limits for `carrier`: the profile's apply again.
    pub async fn reset_carrier_limits(&self, carrier: &str) -> Result<bool, StoreError> {
        let sql = "DELETE FROM carrier_limits WHERE carrier = $1";
        let done = with_pool!(self, pool => sqlx::query(sql).bind(carrier).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// The runtime limits set for `carrier`; all `None` when none are.
    pub async fn carrier_limits(&self, carrier: &str) -> Result<LimitOverride, StoreError> {
        let sql =
            "SELECT rate_per_second, burst, updated_at_ms FROM carrier_limits WHERE carrier = $1";
        let row: Option<(Option<f64>, Option<i64>, i64)> = with_read_pool!(self, pool => sqlx::query_as(sql).bind(carrier).fetch_optional(pool).await)?;
        Ok(row
            .map(|(rate, burst, at)| LimitOverride {
                rate_per_second: rate,
                burst: burst.and_then(|b| u32::try_from(b).ok()),
                updated_at_ms: at,
            })
            .unwrap_or_default())
    }

    /// Adds `units` to `carrier`'s usage on `day` and returns the day's new total.
    pub async fn add_daily_usage(
        &self,
        carrier: &str,
        day: &str,
        units: u64,
    ) -> Result<u64, StoreError> {
        let sql = "INSERT INTO carrier_daily_usage (carrier, day, units) VALUES ($1, $2, $3) \
                   ON CONFLICT (carrier, day) DO UPDATE SET units = carrier_daily_usage.units + excluded.units \
                   RETURNING units";
        let units = i64::try_from(units).unwrap_or(i64::MAX);
        let total: i64 = with_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(carrier).bind(day).bind(units).fetch_one(pool).await)?;
        Ok(total.max(0) as u64)
    }
}
