//! An upper bound on the age of a RabbitMQ queue's oldest ready message.
//!
//! AMQP cannot peek at a queue's head without taking it (and a quorum queue counts every
//! return against its delivery limit), so the age is bounded from what this instance sees:
//! queues are FIFO, so every message still waiting was published after (a) the newest
//! publish time among the messages this instance consumed from the queue, and after (b) the
//! last moment it saw the queue empty, and (c) we cannot know anything before this instance
//! started. `now - max(a, b, c)` is therefore never below the true age, and it keeps growing
//! while nothing is consumed, which is what a stalled queue should look like. An instance that
//! does not consume a queue (a lane held elsewhere) reports only (b) and (c): take the `min`
//! across instances.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::bus::QueueName;

/// What this instance knows about each queue's head, in Unix milliseconds.
#[derive(Debug)]
pub(super) struct HeadAges {
    started_ms: i64,
    marks: Mutex<HashMap<QueueName, i64>>,
}

impl HeadAges {
    /// Knows nothing before `now_ms`.
    pub(super) fn new(now_ms: i64) -> Self {
        Self {
            started_ms: now_ms,
            marks: Mutex::new(HashMap::new()),
        }
    }

    fn raise(&self, queue: &QueueName, ms: i64) {
        let mut marks = self.marks.lock().unwrap_or_else(PoisonError::into_inner);
        let mark = marks.entry(queue.clone()).or_insert(ms);
        *mark = (*mark).max(ms);
    }

    /// A consumer here received a message published (or due after its delay) at `published_ms`.
    pub(super) fn consumed(&self, queue: &QueueName, published_ms: i64) {
        self.raise(queue, published_ms);
    }

    /// The upper bound for `queue` holding `ready` messages at `now_ms`; an empty queue also
    /// moves the bound, since whatever arrives later is younger than now.
    pub(super) fn age(&self, queue: &QueueName, ready: u64, now_ms: i64) -> Duration {
        if ready == 0 {
            self.raise(queue, now_ms);
            return Duration::ZERO;
        }
        let marks = self.marks.lock().unwrap_or_else(PoisonError::into_inner);
        let since = marks
            .get(queue)
            .copied()
            .unwrap_or(self.started_ms)
            .max(self.started_ms);
        Duration::from_millis(now_ms.saturating_sub(since).max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_grows_while_nothing_is_consumed() {
        let heads = HeadAges::new(1_000);
        let q = QueueName::inbound();
        assert_eq!(heads.age(&q, 5, 4_000), Duration::from_secs(3));
        assert_eq!(heads.age(&q, 5, 9_000), Duration::from_secs(8));
    }

    #[test]
    fn consuming_or_seeing_the_queue_empty_moves_the_bound_forward_only() {
        let heads = HeadAges::new(0);
        let q = QueueName::fanout();
        heads.consumed(&q, 5_000);
        heads.consumed(&q, 4_000); // a redelivered, older message does not move it back
        assert_eq!(heads.age(&q, 1, 6_000), Duration::from_secs(1));
        assert_eq!(heads.age(&q, 0, 10_000), Duration::ZERO);
        assert_eq!(heads.age(&q, 3, 12_500), Duration::from_millis(2_500));
        // Another queue is unaffected.
        assert_eq!(
            heads.age(&QueueName::receipts(), 1, 12_500),
            Duration::from_millis(12_500)
        );
    }
}
