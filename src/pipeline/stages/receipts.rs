//! Receipts stage: carrier status callbacks move messages forward, never back; a failure for a
//! passing reason sends the message again.

use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use prost::Message as _;

use super::{decode, retry};
use crate::bus::{Bus, Delivery, Lane, Outcome, QueueName};
use crate::domain::MessageStatus;
use crate::events::{Event, seal, timestamp, v1};
use crate::pipeline::{Batcher, Processor};
use crate::store::{AdvanceOutcome, StatusUpdate, Store, StoreError};
use crate::telemetry::metrics::{RECEIPT_LATENCY_SECONDS, RECEIPTS_TOTAL, WEBHOOKS_TOTAL};

/// Applies status callbacks of concurrent processors in one transaction each: callbacks come
/// twice per send, and one commit per callback made them the busiest writer of a broadcast.
pub type AdvanceBatcher = Batcher<(), StatusUpdate, AdvanceOutcome>;

/// Applies one status callback; an unknown message is retried (the send result may be in flight).
pub struct ReceiptsStage {
    pub store: Store,
    pub bus: Bus,
    pub advances: AdvanceBatcher,
}

impl Processor for ReceiptsStage {
    fn stage(&self) -> &'static str {
        "receipts"
    }

    async fn process(&self, delivery: &Delivery) -> Outcome {
        let cmd: v1::ApplyReceipt = match decode(&delivery.payload) {
            Ok(cmd) => cmd,
            Err(outcome) => return outcome,
        };
        let Ok(status) = MessageStatus::parse(&cmd.status) else {
            return Outcome::Reject {
                reason: format!("unknown status `{}`", cmd.status),
            };
        };
        let error_code = (!cmd.error_code.is_empty()).then_some(cmd.error_code.as_str());
        let count = |outcome: &'static str| {
            metrics::counter!(RECEIPTS_TOTAL, "carrier" => cmd.carrier.clone(), "outcome" => outcome).increment(1);
        };
        let advanced = self.advance(&cmd, status, error_code).await;
        if cmd.resend_after_ms > 0 {
            if let Some(message_id) = failed_message(&advanced) {
                let after = Duration::from_millis(u64::from(cmd.resend_after_ms));
                match self.resend(&cmd, message_id, after).await {
                    Ok(true) => count("resent"),
                    Ok(false) => {}
                    Err(e) => return retry(e),
                }
            }
        }
        if let Ok(
            AdvanceOutcome::Advanced { message_id, .. } | AdvanceOutcome::Stale { message_id, .. },
        ) = &advanced
        {
            // Also on a repeat (stale) callback: an unsubscribe lost to a crash is made here.
            if cmd.opted_out {
                if let Err(e) = self.opt_out(&cmd, *message_id).await {
                    return retry(e);
                }
            }
        }
        match advanced {
            Ok(AdvanceOutcome::Advanced {
                message_id,
                status,
                sent_at,
                delivered_at,
                ..
            }) => {
                count("advanced");
                // Only when the send time was known before this callback (otherwise both are now).
                if let (Some(sent), Some(delivered)) = (sent_at, delivered_at) {
                    if let Ok(latency) = (delivered - sent).to_std() {
                        if !latency.is_zero() {
                            metrics::histogram!(RECEIPT_LATENCY_SECONDS, "carrier" => cmd.carrier.clone())
                                .record(latency.as_secs_f64());
                        }
                    }
                }
                self.publish_event(message_id, &cmd, status).await;
                Outcome::Done
            }
            Ok(AdvanceOutcome::Stale { .. }) => {
                count("stale");
                metrics::counter!(WEBHOOKS_TOTAL, "carrier" => cmd.carrier.clone(), "kind" => "status", "outcome" => "stale").increment(1);
                Outcome::Done
            }
            Ok(AdvanceOutcome::Unknown)
                if delivery.attempt < self.bus.retry_policy().max_attempts =>
            {
                // The callback may have beaten our record of the send: look again, waiting at
                // least 2, 4, 8, 16 s (up to the policy's longest delay), because under load
                // the record can trail the carrier's answer by seconds.
                count("early");
                Outcome::Retry {
                    hint: Some(Duration::from_secs(1 << delivery.attempt.clamp(1, 4))),
                    reason: format!(
                        "no message with provider id {} yet",
                        cmd.provider_message_id
                    ),
                }
            }
            Ok(AdvanceOutcome::Unknown) => {
                // Still nobody's after every retry: a receipt for a message we never sent
                // (another system on the same account). Counted, not an error.
                count("unknown");
                tracing::info!(carrier = %cmd.carrier, provider_message_id = %cmd.provider_message_id, "receipt for an unknown message dropped");
                Outcome::Done
            }
            Err(e) => retry(e),
        }
    }
}

/// The message a callback left failed or undelivered (now, or already on an earlier delivery
/// of the same callback that crashed before its resend was queued).
fn failed_message(advanced: &Result<AdvanceOutcome, String>) -> Option<i64> {
    let negative =
        |s: &MessageStatus| matches!(s, MessageStatus::Failed | MessageStatus::Undelivered);
    match advanced {
        Ok(AdvanceOutcome::Advanced {
            message_id, status, ..
        }) if negative(status) => Some(*message_id),
        Ok(AdvanceOutcome::Stale {
            message_id,
            current,
        }) if negative(current) => Some(*message_id),
        _ => None,
    }
}

impl ReceiptsStage {
    /// Sends a message the carrier failed for a passing reason again, after at least `after`
    /// and the retry policy's back-off for its attempts; false when its attempts are spent (or
    /// its broadcast was cancelled). The work item is published before the message is requeued,
    /// so a crash in between leaves a failed message and a harmless empty claim, never a queued
    /// message that nothing will send.
    async fn resend(
        &self,
        cmd: &v1::ApplyReceipt,
        message_id: i64,
        after: Duration,
    ) -> Result<bool, String> {
        let policy = self.bus.retry_policy();
        let Some(candidate) = self
            .store
            .resend_candidate(message_id, policy.max_attempts)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(false);
        };
        let lane = if candidate.broadcast_id.is_some() {
            Lane::Broadcast
        } else {
            Lane::Transactional
        };
        let work = v1::DeliverMessages {
            carrier: candidate.carrier.clone(),
            message_ids: vec![message_id],
        };
        let delay = policy.delay(candidate.attempts, Some(after));
        self.bus
            .publish_delayed(
                &QueueName::deliver(&candidate.carrier, lane),
                Bytes::from(work.encode_to_vec()),
                1,
                delay,
            )
            .await
            .map_err(|e| e.to_string())?;
        let requeued = self
            .store
            .requeue_for_resend(message_id, candidate.attempts)
            .await
            .map_err(|e| e.to_string())?;
        if requeued {
            tracing::info!(carrier = %cmd.carrier, message_id, error_code = %cmd.error_code, attempts = candidate.attempts, ?delay, "the carrier failed the message for a passing reason; sending it again");
        }
        Ok(requeued)
    }

    /// Finds the message by our reference when the carrier echoed it (every part of a split
    /// message carries it; the part's report then counts towards the message's status), else
    /// by the provider id we recorded from the send.
    async fn advance(
        &self,
        cmd: &v1::ApplyReceipt,
        status: MessageStatus,
        error_code: Option<&str>,
    ) -> Result<AdvanceOutcome, String> {
        if let Ok(message_id) = cmd.client_ref.parse::<i64>() {
            let outcome = self
                .store
                .advance_part_status(
                    &cmd.carrier,
                    message_id,
                    &cmd.provider_message_id,
                    status,
                    error_code,
                )
                .await
                .map_err(|e| e.to_string())?;
            // Not one of ours (another system on the account sets its own client-ref).
            if outcome != AdvanceOutcome::Unknown {
                return Ok(outcome);
            }
        }
        let update = StatusUpdate {
            carrier: cmd.carrier.clone(),
            provider_message_id: cmd.provider_message_id.clone(),
            status,
            error_code: error_code.map(str::to_owned),
        };
        self.advances
            .submit((), update)
            .await
            .map_err(|e| e.to_string())
    }

    /// The carrier refused the message because its recipient opted out there: like the deliver
    /// stage's synchronous opt-out, no broadcast may text them again.
    async fn opt_out(&self, cmd: &v1::ApplyReceipt, message_id: i64) -> Result<(), StoreError> {
        if self
            .store
            .unsubscribe_recipient(message_id, Utc::now())
            .await?
            .is_some()
        {
            tracing::info!(carrier = %cmd.carrier, message_id, error_code = %cmd.error_code, "the carrier reports the recipient opted out; unsubscribed");
        }
        Ok(())
    }

    async fn publish_event(&self, message_id: i64, cmd: &v1::ApplyReceipt, status: MessageStatus) {
        let at = Some(timestamp(Utc::now()));
        let (key, bytes) = match status {
            MessageStatus::Delivered => {
                let e = v1::MessageDelivered {
                    message_id,
                    carrier: cmd.carrier.clone(),
                    provider_message_id: cmd.provider_message_id.clone(),
                    at,
                };
                (
                    v1::MessageDelivered::TYPE,
                    seal(
                        &e,
                        format!("delivered-{message_id}"),
                        "floodgate/receipts",
                        &message_id.to_string(),
                        Utc::now(),
                    ),
                )
            }
            MessageStatus::Sent | MessageStatus::Sending | MessageStatus::Queued => {
                let e = v1::MessageSent {
                    message_id,
                    carrier: cmd.carrier.clone(),
                    provider_message_id: cmd.provider_message_id.clone(),
                    at,
                };
                (
                    v1::MessageSent::TYPE,
                    seal(
                        &e,
                        format!("sent-{message_id}"),
                        "floodgate/receipts",
                        &message_id.to_string(),
                        Utc::now(),
                    ),
                )
            }
            MessageStatus::Undelivered | MessageStatus::Failed | MessageStatus::Cancelled => {
                let e = v1::MessageFailed {
                    message_id,
                    carrier: cmd.carrier.clone(),
                    provider_message_id: cmd.provider_message_id.clone(),
                    error_code: cmd.error_code.clone(),
                    status: status.as_str().to_owned(),
                    at,
                };
                (
                    v1::MessageFailed::TYPE,
                    seal(
                        &e,
                        format!("failed-{message_id}"),
                        "floodgate/receipts",
                        &message_id.to_string(),
                        Utc::now(),
                    ),
                )
            }
        };
        if let Err(e) = self.bus.publish_event(key, Bytes::from(bytes)).await {
            tracing::warn!(error = %e, message_id, "status event not published");
        }
    }
}
