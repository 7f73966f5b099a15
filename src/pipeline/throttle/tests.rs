use std::time::{Duration, Instant};

use super::*;
use crate::config::SenderKind;

#[tokio::test]
async fn a_send_waits_for_its_sender_and_its_account() {
    let throttle = Throttle::new("test", 1000.0, 5, LimitUnit::Requests);
    throttle.set_sender_limits([("+14155550100".to_string(), 10.0)]);
    let started = Instant::now();
    for _ in 0..4 {
        let admission = throttle.acquire(1, Lane::Broadcast, "+14155550100").await;
        assert!(matches!(admission, Admission::Granted));
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
        assert!(matches!(admission, Admission::Granted));
    }
    match throttle.acquire(1, Lane::Broadcast, "+1").await {
        Admission::Capped { until } => assert!(until > Utc::now()),
        other => panic!("expected the cap, got {other:?}"),
    }
}

#[tokio::test]
async fn a_throttled_answer_pauses_and_halves_the_rate() {
    let throttle = Throttle::new("storm", 100.0, 5, LimitUnit::Requests);
    throttle.acquire(1, Lane::Broadcast, "+1").await;
    let grant = throttle.depart(1, "+1").expect("leaves");
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
    throttle.acquire(1, Lane::Broadcast, "+1").await;
    let first = throttle.depart(1, "+1").expect("leaves");
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
        (
            vec![profile_sender(
                "+14155550100",
                SenderKind::LongCode,
                Some(10.0),
            )],
            SenderDefaults::default(),
        ),
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

    throttle.apply_stored_sender_limits([stored("+14155550101", SenderKind::LongCode, Some(2.0))]);
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

    // A stored number without a limit is known as soon as it is read.
    throttle.apply_stored_sender_limits([stored("+14155550103", SenderKind::LongCode, None)]);
    assert!(throttle.knows_sender("+14155550103"));
    assert_eq!(throttle.sender_backlog("+14155550103"), None);
}

fn profile_sender(number: &str, kind: SenderKind, rate: Option<f64>) -> SenderProfile {
    SenderProfile {
        number: number.into(),
        kind,
        rate_per_second: rate,
    }
}

fn stored(number: &str, kind: SenderKind, rate: Option<f64>) -> StoredSenderRate {
    StoredSenderRate {
        number: number.into(),
        kind,
        rate_per_second: rate,
    }
}

/// The rate of `number`'s own bucket, if it has one.
fn sender_rate_of(throttle: &Throttle, number: &str) -> Option<f64> {
    let senders = throttle.inner.senders.read().unwrap();
    senders.get(number).map(|limit| limit.rate)
}

#[test]
fn a_number_without_a_rate_of_its_own_gets_its_kinds_default() {
    let defaults = SenderDefaults {
        long_code: Some(1.0),
        toll_free: Some(3.0),
        short_code: None,
    };
    let throttle = Throttle::build(
        "kinds",
        100.0,
        10,
        LimitUnit::Segments,
        None,
        (
            vec![
                profile_sender("+14155550100", SenderKind::LongCode, None),
                profile_sender("+14155550101", SenderKind::LongCode, Some(5.0)),
            ],
            defaults,
        ),
    );
    throttle.apply_stored_sender_limits([
        stored("+14155550102", SenderKind::LongCode, None),
        stored("+18005550100", SenderKind::TollFree, None),
        stored("+18005550101", SenderKind::TollFree, Some(25.0)),
        stored("12345", SenderKind::ShortCode, None),
        // The store's explicit rate beats the profile's entry for the same number.
        stored("+14155550101", SenderKind::LongCode, Some(0.5)),
    ]);
    assert_eq!(
        sender_rate_of(&throttle, "+14155550100"),
        Some(1.0),
        "profile entry, kind default"
    );
    assert_eq!(
        sender_rate_of(&throttle, "+14155550101"),
        Some(0.5),
        "the store's rate wins"
    );
    assert_eq!(
        sender_rate_of(&throttle, "+14155550102"),
        Some(1.0),
        "long code default"
    );
    assert_eq!(
        sender_rate_of(&throttle, "+18005550100"),
        Some(3.0),
        "toll-free default"
    );
    assert_eq!(
        sender_rate_of(&throttle, "+18005550101"),
        Some(25.0),
        "its own rate"
    );
    assert_eq!(
        sender_rate_of(&throttle, "12345"),
        None,
        "no short code default: account only"
    );
    assert!(throttle.knows_sender("12345"));

    // `limits reset --sender`: the stored rate goes, the profile's entry comes back.
    throttle.apply_stored_sender_limits([stored("+14155550101", SenderKind::LongCode, None)]);
    assert_eq!(sender_rate_of(&throttle, "+14155550101"), Some(5.0));
}

#[tokio::test]
async fn a_long_code_with_the_default_is_held_to_it_not_to_the_account() {
    let throttle = Throttle::build(
        "twilio-like",
        100.0,
        10,
        LimitUnit::Segments,
        None,
        (
            Vec::new(),
            SenderDefaults {
                long_code: Some(10.0),
                ..SenderDefaults::default()
            },
        ),
    );
    throttle.apply_stored_sender_limits([stored("+14155550100", SenderKind::LongCode, None)]);
    let started = Instant::now();
    for _ in 0..4 {
        throttle.acquire(1, Lane::Broadcast, "+14155550100").await;
    }
    // At the account's 100/s four sends take ~40 ms; at the long code's 10/s, ~400 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_send_granted_before_a_back_off_is_held_at_departure() {
    let throttle = Throttle::new("held", 100.0, 5, LimitUnit::Requests);
    throttle.acquire(1, Lane::Broadcast, "+1").await;
    let grant = throttle.depart(1, "+1").expect("leaves");
    // The carrier throttles: a send that already has its token must wait out the pause too.
    throttle.throttled(grant, Some(Duration::from_millis(300)));
    let wait = throttle.depart(1, "+1").expect_err("held during the pause");
    assert!(
        wait > Duration::from_millis(250) && wait <= Duration::from_millis(300),
        "{wait:?}"
    );
}

#[test]
fn a_full_sender_queue_pauses_that_number_only_and_for_a_while() {
    let throttle = Throttle::new("test", 100.0, 5, LimitUnit::Requests);
    let (busy, other) = ("+14155550100", "+14155550199");
    assert_eq!(throttle.sender_paused_until(busy), None);
    throttle.pause_sender(busy, Duration::from_millis(150));
    let until = throttle.sender_paused_until(busy).expect("paused");
    assert!(until > Instant::now() + Duration::from_millis(100));
    assert_eq!(
        throttle.sender_paused_until(other),
        None,
        "the others go on"
    );
    // A shorter pause reported later does not cut the longer one short.
    throttle.pause_sender(busy, Duration::from_millis(10));
    assert_eq!(throttle.sender_paused_until(busy), Some(until));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(throttle.sender_paused_until(busy), None, "the pause ends");
    assert_eq!(throttle.rates().1, 100.0, "the account's rate is untouched");
}

/// Takes a token and leaves as the deliver stage does: waits at the departure gate until it
/// agrees; returns when the send left and its grant.
async fn send(throttle: &Throttle) -> (Instant, Grant) {
    throttle.acquire(1, Lane::Broadcast, "+1").await;
    loop {
        match throttle.depart(1, "+1") {
            Ok(grant) => return (Instant::now(), grant),
            Err(wait) => tokio::time::sleep(wait).await,
        }
    }
}

#[tokio::test]
async fn a_crowd_waiting_through_a_back_off_resumes_at_the_new_pace_when_the_pause_ends() {
    let throttle = Throttle::new("crowd", 40.0, 10, LimitUnit::Requests);
    let (_, first) = send(&throttle).await;
    // The engine has hundreds of sends waiting for tokens when the carrier says "too fast".
    let waiters: Vec<_> = (0..64)
        .map(|_| {
            let t = throttle.clone();
            tokio::spawn(async move { send(&t).await.0 })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let pause = Duration::from_millis(500);
    let throttled_at = Instant::now();
    throttle.throttled(first, Some(pause));
    assert_eq!(throttle.rates(), (40.0, 20.0));
    tokio::time::sleep(pause + Duration::from_secs(1)).await;
    let resumed = throttled_at + pause;
    let mut during_pause = 0;
    let mut first_second = 0;
    for w in waiters {
        if w.is_finished() {
            let left = w.await.unwrap();
            if left < throttled_at {
                continue; // left before the carrier's answer, at 40/s
            } else if left < resumed {
                during_pause += 1;
            } else {
                first_second += 1;
            }
        } else {
            w.abort();
        }
    }
    assert_eq!(during_pause, 0, "sends left during the pause");
    // 20/s with no burst after the pause: about 20 in the second after it. Waiters that spent
    // a token just to find the pace had changed made this second silent.
    assert!(
        (14..=22).contains(&first_second),
        "{first_second} sends in the second after the pause, at 20/s"
    );
}

#[tokio::test]
async fn an_answer_to_a_send_that_left_after_a_back_off_backs_off_again() {
    let throttle = Throttle::new("epochs", 100.0, 5, LimitUnit::Requests);
    let (_, before) = send(&throttle).await;
    // Granted before the back-off, still waiting to leave when it comes.
    throttle.acquire(1, Lane::Broadcast, "+1").await;
    throttle.throttled(before, Some(Duration::from_millis(100)));
    assert_eq!(throttle.rates().1, 50.0);
    let late = loop {
        match throttle.depart(1, "+1") {
            Ok(grant) => break grant,
            Err(wait) => tokio::time::sleep(wait).await,
        }
    };
    throttle.throttled(before, None);
    assert_eq!(throttle.rates().1, 50.0, "the same episode backs off once");
    throttle.throttled(late, Some(Duration::from_millis(100)));
    assert_eq!(
        throttle.rates().1,
        25.0,
        "it left after the back-off: its answer is news"
    );
}
