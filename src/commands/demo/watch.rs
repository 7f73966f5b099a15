//! Progress bars per stage, and waiting (bounded) for the pipeline to finish.

use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::spike::SpikeOutcome;
use crate::sandbox::Sandbox as World;
use crate::store::BroadcastStatus;

/// One bar per stage the demo exercises.
pub struct Bars {
    multi: MultiProgress,
    pub fanout: ProgressBar,
    pub sent: ProgressBar,
    pub delivered: ProgressBar,
    pub spike: ProgressBar,
}

impl Bars {
    /// Bars sized for `members` recipients and `spike` webhooks; hidden when `quiet`.
    pub fn new(quiet: bool, members: u64, spike: u64) -> Self {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let multi = MultiProgress::with_draw_target(target);
        let style = ProgressStyle::with_template(
            "{prefix:>22} [{bar:40}] {pos:>7}/{len:7} {per_sec:>10} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bar = |prefix: &'static str, len: u64| {
            let b = multi.add(ProgressBar::new(len));
            b.set_style(style.clone());
            b.set_prefix(prefix);
            b
        };
        Self {
            fanout: bar("fan-out (rows)", members),
            sent: bar("deliver (carrier said)", members),
            delivered: bar("receipts (delivered)", members),
            spike: bar("inbound webhooks", spike),
            multi,
        }
    }

    /// A line above the bars.
    pub fn note(&self, line: &str) {
        let _ = self.multi.println(line);
    }

    /// Leaves the bars drawn in their final state.
    pub fn finish(&self) {
        for bar in [&self.fanout, &self.sent, &self.delivered, &self.spike] {
            bar.finish();
        }
    }
}

/// Polls until the broadcast is fanned out and every one of its messages has left the queue.
pub async fn until_broadcast_done(
    world: &World,
    broadcast: i64,
    bars: &Bars,
    deadline: Instant,
) -> anyhow::Result<()> {
    loop {
        let counts = world.store.message_counts(broadcast).await?;
        let b = world.store.broadcast(world.community_id, broadcast).await?;
        let total = counts.total() as u64;
        bars.fanout
            .set_length(bars.fanout.length().unwrap_or(0).max(total));
        bars.fanout.set_position(total);
        let settled = (counts.sent
            + counts.delivered
            + counts.undelivered
            + counts.failed
            + counts.cancelled) as u64;
        bars.sent.set_length(total.max(1));
        bars.sent.set_position(settled);
        bars.delivered.set_length(total.max(1));
        bars.delivered.set_position(counts.delivered as u64);
        let fanned_out = b.is_some_and(|b| {
            matches!(
                b.status,
                BroadcastStatus::Sending | BroadcastStatus::Completed
            )
        });
        if fanned_out && counts.queued + counts.sending == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("the broadcast did not finish in time: {counts:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the queues are empty and the simulator's callbacks have landed (or the deadline).
pub async fn until_quiet(
    world: &World,
    broadcast: i64,
    spike: &SpikeOutcome,
    bars: &Bars,
    deadline: Instant,
) -> anyhow::Result<()> {
    let queues = [
        "inbound",
        "receipts",
        "fanout",
        "deliver.sim.transactional",
        "deliver.sim.broadcast",
    ];
    let mut quiet_since: Option<Instant> = None;
    loop {
        let mut depth = 0;
        for queue in queues {
            depth += world.store.queue_depth(queue).await?;
        }
        let counts = world.store.message_counts(broadcast).await?;
        bars.delivered.set_position(counts.delivered as u64);
        let inbound_rows = world
            .store
            .inbound_page(world.community_id, None, 1)
            .await?
            .len();
        let awaiting_receipts = counts.sent;
        let idle =
            depth == 0 && awaiting_receipts == 0 && (spike.accepted == 0 || inbound_rows > 0);
        match (idle, quiet_since) {
            (true, Some(since)) if since.elapsed() > Duration::from_millis(500) => return Ok(()),
            (true, None) => quiet_since = Some(Instant::now()),
            (false, _) => quiet_since = None,
            _ => {}
        }
        if Instant::now() > deadline {
            bars.note(&format!("stopped waiting: {depth} queued work items, {awaiting_receipts} messages awaiting receipts"));
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
