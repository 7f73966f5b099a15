//! Turns at SQLite's one writer connection: webhook accepts first, then a member's own work.
//!
//! SQLite writes through one connection (see [`super::Store`]), and sqlx hands that connection
//! out first come, first served. During a spike the inbound stage keeps a dozen keyword
//! transactions waiting for it, so a webhook's group commit queued behind all of them: accept
//! p50 was ~20 ms, and with 64 concurrent senders that capped accepts near 3,000/s. Here the
//! edge (accepts, and the STOP applied before the 2xx) goes before every other writer that is
//! waiting, so it waits for at most the one transaction already running; since the accepts of
//! a spike are group-committed, one batch at a time, they never take every turn.
//!
//! Next come writes for a member who is waiting on us (the inbound stage and the transactional
//! delivery lane, see [`transactional`]): a broadcast that keeps the writer busy would
//! otherwise put a JOIN's welcome seconds behind its queue. They go first for up to
//! [`TRANSACTIONAL_RUN`] turns in a row while bulk writers wait, then one bulk writer goes, so a
//! flood of keywords slows a broadcast down without stopping it (or its leases' heartbeats).
//! Within each tier, waiters keep their arrival order.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Turns the transactional tier may take in a row while bulk writers wait.
const TRANSACTIONAL_RUN: u32 = 4;

/// Whose work a write is, which decides its place in the queue for the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    /// A carrier's webhook is waiting for the answer.
    Edge,
    /// A member is waiting: keywords and their replies.
    Transactional,
    /// Nobody is waiting on this write in particular: broadcasts, receipts, upkeep.
    Bulk,
}

tokio::task_local! {
    static TIER: Tier;
}

fn current_tier() -> Tier {
    TIER.try_with(|tier| *tier).unwrap_or(Tier::Bulk)
}

/// Runs `work` with its writes ahead of the pipeline's (on SQLite; PostgreSQL has no gate).
pub async fn at_the_edge<F: Future>(work: F) -> F::Output {
    TIER.scope(Tier::Edge, work).await
}

/// Runs `work` with its writes ahead of bulk work but after the edge's (SQLite only).
pub async fn transactional<F: Future>(work: F) -> F::Output {
    TIER.scope(Tier::Transactional, work).await
}

/// Carries the caller's tier into `work`, for a task spawned on the caller's behalf.
pub(crate) fn inherit<F: Future>(work: F) -> impl Future<Output = F::Output> {
    TIER.scope(current_tier(), work)
}

/// Who holds the writer and who waits for it.
#[derive(Debug, Default)]
pub(crate) struct WriteGate {
    state: Mutex<Waiting>,
}

#[derive(Debug, Default)]
struct Waiting {
    busy: bool,
    edge: VecDeque<oneshot::Sender<Turn>>,
    transactional: VecDeque<oneshot::Sender<Turn>>,
    bulk: VecDeque<oneshot::Sender<Turn>>,
    /// Transactional turns given since a bulk writer last had one (while bulk ones waited).
    run: u32,
}

impl Waiting {
    /// The next waiter: the edge's, else a transactional one unless its run is spent, else bulk.
    fn next(&mut self) -> Option<oneshot::Sender<Turn>> {
        if let Some(next) = self.edge.pop_front() {
            return Some(next);
        }
        let bulk_waits = !self.bulk.is_empty();
        let run_spent = bulk_waits && self.run >= TRANSACTIONAL_RUN;
        if !self.transactional.is_empty() && !run_spent {
            self.run = if bulk_waits { self.run + 1 } else { 0 };
            return self.transactional.pop_front();
        }
        self.run = 0;
        self.bulk.pop_front()
    }
}

/// The right to use the writer; dropping it hands the writer to the next in line.
#[derive(Debug)]
pub(crate) struct Turn {
    gate: Arc<WriteGate>,
    /// False for a turn that found nobody to receive it: dropping it passes nothing on.
    live: bool,
}

impl WriteGate {
    /// Waits for the writer: by tier (edge, transactional, bulk), each tier in arrival order.
    pub(crate) async fn turn(self: &Arc<Self>) -> Turn {
        let tier = current_tier();
        let waiting = {
            let mut state = self.state.lock().expect("write gate poisoned");
            if !state.busy {
                state.busy = true;
                return Turn {
                    gate: Arc::clone(self),
                    live: true,
                };
            }
            let (tx, rx) = oneshot::channel();
            match tier {
                Tier::Edge => state.edge.push_back(tx),
                Tier::Transactional => state.transactional.push_back(tx),
                Tier::Bulk => state.bulk.push_back(tx),
            }
            rx
        };
        // A sender is only dropped unsent while a turn is out, and that turn hands the writer
        // on; so this wait ends with a turn unless the gate itself is gone.
        waiting.await.expect("a write turn was dropped unsent")
    }

    fn pass_on(self: &Arc<Self>) {
        loop {
            let next = {
                let mut state = self.state.lock().expect("write gate poisoned");
                match state.next() {
                    Some(next) => next,
                    None => {
                        state.busy = false;
                        return;
                    }
                }
            };
            let turn = Turn {
                gate: Arc::clone(self),
                live: true,
            };
            // A waiter that gave up (its future dropped) cannot take the turn: try the next.
            // One that gives up after this succeeds drops the turn unopened, which passes it on.
            match next.send(turn) {
                Ok(()) => return,
                Err(mut unclaimed) => unclaimed.live = false,
            }
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if self.live {
            self.gate.pass_on();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    /// Queues one waiter per `(name, tier)` in that order while `first` holds the writer,
    /// then frees it and returns the order in which they wrote.
    async fn order_of(
        gate: Arc<WriteGate>,
        first: Turn,
        waiters: &[(&'static str, Tier)],
    ) -> Vec<&'static str> {
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for &(name, tier) in waiters {
            let (gate, order) = (Arc::clone(&gate), Arc::clone(&order));
            tasks.push(tokio::spawn(TIER.scope(tier, async move {
                let _turn = gate.turn().await;
                order.lock().unwrap().push(name);
                settle().await;
            })));
            settle().await;
        }
        drop(first);
        for t in tasks {
            t.await.unwrap();
        }
        Arc::try_unwrap(order).unwrap().into_inner().unwrap()
    }

    #[tokio::test]
    async fn the_edge_goes_first_then_transactional_work_then_the_rest() {
        let gate = Arc::new(WriteGate::default());
        let first = gate.turn().await;
        let order = order_of(
            Arc::clone(&gate),
            first,
            &[
                ("bulk-1", Tier::Bulk),
                ("reply", Tier::Transactional),
                ("bulk-2", Tier::Bulk),
                ("edge", Tier::Edge),
            ],
        )
        .await;
        assert_eq!(order, ["edge", "reply", "bulk-1", "bulk-2"]);
    }

    #[tokio::test]
    async fn a_run_of_transactional_turns_lets_a_waiting_bulk_writer_through() {
        let gate = Arc::new(WriteGate::default());
        let first = gate.turn().await;
        let mut waiters = vec![("bulk", Tier::Bulk)];
        let names = ["t1", "t2", "t3", "t4", "t5", "t6"];
        waiters.extend(names.iter().map(|&n| (n, Tier::Transactional)));
        let order = order_of(Arc::clone(&gate), first, &waiters).await;
        assert_eq!(order, ["t1", "t2", "t3", "t4", "bulk", "t5", "t6"]);
    }

    #[tokio::test]
    async fn at_the_edge_and_transactional_set_the_tier_and_inherit_keeps_it() {
        assert_eq!(current_tier(), Tier::Bulk);
        assert_eq!(at_the_edge(async { current_tier() }).await, Tier::Edge);
        let inherited = transactional(async {
            tokio::spawn(inherit(async { current_tier() }))
                .await
                .unwrap()
        })
        .await;
        assert_eq!(inherited, Tier::Transactional);
        assert_eq!(
            tokio::spawn(async { current_tier() }).await.unwrap(),
            Tier::Bulk
        );
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_does_not_keep_the_writer() {
        let gate = Arc::new(WriteGate::default());
        let first = gate.turn().await;
        let quitter = {
            let gate = Arc::clone(&gate);
            tokio::spawn(async move {
                let _turn = gate.turn().await;
            })
        };
        settle().await;
        quitter.abort();
        let _ = quitter.await;
        drop(first);
        let next = tokio::time::timeout(Duration::from_secs(1), gate.turn()).await;
        assert!(
            next.is_ok(),
            "the writer stayed taken by a waiter that left"
        );
        drop(next);
        assert!(
            tokio::time::timeout(Duration::from_secs(1), gate.turn())
                .await
                .is_ok(),
            "a finished turn did not free the writer"
        );
    }

    #[tokio::test]
    async fn a_turn_handed_to_a_waiter_that_then_leaves_is_passed_on() {
        let gate = Arc::new(WriteGate::default());
        let first = gate.turn().await;
        let (gate2, gate3) = (Arc::clone(&gate), Arc::clone(&gate));
        // Polled once to queue, then dropped after the turn was sent to it but before it ran.
        let mut leaving = Box::pin(async move { gate2.turn().await });
        assert!(futures::poll!(&mut leaving).is_pending());
        let waiting = tokio::spawn(async move { gate3.turn().await.live });
        settle().await;
        drop(first);
        drop(leaving);
        let got = tokio::time::timeout(Duration::from_secs(1), waiting).await;
        assert!(
            matches!(got, Ok(Ok(true))),
            "the dropped turn was not passed on"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn one_writer_at_a_time_while_waiters_come_and_go() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let gate = Arc::new(WriteGate::default());
        let (inside, most, done) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let mut tasks = Vec::new();
        for i in 0..200u64 {
            let (gate, inside, most, done) = (
                Arc::clone(&gate),
                Arc::clone(&inside),
                Arc::clone(&most),
                Arc::clone(&done),
            );
            let work = async move {
                let _turn = gate.turn().await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_micros(200)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
                done.fetch_add(1, Ordering::SeqCst);
            };
            tasks.push(tokio::spawn(async move {
                // Every third waiter gives up after a while, at whatever point it has reached.
                if i % 3 == 0 {
                    let _ = tokio::time::timeout(Duration::from_micros(300 * (i % 7)), work).await;
                } else if i % 2 == 0 {
                    at_the_edge(work).await;
                } else {
                    work.await;
                }
            }));
        }
        for t in tasks {
            tokio::time::timeout(Duration::from_secs(10), t)
                .await
                .expect("a waiter never got the writer")
                .unwrap();
        }
        assert_eq!(
            most.load(Ordering::SeqCst),
            1,
            "two writers held the gate at once"
        );
        assert!(
            done.load(Ordering::SeqCst) >= 133,
            "waiters that stayed did not all write"
        );
        assert!(
            tokio::time::timeout(Duration::from_secs(1), gate.turn())
                .await
                .is_ok()
        );
    }
}
