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

#[tokio::test]
async fn per_sender_limits_answer_in_each_carriers_form() {
    use crate::helpers::{
        assert_telnyx_error, assert_vonage_status, telnyx_account, vonage_account,
    };
    let per_sender = |account: Account| Account {
        sender_rate: 1.0,
        sender_burst: 1.0,
        ..account
    };
    let config = SimConfig {
        accounts: vec![
            per_sender(Account::default()),
            per_sender(telnyx_account()),
            per_sender(vonage_account()),
        ],
        ..SimConfig::default()
    };
    let t = spawn(config).await;

    assert_eq!(t.sms(TO, "a").await.0, 201);
    let (status, body) = t.sms(TO, "b").await;
    assert_twilio_error(&body, status, 20429);
    assert_eq!(
        t.send(&[("To", TO), ("From", "+15550002222"), ("Body", "c")])
            .await
            .0,
        201,
        "another sender has its own bucket"
    );

    assert_eq!(t.telnyx(TO, "a").await.0, 200);
    let (status, body) = t.telnyx(TO, "b").await;
    assert_eq!(status, 429);
    assert_telnyx_error(&body, "40318");

    assert_eq!(t.vonage(TO, "a").await.1["messages"][0]["status"], "0");
    let (status, body) = t.vonage(TO, "b").await;
    assert_eq!(status, 200);
    assert_vonage_status(&body, "1");

    let report = t.sim.report();
    assert_eq!(report.senders.len(), 4);
    for sender in &report.senders {
        assert_eq!(sender.rate, Some(1.0), "{sender:?}");
        assert!(sender.utilisation.is_some(), "{sender:?}");
        assert!(sender.max_accepted_1s <= 1, "{sender:?}");
    }
    let vonage = report
        .senders
        .iter()
        .find(|s| s.carrier == floodgate_sim::Carrier::Vonage)
        .expect("a Vonage sender");
    assert_eq!(
        vonage.from.as_deref(),
        Some("15550001111"),
        "recorded as sent"
    );
    assert_eq!((vonage.accepted, vonage.throttled), (1, 1));
    t.sim.shutdown().await;
}

#[tokio::test]
async fn duplicates_are_reported_per_account_and_sender() {
    let t = spawn(SimConfig::default()).await;
    for _ in 0..3 {
        assert_eq!(t.sms(TO, "same").await.0, 201);
    }
    let report = t.sim.report();
    assert_eq!(report.duplicates, 2);
    assert_eq!(report.accounts[0].duplicates, 2);
    assert_eq!(report.senders[0].duplicates, 2);
    t.sim.shutdown().await;
}
