//! `mixed`: JOIN/STOP texts arrive while a broadcast saturates the simulator's limit.
//! Reports the transactional reply latency (webhook sent → reply at the simulator) and the
//! broadcast sends to members after their STOP took effect, which must be zero.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::cli::MixedArgs;
use crate::effects::{self, reply_body};
use crate::fire::{self, Pace, Volley};
use crate::latency::Latencies;
use crate::progress::Bars;
use crate::report::{Bound, Report};
use crate::texts::{self, Mix, Planned};
use crate::world::{World, WorldSpec};

/// A send that reached the carrier this long after the STOP's commit counts as a violation;
/// the margin covers a send whose opt-out check came just before the commit (as in the demo).
const STOP_MARGIN_MS: i64 = 100;

/// Runs the mixed scenario and returns its report.
pub async fn run(args: MixedArgs) -> anyhow::Result<Report> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.common.deadline_secs);
    let bars = Bars::new(args.common.quiet);
    let mix = Mix::JOIN_STOP;
    let members = args.members.max(texts::members_needed(args.spike, mix));
    let world = World::start(
        &args.common,
        WorldSpec {
            rate: args.limit,
            burst: args.burst,
            members,
        },
        &bars,
    )
    .await?;
    let mut report = Report::new("mixed", world.backend.name(), serde_json::to_value(&args)?);

    let plan = texts::plan(args.spike, members, mix);
    let run_id = format!("{:08x}", std::process::id());
    let hooks = Arc::new(texts::sign(
        &plan,
        &world.inbound_url,
        &world.number,
        &run_id,
    ));

    let posted = Instant::now();
    let id = world.api.create_broadcast(super::broadcast::BODY).await?;
    tokio::time::sleep(Duration::from_secs_f64(args.spike_delay_secs.max(0.0))).await;
    let client = fire::client(16)?;
    let spike_bar = bars.bar("JOIN/STOP webhooks", u64::from(args.spike));
    let pace = Pace {
        rate: Some(args.spike_rate),
        concurrency: 16,
        deadline,
    };
    let spike = tokio::spawn(fire::fire(client, hooks, pace, spike_bar.clone()));
    let milestones = super::broadcast::watch(
        &world,
        id,
        u64::from(members),
        None,
        posted,
        deadline,
        &bars,
    )
    .await?;
    let volley = spike.await?;
    spike_bar.finish();
    let owed = plan
        .iter()
        .zip(&volley.shots)
        .filter(|(p, s)| s.is_some_and(|s| s.accepted) && effects::awaited_reply(p.kind))
        .count() as u64;
    let replies_bar = bars.bar("replies at the carrier", owed);
    // Replies share the account's limit; most arrived during the broadcast already. Count
    // them and the baseline from one snapshot of the log, so none is counted twice.
    let snapshot = world.sim.requests();
    let baseline = snapshot.iter().filter(|r| r.status == 201).count() as u64;
    let already = count_replies(&plan, &volley, &effects::by_recipient(snapshot));
    let drained = super::drain::until_sim_accepted(
        &world.sim,
        baseline,
        owed.saturating_sub(already),
        deadline,
        Duration::from_secs(15),
        &replies_bar,
    )
    .await;
    replies_bar.finish();

    let log = world.sim.requests();
    let utilisation = crate::utilisation::during(
        &log,
        super::broadcast::BODY,
        args.limit,
        f64::from(args.burst),
    )
    .unwrap_or(0.0)
        * 100.0;
    let seconds = crate::utilisation::per_second(&log, super::broadcast::BODY);
    let slowest = seconds.iter().copied().min().unwrap_or(0);
    let sent = effects::by_recipient(log);
    let stopped = world.api.members("unsubscribed").await?;
    let mut applied: HashMap<String, DateTime<Utc>> = HashMap::new();
    for m in world.api.members("subscribed").await? {
        if let Some(at) = m.subscribed_at {
            applied.insert(m.phone, at);
        }
    }
    for m in &stopped {
        if let Some(at) = m.unsubscribed_at {
            applied.insert(m.phone.clone(), at);
        }
    }
    let latency = reply_latencies(&world, &plan, &volley, &sent, &applied);
    let after_stop = sends_after_stop(&world, &stopped, &sent);
    let observed = effects::observe(&world, &plan, &volley, &sent).await?;
    let sim = world.sim.report();
    let (rss, clean_stop) = world.stop().await;

    let account = sim.accounts.first();
    let lat = latency.total.summary();
    let to_applied = latency.to_applied.summary();
    let applied_to_reply = latency.applied_to_reply.summary();
    let cancelled = milestones.counts.cancelled.max(0) as u64;
    let broadcast_received = broadcast_recipients(&sent);
    let broadcast_lost = u64::from(members).saturating_sub(broadcast_received + cancelled);
    report.figure("members", f64::from(members), "");
    report.figure("JOIN/STOP webhooks accepted", volley.accepted() as f64, "");
    report.figure("reply latency samples", lat.count as f64, "");
    report.figure("reply latency p50", lat.p50_ms, "ms");
    report.figure_vs("reply latency p99", lat.p99_ms, "ms", Bound::AtMost, 50.0);
    report.figure("reply latency max", lat.max_ms, "ms");
    report.figure("  webhook → keyword applied p50", to_applied.p50_ms, "ms");
    report.figure("  webhook → keyword applied p99", to_applied.p99_ms, "ms");
    report.figure(
        "  applied → reply at carrier p50",
        applied_to_reply.p50_ms,
        "ms",
    );
    report.figure(
        "  applied → reply at carrier p99",
        applied_to_reply.p99_ms,
        "ms",
    );
    report.figure(
        "webhook accept latency p99",
        volley.latencies.summary().p99_ms,
        "ms",
    );
    report.figure_vs(
        "utilisation during the broadcast",
        utilisation,
        "%",
        Bound::AtLeast,
        99.0,
    );
    report.figure(
        "slowest whole second of the broadcast",
        slowest as f64,
        "sends",
    );
    report.figure(
        "max sends in any 1 s window",
        account.map_or(0, |a| a.max_units_1s) as f64,
        "",
    );
    report.figure(
        "broadcast messages skipped (STOP first)",
        cancelled as f64,
        "",
    );
    report.figure_vs(
        "engine RSS peak",
        rss.peak_mib(),
        "MiB",
        Bound::AtMost,
        100.0,
    );
    report.promise("broadcast sends after STOP", after_stop);
    report.promise("duplicates seen by the carrier", sim.duplicates);
    report.promise(
        "1 s windows over limit + burst",
        account.map_or(0, |a| a.windows_over_limit),
    );
    observed.add_figures(&mut report);
    report.promise("accepted webhooks without their effect", observed.losses());
    report.promise("members who never got the broadcast", broadcast_lost);
    report.completed = drained && milestones.settled_s.is_some() && volley.unsent() == 0;
    if !report.completed {
        report.notes.push(
            "the deadline cut the run: missing effects are unfinished work, not proven losses"
                .into(),
        );
    }
    if !clean_stop {
        report
            .notes
            .push("the engine did not stop cleanly on SIGTERM".into());
    }
    report.details = json!({
        "reply_latency": lat,
        "webhook_to_applied": to_applied,
        "applied_to_reply": applied_to_reply,
        "errors_by_kind": volley.errors,
        "effects": observed,
        "milestones": milestones,
        "sends_per_second": seconds,
        "rss": rss,
        "simulator": sim,
    });
    Ok(report)
}

type Sent = HashMap<String, Vec<floodgate_sim::RecordedRequest>>;

/// Replies already at the simulator, so the drain waits only for the rest.
fn count_replies(plan: &[Planned], volley: &Volley, sent: &Sent) -> u64 {
    plan.iter()
        .zip(&volley.shots)
        .filter(|(p, s)| {
            s.is_some_and(|s| s.accepted)
                && effects::awaited_reply(p.kind)
                && reply_body(p.kind).is_some_and(|body| {
                    sent.get(&p.from)
                        .is_some_and(|rs| rs.iter().any(|r| r.body.as_deref() == Some(body)))
                })
        })
        .count() as u64
}

/// Reply latency, and its two legs: webhook → keyword applied in the store (the member's
/// `subscribed_at`/`unsubscribed_at`), and applied → reply at the simulator.
#[derive(Default)]
struct ReplyLatencies {
    total: Latencies,
    to_applied: Latencies,
    applied_to_reply: Latencies,
}

/// Webhook sent → first request carrying its reply at the simulator, split at the commit.
fn reply_latencies(
    world: &World,
    plan: &[Planned],
    volley: &Volley,
    sent: &Sent,
    applied: &HashMap<String, DateTime<Utc>>,
) -> ReplyLatencies {
    let mut out = ReplyLatencies::default();
    let utc_of = |at: Instant| {
        let since = at.saturating_duration_since(world.sim_epoch);
        world.sim_epoch_utc + chrono::Duration::from_std(since).unwrap_or_default()
    };
    let std = |d: chrono::Duration| d.to_std().unwrap_or_default();
    for (p, shot) in plan.iter().zip(&volley.shots) {
        let (Some(shot), Some(body)) = (shot, reply_body(p.kind)) else {
            continue;
        };
        if !shot.accepted {
            continue;
        }
        let sent_utc = utc_of(shot.sent_at);
        let applied_at = applied.get(&p.from).copied();
        if let Some(at) = applied_at {
            out.to_applied.record(std(at - sent_utc));
        }
        let first = sent.get(&p.from).and_then(|rs| {
            rs.iter()
                .filter(|r| r.body.as_deref() == Some(body))
                .map(|r| r.at_ms)
                .reduce(f64::min)
        });
        if let Some(at_ms) = first {
            out.total.record(
                world
                    .sim_instant(at_ms)
                    .saturating_duration_since(shot.sent_at),
            );
            if let Some(at) = applied_at {
                out.applied_to_reply.record(std(world.sim_utc(at_ms) - at));
            }
        }
    }
    out
}

/// Broadcast sends accepted by the carrier more than the margin after the member's STOP
/// was committed (its `unsubscribed_at`).
fn sends_after_stop(world: &World, stopped: &[crate::api::MemberJson], sent: &Sent) -> u64 {
    let margin = chrono::Duration::milliseconds(STOP_MARGIN_MS);
    let mut count = 0;
    for member in stopped {
        let Some(at) = member.unsubscribed_at else {
            continue;
        };
        let late = |t: DateTime<Utc>| t > at + margin;
        count += sent.get(&member.phone).map_or(0, |rs| {
            rs.iter()
                .filter(|r| r.status == 201)
                .filter(|r| r.body.as_deref() == Some(super::broadcast::BODY))
                .filter(|r| late(world.sim_utc(r.at_ms)))
                .count() as u64
        });
    }
    count
}

/// Distinct members the carrier accepted the broadcast for.
fn broadcast_recipients(sent: &Sent) -> u64 {
    sent.values()
        .filter(|rs| {
            rs.iter()
                .any(|r| r.status == 201 && r.body.as_deref() == Some(super::broadcast::BODY))
        })
        .count() as u64
}
