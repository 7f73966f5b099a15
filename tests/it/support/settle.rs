//! What "nothing lost" means after a crash or an outage, checked against the store and the simulator.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use floodgate::domain::{MessageStatus, PhoneNumber};
use floodgate::store::{BroadcastStatus, StatusCounts, Store};
use floodgate_sim::SimHandle;

/// Waits (bounded) until the broadcast is fanned out and none of its messages is queued or sending.
pub async fn wait_until_settled(
    store: &Store,
    broadcast_id: i64,
    timeout: Duration,
) -> StatusCounts {
    let deadline = Instant::now() + timeout;
    loop {
        let counts = store.message_counts(broadcast_id).await.expect("counts");
        let fanned_out = store
            .broadcast_by_id(broadcast_id)
            .await
            .expect("broadcast")
            .is_some_and(|b| b.status.rank() >= BroadcastStatus::Sending.rank());
        if fanned_out && counts.queued + counts.sending == 0 {
            return counts;
        }
        assert!(
            Instant::now() < deadline,
            "broadcast {broadcast_id} not settled within {timeout:?}: fanned out: {fanned_out}, {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every one of `members` (numbers `PhoneNumber::example(0..members)`) has exactly one message
/// row in the broadcast, in a state past `sending` and not failed/cancelled; and the simulator
/// accepted at least one send to each of them.
pub async fn assert_each_member_served_once(
    store: &Store,
    sim: &SimHandle,
    broadcast_id: i64,
    members: u32,
) {
    let mut rows_per_member: HashMap<i64, u32> = HashMap::new();
    let mut phones: HashSet<String> = HashSet::new();
    let mut after = None;
    let mut bad = Vec::new();
    loop {
        let page = store
            .broadcast_messages(broadcast_id, None, after, 1000)
            .await
            .expect("broadcast messages");
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for m in &page {
            *rows_per_member
                .entry(m.member_id.expect("broadcast rows have a member"))
                .or_default() += 1;
            phones.insert(m.to.as_str().to_owned());
            if !matches!(m.status, MessageStatus::Sent | MessageStatus::Delivered) {
                bad.push((m.id, m.status, m.last_error_code.clone()));
            }
        }
    }
    let twice: Vec<_> = rows_per_member.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        twice.is_empty(),
        "members with more than one row: {twice:?}"
    );
    assert_eq!(
        rows_per_member.len(),
        members as usize,
        "every member has a message row"
    );
    assert!(
        bad.is_empty(),
        "{} rows did not end sent/delivered, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );
    let accepted: HashSet<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.status == 201)
        .map(|r| r.to)
        .collect();
    let missing: Vec<String> = (0..members)
        .map(|i| PhoneNumber::example(i).as_str().to_owned())
        .filter(|p| !accepted.contains(p) || !phones.contains(p))
        .collect();
    assert!(
        missing.is_empty(),
        "{} members never reached the carrier, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}
