//! Deliver stage: claim, re-check the subscription, wait for a token, call the carrier,
//! record the result in batches.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use futures::future::join_all;
use prost::Message as _;

use super::deliver_metrics::DeliverMetrics;
use super::{decode, retry};
use crate::bus::{Bus, Delivery, Lane, Outcome, QueueName, RetryPolicy};
use crate::carriers::{CarrierClient, OutboundSms, SendOutcome};
use crate::domain::{MessageBody, MessageStatus, SenderAddress};
use crate::events::v1;
use crate::pipeline::{Admission, Batcher, Grant, Processor, RequestSlots, Slot, Throttle};
use crate::store::{Claimed, JoinedVia, SendCheck, SendRecord, Store};

/// A limited sender with this much work already waiting gets no more until it drains.
const SENDER_BACKLOG: Duration = Duration::from_secs(2);
/// Throttled answers one message waits through in place before it goes to the delay queue.
const MAX_THROTTLED_ROUNDS: u32 = 8;

/// What the throttle and the last look decided for one message.
enum Admitted {
    /// Send now, holding one of the carrier's request slots.
    Go(Grant, Slot),
    /// The message needs no send (the member opted out); its result is recorded.
    Settled,
    Capped {
        until: chrono::DateTime<Utc>,
    },
    /// The sender's queue at the carrier is full; its messages wait until then.
    SenderPaused {
        until: std::time::Instant,
    },
}

/// Writes send results in batches; each submitter learns when its row is durable.
pub type RecordBatcher = Batcher<(), SendRecord, ()>;

/// Runs the last looks of concurrent sends as one query: (message id, claim end) → verdict.
pub type CheckBatcher = Batcher<(), (i64, i64), SendCheck>;

/// Sends one carrier account's messages, never faster than its bucket allows.
pub struct DeliverStage {
    pub store: Store,
    pub bus: Bus,
    /// The carrier profile name (`twilio`, `sim`, ...).
    pub carrier: String,
    pub client: Arc<CarrierClient>,
    pub throttle: Throttle,
    /// Which lane this stage consumes; transactional sends take tokens first.
    pub lane: Lane,
    /// Requests to the carrier in flight at once (the profile's `max_in_flight`), with a
    /// share only replies may use.
    pub in_flight: RequestSlots,
    pub records: RecordBatcher,
    /// The last look before each carrier call, batched across this account's sends.
    pub checks: CheckBatcher,
    /// Metric handles for this carrier, built once.
    pub metrics: DeliverMetrics,
    /// How long a claim protects a message from other workers.
    pub claim_lease: Duration,
    pub retry: RetryPolicy,
    /// Where the carrier reports statuses: `FLOODGATE_PUBLIC_URL/webhooks/{carrier}/status`.
    pub status_callback: String,
}

impl Processor for DeliverStage {
    fn stage(&self) -> &'static str {
        "deliver"
    }

    async fn process(&self, delivery: &Delivery) -> Outcome {
        let work: v1::DeliverMessages = match decode(&delivery.payload) {
            Ok(work) => work,
            Err(outcome) => return outcome,
        };
        let now = Utc::now().timestamp_millis();
        let lease_until = now + self.claim_lease.as_millis() as i64;
        let claim = match self
            .store
            .claim_for_delivery(&work.message_ids, now, lease_until)
            .await
        {
            Ok(claim) => claim,
            Err(e) => return retry(e),
        };
        // Someone else holds these (or a crashed worker did): look again when the lease ends.
        for (id, until) in &claim.busy {
            let wait = Duration::from_millis((until - now).max(1000) as u64);
            if let Err(e) = self
                .requeue(&delivery.queue, *id, delivery.attempt, wait)
                .await
            {
                return retry(e);
            }
        }
        if let Err(e) = self.look_up_new_senders(&claim.claimed).await {
            return retry(e);
        }
        // A chunk of a broadcast shares one text: measure it once, not per recipient.
        let mut bodies: HashMap<&str, Option<MessageBody>> = HashMap::new();
        for m in &claim.claimed {
            bodies
                .entry(m.body.as_str())
                .or_insert_with(|| MessageBody::parse(&m.body).ok());
        }
        // A number with its own limit that already has more waiting than it sends in
        // SENDER_BACKLOG does not hold a processing slot for more: its messages come back later,
        // and other senders' broadcasts on this account go meanwhile.
        let (ready, parked): (Vec<&Claimed>, Vec<&Claimed>) = claim.claimed.iter().partition(|m| {
            m.from
                .as_ref()
                .and_then(|from| self.throttle.sender_backlog(from.as_str()))
                .is_none_or(|backlog| backlog <= SENDER_BACKLOG)
        });
        if let Err(e) = self.park(&parked, &delivery.queue).await {
            return retry(e);
        }
        let results = join_all(ready.into_iter().map(|m| {
            let body = bodies.get(m.body.as_str()).and_then(Option::as_ref);
            self.send_one(m, body, &delivery.queue)
        }))
        .await;
        match results.into_iter().find_map(Result::err) {
            None => Outcome::Done,
            Some(reason) => retry(reason),
        }
    }
}

impl DeliverStage {
    async fn requeue(
        &self,
        queue: &QueueName,
        id: i64,
        attempt: u32,
        delay: Duration,
    ) -> Result<(), crate::bus::BusError> {
        self.requeue_many(queue, vec![id], attempt, delay).await
    }

    async fn requeue_many(
        &self,
        queue: &QueueName,
        message_ids: Vec<i64>,
        attempt: u32,
        delay: Duration,
    ) -> Result<(), crate::bus::BusError> {
        let work = v1::DeliverMessages {
            carrier: self.carrier.clone(),
            message_ids,
        };
        self.bus
            .publish_delayed(queue, Bytes::from(work.encode_to_vec()), attempt, delay)
            .await
    }

    async fn record(
        &self,
        id: i64,
        status: MessageStatus,
        provider_message_id: Option<String>,
        code: Option<String>,
    ) -> Result<(), String> {
        let record = SendRecord {
            id,
            provider_message_id,
            status,
            error_code: code,
        };
        self.records
            .submit((), record)
            .await
            .map_err(|e| e.to_string())
    }

    /// Reads the limits of sender numbers this instance has not seen yet (added while it ran),
    /// so a new number's own limit binds its very first send.
    async fn look_up_new_senders(
        &self,
        claimed: &[Claimed],
    ) -> Result<(), crate::store::StoreError> {
        let new: std::collections::HashSet<&str> = claimed
            .iter()
            .filter_map(|m| m.from.as_ref().map(SenderAddress::as_str))
            .filter(|from| !self.throttle.knows_sender(from))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        let stored = self.store.sender_limits(&self.carrier).await?;
        self.throttle.apply_stored_sender_limits(stored);
        self.throttle.mark_looked_up(new);
        Ok(())
    }

    /// Puts back messages whose sender is saturated, for when its backlog will have gone.
    async fn park(&self, parked: &[&Claimed], queue: &QueueName) -> Result<(), String> {
        let Some(first) = parked.first() else {
            return Ok(());
        };
        let backlog = first
            .from
            .as_ref()
            .and_then(|from| self.throttle.sender_backlog(from.as_str()))
            .unwrap_or(SENDER_BACKLOG);
        for m in parked {
            self.store
                .defer_message(m.id, None)
                .await
                .map_err(|e| e.to_string())?;
        }
        self.count_n("parked", parked.len() as u64);
        let ids = parked.iter().map(|m| m.id).collect();
        let delay = backlog.clamp(SENDER_BACKLOG, self.retry.max_delay);
        self.requeue_many(queue, ids, 1, delay)
            .await
            .map_err(|e| e.to_string())
    }

    /// One message from claim to recorded result; an `Err` makes the work item retry.
    async fn send_one(
        &self,
        message: &Claimed,
        body: Option<&MessageBody>,
        queue: &QueueName,
    ) -> Result<(), String> {
        let Some(body) = body else {
            return self
                .record(
                    message.id,
                    MessageStatus::Failed,
                    None,
                    Some("invalid_body".into()),
                )
                .await;
        };
        let Some(from) = message.from.as_ref() else {
            return self
                .record(
                    message.id,
                    MessageStatus::Failed,
                    None,
                    Some("no_sender".into()),
                )
                .await;
        };
        let mut throttled_rounds = 0;
        loop {
            let (grant, slot) = match self.admit(message, body, from.as_str()).await? {
                Admitted::Go(grant, slot) => (grant, slot),
                Admitted::Settled => return Ok(()),
                Admitted::Capped { until } => return self.defer_until(message, queue, until).await,
                Admitted::SenderPaused { until } => {
                    self.count("sender_busy");
                    let wait = until.saturating_duration_since(std::time::Instant::now());
                    return self.defer(message, queue, Some(wait), "sender_busy").await;
                }
            };
            let sms = OutboundSms {
                to: &message.to,
                from: from.as_str(),
                body,
                status_callback: Some(&self.status_callback),
                reference: Some(&message.reference),
            };
            let started = std::time::Instant::now();
            let outcome = self.client.send(&sms).await;
            // The request is over: its slot goes to the next send now, not after the result
            // is recorded (a database round trip that is no request to the carrier).
            drop(slot);
            self.metrics
                .request_duration
                .record(started.elapsed().as_secs_f64());
            if let SendOutcome::RetryLater {
                hint,
                throttled: true,
                ..
            } = &outcome
            {
                // The carrier says "too fast": the whole account pauses and slows down, and
                // this message waits here for its turn again rather than spending an attempt.
                self.count("throttled");
                self.throttle.throttled(grant, *hint);
                throttled_rounds += 1;
                if throttled_rounds <= MAX_THROTTLED_ROUNDS {
                    continue;
                }
                return self.defer(message, queue, *hint, "throttled").await;
            }
            return self.settle(message, outcome, queue).await;
        }
    }

    /// Daily cap, a token, a request slot, the last look before the carrier call (a STOP that
    /// is durable by now wins), and the departure gate: the limit measured as the request
    /// leaves. A send the gate holds back waits its turn and looks again; it spends no token.
    async fn admit(
        &self,
        message: &Claimed,
        body: &MessageBody,
        from: &str,
    ) -> Result<Admitted, String> {
        if let Some(until) = self.throttle.sender_paused_until(from) {
            return Ok(Admitted::SenderPaused { until });
        }
        let waited = std::time::Instant::now();
        if let Admission::Capped { until } = self
            .throttle
            .acquire(body.segments(), self.lane, from)
            .await
        {
            return Ok(Admitted::Capped { until });
        }
        self.metrics
            .throttle_wait
            .record(waited.elapsed().as_secs_f64());
        // The request slot comes after the token: a send waiting for a token must not hold a
        // slot a reply needs.
        let slot = self
            .in_flight
            .acquire(self.lane)
            .await
            .map_err(|e| e.to_string())?;
        let units = self.throttle.units(body.segments());
        loop {
            // The number may have been paused while this send waited for its token.
            if let Some(until) = self.throttle.sender_paused_until(from) {
                return Ok(Admitted::SenderPaused { until });
            }
            let check = self.last_look(message).await?;
            let skipped = match check {
                SendCheck::Go => None,
                SendCheck::OptedOut => Some(("skipped_opted_out", "opted_out")),
                // A claimed message of a broadcast cancelled meanwhile: the cancel wins.
                SendCheck::Cancelled => Some(("skipped_cancelled", "broadcast_cancelled")),
                SendCheck::NotOurs => {
                    // Our claim ran out while we waited and another worker holds the message.
                    self.count("claim_lost");
                    return Ok(Admitted::Settled);
                }
            };
            if let Some((outcome, reason)) = skipped {
                self.count(outcome);
                self.record(
                    message.id,
                    MessageStatus::Cancelled,
                    None,
                    Some(reason.into()),
                )
                .await?;
                return Ok(Admitted::Settled);
            }
            match self.throttle.depart(units, from) {
                Ok(grant) => return Ok(Admitted::Go(grant, slot)),
                Err(wait) => {
                    self.count("held_at_departure");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Whether the message may still go: broadcast sends share one query per batch, while a
    /// reply asks at once rather than queue behind a broadcast's batches.
    async fn last_look(&self, message: &Claimed) -> Result<SendCheck, String> {
        let claim = (message.id, message.claimed_until_ms);
        match self.lane {
            Lane::Broadcast => self
                .checks
                .submit((), claim)
                .await
                .map_err(|e| e.to_string()),
            Lane::Transactional => self
                .store
                .send_check(claim.0, claim.1)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// Records what the carrier said about a message that was not throttled.
    async fn settle(
        &self,
        message: &Claimed,
        outcome: SendOutcome,
        queue: &QueueName,
    ) -> Result<(), String> {
        match outcome {
            SendOutcome::Sent {
                provider_message_id,
            } => {
                self.throttle.succeeded();
                self.count("sent");
                self.record(
                    message.id,
                    MessageStatus::Sent,
                    Some(provider_message_id),
                    None,
                )
                .await
            }
            SendOutcome::Failed { code, reason } => {
                self.count("failed");
                tracing::info!(
                    message_id = message.id,
                    code,
                    reason,
                    "carrier refused the message for good"
                );
                self.record(message.id, MessageStatus::Failed, None, Some(code))
                    .await
            }
            SendOutcome::SenderBusy {
                pause,
                code,
                reason,
            } => {
                self.count("sender_busy");
                // Never longer than any other delay (`retry_max_ms`), as for every carrier hint.
                let pause = pause.min(self.retry.max_delay);
                if let Some(from) = &message.from {
                    self.throttle.pause_sender(from.as_str(), pause);
                }
                tracing::info!(
                    message_id = message.id,
                    code,
                    reason,
                    "the sender's queue at the carrier is full; the message waits"
                );
                self.defer(message, queue, Some(pause), "sender_busy").await
            }
            SendOutcome::OptedOut { code } => {
                self.count("opted_out");
                self.store
                    .unsubscribe(
                        message.community_id,
                        &message.to,
                        JoinedVia::Api,
                        Utc::now(),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                self.record(message.id, MessageStatus::Failed, None, Some(code))
                    .await
            }
            SendOutcome::RetryLater {
                hint, code, reason, ..
            } => {
                self.count("retry");
                let attempts = message.attempts.max(1) as u32;
                if attempts >= self.retry.max_attempts {
                    tracing::warn!(
                        message_id = message.id,
                        reason,
                        "giving up after {attempts} attempts"
                    );
                    return self
                        .record(
                            message.id,
                            MessageStatus::Failed,
                            None,
                            code.or(Some("retries_exhausted".into())),
                        )
                        .await;
                }
                self.store
                    .release_message(message.id, code.as_deref())
                    .await
                    .map_err(|e| e.to_string())?;
                let delay = self.retry.delay(attempts, hint);
                self.requeue(queue, message.id, attempts + 1, delay)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Puts a throttled message back through the delay queue without spending an attempt;
    /// `why` is recorded as its last error.
    async fn defer(
        &self,
        message: &Claimed,
        queue: &QueueName,
        hint: Option<Duration>,
        why: &str,
    ) -> Result<(), String> {
        self.store
            .defer_message(message.id, Some(why))
            .await
            .map_err(|e| e.to_string())?;
        let delay = hint.unwrap_or(self.retry.max_delay);
        self.requeue(queue, message.id, 1, delay)
            .await
            .map_err(|e| e.to_string())
    }

    /// Today's cap is used up: the message waits (in steps of at most the longest delay).
    async fn defer_until(
        &self,
        message: &Claimed,
        queue: &QueueName,
        until: chrono::DateTime<Utc>,
    ) -> Result<(), String> {
        self.count("capped");
        self.store
            .defer_message(message.id, Some("daily_cap"))
            .await
            .map_err(|e| e.to_string())?;
        let wait = (until - Utc::now()).to_std().unwrap_or_default();
        self.requeue(queue, message.id, 1, wait.min(self.retry.max_delay))
            .await
            .map_err(|e| e.to_string())
    }

    fn count(&self, outcome: &'static str) {
        self.metrics.count(outcome);
    }

    fn count_n(&self, outcome: &'static str, n: u64) {
        self.metrics.count_n(outcome, n);
    }
}
