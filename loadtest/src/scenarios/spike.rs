//! `spike`: N signed inbound webhooks (JOIN, STOP, HELP, chatter) against a running engine,
//! as fast as possible or at a rate. Reports accepts per second and latency percentiles,
//! errors by kind, and after the drain whether every accepted webhook reached its effect.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cli::SpikeArgs;
use crate::effects;
use crate::fire::{self, Pace};
use crate::progress::Bars;
use crate::report::{Bound, Report};
use crate::texts::{self, Mix};
use crate::world::{World, WorldSpec};

/// Runs the spike and returns its report.
pub async fn run(args: SpikeArgs) -> anyhow::Result<Report> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.common.deadline_secs);
    let bars = Bars::new(args.common.quiet);
    let mix = Mix::SPIKE;
    let members = args
        .members
        .max(texts::members_needed(args.count, mix))
        .max(1);
    let world = World::start(
        &args.common,
        WorldSpec {
            rate: 0.0,
            burst: 0,
            members,
        },
        &bars,
    )
    .await?;
    let mut report = Report::new("spike", world.backend.name(), serde_json::to_value(&args)?);

    let plan = texts::plan(args.count, members, mix);
    let run_id = format!("{:08x}", std::process::id());
    let hooks = Arc::new(texts::sign(
        &plan,
        &world.inbound_url,
        &world.number,
        &run_id,
    ));
    let client = fire::client(args.concurrency)?;
    let bar = bars.bar("inbound webhooks", u64::from(args.count));
    let pace = Pace {
        rate: args.rate,
        concurrency: args.concurrency,
        deadline,
    };
    let volley = fire::fire(client, hooks, pace, bar.clone()).await;
    bar.finish();

    let owed: u64 = plan
        .iter()
        .zip(&volley.shots)
        .filter(|(p, s)| s.is_some_and(|s| s.accepted) && effects::awaited_reply(p.kind))
        .count() as u64;
    let drain_bar = bars.bar("replies at the carrier", owed);
    let drain_started = Instant::now();
    let drained = super::drain::until_sim_accepted(
        &world.sim,
        0,
        owed,
        deadline,
        Duration::from_secs(15),
        &drain_bar,
    )
    .await;
    drain_bar.finish();
    let drain_secs = drain_started.elapsed().as_secs_f64();

    let sent = effects::by_recipient(world.sim.requests());
    let mut observed = effects::observe(&world, &plan, &volley, &sent).await?;
    // The inbox and members are written before the reply is queued, but chatter has no reply
    // to wait for: give stragglers a few bounded looks.
    for _ in 0..5 {
        if observed.losses() == 0 || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let sent = effects::by_recipient(world.sim.requests());
        observed = effects::observe(&world, &plan, &volley, &sent).await?;
    }
    let sim_report = world.sim.report();
    let (rss, clean_stop) = world.stop().await;

    let accepted = volley.accepted();
    let lat = volley.latencies.summary();
    let secs = volley.elapsed.as_secs_f64().max(1e-6);
    let errors: u64 = volley.errors.values().sum();
    report.figure("webhooks sent", (accepted + errors) as f64, "");
    report.figure_vs(
        "accepted/s",
        accepted as f64 / secs,
        "1/s",
        Bound::AtLeast,
        20_000.0,
    );
    report.figure("accept latency p50", lat.p50_ms, "ms");
    report.figure_vs("accept latency p99", lat.p99_ms, "ms", Bound::AtMost, 25.0);
    report.figure("accept latency p99.9", lat.p999_ms, "ms");
    report.figure("accept latency max", lat.max_ms, "ms");
    report.figure("errors", errors as f64, "");
    report.figure("drain after the spike", drain_secs, "s");
    report.figure(
        "effects rate (spike start → drained)",
        owed as f64 / (secs + drain_secs).max(1e-6),
        "1/s",
    );
    report.figure_vs(
        "engine RSS peak",
        rss.peak_mib(),
        "MiB",
        Bound::AtMost,
        100.0,
    );
    report.figure("engine RSS final", rss.final_mib(), "MiB");
    report.promise("webhooks refused or failed", errors);
    observed.add_figures(&mut report);
    report.promise("accepted webhooks without their effect", observed.losses());
    report.promise("duplicate replies at the carrier", sim_report.duplicates);
    report.completed = drained && volley.unsent() == 0;
    if volley.unsent() > 0 {
        report.notes.push(format!(
            "{} webhooks not sent before the deadline",
            volley.unsent()
        ));
    }
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
        "errors_by_kind": volley.errors,
        "latency": lat,
        "effects": observed,
        "rss": rss,
        "simulator": sim_report,
    });
    Ok(report)
}
