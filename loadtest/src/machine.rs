//! The machine a run happened on, so a figure in BENCHMARKS.md carries its context.

use serde::{Deserialize, Serialize};

/// Cores, memory and load average (co-located work shows up in the load).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// Cores available to this process.
    pub cores: usize,
    /// Total memory.
    pub memory_mib: u64,
    /// 1-minute load average when the run started.
    pub load_at_start: f64,
    /// 1-minute load average when it ended.
    pub load_at_end: f64,
}

impl Machine {
    /// Reads cores, memory and the 1-minute load average now.
    pub fn now() -> Self {
        Self {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory_mib: std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|t| kib_field(&t, "MemTotal:"))
                .map_or(0, |kib| kib / 1024),
            load_at_start: load_average(),
            load_at_end: 0.0,
        }
    }
}

/// The 1-minute load average, 0 where `/proc/loadavg` is missing.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// The `kB` value of a `Name:   123 kB` line in a `/proc` file.
pub fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_kib_field() {
        let status = "Name:\tfloodgate\nVmPeak:\t  99999 kB\nVmRSS:\t   41234 kB\n";
        assert_eq!(kib_field(status, "VmRSS:"), Some(41_234));
        assert_eq!(kib_field(status, "VmSwap:"), None);
    }
}
