//! Inbound stage: a member's text becomes a subscription change and maybe a reply.

use bytes::Bytes;
use chrono::Utc;
use prost::Message as _;

use super::inbound_parts::{Resolved, Text, resolve};
use super::{decode, retry};
use crate::bus::{Bus, Delivery, Lane, Outcome, QueueName};
use crate::domain::{Keyword, MessageStatus, PhoneNumber, SenderAddress};
use crate::events::{Event, seal, timestamp, v1};
use crate::pipeline::Processor;
use crate::store::{InboundAction, InboundApplied, Member, MembershipChange, NewInbound, Store};
use crate::telemetry::metrics::{INBOUND_DUPLICATES_TOTAL, KEYWORD_EVENTS_TOTAL, WEBHOOKS_TOTAL};

/// Applies keywords in one store transaction, then hands the reply to its delivery lane.
pub struct InboundStage {
    pub store: Store,
    pub bus: Bus,
}

impl InboundStage {
    /// Tells the bus what happened; best effort, as the store already holds the truth.
    async fn publish_events(
        &self,
        cmd: &v1::ProcessInbound,
        text: &Text,
        community_id: i64,
        inbound_id: i64,
        membership: MembershipChange,
        member: Option<&Member>,
    ) {
        let now = Utc::now();
        let correlation = format!("inbound-{inbound_id}");
        let mut events = vec![(
            v1::InboundReceived::TYPE,
            seal(
                &v1::InboundReceived {
                    inbound_message_id: inbound_id,
                    community_id,
                    carrier: cmd.carrier.clone(),
                    provider_message_id: text.provider_message_id.clone(),
                    from: cmd.from.clone(),
                    to: cmd.to.clone(),
                    body: text.body.clone(),
                    received_at: cmd.received_at,
                },
                format!("inbound-{inbound_id}"),
                "floodgate/inbound",
                &correlation,
                now,
            ),
        )];
        match (membership, member) {
            (MembershipChange::Subscribe, Some(m)) => events.push((
                v1::MemberSubscribed::TYPE,
                seal(
                    &v1::MemberSubscribed {
                        community_id,
                        member_id: m.id,
                        phone_number: m.phone.as_str().to_owned(),
                        via_number: cmd.to.clone(),
                        inbound_message_id: inbound_id,
                        at: Some(timestamp(now)),
                    },
                    format!("subscribed-{inbound_id}"),
                    "floodgate/inbound",
                    &correlation,
                    now,
                ),
            )),
            (MembershipChange::Unsubscribe, Some(m)) => events.push((
                v1::MemberUnsubscribed::TYPE,
                seal(
                    &v1::MemberUnsubscribed {
                        community_id,
                        member_id: m.id,
                        phone_number: m.phone.as_str().to_owned(),
                        reason: "keyword".into(),
                        at: Some(timestamp(now)),
                    },
                    format!("unsubscribed-{inbound_id}"),
                    "floodgate/inbound",
                    &correlation,
                    now,
                ),
            )),
            _ => {}
        }
        for (key, bytes) in events {
            if let Err(e) = self.bus.publish_event(key, Bytes::from(bytes)).await {
                tracing::warn!(error = %e, inbound_id, "event not published");
            }
        }
    }

    async fn queue_reply(&self, carrier: &str, message_id: i64) -> Result<(), Outcome> {
        let work = v1::DeliverMessages {
            carrier: carrier.to_owned(),
            message_ids: vec![message_id],
        };
        let queue = QueueName::deliver(carrier, Lane::Transactional);
        self.bus
            .publish(&queue, &[Bytes::from(work.encode_to_vec())])
            .await
            .map_err(retry)
    }

    /// `MessageQueued` for a keyword reply now waiting for its turn; best effort.
    async fn announce_reply(
        &self,
        cmd: &v1::ProcessInbound,
        community_id: i64,
        message_id: i64,
        body: Option<&str>,
    ) {
        let segments = body
            .and_then(|b| crate::domain::MessageBody::parse(b).ok())
            .map_or(1, |b| b.segments());
        let event = v1::MessageQueued {
            message_id,
            broadcast_id: 0,
            community_id,
            carrier: cmd.carrier.clone(),
            to: cmd.from.clone(),
            segments,
        };
        let id = format!("queued-{message_id}");
        let bytes = seal(
            &event,
            id,
            "floodgate/inbound",
            &message_id.to_string(),
            Utc::now(),
        );
        if let Err(e) = self
            .bus
            .publish_event(v1::MessageQueued::TYPE, Bytes::from(bytes))
            .await
        {
            tracing::warn!(error = %e, message_id, "reply event not published");
        }
    }

    /// The keyword transaction, its events and the reply's queueing.
    async fn apply(
        &self,
        cmd: &v1::ProcessInbound,
        text: &Text,
        community_id: i64,
        action: &InboundAction<'_>,
        label: Option<&'static str>,
    ) -> Outcome {
        let membership = action.membership;
        match self.store.apply_inbound(action).await {
            Ok(InboundApplied::Applied {
                inbound_id,
                member,
                reply_message_id,
            }) => {
                if let Some(label) = label {
                    metrics::counter!(KEYWORD_EVENTS_TOTAL, "keyword" => label).increment(1);
                }
                self.publish_events(
                    cmd,
                    text,
                    community_id,
                    inbound_id,
                    membership,
                    member.as_ref(),
                )
                .await;
                if let Some(id) = reply_message_id {
                    if let Err(outcome) = self.queue_reply(&cmd.carrier, id).await {
                        return outcome;
                    }
                    self.announce_reply(cmd, community_id, id, action.reply)
                        .await;
                }
                Outcome::Done
            }
            Ok(InboundApplied::Duplicate { inbound_id }) => {
                metrics::counter!(INBOUND_DUPLICATES_TOTAL, "carrier" => cmd.carrier.clone())
                    .increment(1);
                metrics::counter!(WEBHOOKS_TOTAL, "carrier" => cmd.carrier.clone(), "kind" => "inbound", "outcome" => "duplicate").increment(1);
                // A redelivery after a crash between commit and publish: make sure the reply is queued.
                match self.store.reply_for_inbound(inbound_id).await {
                    Ok(Some((id, MessageStatus::Queued))) => {
                        match self.queue_reply(&cmd.carrier, id).await {
                            Ok(()) => Outcome::Done,
                            Err(outcome) => outcome,
                        }
                    }
                    Ok(_) => Outcome::Done,
                    Err(e) => retry(e),
                }
            }
            Err(e) => retry(e),
        }
    }
}

impl Processor for InboundStage {
    fn stage(&self) -> &'static str {
        "inbound"
    }

    async fn process(&self, delivery: &Delivery) -> Outcome {
        let cmd: v1::ProcessInbound = match decode(&delivery.payload) {
            Ok(cmd) => cmd,
            Err(outcome) => return outcome,
        };
        let (Ok(from), Ok(to)) = (
            // The edge wrote both in canonical form after checking their shape.
            PhoneNumber::from_stored(&cmd.from),
            SenderAddress::from_stored(&cmd.to),
        ) else {
            return Outcome::Reject {
                reason: format!("unparseable numbers {} -> {}", cmd.from, cmd.to),
            };
        };
        let community = match self.store.community_by_address(&to).await {
            Ok(Some((community, _sender))) => community,
            Ok(None) => {
                metrics::counter!(WEBHOOKS_TOTAL, "carrier" => cmd.carrier.clone(), "kind" => "inbound", "outcome" => "unknown_number").increment(1);
                tracing::warn!(to = %to, "inbound text to a number no community owns (any more); dropped");
                return Outcome::Done;
            }
            Err(e) => return retry(e),
        };
        // The edge's clock orders one phone's keywords; items are processed concurrently.
        let sent_at_ms = cmd
            .received_at
            .map(|t| t.seconds * 1000 + i64::from(t.nanos.max(0)) / 1_000_000)
            .unwrap_or_else(|| Utc::now().timestamp_millis());
        let text = match resolve(&self.store, &cmd, &from, &to, sent_at_ms).await {
            Ok(Resolved::Text(text)) => text,
            Ok(Resolved::Nothing) => return Outcome::Done,
            Err(e) => return retry(e),
        };
        let keyword = if text.keywords {
            Keyword::classify(&text.body, &community.join_keyword)
        } else {
            None
        };
        let (membership, reply, label) = match keyword {
            Some(Keyword::OptIn) => (
                MembershipChange::Subscribe,
                Some(community.welcome_reply.as_str()),
                Some("opt_in"),
            ),
            Some(Keyword::OptOut) => (
                MembershipChange::Unsubscribe,
                Some(community.stop_reply.as_str()),
                Some("opt_out"),
            ),
            Some(Keyword::Help) => (
                MembershipChange::None,
                Some(community.help_reply.as_str()),
                Some("help"),
            ),
            None => (MembershipChange::None, None, None),
        };
        let action = InboundAction {
            inbound: NewInbound {
                community_id: community.id,
                carrier: &cmd.carrier,
                provider_message_id: &text.provider_message_id,
                from: &from,
                to: &to,
                body: &text.body,
                keyword: label,
                // When the change takes effect, not when the edge saw it: a STOP's time is the
                // moment from which no send may happen, so it must not predate the commit by a backlog.
                received_at: Utc::now(),
            },
            membership,
            reply,
            sent_at_ms: text.sent_at_ms,
        };
        let outcome = self.apply(&cmd, &text, community.id, &action, label).await;
        if let (Outcome::Done, Some(reference)) = (&outcome, &text.forget) {
            // Only once the fragment is applied: a crash before this flushes it again, harmlessly.
            if let Err(e) = self
                .store
                .forget_inbound_parts(&cmd.carrier, &from, reference)
                .await
            {
                return retry(e);
            }
        }
        outcome
    }
}
