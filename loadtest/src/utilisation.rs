//! Utilisation of a limit while a backlog existed, from the simulator's request log.
//!
//! The simulator's own figure spans its first to its last accepted request, so replies that
//! trickle in after a broadcast stretch it; here the window is the broadcast's own first to
//! last send, during which the engine had a backlog, and every accepted unit in it counts.

use floodgate_sim::RecordedRequest;

/// Accepted segments in `[first, last]` of the requests carrying `body`, divided by what the
/// limit allowed in that time (`burst + rate × span`); `None` with fewer than two such sends.
pub fn during(requests: &[RecordedRequest], body: &str, rate: f64, burst: f64) -> Option<f64> {
    let times = requests
        .iter()
        .filter(|r| r.status == 201 && r.body.as_deref() == Some(body))
        .map(|r| r.at_ms);
    let (first, last) = times.fold(None, |acc: Option<(f64, f64)>, t| match acc {
        None => Some((t, t)),
        Some((a, b)) => Some((a.min(t), b.max(t))),
    })?;
    if last <= first || rate <= 0.0 {
        return None;
    }
    let units: u64 = requests
        .iter()
        .filter(|r| r.status == 201 && (first..=last).contains(&r.at_ms))
        .map(|r| u64::from(r.segments))
        .sum();
    Some(units as f64 / (burst.max(1.0) + rate * (last - first) / 1000.0))
}

/// Accepted units in each whole second from the first send carrying `body` (the last, partial
/// second left out): where a shortfall of utilisation happened, at the start, in the middle or
/// in the tail.
pub fn per_second(requests: &[RecordedRequest], body: &str) -> Vec<u64> {
    let mut times = requests
        .iter()
        .filter(|r| r.status == 201 && r.body.as_deref() == Some(body))
        .map(|r| r.at_ms);
    let Some(first) = times.next() else {
        return Vec::new();
    };
    let (first, last) = times.fold((first, first), |(a, b), t| (a.min(t), b.max(t)));
    let whole = ((last - first) / 1000.0).floor() as usize;
    let mut seconds = vec![0; whole];
    for r in requests.iter().filter(|r| r.status == 201) {
        let second = ((r.at_ms - first) / 1000.0).floor();
        if second >= 0.0 && (second as usize) < whole {
            seconds[second as usize] += u64::from(r.segments);
        }
    }
    seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: f64, body: &str, status: u16) -> RecordedRequest {
        RecordedRequest {
            at_ms: ms,
            account_sid: "AC".into(),
            from: "+1".into(),
            to: "+2".into(),
            body: Some(body.into()),
            body_hash: String::new(),
            segments: 1,
            status,
            error_code: None,
            sid: None,
            client_message_id: None,
            carrier: floodgate_sim::Carrier::Twilio,
            outcome: if status == 201 {
                floodgate_sim::Outcome::Accepted
            } else {
                floodgate_sim::Outcome::Throttled
            },
            storm: false,
            timed_out: false,
        }
    }

    #[test]
    fn counts_every_send_inside_the_broadcast_window_only() {
        // 10/s for 1 s, burst 1: 11 units allowed. 9 broadcast sends + 2 replies inside,
        // one 429 (not counted) and a reply after the window (not counted).
        let mut log: Vec<RecordedRequest> =
            (0..9).map(|i| at(f64::from(i) * 125.0, "B", 201)).collect();
        log.push(at(1000.0, "B", 201));
        log.push(at(300.0, "reply", 201));
        log.push(at(400.0, "B", 429));
        log.push(at(5000.0, "reply", 201));
        let u = during(&log, "B", 10.0, 1.0).expect("a window");
        assert!((u - 11.0 / 11.0).abs() < 1e-9, "{u}");
        assert_eq!(during(&log, "none", 10.0, 1.0), None);
        assert_eq!(
            during(&log, "B", 0.0, 1.0),
            None,
            "unlimited has no utilisation"
        );
    }

    #[test]
    fn per_second_counts_whole_seconds_from_the_first_send() {
        let mut log: Vec<RecordedRequest> = (0..25)
            .map(|i| at(100.0 + f64::from(i) * 100.0, "B", 201))
            .collect();
        log.push(at(150.0, "reply", 201));
        log.push(at(160.0, "B", 429));
        // 100..1100: 10 sends + the reply; 1100..2100: 10; 2100..2500 is partial.
        assert_eq!(per_second(&log, "B"), vec![11, 10]);
        assert!(per_second(&log, "none").is_empty());
    }
}
