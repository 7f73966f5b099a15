//! Starting every stage, and the terminator that drains them in Broadway's order.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::lanes::{LaneHolder, StartLanes, instance_name};
use super::stages::{
    DeliverMetrics, DeliverStage, FanOutStage, InboundStage, ReceiptsStage, send_events,
};
use super::{
    BatchConfig, Batcher, RequestSlots, StageConfig, Throttle, spawn_forwarder, spawn_stage,
};
use crate::bus::{Bus, ConsumeOptions, Lane, QueueName};
use crate::carriers::CarrierClient;
use crate::config::{CarrierProfile, PipelineConfig};
use crate::store::Store;

/// Last looks run in one query at most; concurrent sends of one account share it.
const CHECK_BATCH: usize = 256;

/// The running pipeline; [`Pipeline::drain`] stops it without losing work.
pub struct Pipeline {
    shutdown: CancellationToken,
    stages: Vec<JoinHandle<()>>,
    batchers: Vec<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts inbound, fan-out, receipts, one deliver stage per carrier lane, the outbox
    /// forwarder, the metrics sampler, the scheduler and the part sweep.
    ///
    /// A profile whose credentials are missing gets no deliver stage (its work waits in its queue).
    pub fn start(
        config: &PipelineConfig,
        store: Store,
        bus: Bus,
        carriers: &[CarrierProfile],
        public_url: &url::Url,
    ) -> Self {
        let shutdown = CancellationToken::new();
        let mut stages = Vec::new();
        let mut batchers = Vec::new();
        // `transactional`: a member waits for this stage's work (keywords and their replies).
        let stage = |queue: QueueName,
                     prefetch: u16,
                     concurrency: usize,
                     single_active: bool,
                     transactional: bool| {
            StageConfig {
                transactional,
                queue,
                consume: ConsumeOptions {
                    prefetch: prefetch.max(concurrency as u16),
                    single_active,
                },
                concurrency,
            }
        };

        let inbound = Arc::new(InboundStage {
            store: store.clone(),
            bus: bus.clone(),
        });
        let cfg = stage(
            QueueName::inbound(),
            config.inbound_prefetch,
            config.inbound_concurrency,
            false,
            true,
        );
        stages.push(spawn_stage(bus.clone(), cfg, inbound, shutdown.clone()));

        let fanout = Arc::new(FanOutStage {
            store: store.clone(),
            bus: bus.clone(),
            page: config.fanout_page,
            chunk: config.deliver_chunk,
        });
        let cfg = stage(
            QueueName::fanout(),
            config.fanout_concurrency as u16,
            config.fanout_concurrency,
            false,
            false,
        );
        stages.push(spawn_stage(bus.clone(), cfg, fanout, shutdown.clone()));

        // One transaction at a time, carrying every callback that arrived while the last one
        // committed (at most one per receipts processor).
        let advances_store = store.clone();
        let advances = BatchConfig {
            size: config.receipts_concurrency.max(1),
            timeout: Duration::ZERO,
            capacity: config.receipts_concurrency.max(1) * 4,
        };
        let (advances, task) = Batcher::spawn(advances, move |(), updates, _trigger| {
            let store = advances_store.clone();
            async move {
                store
                    .advance_statuses(&updates)
                    .await
                    .map_err(|e| e.to_string())
            }
        });
        batchers.push(task);
        let receipts = Arc::new(ReceiptsStage {
            store: store.clone(),
            bus: bus.clone(),
            advances,
        });
        let cfg = stage(
            QueueName::receipts(),
            config.receipts_prefetch,
            config.receipts_concurrency,
            false,
            false,
        );
        stages.push(spawn_stage(bus.clone(), cfg, receipts, shutdown.clone()));

        let base = public_url.as_str().trim_end_matches('/');
        let instance = instance_name();
        for profile in carriers {
            let client = match CarrierClient::from_profile(profile) {
                Ok(client) => Arc::new(client),
                Err(e) => {
                    tracing::warn!(carrier = %profile.name, error = %e, "no delivery for this carrier until it is configured");
                    continue;
                }
            };
            let records_store = store.clone();
            let (events_bus, events_carrier) = (bus.clone(), profile.name.clone());
            let batch = BatchConfig {
                size: config.record_batch_size,
                timeout: Duration::from_millis(config.record_batch_timeout_ms),
                capacity: config.record_batch_size * 4,
            };
            let (records, task) = Batcher::spawn(batch, move |(), items, _trigger| {
                let store = records_store.clone();
                let (bus, carrier) = (events_bus.clone(), events_carrier.clone());
                async move {
                    let n = items.len();
                    store
                        .record_send_results(&items)
                        .await
                        .map_err(|e| e.to_string())?;
                    // Best effort, like every event: the store already holds the truth.
                    let events = send_events(&carrier, &items);
                    if let Err(e) = bus.publish_events(events).await {
                        tracing::warn!(carrier, error = %e, "send events not published");
                    }
                    Ok(vec![(); n])
                }
            });
            batchers.push(task);
            let checks_store = store.clone();
            let checks = BatchConfig {
                size: CHECK_BATCH,
                timeout: Duration::ZERO,
                capacity: CHECK_BATCH * 4,
            };
            let (checks, task) = Batcher::spawn(checks, move |(), claims, _trigger| {
                let store = checks_store.clone();
                async move { store.send_checks(&claims).await.map_err(|e| e.to_string()) }
            });
            batchers.push(task);
            let throttle = Throttle::for_profile(profile);
            let in_flight = RequestSlots::new(profile.limits.max_in_flight as usize);
            let lanes: Vec<(StageConfig, Arc<DeliverStage>)> =
                [Lane::Transactional, Lane::Broadcast]
                    .into_iter()
                    .map(|lane| {
                        let deliver = Arc::new(DeliverStage {
                            store: store.clone(),
                            bus: bus.clone(),
                            carrier: profile.name.clone(),
                            client: client.clone(),
                            throttle: throttle.clone(),
                            lane,
                            in_flight: in_flight.clone(),
                            records: records.clone(),
                            checks: checks.clone(),
                            metrics: DeliverMetrics::new(&profile.name),
                            claim_lease: Duration::from_millis(config.claim_lease_ms),
                            retry: config.retry_policy(),
                            status_callback: format!("{base}/webhooks/{}/status", profile.name),
                        });
                        let (prefetch, concurrency) = match lane {
                            Lane::Transactional => {
                                (config.reply_prefetch, config.reply_concurrency)
                            }
                            Lane::Broadcast => {
                                (config.deliver_prefetch, config.deliver_concurrency)
                            }
                        };
                        let cfg = stage(
                            QueueName::deliver(&profile.name, lane),
                            prefetch,
                            concurrency,
                            true,
                            lane == Lane::Transactional,
                        );
                        (cfg, deliver)
                    })
                    .collect();
            let lane_bus = bus.clone();
            let start_lanes: StartLanes = Arc::new(move |token| {
                lanes
                    .iter()
                    .map(|(cfg, deliver)| {
                        spawn_stage(
                            lane_bus.clone(),
                            cfg.clone(),
                            deliver.clone(),
                            token.clone(),
                        )
                    })
                    .collect()
            });
            let holder = LaneHolder {
                store: store.clone(),
                profile: profile.clone(),
                throttle,
                holder: instance.clone(),
                lease: Duration::from_millis(config.carrier_lease_ms),
                start_lanes,
            };
            stages.push(holder.spawn(shutdown.clone()));
        }
        let queues = QueueName::pipeline(carriers.iter().map(|p| p.name.as_str()));
        stages.push(crate::telemetry::spawn_sampler(
            bus.clone(),
            store.clone(),
            queues,
            shutdown.clone(),
        ));
        stages.push(super::spawn_completion(store.clone(), shutdown.clone()));
        stages.push(super::spawn_scheduler(
            bus.clone(),
            store.clone(),
            shutdown.clone(),
        ));
        stages.push(super::spawn_part_sweep(
            bus.clone(),
            store.clone(),
            shutdown.clone(),
        ));
        if matches!(bus, Bus::Rabbit(_)) {
            stages.push(spawn_forwarder(
                bus.clone(),
                store.clone(),
                shutdown.clone(),
            ));
        }
        Self {
            shutdown,
            stages,
            batchers,
        }
    }

    /// Stops taking work, lets every in-flight item finish and settle, flushes the batchers.
    pub async fn drain(self) {
        self.shutdown.cancel();
        for stage in self.stages {
            let _ = stage.await;
        }
        // The stages held the last batcher handles: with them gone, each batcher flushes and ends.
        for batcher in self.batchers {
            let _ = batcher.await;
        }
        tracing::info!("pipeline drained");
    }
}
