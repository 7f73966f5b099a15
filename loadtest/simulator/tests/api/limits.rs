//! Token buckets as the client sees them: 429 beyond the burst, per account and sender.

use floodgate_sim::{Account, SimConfig, Unit};

use crate::helpers::{FROM, TO, assert_twilio_error, spawn};

fn limited(rate: f64, burst: f64, unit: Unit) -> SimConfig {
    SimConfig {
        accounts: vec![Account {
            rate,
            burst,
            unit,
            ..Account::default()
        }],
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn beyond_the_burst_is_429_20429() {
    // 1 per second: the 20 sends below take far less than the second a refill needs.
    let t = spawn(limited(1.0, 5.0, Unit::Requests)).await;
    let mut statuses = Vec::new();
    for i in 0..20 {
        let (status, body) = t.sms(TO, &format!("m{i}")).await;
        if status == 429 {
            assert_twilio_error(&body, 429, 20429);
        }
        statuses.push(status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        5,
        "{statuses:?}"
    );
    assert!(
        statuses[..5].iter().all(|s| *s == 201),
        "the bucket starts full"
    );

    let report = t.sim.report();
    assert_eq!((report.accepted, report.throttled), (5, 15));
    let account = &report.accounts[0];
    assert_eq!((account.rate, account.burst), (Some(1.0), 5.0));
    assert_eq!(
        account.max_requests_1s, 20,
        "every request that reached us counts"
    );
    assert_eq!(account.max_accepted_1s, 5);
    assert_eq!(
        account.windows_over_limit, 14,
        "windows ending at requests 7..=20 hold > 6"
    );
    t.sim.shutdown().await;
}

#[tokio::test]
async fn each_sender_has_its_own_bucket() {
    let config = SimConfig {
        accounts: vec![Account {
            sender_rate: 1.0,
            sender_burst: 2.0,
            ..Account::default()
        }],
        ..SimConfig::default()
    };
    let t = spawn(config).await;
    for from in [FROM, "+15550002222"] {
        let statuses: Vec<u16> = {
            let mut v = Vec::new();
            for _ in 0..4 {
                v.push(
                    t.send(&[("To", TO), ("From", from), ("Body", "hi")])
                        .await
                        .0,
                );
            }
            v
        };
        assert_eq!(statuses, [201, 201, 429, 429], "{from}");
    }
    let report = t.sim.report();
    assert_eq!(report.senders.len(), 2);
    assert!(
        report
            .senders
            .iter()
            .all(|s| s.accepted == 2 && s.throttled == 2 && s.rate == Some(1.0))
    );
    assert_eq!(
        report.accounts[0].rate, None,
        "the account itself is unlimited"
    );
    t.sim.shutdown().await;
}

#[tokio::test]
async fn segments_are_the_unit_when_configured() {
    let t = spawn(limited(1.0, 3.0, Unit::Segments)).await;
    let two_segments = "a".repeat(161);
    assert_eq!(t.sms(TO, &two_segments).await.0, 201);
    assert_eq!(
        t.sms(TO, &two_segments).await.0,
        429,
        "1 token left, 2 needed"
    );
    assert_eq!(t.sms(TO, "short").await.0, 201);
    let account = &t.sim.report().accounts[0];
    assert_eq!(account.max_units_1s, 5, "segments of all three requests");
    assert_eq!(account.max_requests_1s, 3);
    t.sim.shutdown().await;
}
