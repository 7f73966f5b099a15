//! Carrier limits end to end: several engine instances on one RabbitMQ keep one account's and
//! its senders' limits in total, through the loss of the instance that sends; limits changed at
//! runtime reach whichever instance sends; a number without a rate of its own keeps its kind's
//! default; replies overtake a broadcast backlog; a storm of
//! 429s makes the engine back off and recover; a sender whose queue is full pauses alone.

mod full_sender;
mod instances;
mod kinds;
mod priority;
mod runtime;
mod senders;
mod storm;

use std::time::{Duration, Instant};

use crate::support::engine::Engine;

/// The value of `floodgate_carrier_lane_held{carrier="sim"}` on `engine`, if it answers.
pub async fn holds_sim_lanes(engine: &Engine) -> Option<bool> {
    let text = reqwest::get(format!("{}/metrics", engine.base()))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let line = text
        .lines()
        .find(|l| l.starts_with("floodgate_carrier_lane_held{carrier=\"sim\"}"))?;
    Some(line.rsplit(' ').next()? == "1")
}

/// Waits (bounded) until exactly one of `engines` holds the sim carrier's lanes; its index.
pub async fn the_holder(engines: &[&Engine], timeout: Duration) -> usize {
    let deadline = Instant::now() + timeout;
    loop {
        let mut holders = Vec::new();
        for (i, engine) in engines.iter().enumerate() {
            if holds_sim_lanes(engine).await == Some(true) {
                holders.push(i);
            }
        }
        if holders.len() == 1 {
            return holders[0];
        }
        assert!(
            holders.len() <= 1,
            "more than one instance sends for the carrier: {holders:?}"
        );
        assert!(
            Instant::now() < deadline,
            "no instance took the carrier's lanes within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
