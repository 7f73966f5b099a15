use std::time::{Duration, Instant};

use super::*;

#[tokio::test]
async fn a_send_waits_for_its_sender_and_its_account() {
    let throttle = Throttle::new("test", 1000.0, 5, LimitUnit::Requests);
    throttle.set_sender_limits([("+14155550100".to_string(), 10.0)]);
    let started = Instant::now();
    for _ in 0..4 {
        let admission = throttle.acquire(1, Lane::Broadcast, "+14155550100").await;
        assert!(matches!(admission, Admission::Granted(_)));
    }
    // The sender allows 10/s from empty: four grants take about 300-400 ms, not 4 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    let other = Instant::now();
    for _ in 0..4 {
        throttle.acquire(1, Lane::Broadcast, "+14155550199").await;
    }
    assert!(
        other.elapsed() < Duration::from_millis(250),
        "a number without its own limit only waits for the account: {:?}",
        other.elapsed()
    );
}

#[tokio::test]
async fn segments_count_where_the_carrier_counts_them() {
    let twilio = Throttle::new("twilio", 10.0, 1, LimitUnit::Segments);
    let telnyx = Throttle::new("telnyx", 10.0, 1, LimitUnit::Requests);
    assert_eq!(twilio.units(3), 3);
    assert_eq!(telnyx.units(3), 1);
    assert_eq!(twilio.units(0), 1);
}

#[tokio::test]
async fn a_used_up_daily_cap_says_when_it_resets() {
    let mut throttle = Throttle::new("capped", 1000.0, 5, LimitUnit::Requests);
    Arc::get_mut(&mut throttle.inner).unwrap().cap =
        Some(DailyCapCounter::new(2, chrono_tz::America::Los_Angeles));
    for _ in 0..2 {
        let admission = throttle.acquire(1, Lane::Broadcast, "+1").await;
        assert!(matches!(admission, Admission::Granted(_)));
    }
    match throttle.acquire(1, Lane::Broadcast, "+1").await {
        Admission::Capped { until } => assert!(until > Utc::now()),
        other => panic!("expected the cap, got {other:?}"),
    }
}

#[tokio::test]
async fn a_throttled_answer_pauses_and_halves_the_rate() {
    let throttle = Throttle::new("storm", 100.0, 5, LimitUnit::Requests);
    let Admission::Granted(grant) = throttle.acquire(1, Lane::Broadcast, "+1").await else {
        panic!("granted")
    };
    throttle.throttled(grant, Some(Duration::from_millis(300)));
    throttle.throttled(grant, Some(Duration::from_millis(300))); // same episode: ignored
    assert_eq!(throttle.rates(), (100.0, 50.0));
    let started = Instant::now();
    throttle.acquire(1, Lane::Broadcast, "+1").await;
    assert!(
        started.elapsed() >= Duration::from_millis(280),
        "the pause holds sends: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn new_limits_apply_at_once() {
    let throttle = Throttle::new("live", 100.0, 5, LimitUnit::Requests);
    throttle.set_limits(20.0, 2);
    assert_eq!(throttle.rates(), (20.0, 20.0));
    throttle.acquire(1, Lane::Broadcast, "+1").await;
    let started = Instant::now();
    for _ in 0..3 {
        throttle.acquire(1, Lane::Broadcast, "+1").await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(120),
        "20/s spaces grants by 50 ms: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_busy_sender_reports_its_backlog() {
    let throttle = Throttle::new("hol", 1000.0, 5, LimitUnit::Requests);
    throttle.set_sender_limits([("+14155550100".to_string(), 2.0)]);
    assert_eq!(throttle.sender_backlog("+14155550199"), None);
    assert_eq!(
        throttle.sender_backlog("+14155550100"),
        Some(Duration::ZERO)
    );
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let t = throttle.clone();
            tokio::spawn(async move { t.acquire(1, Lane::Broadcast, "+14155550100").await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let backlog = throttle.sender_backlog("+14155550100").unwrap();
    assert!(
        backlog >= Duration::from_millis(1500),
        "four sends at 2/s wait about 2 s: {backlog:?}"
    );
    for w in waiters {
        w.abort();
    }
}

#[tokio::test]
async fn sends_queued_before_a_back_off_wait_out_its_pause() {
    let throttle = Throttle::new("queued", 100.0, 1, LimitUnit::Requests);
    let Admission::Granted(first) = throttle.acquire(1, Lane::Broadcast, "+1").await else {
        panic!("granted")
    };
    // Ten sends queue for tokens, then the carrier throttles the first one.
    let started = Instant::now();
    let waiters: Vec<_> = (0..10)
        .map(|_| {
            let t = throttle.clone();
            tokio::spawn(async move {
                t.acquire(1, Lane::Broadcast, "+1").await;
                Instant::now()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(5)).await;
    throttle.throttled(first, Some(Duration::from_millis(300)));
    let mut early = 0;
    for w in waiters {
        if w.await.unwrap().duration_since(started) < Duration::from_millis(250) {
            early += 1;
        }
    }
    assert!(
        early <= 1,
        "{early} queued sends went during the carrier's 300 ms pause"
    );
}

#[test]
fn stored_sender_limits_overlay_the_profile_and_unknown_numbers_are_looked_up_once() {
    let throttle = Throttle::build(
        "overlay",
        100.0,
        5,
        LimitUnit::Requests,
        None,
        vec![("+14155550100".to_string(), 10.0)],
    );
    throttle.apply_stored_sender_limits([]);
    assert!(
        throttle.knows_sender("+14155550100"),
        "the profile's number"
    );
    assert!(
        !throttle.knows_sender("+14155550101"),
        "a number added later"
    );

    throttle.apply_stored_sender_limits([("+14155550101".to_string(), 2.0)]);
    assert!(throttle.knows_sender("+14155550101"));
    assert!(
        throttle.knows_sender("+14155550100"),
        "the profile's limit stays under the store's rows"
    );
    assert!(throttle.sender_backlog("+14155550101").is_some());

    // A number with no limit anywhere is known once it has been looked up.
    assert!(!throttle.knows_sender("+14155550102"));
    throttle.mark_looked_up(["+14155550102"]);
    assert!(throttle.knows_sender("+14155550102"));
    assert_eq!(throttle.sender_backlog("+14155550102"), None);
}
