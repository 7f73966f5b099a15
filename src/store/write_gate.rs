//! Turns at SQLite's one writer connection, webhook accepts first.
//!
//! SQLite writes through one connection (see [`super::Store`]), and sqlx hands that connection
//! out first come, first served. During a spike the inbound stage keeps a dozen keyword
//! transactions waiting for it, so a webhook's group commit queued behind all of them: accept
//! p50 was ~20 ms, and with 64 concurrent senders that capped accepts near 3,000/s. Here the
//! edge (accepts, and the STOP applied before the 2xx) goes before every other writer that is
//! waiting, so it waits for at most the one transaction already running. Other writers keep
//! their order among themselves, and get the connection whenever no accept is waiting; since
//! the accepts of a spike are group-committed, one batch at a time, they never take every turn.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

tokio::task_local! {
    /// Set for work a carrier's webhook is waiting on.
    static AT_THE_EDGE: ();
}

/// Runs `work` with its writes ahead of the pipeline's (on SQLite; PostgreSQL has no gate).
pub async fn at_the_edge<F: Future>(work: F) -> F::Output {
    AT_THE_EDGE.scope((), work).await
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
    rest: VecDeque<oneshot::Sender<Turn>>,
}

/// The right to use the writer; dropping it hands the writer to the next in line.
#[derive(Debug)]
pub(crate) struct Turn {
    gate: Arc<WriteGate>,
    /// False for a turn that found nobody to receive it: dropping it passes nothing on.
    live: bool,
}

impl WriteGate {
    /// Waits for the writer: the edge's waiters before everyone else's, each in arrival order.
    pub(crate) async fn turn(self: &Arc<Self>) -> Turn {
        let edge = AT_THE_EDGE.try_with(|()| ()).is_ok();
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
            if edge {
                state.edge.push_back(tx);
            } else {
                state.rest.push_back(tx);
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
                match state.edge.pop_front().or_else(|| state.rest.pop_front()) {
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

    #[tokio::test]
    async fn the_edge_goes_before_writers_that_came_earlier() {
        let gate = Arc::new(WriteGate::default());
        let first = gate.turn().await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for (name, edge) in [("stage-1", false), ("stage-2", false), ("edge", true)] {
            let (gate, order) = (Arc::clone(&gate), Arc::clone(&order));
            waiters.push(tokio::spawn(async move {
                let take = async {
                    let _turn = gate.turn().await;
                    order.lock().unwrap().push(name);
                    settle().await;
                };
                if edge {
                    at_the_edge(take).await
                } else {
                    take.await
                }
            }));
            settle().await;
        }
        drop(first);
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["edge", "stage-1", "stage-2"]);
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
