//! The consumer task: subscribes with manual acks and a prefetch, forwards deliveries into a
//! bounded channel, and subscribes again on every new connection until cancelled.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use lapin::options::{BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{Channel, acker::Acker};
use rand::Rng;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::ack::RabbitAck;
use super::connection::{Link, backoff};
use super::publish::{attempt_of, published_of};
use super::{Shared, topology};
use crate::bus::delivery::Acker as BusAcker;
use crate::bus::{BusError, ConsumeOptions, Delivery, QueueName};

/// How long a stopping consumer waits for deliveries the broker sent before its cancel.
const DRAIN_WAIT: Duration = Duration::from_millis(200);

/// One subscription on one connection.
pub(super) struct Session {
    link: Arc<Link>,
    /// Shared with every forwarded delivery, whose ack must go on this channel.
    channel: Arc<Channel>,
    tag: String,
    stream: lapin::Consumer,
}

/// Declares the queue, opens a channel with the prefetch and subscribes with manual acks.
pub(super) async fn subscribe(
    link: Arc<Link>,
    queue: &QueueName,
    options: ConsumeOptions,
) -> Result<Session, BusError> {
    link.ensure_queue(queue).await?;
    let channel = link
        .conn
        .create_channel()
        .await
        .map_err(|e| link.classify(e))?;
    channel
        .basic_qos(options.prefetch.max(1), BasicQosOptions::default())
        .await
        .map_err(|e| link.classify(e))?;
    let tag = format!(
        "floodgate.{}.{:08x}",
        queue,
        rand::thread_rng().r#gen::<u32>()
    );
    let stream = channel
        .basic_consume(
            &topology::queue_name(queue),
            &tag,
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| link.classify(e))?;
    Ok(Session {
        link,
        channel: Arc::new(channel),
        tag,
        stream,
    })
}

/// Why a session ended.
enum End {
    /// The consumer was cancelled or dropped: stop for good.
    Stopped,
    /// The channel or connection failed: subscribe again.
    Lost(String),
}

/// Forwards deliveries until cancelled, resubscribing after every loss.
pub(super) async fn run(
    shared: Arc<Shared>,
    queue: QueueName,
    options: ConsumeOptions,
    tx: mpsc::Sender<Delivery>,
    cancel: CancellationToken,
    mut session: Option<Session>,
) {
    let mut failures = 0u32;
    loop {
        let current = match session.take() {
            Some(current) => current,
            None => {
                let link = tokio::select! {
                    link = shared.manager.wait() => link,
                    _ = cancel.cancelled() => return,
                };
                match subscribe(link, &queue, options).await {
                    Ok(current) => current,
                    Err(err) => {
                        failures = failures.saturating_add(1);
                        tracing::warn!(%queue, error = %err, "cannot subscribe; retrying");
                        if pause(&cancel, failures).await {
                            return;
                        }
                        continue;
                    }
                }
            }
        };
        failures = 0;
        let generation = current.link.generation;
        match forward(&shared, &queue, current, &tx, &cancel).await {
            End::Stopped => return,
            End::Lost(reason) => {
                tracing::warn!(%queue, generation, reason, "consumer lost; subscribing again");
                failures = failures.saturating_add(1);
                if pause(&cancel, failures).await {
                    return;
                }
            }
        }
    }
}

/// Waits out a backoff; true if cancelled meanwhile.
async fn pause(cancel: &CancellationToken, failures: u32) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(backoff(failures)) => false,
        _ = cancel.cancelled() => true,
    }
}

async fn forward(
    shared: &Arc<Shared>,
    queue: &QueueName,
    mut session: Session,
    tx: &mpsc::Sender<Delivery>,
    cancel: &CancellationToken,
) -> End {
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => return stop(&mut session).await,
            next = session.stream.next() => next,
        };
        let delivery = match next {
            Some(Ok(delivery)) => delivery,
            Some(Err(err)) => {
                let _ = session.link.classify(err.clone());
                session.link.forget_queue(queue);
                return End::Lost(err.to_string());
            }
            None => {
                session.link.forget_queue(queue);
                return End::Lost("the broker ended the subscription".into());
            }
        };
        // Wait for room in the bounded channel: this is the back-pressure besides prefetch.
        let permit = tokio::select! {
            biased;
            _ = cancel.cancelled() => None,
            permit = tx.reserve() => permit.ok(),
        };
        let Some(permit) = permit else {
            requeue(&delivery.acker).await;
            return stop(&mut session).await;
        };
        if let Some(published_ms) = published_of(&delivery.properties) {
            shared.heads.consumed(queue, published_ms);
        }
        let ack = RabbitAck::new(
            delivery.acker,
            Arc::clone(&session.channel),
            Arc::clone(shared),
        );
        permit.send(Delivery {
            payload: Bytes::from(delivery.data),
            queue: queue.clone(),
            attempt: attempt_of(&delivery.properties),
            acker: BusAcker::Rabbit(ack),
        });
    }
}

/// Cancels the subscription and hands back what arrived but was not forwarded; forwarded
/// deliveries stay ackable because each holds the channel open.
async fn stop(session: &mut Session) -> End {
    let cancelled = session
        .channel
        .basic_cancel(&session.tag, BasicCancelOptions::default());
    let _ = tokio::time::timeout(Duration::from_secs(2), cancelled).await;
    while let Ok(Some(Ok(delivery))) = tokio::time::timeout(DRAIN_WAIT, session.stream.next()).await
    {
        requeue(&delivery.acker).await;
    }
    End::Stopped
}

async fn requeue(acker: &Acker) {
    let options = BasicNackOptions {
        requeue: true,
        ..BasicNackOptions::default()
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), acker.nack(options)).await;
}
