//! The members' texts of a spike, decided up front so every accepted webhook's effect can
//! be checked afterwards, and signed up front so signing is not part of the timed loop.

use floodgate::domain::PhoneNumber;
use floodgate_sim::inbound::{SignedWebhook, signed_twilio_inbound};
use serde::{Deserialize, Serialize};

/// What a member texts, and so which effect the engine owes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Subscribes a new number; a welcome reply.
    Join,
    /// Unsubscribes a member; a STOP reply.
    Stop,
    /// A HELP reply.
    Help,
    /// Lands in the inbox only.
    Chatter,
}

impl Kind {
    /// The body texted, in the varied spelling members use.
    pub fn body(self) -> &'static str {
        match self {
            Self::Join => "join",
            Self::Stop => " Stop ",
            Self::Help => "HELP",
            Self::Chatter => "see you there!",
        }
    }
}

/// Shares of each kind, in percent; they must add up to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mix {
    pub join: u32,
    pub stop: u32,
    pub help: u32,
    pub chatter: u32,
}

impl Mix {
    /// The spike default: 70% JOIN, 15% STOP, 5% HELP, 10% chatter.
    pub const SPIKE: Mix = Mix {
        join: 70,
        stop: 15,
        help: 5,
        chatter: 10,
    };
    /// The mixed scenario: half JOIN, half STOP.
    pub const JOIN_STOP: Mix = Mix {
        join: 50,
        stop: 50,
        help: 0,
        chatter: 0,
    };

    /// The kind of the `i`-th text: kinds interleave evenly over the run.
    pub fn kind(&self, i: u32) -> Kind {
        let slot = (i.wrapping_mul(37)) % 100; // 37 is coprime with 100: every slot once per 100
        if slot < self.join {
            Kind::Join
        } else if slot < self.join + self.stop {
            Kind::Stop
        } else if slot < self.join + self.stop + self.help {
            Kind::Help
        } else {
            Kind::Chatter
        }
    }
}

/// One planned text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub from: String,
    pub kind: Kind,
}

/// The whole spike: who texts what, for `members` seeded members `example(0..members)`.
///
/// JOINs come from new numbers (`example(members + j)`); STOPs walk down from the last member
/// (late in a broadcast's send order, so they race it), each member at most once; HELP and
/// chatter come from the first members. With `members` ≥ [`members_needed`] the two groups
/// do not overlap.
pub fn plan(count: u32, members: u32, mix: Mix) -> Vec<Planned> {
    let (mut joins, mut stops, mut others) = (0u32, 0u32, 0u32);
    (0..count)
        .map(|i| {
            let kind = mix.kind(i);
            let n = match kind {
                Kind::Join => {
                    joins += 1;
                    members + joins - 1
                }
                Kind::Stop => {
                    stops += 1;
                    members.saturating_sub(stops)
                }
                Kind::Help | Kind::Chatter => {
                    others += 1;
                    (others - 1) % members.max(1)
                }
            };
            Planned {
                from: PhoneNumber::example(n).as_str().to_owned(),
                kind,
            }
        })
        .collect()
}

/// Texts from existing members (all but JOINs): seed at least that many members so that no
/// member both STOPs and sends HELP or chatter (a HELP reply to an opted-out member is not sent).
pub fn members_needed(count: u32, mix: Mix) -> u32 {
    (0..count).filter(|&i| mix.kind(i) != Kind::Join).count() as u32
}

/// Signs each planned text as Twilio would post it to `url` (the engine's public URL).
pub fn sign(plan: &[Planned], url: &str, to: &str, run: &str) -> Vec<SignedWebhook> {
    plan.iter()
        .enumerate()
        .map(|(i, p)| {
            let sid = format!("SM{run}{i:024}");
            signed_twilio_inbound(
                url,
                crate::engine_process::AUTH_TOKEN,
                &sid,
                &p.from,
                to,
                p.kind.body(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_mix_is_exact_per_hundred() {
        let kinds: Vec<Kind> = (0..100).map(|i| Mix::SPIKE.kind(i)).collect();
        let count = |k| kinds.iter().filter(|&&x| x == k).count();
        assert_eq!(
            (
                count(Kind::Join),
                count(Kind::Stop),
                count(Kind::Help),
                count(Kind::Chatter)
            ),
            (70, 15, 5, 10)
        );
        assert_eq!(members_needed(1000, Mix::SPIKE), 300);
    }

    #[test]
    fn joins_are_new_numbers_and_stops_are_distinct_members() {
        let members = members_needed(1000, Mix::SPIKE);
        let p = plan(1000, members, Mix::SPIKE);
        let member_numbers: HashSet<String> = (0..members)
            .map(|n| PhoneNumber::example(n).as_str().to_owned())
            .collect();
        let joins: Vec<&Planned> = p.iter().filter(|t| t.kind == Kind::Join).collect();
        assert!(joins.iter().all(|t| !member_numbers.contains(&t.from)));
        assert_eq!(
            joins.iter().map(|t| &t.from).collect::<HashSet<_>>().len(),
            joins.len()
        );
        let stops: Vec<&Planned> = p.iter().filter(|t| t.kind == Kind::Stop).collect();
        assert!(stops.iter().all(|t| member_numbers.contains(&t.from)));
        let stoppers: HashSet<&String> = stops.iter().map(|t| &t.from).collect();
        assert_eq!(stoppers.len(), stops.len());
        let others = p
            .iter()
            .filter(|t| matches!(t.kind, Kind::Help | Kind::Chatter));
        assert!(others.into_iter().all(|t| !stoppers.contains(&t.from)));
    }
}
