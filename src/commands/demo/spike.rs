//! The inbound spike: members texting JOIN, STOP, HELP and chatter while the broadcast runs.

use std::time::{Duration, Instant};

use futures::StreamExt;
use indicatif::ProgressBar;

use crate::domain::PhoneNumber;

/// What a member texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Join,
    Stop,
    Help,
    Chatter,
}

impl Text {
    fn body(self) -> &'static str {
        match self {
            Self::Join => "join",
            Self::Stop => " Stop ",
            Self::Help => "HELP",
            Self::Chatter => "see you there!",
        }
    }
}

/// The `k`-th distinct member (numbered `0..members`) counted from the last, with a stride
/// so STOPs spread over the tail of the send order; `None` once every member was picked.
fn member_from_the_tail(k: u32, members: u32) -> Option<u32> {
    if k >= members {
        return None;
    }
    // A stride coprime with `members` visits every member exactly once.
    let stride = [7u64, 11, 13, 1]
        .into_iter()
        .find(|s| members as u64 % s != 0 || *s == 1)
        .unwrap_or(1);
    let step = (u64::from(k) * stride) % u64::from(members);
    Some(members - 1 - step as u32)
}

/// The spike, decided up front so the summary can check every effect.
#[derive(Debug, Clone)]
pub struct SpikePlan {
    url: String,
    token: String,
    to: PhoneNumber,
    pub texts: Vec<(PhoneNumber, Text)>,
}

impl SpikePlan {
    /// 70% JOIN from new numbers, 15% STOP from members late in the send order (so their STOP
    /// races the broadcast), 5% HELP, 10% chatter.
    pub fn new(base: &str, token: &str, to: &PhoneNumber, members: u32, size: u32) -> Self {
        let mut texts = Vec::with_capacity(size as usize);
        let (mut joins, mut existing) = (0u32, 0u32);
        for i in 0..size {
            let text = match i % 20 {
                0..=13 => Text::Join,
                14..=16 => Text::Stop,
                17 => Text::Help,
                _ => Text::Chatter,
            };
            let from = match text {
                Text::Join => {
                    joins += 1;
                    PhoneNumber::example(members + joins)
                }
                _ => {
                    existing += 1;
                    match member_from_the_tail(existing - 1, members) {
                        Some(n) => PhoneNumber::example(n),
                        // More texts than members: the rest come from strangers (a STOP from
                        // one is remembered, HELP is answered, chatter reaches the inbox).
                        None => PhoneNumber::example(u32::MAX / 2 + i),
                    }
                }
            };
            texts.push((from, text));
        }
        Self {
            url: format!("{base}/webhooks/sim/inbound"),
            token: token.into(),
            to: to.clone(),
            texts,
        }
    }

    /// Numbers that texted STOP.
    pub fn stops(&self) -> impl Iterator<Item = &PhoneNumber> {
        self.texts
            .iter()
            .filter(|(_, t)| *t == Text::Stop)
            .map(|(p, _)| p)
    }

    /// Numbers that texted JOIN.
    pub fn joins(&self) -> impl Iterator<Item = &PhoneNumber> {
        self.texts
            .iter()
            .filter(|(_, t)| *t == Text::Join)
            .map(|(p, _)| p)
    }
}

/// What happened to the spike's webhooks.
#[derive(Debug, Clone, Default)]
pub struct SpikeOutcome {
    pub plan: Option<SpikePlan>,
    pub accepted: u64,
    pub refused: u64,
    /// Webhook round-trip latencies, for the summary's percentiles.
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

/// Posts every text of the plan, 32 at a time, each signed like Twilio signs.
pub async fn run(plan: SpikePlan, bar: ProgressBar) -> anyhow::Result<SpikeOutcome> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let results: Vec<(bool, Duration)> =
        futures::stream::iter(plan.texts.clone().into_iter().enumerate())
            .map(|(i, (from, text))| {
                let client = client.clone();
                let hook = floodgate_sim::inbound::signed_twilio_inbound(
                    &plan.url,
                    &plan.token,
                    &format!("SMdemo{i:026}"),
                    from.as_str(),
                    plan.to.as_str(),
                    text.body(),
                );
                let bar = bar.clone();
                async move {
                    let sent = Instant::now();
                    let response = hook
                        .request(&client)
                        .timeout(Duration::from_secs(30))
                        .send()
                        .await;
                    bar.inc(1);
                    (
                        response.is_ok_and(|r| r.status().is_success()),
                        sent.elapsed(),
                    )
                }
            })
            .buffer_unordered(32)
            .collect()
            .await;
    let accepted = results.iter().filter(|(ok, _)| *ok).count() as u64;
    Ok(SpikeOutcome {
        accepted,
        refused: results.len() as u64 - accepted,
        latencies: results.into_iter().map(|(_, d)| d).collect(),
        elapsed: started.elapsed(),
        plan: Some(plan),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_text_comes_from_its_own_number_whatever_the_sizes() {
        let to = PhoneNumber::example(0);
        // 7 × 11 × 13 = 1001 defeats every stride but 1.
        for members in [0, 1, 7, 77, 500, 1001, 10_000] {
            let plan = SpikePlan::new("http://127.0.0.1:1", "t", &to, members, 2_000);
            let numbers: HashSet<&PhoneNumber> = plan.texts.iter().map(|(p, _)| p).collect();
            assert_eq!(
                numbers.len(),
                plan.texts.len(),
                "{members} members: a number texted twice, so its replies look like duplicates"
            );
            let member_numbers: HashSet<PhoneNumber> =
                (0..members).map(PhoneNumber::example).collect();
            let others: Vec<&PhoneNumber> = plan
                .texts
                .iter()
                .filter(|(_, t)| *t != Text::Join)
                .map(|(p, _)| p)
                .collect();
            let from_members = others
                .iter()
                .filter(|p| member_numbers.contains(**p))
                .count();
            assert_eq!(
                from_members,
                others.len().min(members as usize),
                "{members} members: STOP, HELP and chatter come from members while there are any"
            );
        }
    }

    #[test]
    fn the_tail_walk_visits_each_member_once() {
        for members in [1u32, 2, 7, 13, 1001, 4_200] {
            let seen: HashSet<u32> = (0..members)
                .filter_map(|k| member_from_the_tail(k, members))
                .collect();
            assert_eq!(seen.len(), members as usize);
            assert_eq!(member_from_the_tail(members, members), None);
            assert_eq!(member_from_the_tail(0, members), Some(members - 1));
        }
    }
}
