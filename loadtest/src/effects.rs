//! After the drain: did every accepted webhook reach its effect? Read back through the leader
//! API (members, inbox) and the simulator's log (replies), and counted per kind.

use std::collections::{HashMap, HashSet};

use floodgate_sim::RecordedRequest;
use serde::Serialize;

use crate::engine_process::{HELP_REPLY, STOP_REPLY, WELCOME_REPLY};
use crate::fire::Volley;
use crate::texts::{Kind, Planned};
use crate::world::World;

/// Expected vs observed for one kind of text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindEffects {
    /// Webhooks of this kind answered 2xx: each owes its effects.
    pub accepted: u64,
    /// Membership changed as asked (JOIN: subscribed, STOP: unsubscribed; others: n/a).
    pub membership: u64,
    /// The reply reached the simulator (answered 201).
    pub replied: u64,
    /// The text is in the community's inbox.
    pub in_inbox: u64,
}

impl KindEffects {
    /// Accepted webhooks whose owed effects were not all observed.
    pub fn missing(&self, kind: Kind) -> u64 {
        let owes_membership = matches!(kind, Kind::Join | Kind::Stop);
        let owes_reply = kind != Kind::Chatter;
        let mut lost = self.accepted.saturating_sub(self.in_inbox);
        if owes_membership {
            lost += self.accepted.saturating_sub(self.membership);
        }
        if owes_reply {
            lost += self.accepted.saturating_sub(self.replied);
        }
        lost
    }
}

/// Effects of a spike, per kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Effects {
    pub join: KindEffects,
    pub stop: KindEffects,
    pub help: KindEffects,
    pub chatter: KindEffects,
}

impl Effects {
    /// Every missing effect of every accepted webhook: the losses.
    pub fn losses(&self) -> u64 {
        self.join.missing(Kind::Join)
            + self.stop.missing(Kind::Stop)
            + self.help.missing(Kind::Help)
            + self.chatter.missing(Kind::Chatter)
    }

    /// One row per kind with webhooks: accepted, and the effects missing among them.
    pub fn add_figures(&self, report: &mut crate::report::Report) {
        for (kind, e) in [
            (Kind::Join, self.join),
            (Kind::Stop, self.stop),
            (Kind::Help, self.help),
            (Kind::Chatter, self.chatter),
        ] {
            if e.accepted == 0 {
                continue;
            }
            let name = format!("{kind:?}").to_uppercase();
            let owed = |applies: bool, n: u64| if applies { n.to_string() } else { "-".into() };
            report.notes.push(format!(
                "{name}: {} accepted; membership changed {}, reply sent {}, in inbox {}",
                e.accepted,
                owed(matches!(kind, Kind::Join | Kind::Stop), e.membership),
                owed(kind != Kind::Chatter, e.replied),
                e.in_inbox
            ));
        }
    }

    fn of(&mut self, kind: Kind) -> &mut KindEffects {
        match kind {
            Kind::Join => &mut self.join,
            Kind::Stop => &mut self.stop,
            Kind::Help => &mut self.help,
            Kind::Chatter => &mut self.chatter,
        }
    }
}

/// The reply a kind of text gets.
pub fn reply_body(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Join => Some(WELCOME_REPLY),
        Kind::Stop => Some(STOP_REPLY),
        Kind::Help => Some(HELP_REPLY),
        Kind::Chatter => None,
    }
}

/// Replies the drain waits for: every kind that gets one (a STOP's confirmation goes to the
/// member it has just unsubscribed, and the engine sends it all the same).
pub fn awaited_reply(kind: Kind) -> bool {
    reply_body(kind).is_some()
}

/// The simulator's log indexed by recipient.
pub fn by_recipient(requests: Vec<RecordedRequest>) -> HashMap<String, Vec<RecordedRequest>> {
    let mut map: HashMap<String, Vec<RecordedRequest>> = HashMap::new();
    for r in requests {
        map.entry(r.to.clone()).or_default().push(r);
    }
    map
}

/// Counts the effects of the accepted webhooks of `plan`, given what the engine and the
/// simulator hold now.
pub async fn observe(
    world: &World,
    plan: &[Planned],
    volley: &Volley,
    sent: &HashMap<String, Vec<RecordedRequest>>,
) -> anyhow::Result<Effects> {
    let subscribed: HashSet<String> = world
        .api
        .members("subscribed")
        .await?
        .into_iter()
        .map(|m| m.phone)
        .collect();
    let unsubscribed: HashSet<String> = world
        .api
        .members("unsubscribed")
        .await?
        .into_iter()
        .map(|m| m.phone)
        .collect();
    let mut inbox: HashMap<(String, String), u64> = HashMap::new();
    for m in world.api.inbox().await? {
        *inbox.entry((m.from, m.body.trim().to_owned())).or_default() += 1;
    }
    Ok(tally(
        plan,
        volley,
        &subscribed,
        &unsubscribed,
        &mut inbox,
        sent,
    ))
}

/// The counting itself, separate from the I/O so it can be tested.
pub fn tally(
    plan: &[Planned],
    volley: &Volley,
    subscribed: &HashSet<String>,
    unsubscribed: &HashSet<String>,
    inbox: &mut HashMap<(String, String), u64>,
    sent: &HashMap<String, Vec<RecordedRequest>>,
) -> Effects {
    let mut effects = Effects::default();
    for (text, shot) in plan.iter().zip(&volley.shots) {
        if !shot.is_some_and(|s| s.accepted) {
            continue;
        }
        let e = effects.of(text.kind);
        e.accepted += 1;
        e.membership += u64::from(match text.kind {
            Kind::Join => subscribed.contains(&text.from),
            Kind::Stop => unsubscribed.contains(&text.from),
            _ => false,
        });
        if let Some(reply) = reply_body(text.kind) {
            let replied = sent.get(&text.from).is_some_and(|rs| {
                rs.iter()
                    .any(|r| r.status == 201 && r.body.as_deref() == Some(reply))
            });
            e.replied += u64::from(replied);
        }
        let key = (text.from.clone(), text.kind.body().trim().to_owned());
        if let Some(n) = inbox.get_mut(&key).filter(|n| **n > 0) {
            *n -= 1;
            e.in_inbox += 1;
        }
    }
    effects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fire::Shot;
    use std::time::Instant;

    fn request(to: &str, body: &str) -> RecordedRequest {
        RecordedRequest {
            at_ms: 1.0,
            account_sid: "AC".into(),
            from: "+14155550100".into(),
            to: to.into(),
            body: Some(body.into()),
            body_hash: String::new(),
            segments: 1,
            status: 201,
            error_code: None,
            sid: None,
            client_message_id: None,
            carrier: floodgate_sim::Carrier::Twilio,
            outcome: floodgate_sim::Outcome::Accepted,
            storm: false,
            timed_out: false,
        }
    }

    #[test]
    fn counts_effects_only_for_accepted_webhooks_and_flags_what_is_missing() {
        let plan = vec![
            Planned {
                from: "+1".into(),
                kind: Kind::Join,
            },
            Planned {
                from: "+2".into(),
                kind: Kind::Stop,
            },
            Planned {
                from: "+3".into(),
                kind: Kind::Chatter,
            },
            Planned {
                from: "+4".into(),
                kind: Kind::Join,
            },
        ];
        let now = Instant::now();
        let ok = Some(Shot {
            sent_at: now,
            answered_at: now,
            accepted: true,
        });
        let refused = Some(Shot {
            sent_at: now,
            answered_at: now,
            accepted: false,
        });
        let volley = Volley {
            shots: vec![ok, ok, ok, refused],
            ..Volley::default()
        };
        let subscribed: HashSet<String> = ["+1".to_owned()].into();
        let unsubscribed = HashSet::new(); // the STOP was lost
        let mut inbox: HashMap<(String, String), u64> = [
            (("+1".to_owned(), "join".to_owned()), 1),
            (("+2".to_owned(), "Stop".to_owned()), 1),
            (("+3".to_owned(), "see you there!".to_owned()), 1),
        ]
        .into();
        let sent = by_recipient(vec![
            request("+1", WELCOME_REPLY),
            request("+2", STOP_REPLY),
        ]);
        let e = tally(
            &plan,
            &volley,
            &subscribed,
            &unsubscribed,
            &mut inbox,
            &sent,
        );
        assert_eq!(
            e.join,
            KindEffects {
                accepted: 1,
                membership: 1,
                replied: 1,
                in_inbox: 1
            }
        );
        assert_eq!(
            e.stop,
            KindEffects {
                accepted: 1,
                membership: 0,
                replied: 1,
                in_inbox: 1
            }
        );
        assert_eq!(e.chatter.in_inbox, 1);
        assert_eq!(
            e.losses(),
            1,
            "only the STOP's membership change is missing"
        );
    }
}
