//! `loadtest`: runs one scenario, prints its report, writes it as JSON if asked, and exits
//! non-zero when a promise was broken or the run hit its deadline.
//!
//! # Layout
//! - `cli`: the scenarios' flags. `backend`: embedded or PostgreSQL + RabbitMQ.
//! - `engine_process`: the engine as a child process, provisioned and stopped by PID.
//! - `world`: simulator + engine + seeded community for one run. `api`: the leader API.
//! - `texts`: the planned, pre-signed inbound texts. `fire`: the paced webhook generator.
//! - `effects`: did each accepted webhook reach its effect. `scenarios/`: one file each.
//! - `latency` (HDR histogram), `rss` (engine memory), `utilisation`, `machine`, `report`,
//!   `progress`.

mod api;
mod backend;
mod cli;
mod effects;
mod engine_process;
mod fire;
mod latency;
mod machine;
mod progress;
mod report;
mod rss;
mod scenarios;
mod texts;
mod utilisation;
mod world;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::cli::{Cli, Scenario};
use crate::machine::Machine;
use crate::report::Report;

/// Extra time past the scenario's own deadline for stopping the engine and writing the report.
const GRACE: Duration = Duration::from_secs(45);

async fn run(scenario: Scenario) -> anyhow::Result<Report> {
    match scenario {
        Scenario::Spike(args) => scenarios::spike::run(args).await,
        Scenario::Broadcast(args) => scenarios::broadcast::run(args).await,
        Scenario::Mixed(args) => scenarios::mixed::run(args).await,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let common = match &cli.scenario {
        Scenario::Spike(a) => a.common.clone(),
        Scenario::Broadcast(a) => a.common.clone(),
        Scenario::Mixed(a) => a.common.clone(),
    };
    let machine = Machine::now();
    let started = Instant::now();
    let hard_stop = Duration::from_secs(common.deadline_secs) + GRACE;
    // Dropping the scenario's future (Ctrl-C, hard stop) drops its engine child, which kills it.
    let result = tokio::select! {
        r = tokio::time::timeout(hard_stop, run(cli.scenario)) => match r {
            Ok(r) => r,
            Err(_) => Err(anyhow::anyhow!("the run overran its deadline by {GRACE:?}; stopped")),
        },
        _ = interrupted() => {
            eprintln!("loadtest: interrupted; the engine was stopped");
            return ExitCode::from(130);
        }
    };
    let mut report = match result {
        Ok(report) => report,
        Err(e) => {
            eprintln!("loadtest: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    report.machine = Machine {
        load_at_end: machine::load_average(),
        ..machine
    };
    report.wall_seconds = started.elapsed().as_secs_f64();
    println!("{report}");
    if let Some(path) = &common.json {
        if let Err(e) = report.write_json(path) {
            eprintln!("loadtest: {e:#}");
            return ExitCode::FAILURE;
        }
    }
    let missed = report.missed_targets();
    if !missed.is_empty() {
        eprintln!("loadtest: targets missed: {}", missed.join(", "));
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        eprintln!("loadtest: a promise was broken or the run did not finish; see the report");
        ExitCode::from(1)
    }
}

/// Ctrl-C, or a SIGTERM from a supervisor or `timeout`: either way the engine child must stop.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
