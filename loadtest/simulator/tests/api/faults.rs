//! Injected faults: the 429 storm, hung requests and latency distributions.

use std::time::{Duration, Instant};

use floodgate_sim::{ConfigPatch, Latency, SimConfig, Storm, Timeouts};

use crate::helpers::{TO, all_carriers, assert_telnyx_error, spawn};

#[tokio::test]
async fn a_storm_throttles_everything_in_its_window_and_the_report_splits_around_it() {
    let t = spawn(all_carriers()).await;
    assert_eq!(t.telnyx(TO, "before").await.0, 200);
    t.sim
        .update_config(&ConfigPatch {
            storm_duration_ms: Some(400),
            ..ConfigPatch::default()
        })
        .expect("a storm starting now");
    let storm = Instant::now();
    let mut during = 0;
    // Bounded: at most 100 requests, 10 ms apart, and only while the storm lasts.
    for i in 0..100 {
        if storm.elapsed() >= Duration::from_millis(350) {
            break;
        }
        let (status, body) = t.telnyx(TO, &format!("storm {i}")).await;
        assert_eq!(status, 429, "{body}");
        assert_telnyx_error(&body, "40318");
        during += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep_until((storm + Duration::from_millis(450)).into()).await;
    assert_eq!(t.telnyx(TO, "after").await.0, 200);
    assert_eq!(t.sms(TO, "after, twilio").await.0, 201);

    let report = t.sim.report().storm.expect("a storm section");
    assert_eq!(report.end_ms - report.start_ms, 400.0);
    assert_eq!(report.ratio, 1.0);
    assert_eq!(report.requests_before, 1);
    assert_eq!(report.requests_during, during);
    assert_eq!(report.throttled_by_storm, during);
    assert_eq!(report.accepted_during, 0);
    assert!(report.max_requests_1s_during >= 1);
    assert_eq!((report.requests_after, report.accepted_after), (2, 2));
    assert!(report.first_accepted_after_ms.is_some_and(|ms| ms >= 0.0));
    assert!(t.sim.requests().iter().filter(|r| r.storm).count() as u64 == during);
    t.sim.shutdown().await;
}

#[tokio::test]
async fn a_configured_storm_can_throttle_a_fraction_and_be_removed() {
    let t = spawn(SimConfig {
        storm: Some(Storm {
            start: Duration::ZERO,
            duration: Duration::from_secs(60),
            ratio: 0.5,
        }),
        ..SimConfig::default()
    })
    .await;
    let mut throttled = 0;
    for i in 0..40 {
        if t.sms(TO, &format!("m{i}")).await.0 == 429 {
            throttled += 1;
        }
    }
    assert!(
        (8..=32).contains(&throttled),
        "about half of 40: {throttled}"
    );
    let bad = ConfigPatch {
        storm_ratio: Some(1.0),
        ..ConfigPatch::default()
    };
    assert!(
        t.sim.update_config(&bad).is_err(),
        "a ratio without a duration"
    );
    t.sim
        .update_config(&ConfigPatch {
            storm_duration_ms: Some(0),
            ..ConfigPatch::default()
        })
        .expect("removes the storm");
    assert_eq!(t.sms(TO, "calm").await.0, 201);
    assert!(t.sim.report().storm.is_none());
    t.sim.shutdown().await;
}

#[tokio::test]
async fn hung_requests_outlast_the_client_timeout_but_are_processed_and_recorded() {
    let t = spawn(SimConfig {
        timeouts: Timeouts {
            ratio: 1.0,
            hang: Duration::from_secs(2),
        },
        ..SimConfig::default()
    })
    .await;
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let error = impatient
        .post(t.messages_url(crate::helpers::SID))
        .basic_auth(crate::helpers::SID, Some(crate::helpers::TOKEN))
        .form(&[("To", TO), ("From", crate::helpers::FROM), ("Body", "hi")])
        .send()
        .await
        .expect_err("the client gives up first");
    assert!(error.is_timeout(), "{error}");
    let report = t.sim.report();
    assert_eq!(
        (report.timed_out, report.accepted),
        (1, 1),
        "the carrier has it"
    );
    assert!(t.sim.requests()[0].timed_out);

    t.sim
        .update_config(&ConfigPatch {
            timeout_ratio: Some(0.0),
            ..ConfigPatch::default()
        })
        .expect("valid");
    let started = Instant::now();
    assert_eq!(t.sms(TO, "again").await.0, 201);
    assert!(started.elapsed() < Duration::from_secs(1));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_hung_request() {
    let t = spawn(SimConfig {
        timeouts: Timeouts {
            ratio: 1.0,
            hang: Duration::from_secs(60),
        },
        ..SimConfig::default()
    })
    .await;
    let client = t.client.clone();
    let url = t.messages_url(crate::helpers::SID);
    let hung = tokio::spawn(async move {
        client
            .post(url)
            .basic_auth(crate::helpers::SID, Some(crate::helpers::TOKEN))
            .form(&[("To", TO), ("From", crate::helpers::FROM), ("Body", "hi")])
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    // Bounded wait for the request to arrive.
    for _ in 0..50 {
        if !t.sim.requests().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = Instant::now();
    let report = t.sim.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(report.timed_out, 1);
    let answered = tokio::time::timeout(Duration::from_secs(5), hung)
        .await
        .expect("the client hears back at shutdown")
        .expect("task");
    assert_eq!(answered.ok(), Some(201));
}

#[tokio::test]
async fn log_normal_latency_is_set_at_runtime() {
    let t = spawn(SimConfig::default()).await;
    let bad = ConfigPatch {
        latency_p50_ms: Some(50),
        ..ConfigPatch::default()
    };
    assert!(t.sim.update_config(&bad).is_err(), "p50 needs p99");
    t.sim
        .update_config(&ConfigPatch {
            latency_p50_ms: Some(30),
            latency_p99_ms: Some(60),
            ..ConfigPatch::default()
        })
        .expect("valid");
    let started = Instant::now();
    for i in 0..5 {
        assert_eq!(t.sms(TO, &format!("m{i}")).await.0, 201);
    }
    let mean = started.elapsed() / 5;
    assert!(
        (Duration::from_millis(15)..Duration::from_millis(200)).contains(&mean),
        "{mean:?}"
    );
    t.sim.shutdown().await;
}

#[tokio::test]
async fn invalid_latency_is_refused_at_start() {
    let config = SimConfig {
        latency: Latency::LogNormal {
            p50: Duration::from_millis(10),
            p99: Duration::from_millis(5),
        },
        ..SimConfig::default()
    };
    assert!(floodgate_sim::start(config).await.is_err());
}
