//! The engine's resident memory over time, read from `/proc/<pid>/status` of the child
//! process, so the figure is the engine's alone and not the load generator's.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::machine::kib_field;

/// One sample: seconds since sampling began, resident MiB.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RssSample {
    pub at_s: f64,
    pub mib: f64,
}

/// The samples and what the report says about them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RssSeries {
    pub samples: Vec<RssSample>,
}

impl RssSeries {
    /// Largest sample.
    pub fn peak_mib(&self) -> f64 {
        self.samples.iter().map(|s| s.mib).fold(0.0, f64::max)
    }

    /// Last sample.
    pub fn final_mib(&self) -> f64 {
        self.samples.last().map_or(0.0, |s| s.mib)
    }

    /// First sample (the engine idle, before the load).
    pub fn first_mib(&self) -> f64 {
        self.samples.first().map_or(0.0, |s| s.mib)
    }

    /// Peak of the second half minus peak of the first half: near 0 when memory is flat,
    /// positive when it keeps growing with the work done.
    pub fn growth_mib(&self) -> f64 {
        let half = self.samples.len() / 2;
        let peak = |s: &[RssSample]| s.iter().map(|s| s.mib).fold(0.0, f64::max);
        if half == 0 {
            return 0.0;
        }
        peak(&self.samples[half..]) - peak(&self.samples[..half])
    }
}

/// Reads the resident set size of `pid` in MiB.
pub fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    kib_field(&status, "VmRSS:").map(|kib| kib as f64 / 1024.0)
}

/// A background task sampling one process until stopped.
pub struct RssSampler {
    stop: watch::Sender<bool>,
    task: JoinHandle<RssSeries>,
}

impl RssSampler {
    /// Samples `pid` every `every` (bounded: at most one sample per interval, stops when told
    /// or when the process is gone).
    pub fn spawn(pid: u32, every: Duration) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let mut series = RssSeries::default();
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                let Some(mib) = rss_mib(pid) else { break };
                series.samples.push(RssSample {
                    at_s: started.elapsed().as_secs_f64(),
                    mib,
                });
            }
            series
        });
        Self { stop, task }
    }

    /// The latest sample so far is not available without stopping; this stops and returns all.
    pub async fn finish(self) -> RssSeries {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(mibs: &[f64]) -> RssSeries {
        RssSeries {
            samples: mibs
                .iter()
                .enumerate()
                .map(|(i, &mib)| RssSample {
                    at_s: i as f64,
                    mib,
                })
                .collect(),
        }
    }

    #[test]
    fn peak_final_and_growth() {
        let flat = series(&[20.0, 60.0, 58.0, 61.0, 59.0, 40.0]);
        assert_eq!(flat.peak_mib(), 61.0);
        assert_eq!(flat.final_mib(), 40.0);
        assert_eq!(flat.first_mib(), 20.0);
        assert_eq!(flat.growth_mib(), 1.0);
        let growing = series(&[20.0, 40.0, 60.0, 80.0]);
        assert_eq!(growing.growth_mib(), 40.0);
        assert_eq!(RssSeries::default().peak_mib(), 0.0);
        assert_eq!(RssSeries::default().growth_mib(), 0.0);
    }

    #[test]
    fn reads_our_own_rss() {
        let mib = rss_mib(std::process::id()).expect("/proc/self/status has VmRSS");
        assert!(mib > 0.0);
    }
}
