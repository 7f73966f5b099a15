//! Fan-out stage: one broadcast becomes one message row per subscribed member, and
//! delivery work in chunks.
//!
//! Resumable by two cursors on the broadcast row: the member cursor (moved by the
//! insert itself) and the publish cursor (moved after the broker confirmed the chunks).
//! A crash between the two re-publishes a few chunks; the claim makes that harmless.

use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use prost::Message as _;

use super::{decode, retry};
use crate::bus::{Bus, Delivery, Lane, Outcome, QueueName};
use crate::events::v1;
use crate::pipeline::Processor;
use crate::store::{BroadcastStatus, Store};
use crate::telemetry::metrics::FANOUT_MESSAGES_TOTAL;

/// Fans out broadcasts whose `send_at` has come.
pub struct FanOutStage {
    pub store: Store,
    pub bus: Bus,
    /// Members read per page.
    pub page: i64,
    /// Message ids per delivery work item.
    pub chunk: usize,
}

impl Processor for FanOutStage {
    fn stage(&self) -> &'static str {
        "fanout"
    }

    async fn process(&self, delivery: &Delivery) -> Outcome {
        let cmd: v1::FanOutBroadcast = match decode(&delivery.payload) {
            Ok(cmd) => cmd,
            Err(outcome) => return outcome,
        };
        match self.fan_out(cmd.broadcast_id, delivery).await {
            Ok(()) => Outcome::Done,
            Err(outcome) => outcome,
        }
    }
}

impl FanOutStage {
    async fn fan_out(&self, broadcast_id: i64, delivery: &Delivery) -> Result<(), Outcome> {
        let Some(broadcast) = self
            .store
            .broadcast_by_id(broadcast_id)
            .await
            .map_err(retry)?
        else {
            return Err(Outcome::Reject {
                reason: format!("broadcast {broadcast_id} does not exist"),
            });
        };
        if matches!(
            broadcast.status,
            BroadcastStatus::Cancelled | BroadcastStatus::Completed
        ) {
            return Ok(());
        }
        let wait_ms = broadcast.send_at_ms - Utc::now().timestamp_millis();
        if wait_ms > 50 {
            // Not yet: park it again until `send_at` (not counted as a failed attempt).
            let delay = Duration::from_millis(wait_ms as u64);
            self.bus
                .publish_delayed(
                    &delivery.queue,
                    delivery.payload.clone(),
                    delivery.attempt,
                    delay,
                )
                .await
                .map_err(retry)?;
            return Ok(());
        }
        let senders = self
            .store
            .sender_numbers(broadcast.community_id)
            .await
            .map_err(retry)?;
        let Some(sender) = senders.first() else {
            return Err(Outcome::Reject {
                reason: format!("community {} has no sender number", broadcast.community_id),
            });
        };
        self.store
            .set_broadcast_status(broadcast_id, BroadcastStatus::FanningOut, Utc::now())
            .await
            .map_err(retry)?;
        let queue = QueueName::deliver(&sender.carrier, Lane::Broadcast);
        let mut member_cursor = broadcast.fanout_cursor;
        let mut publish_cursor = self
            .store
            .publish_cursor(broadcast_id)
            .await
            .map_err(retry)?;
        loop {
            let members = self
                .store
                .subscribed_member_batch(broadcast.community_id, member_cursor, self.page)
                .await
                .map_err(retry)?;
            let Some(&(last, _)) = members.last() else {
                break;
            };
            let inserted = self
                .store
                .insert_broadcast_messages(
                    broadcast_id,
                    broadcast.community_id,
                    &sender.carrier,
                    Some(&sender.number),
                    &members,
                )
                .await
                .map_err(retry)?;
            metrics::counter!(FANOUT_MESSAGES_TOTAL).increment(inserted);
            member_cursor = last;
            publish_cursor = self
                .publish_from(broadcast_id, publish_cursor, &sender.carrier, &queue)
                .await?;
            if self.cancelled(broadcast.community_id, broadcast_id).await? {
                return Ok(());
            }
        }
        // Rows inserted before a crash but never published are picked up here.
        self.publish_from(broadcast_id, publish_cursor, &sender.carrier, &queue)
            .await?;
        self.store
            .finish_fanout(broadcast_id, Utc::now())
            .await
            .map_err(retry)?;
        Ok(())
    }

    /// Publishes delivery work for every message above `cursor`; returns the new cursor.
    async fn publish_from(
        &self,
        broadcast_id: i64,
        mut cursor: i64,
        carrier: &str,
        queue: &QueueName,
    ) -> Result<i64, Outcome> {
        loop {
            let ids = self
                .store
                .broadcast_message_ids(broadcast_id, cursor, self.page)
                .await
                .map_err(retry)?;
            let Some(&last) = ids.last() else {
                return Ok(cursor);
            };
            let payloads = deliver_work(carrier, &ids, self.chunk);
            self.bus.publish(queue, &payloads).await.map_err(retry)?;
            self.store
                .save_publish_cursor(broadcast_id, last)
                .await
                .map_err(retry)?;
            cursor = last;
        }
    }

    async fn cancelled(&self, community_id: i64, broadcast_id: i64) -> Result<bool, Outcome> {
        let b = self
            .store
            .broadcast(community_id, broadcast_id)
            .await
            .map_err(retry)?;
        Ok(b.is_none_or(|b| b.status == BroadcastStatus::Cancelled))
    }
}

/// Delivery work items of at most `chunk` message ids each.
pub(crate) fn deliver_work(carrier: &str, ids: &[i64], chunk: usize) -> Vec<Bytes> {
    ids.chunks(chunk.max(1))
        .map(|part| {
            Bytes::from(
                v1::DeliverMessages {
                    carrier: carrier.to_owned(),
                    message_ids: part.to_vec(),
                }
                .encode_to_vec(),
            )
        })
        .collect()
}
