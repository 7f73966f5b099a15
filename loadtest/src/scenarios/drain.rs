//! Waiting, bounded, for work the engine owes to show up at the simulator.

use std::time::{Duration, Instant};

use floodgate_sim::SimHandle;
use indicatif::ProgressBar;

/// Waits until the simulator has accepted `owed` more sends than `baseline`, or nothing new
/// arrived for `stall`, or `deadline`. Returns whether everything owed arrived.
pub async fn until_sim_accepted(
    sim: &SimHandle,
    baseline: u64,
    owed: u64,
    deadline: Instant,
    stall: Duration,
    bar: &ProgressBar,
) -> bool {
    let mut last = (0u64, Instant::now());
    loop {
        let seen = sim.report().accepted.saturating_sub(baseline);
        bar.set_position(seen.min(owed));
        if seen >= owed {
            return true;
        }
        if seen != last.0 {
            last = (seen, Instant::now());
        }
        if Instant::now() >= deadline || last.1.elapsed() > stall {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
