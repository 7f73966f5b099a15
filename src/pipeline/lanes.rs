//! Which instance sends for a carrier account: the one holding its lease in the store.
//!
//! Limits hold across instances because only one instance at a time consumes a carrier's two
//! delivery lanes (transactional and broadcast): its in-memory buckets are then the global
//! truth. Each instance runs a lane holder per carrier that tries to take the lease; the
//! holder renews it every fifth of `carrier_lease_ms`, and on each renewal also flushes
//! daily-cap usage and picks up limits changed at runtime (`floodgate limits set`) and sender
//! limits added to the store. When the holder dies, its lease runs out and another instance
//! takes over; the new holder's buckets start empty, so no burst stacks on the old one's.
//! A clean shutdown releases the lease at once. See docs/rate-limits.md.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Throttle;
use crate::config::CarrierProfile;
use crate::store::Store;
use crate::telemetry::metrics as m;

/// Starts the lanes under a token and returns their tasks; called each time the lease is won.
pub type StartLanes = Arc<dyn Fn(CancellationToken) -> Vec<JoinHandle<()>> + Send + Sync>;

/// One carrier account's lease loop on this instance.
pub struct LaneHolder {
    pub store: Store,
    pub profile: CarrierProfile,
    pub throttle: Throttle,
    /// This instance's name in the lease table.
    pub holder: String,
    pub lease: Duration,
    pub start_lanes: StartLanes,
}

/// A name for this instance that no other instance shares: host, process and a random part.
pub fn instance_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

impl LaneHolder {
    /// Runs until `shutdown`: waits for the lease, sends while it holds it, drains on exit.
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move { self.run(shutdown).await })
    }

    async fn run(self, shutdown: CancellationToken) {
        let carrier = self.profile.name.clone();
        let held = metrics::gauge!(m::CARRIER_LANE_HELD, "carrier" => carrier.clone());
        held.set(0.0);
        let renew_every = self.lease / 5;
        while !shutdown.is_cancelled() {
            if !self.try_lease().await {
                if sleep_or(renew_every, &shutdown).await {
                    break;
                }
                continue;
            }
            tracing::info!(
                carrier,
                holder = self.holder,
                "this instance now sends for the carrier"
            );
            held.set(1.0);
            self.refresh().await;
            let lanes = CancellationToken::new();
            let tasks = (self.start_lanes)(lanes.clone());
            loop {
                if sleep_or(renew_every, &shutdown).await {
                    break;
                }
                if !self.try_lease().await {
                    tracing::warn!(carrier, "lost the carrier's lease: stopping its lanes");
                    break;
                }
                self.refresh().await;
            }
            lanes.cancel();
            for task in tasks {
                let _ = task.await;
            }
            self.flush_cap().await;
            held.set(0.0);
        }
        if let Err(e) = self
            .store
            .release_carrier_lease(&carrier, &self.holder)
            .await
        {
            tracing::warn!(carrier, error = %e, "could not release the carrier's lease; it will run out");
        }
    }

    async fn try_lease(&self) -> bool {
        let now = Utc::now().timestamp_millis();
        let ttl = self.lease.as_millis() as i64;
        match self
            .store
            .acquire_carrier_lease(&self.profile.name, &self.holder, now, ttl)
            .await
        {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(carrier = %self.profile.name, error = %e, "carrier lease check failed");
                false
            }
        }
    }

    /// Flushes cap usage and applies runtime limits and sender limits.
    async fn refresh(&self) {
        self.flush_cap().await;
        let carrier = &self.profile.name;
        match self.store.carrier_limits(carrier).await {
            Ok(over) => self.throttle.set_limits(
                over.rate_per_second
                    .unwrap_or(self.profile.limits.rate_per_second),
                over.burst.unwrap_or(self.profile.limits.burst),
            ),
            Err(e) => tracing::warn!(carrier, error = %e, "could not read runtime limits"),
        }
        match self.store.sender_limits(carrier).await {
            Ok(stored) => self.throttle.apply_stored_sender_limits(stored),
            Err(e) => tracing::warn!(carrier, error = %e, "could not read sender limits"),
        }
        self.throttle.tick();
    }

    /// Writes this instance's cap usage to the store and goes on from the stored total.
    async fn flush_cap(&self) {
        let Some(cap) = self.throttle.daily_cap() else {
            return;
        };
        let (day, units) = cap.take_unflushed();
        let day = if day.is_empty() {
            cap.day_of(Utc::now())
        } else {
            day
        };
        match self
            .store
            .add_daily_usage(&self.profile.name, &day, units)
            .await
        {
            Ok(total) => cap.seed(&day, total),
            Err(e) => {
                tracing::warn!(carrier = %self.profile.name, error = %e, "could not save daily-cap usage");
                // Keep the units for the next flush.
                cap.seed(&day, 0);
                cap.restore_unflushed(units);
            }
        }
        metrics::gauge!(m::CARRIER_DAILY_CAP_REMAINING, "carrier" => self.profile.name.clone())
            .set(cap.remaining(Utc::now()) as f64);
    }
}

/// Sleeps for `period`; `true` when `shutdown` came first.
async fn sleep_or(period: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        () = tokio::time::sleep(period) => false,
        () = shutdown.cancelled() => true,
    }
}
