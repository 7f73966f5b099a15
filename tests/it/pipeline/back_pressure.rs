//! A slow carrier makes the backlog grow in the queue, not in the engine's memory.

use std::time::{Duration, Instant};

use floodgate::config::PipelineConfig;
use floodgate::sandbox::SandboxConfig;
use floodgate_sim::Latency;

use super::setup::{Setup, quick_pipeline, sandbox};

async fn a_slow_carrier_leaves_the_backlog_in_the_queue(setup: Setup) {
    let pipeline = PipelineConfig {
        deliver_concurrency: 2,
        deliver_prefetch: 2,
        deliver_chunk: 10,
        ..quick_pipeline()
    };
    // Claimed-but-unfinished messages are the engine's in-memory buffer: lanes × work items × chunk.
    let bound = 2 * pipeline.deliver_concurrency * pipeline.deliver_chunk;
    let config = SandboxConfig {
        members: 1500,
        rate: 40.0,
        burst: 2,
        latency: Latency::Fixed(Duration::from_millis(50)),
        pipeline,
        ..Default::default()
    };
    let sb = sandbox(setup, config).await;
    let broadcast = sb.start_broadcast("Slowly does it.").await.unwrap();

    let (mut max_in_memory, mut max_backlog) = (0, 0);
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        let counts = sb.store.message_counts(broadcast).await.unwrap();
        max_in_memory = max_in_memory.max(counts.sending as usize);
        max_backlog = max_backlog.max(counts.queued as usize);
        assert!(
            counts.sending as usize <= bound,
            "{} messages held in the engine; bound is {bound}",
            counts.sending
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        max_backlog > 1000,
        "the backlog should wait in the store/queue, saw at most {max_backlog} queued"
    );
    assert!(max_in_memory > 0, "delivery should have been under way");
    sb.stop().await;
}

crate::all_setups!(a_slow_carrier_leaves_the_backlog_in_the_queue);
