//! Bulk-write timings, ignored by default: `cargo test --test it store::bench -- --ignored --nocapture`.
//! Figures go to BENCHMARKS.md; tests never assert on wall-clock time.

use std::time::Instant;

use chrono::Utc;
use floodgate::domain::SenderAddress;

use super::fixtures::{broadcast, community, phone};
use crate::support::TestDb;

/// Members (and then broadcast messages) to write.
const ROWS: u32 = 1_000_000;
/// Recipients per `insert_broadcast_messages` call, as a fan-out batch would pass.
const BATCH: usize = 50_000;

async fn bulk_insert_one_million(db: TestDb) {
    let (c, from) = community(&db.store, 1).await;
    let from = SenderAddress::from(from);
    let phones: Vec<_> = (0..ROWS).map(phone).collect();
    let started = Instant::now();
    db.store
        .import_members(c, &phones, Utc::now())
        .await
        .unwrap();
    let import = started.elapsed();

    let recipients = db
        .store
        .subscribed_member_batch(c, 0, i64::from(ROWS))
        .await
        .unwrap();
    let b = broadcast(&db.store, c, "Bench").await;
    let started = Instant::now();
    let mut inserted = 0;
    for batch in recipients.chunks(BATCH) {
        inserted += db
            .store
            .insert_broadcast_messages(b.id, c, "twilio", Some(&from), batch)
            .await
            .unwrap();
    }
    let fan_out = started.elapsed();
    assert_eq!(inserted, u64::from(ROWS));
    println!(
        "{:?}: import_members {ROWS} rows in {import:.2?}; insert_broadcast_messages {ROWS} rows in {fan_out:.2?} \
         (batches of {BATCH})",
        db.store.backend()
    );
}

mod sqlite {
    #[tokio::test]
    #[ignore = "benchmark: run with --ignored --nocapture"]
    async fn bulk_insert_one_million() {
        super::bulk_insert_one_million(
            crate::support::fresh_store(crate::support::Backend::Sqlite).await,
        )
        .await;
    }
}

mod postgres {
    #[tokio::test]
    #[ignore = "benchmark: run with --ignored --nocapture"]
    async fn bulk_insert_one_million() {
        super::bulk_insert_one_million(
            crate::support::fresh_store(crate::support::Backend::Postgres).await,
        )
        .await;
    }
}
