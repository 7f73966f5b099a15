//! `broadcast`: M members, one broadcast, the simulator unlimited or at a limit. Reports
//! fan-out time, sends per second, utilisation of the limit, the densest one-second window,
//! end-to-end time, duplicates, losses, and the engine's RSS over time.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::api::Counts;
use crate::cli::BroadcastArgs;
use crate::progress::Bars;
use crate::report::{Bound, Report};
use crate::world::{World, WorldSpec};

/// The broadcast text: one GSM-7 segment.
pub const BODY: &str =
    "Floodgate load test: the rally moved to 6pm at the park. Reply STOP to opt out.";

/// When each milestone of a broadcast was first seen by polling the leader API.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Milestones {
    /// Every recipient has a message row.
    pub fanned_out_s: Option<f64>,
    /// No message is queued or sending any more.
    pub settled_s: Option<f64>,
    /// Every message has its final `delivered` receipt (when callbacks are on).
    pub delivered_s: Option<f64>,
    pub counts: Counts,
}

/// Polls the broadcast every 500 ms until it is settled and, when `receipts` is given, every
/// receipt is applied or that long has passed since it settled; never past the deadline.
pub async fn watch(
    world: &World,
    id: i64,
    recipients: u64,
    receipts: Option<Duration>,
    started: Instant,
    deadline: Instant,
    bars: &Bars,
) -> anyhow::Result<Milestones> {
    let fanout = bars.bar("fan-out (message rows)", recipients);
    let sent = bars.bar("sent (carrier answered)", recipients);
    let delivered = receipts.map(|_| bars.bar("receipts (delivered)", recipients));
    let mut m = Milestones::default();
    let at = || Some(started.elapsed().as_secs_f64());
    loop {
        let detail = world.api.broadcast(id).await?;
        let c = detail.counts;
        m.counts = c;
        fanout.set_position(c.total() as u64);
        sent.set_position(c.settled() as u64);
        if let Some(bar) = &delivered {
            bar.set_position(c.delivered as u64);
        }
        let recipients = recipients.min(detail.broadcast.recipients.max(0) as u64);
        let fanned = c.total() as u64 >= recipients
            || matches!(detail.broadcast.status.as_str(), "sending" | "completed");
        if fanned && m.fanned_out_s.is_none() {
            m.fanned_out_s = at();
            fanout.finish();
        }
        if fanned && c.queued + c.sending == 0 && m.settled_s.is_none() {
            m.settled_s = at();
            sent.finish();
        }
        if m.settled_s.is_some() && c.delivered as u64 >= recipients && m.delivered_s.is_none() {
            m.delivered_s = at();
        }
        let receipts_over = match (receipts, m.settled_s) {
            (None, _) => true,
            (Some(wait), Some(settled)) => {
                m.delivered_s.is_some()
                    || started.elapsed().as_secs_f64() > settled + wait.as_secs_f64()
            }
            (Some(_), None) => false,
        };
        let done = m.settled_s.is_some() && receipts_over;
        if done || Instant::now() >= deadline {
            return Ok(m);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Runs the broadcast scenario and returns its report.
pub async fn run(args: BroadcastArgs) -> anyhow::Result<Report> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.common.deadline_secs);
    let bars = Bars::new(args.common.quiet);
    let world = World::start(
        &args.common,
        WorldSpec {
            rate: args.limit,
            burst: args.burst,
            members: args.members,
        },
        &bars,
    )
    .await?;
    let mut report = Report::new(
        "broadcast",
        world.backend.name(),
        serde_json::to_value(&args)?,
    );

    let posted = Instant::now();
    let id = world.api.create_broadcast(BODY).await?;
    let recipients = u64::from(args.members);
    let m = watch(
        &world,
        id,
        recipients,
        args.common
            .callbacks
            .then(|| Duration::from_secs(args.receipts_wait_secs)),
        posted,
        deadline,
        &bars,
    )
    .await?;
    let sim = world.sim.report();
    // From the POST to the last send the carrier saw, on the simulator's clock.
    let last_send_s = sim.last_request_ms.map(|ms| {
        world
            .sim_instant(ms)
            .saturating_duration_since(posted)
            .as_secs_f64()
    });
    let (rss, clean_stop) = world.stop().await;

    let account = sim.accounts.first();
    let active_s = match (sim.first_request_ms, sim.last_request_ms) {
        (Some(a), Some(b)) => (b - a) / 1000.0,
        _ => 0.0,
    };
    let end_to_end_s = last_send_s.unwrap_or(f64::NAN);
    let lost = recipients.saturating_sub(sim.distinct_recipients);

    report.figure("members", recipients as f64, "");
    let fanout = m.fanned_out_s.unwrap_or(f64::NAN);
    report.figure("fan-out time (±0.5 s poll)", fanout, "s");
    report.figure("fan-out rate", recipients as f64 / fanout, "rows/s");
    report.figure("carrier active (first → last send)", active_s, "s");
    let sends_per_s = sim.accepted as f64 / active_s.max(1e-3);
    if args.limit > 0.0 {
        report.figure("sends/s", sends_per_s, "1/s");
        let utilisation = account.and_then(|a| a.utilisation).unwrap_or(0.0) * 100.0;
        report.figure_vs(
            "utilisation of the limit",
            utilisation,
            "%",
            Bound::AtLeast,
            99.0,
        );
        report.figure("limit + burst", args.limit + f64::from(args.burst), "1/s");
    } else {
        report.figure_vs("sends/s", sends_per_s, "1/s", Bound::AtLeast, 25_000.0);
    }
    report.figure(
        "max sends in any 1 s window",
        account.map_or(0, |a| a.max_accepted_1s) as f64,
        "",
    );
    report.figure("end-to-end (POST → last send)", end_to_end_s, "s");
    report.figure(
        "POST → all settled (±0.5 s poll)",
        m.settled_s.unwrap_or(f64::NAN),
        "s",
    );
    if let Some(d) = m.delivered_s {
        report.figure("POST → all receipts delivered", d, "s");
    }
    report.figure("carrier 429s", sim.throttled as f64, "");
    report.figure("engine RSS idle (first sample)", rss.first_mib(), "MiB");
    report.figure_vs(
        "engine RSS peak",
        rss.peak_mib(),
        "MiB",
        Bound::AtMost,
        100.0,
    );
    report.figure("engine RSS final", rss.final_mib(), "MiB");
    report.figure(
        "engine RSS growth (2nd half − 1st half peak)",
        rss.growth_mib(),
        "MiB",
    );
    report.promise("duplicates seen by the carrier", sim.duplicates);
    report.promise("members who never got the broadcast", lost);
    report.promise(
        "1 s windows over limit + burst",
        account.map_or(0, |a| a.windows_over_limit),
    );
    report.completed = m.settled_s.is_some();
    if !clean_stop {
        report
            .notes
            .push("the engine did not stop cleanly on SIGTERM".into());
    }
    if args.common.callbacks && m.delivered_s.is_none() && m.settled_s.is_some() {
        report.notes.push(format!(
            "not every delivered receipt was applied within {} s of the last send ({} of {})",
            args.receipts_wait_secs, m.counts.delivered, recipients
        ));
    }
    report.details = json!({
        "milestones": m,
        "rss": rss,
        "simulator": sim,
    });
    Ok(report)
}
