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
                _ if members == 0 => PhoneNumber::example(u32::MAX / 2 + i),
                _ => {
                    existing += 1;
                    // Walk down from the last member, skipping so STOPs spread over the tail.
                    PhoneNumber::example(
                        members.saturating_sub(1 + (existing * 7) % members.max(1)),
                    )
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
