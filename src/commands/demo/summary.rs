//! The demo's verdict: counts, and each promise checked against what the carrier saw.

use std::fmt;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::DemoArgs;
use super::spike::SpikeOutcome;
use crate::domain::MemberStatus;
use crate::sandbox::Sandbox as World;
use crate::store::StatusCounts;

/// A send that reached the carrier this long after the STOP's transaction is a violation; the
/// margin covers the commit itself and the HTTP hop of a send whose check came just before it.
const STOP_MARGIN: Duration = Duration::from_millis(100);

/// Everything the demo measured.
#[derive(Debug, Clone)]
pub struct Summary {
    pub members: u32,
    pub elapsed: Duration,
    pub counts: StatusCounts,
    pub spike_accepted: u64,
    pub spike_refused: u64,
    pub spike_p50_ms: f64,
    pub spike_p99_ms: f64,
    pub spike_rate: f64,
    pub joins_applied: u64,
    pub joins_expected: u64,
    pub stops_applied: u64,
    pub stops_expected: u64,
    pub carrier_requests: u64,
    pub carrier_accepted: u64,
    pub carrier_throttled: u64,
    pub duplicates: u64,
    pub lost: u64,
    pub max_units_1s: u64,
    pub limit: f64,
    pub burst: u32,
    pub windows_over_limit: u64,
    pub sends_after_stop: u64,
}

impl Summary {
    /// Zero lost, zero duplicates, zero sends after STOP, zero windows over the limit.
    pub fn promises_held(&self) -> bool {
        self.lost == 0
            && self.duplicates == 0
            && self.sends_after_stop == 0
            && self.windows_over_limit == 0
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Reads the store and the simulator's record and checks each promise.
pub async fn collect(
    world: &World,
    broadcast: i64,
    spike: &SpikeOutcome,
    args: &DemoArgs,
    elapsed: Duration,
) -> anyhow::Result<Summary> {
    let counts = world.store.message_counts(broadcast).await?;
    let report = world.sim.report();
    let account = report.accounts.first();
    let plan = spike.plan.as_ref();

    let mut joins_applied = 0;
    for phone in plan.into_iter().flat_map(|p| p.joins()) {
        let m = world
            .store
            .member_by_phone(world.community_id, phone)
            .await?;
        joins_applied += u64::from(m.is_some_and(|m| m.status == MemberStatus::Subscribed));
    }
    let (mut stops_applied, mut sends_after_stop) = (0, 0);
    let (now_utc, now_instant) = (Utc::now(), Instant::now());
    for phone in plan.into_iter().flat_map(|p| p.stops()) {
        let Some(member) = world
            .store
            .member_by_phone(world.community_id, phone)
            .await?
        else {
            continue;
        };
        let Some(stopped_at) = member
            .unsubscribed_at
            .filter(|_| member.status == MemberStatus::Unsubscribed)
        else {
            continue;
        };
        stops_applied += 1;
        let ago = (now_utc - stopped_at).to_std().unwrap_or_default();
        let stopped_instant = now_instant.checked_sub(ago).unwrap_or(world.sim_epoch);
        for request in world.sim.requests_to(phone.as_str()) {
            let at = world.sim_epoch + Duration::from_secs_f64(request.at_ms / 1000.0);
            let broadcast_text = request
                .body
                .as_deref()
                .is_some_and(|b| b.starts_with("Floodgate demo"));
            if request.status == 201 && broadcast_text && at > stopped_instant + STOP_MARGIN {
                sends_after_stop += 1;
            }
        }
    }
    let stops_expected = plan.map_or(0, |p| p.stops().count() as u64);
    let joins_expected = plan.map_or(0, |p| p.joins().count() as u64);
    // Lost: broadcast messages that never reached a final answer, plus accepted texts without effect.
    let lost = (counts.queued + counts.sending) as u64
        + joins_expected.saturating_sub(joins_applied)
        + stops_expected.saturating_sub(stops_applied)
        + spike.refused;
    let mut latencies = spike.latencies.clone();
    latencies.sort();
    Ok(Summary {
        members: args.members,
        elapsed,
        counts,
        spike_accepted: spike.accepted,
        spike_refused: spike.refused,
        spike_p50_ms: percentile(&latencies, 0.5),
        spike_p99_ms: percentile(&latencies, 0.99),
        spike_rate: spike.accepted as f64 / spike.elapsed.as_secs_f64().max(1e-3),
        joins_applied,
        joins_expected,
        stops_applied,
        stops_expected,
        carrier_requests: report.total_requests,
        carrier_accepted: report.accepted,
        carrier_throttled: report.throttled,
        duplicates: report.duplicates,
        lost,
        max_units_1s: account.map_or(0, |a| a.max_units_1s),
        limit: world.rate,
        burst: world.burst,
        windows_over_limit: account.map_or(0, |a| a.windows_over_limit),
        sends_after_stop,
    })
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "BROKEN" }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        writeln!(f)?;
        writeln!(f, "Floodgate demo — {:.1} s", self.elapsed.as_secs_f64())?;
        writeln!(
            f,
            "  members seeded                      {:>9}",
            self.members
        )?;
        writeln!(f, "  broadcast messages                  {:>9}", c.total())?;
        writeln!(f, "    sent (awaiting receipt)           {:>9}", c.sent)?;
        writeln!(
            f,
            "    delivered                         {:>9}",
            c.delivered
        )?;
        writeln!(
            f,
            "    undelivered / failed              {:>9}",
            c.undelivered + c.failed
        )?;
        writeln!(
            f,
            "    skipped (STOP before send)        {:>9}",
            c.cancelled
        )?;
        writeln!(
            f,
            "  inbound webhooks accepted           {:>9}   ({:.0}/s, p50 {:.1} ms, p99 {:.1} ms)",
            self.spike_accepted, self.spike_rate, self.spike_p50_ms, self.spike_p99_ms
        )?;
        writeln!(
            f,
            "    JOINs applied                     {:>9} / {}",
            self.joins_applied, self.joins_expected
        )?;
        writeln!(
            f,
            "    STOPs applied                     {:>9} / {}",
            self.stops_applied, self.stops_expected
        )?;
        writeln!(
            f,
            "  carrier requests (accepted / 429)   {:>9}   ({} / {})",
            self.carrier_requests, self.carrier_accepted, self.carrier_throttled
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "  promise                                 seen   verdict"
        )?;
        writeln!(
            f,
            "  lost (work accepted, never finished) {:>9}   {}",
            self.lost,
            verdict(self.lost == 0)
        )?;
        writeln!(
            f,
            "  duplicates seen by the carrier       {:>9}   {}",
            self.duplicates,
            verdict(self.duplicates == 0)
        )?;
        writeln!(
            f,
            "  sends to members after their STOP    {:>9}   {}",
            self.sends_after_stop,
            verdict(self.sends_after_stop == 0)
        )?;
        writeln!(
            f,
            "  max segments in any 1 s window       {:>9}   {} (limit {} + burst {})",
            self.max_units_1s,
            verdict(self.windows_over_limit == 0),
            self.limit,
            self.burst
        )?;
        writeln!(
            f,
            "  1 s windows over the limit           {:>9}   {}",
            self.windows_over_limit,
            verdict(self.windows_over_limit == 0)
        )
    }
}
