//! The carrier's cap on concurrent requests (`max_in_flight`), with a share kept for replies.
//!
//! A broadcast keeps many sends between token and response at once; if they could take every
//! request slot, a keyword reply that already has its token would queue behind hundreds of
//! them. Broadcast sends therefore pass a gate one eighth smaller than the cap first, so a
//! reply always finds a slot within the cap, and the cap itself is never exceeded.

use std::sync::Arc;

use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};

use crate::bus::Lane;

/// The request slots of one carrier account, shared by its lanes; cheap to clone.
#[derive(Clone)]
pub struct RequestSlots {
    all: Arc<Semaphore>,
    broadcast: Arc<Semaphore>,
}

/// A request in flight; the slot frees itself when dropped.
pub struct Slot {
    _all: OwnedSemaphorePermit,
    _broadcast: Option<OwnedSemaphorePermit>,
}

impl RequestSlots {
    /// `max` requests at once; broadcasts may hold all but `max / 8` (at least one) of them.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        let reserved = if max > 1 { (max / 8).max(1) } else { 0 };
        Self {
            all: Arc::new(Semaphore::new(max)),
            broadcast: Arc::new(Semaphore::new(max - reserved)),
        }
    }

    /// Waits for a slot: a broadcast send first for its share, then, like a reply, for the cap.
    pub async fn acquire(&self, lane: Lane) -> Result<Slot, AcquireError> {
        let broadcast = match lane {
            Lane::Broadcast => Some(self.broadcast.clone().acquire_owned().await?),
            Lane::Transactional => None,
        };
        let all = self.all.clone().acquire_owned().await?;
        Ok(Slot {
            _all: all,
            _broadcast: broadcast,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn broadcasts_leave_the_reserved_slots_to_replies() {
        let slots = RequestSlots::new(16);
        let mut held = Vec::new();
        for _ in 0..14 {
            held.push(slots.acquire(Lane::Broadcast).await.unwrap());
        }
        let more = tokio::time::timeout(Duration::from_millis(50), slots.acquire(Lane::Broadcast));
        assert!(more.await.is_err(), "a 15th broadcast send got a slot");
        for _ in 0..2 {
            held.push(slots.acquire(Lane::Transactional).await.unwrap());
        }
        let over = tokio::time::timeout(
            Duration::from_millis(50),
            slots.acquire(Lane::Transactional),
        );
        assert!(
            over.await.is_err(),
            "a 17th request went over the cap of 16"
        );
        held.truncate(13);
        assert!(
            tokio::time::timeout(
                Duration::from_millis(50),
                slots.acquire(Lane::Transactional)
            )
            .await
            .is_ok(),
            "a freed slot went unused"
        );
    }

    #[tokio::test]
    async fn a_cap_of_one_serves_both_lanes() {
        let slots = RequestSlots::new(1);
        for lane in [Lane::Broadcast, Lane::Transactional, Lane::Broadcast] {
            let slot = tokio::time::timeout(Duration::from_millis(500), slots.acquire(lane));
            drop(slot.await.expect("a free slot is granted").unwrap());
        }
    }
}
