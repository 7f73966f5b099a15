//! Sliding-window counts: the measure DESIGN.md states the rate promise in ("in any
//! sliding one-second window ...").
//!
//! Windows are half-open, `[t, t + width)`: two requests exactly `width` apart are never
//! in the same window. Every window that can hold a maximum ends at a request, so it is
//! enough to look at the window ending at each request; a two-pointer pass does that in
//! O(n) over timestamps sorted ascending.

/// The window the report uses: one second, in microseconds.
pub const ONE_SECOND_US: u64 = 1_000_000;

/// Weighted counts over the windows ending at each event: the maximum, and how many
/// of those windows exceed `limit`. `events` are `(timestamp, weight)` sorted by time.
pub fn scan(events: &[(u64, u32)], width: u64, limit: Option<f64>) -> WindowStats {
    let mut stats = WindowStats::default();
    let mut start = 0;
    let mut sum: u64 = 0;
    for &(t, w) in events {
        sum += u64::from(w);
        while let Some(&(t0, w0)) = events.get(start) {
            if t - t0 < width {
                break;
            }
            sum -= u64::from(w0);
            start += 1;
        }
        stats.max = stats.max.max(sum);
        if limit.is_some_and(|l| sum as f64 > l) {
            stats.over_limit += 1;
        }
    }
    stats
}

/// Result of [`scan`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WindowStats {
    /// Largest weighted count in any window.
    pub max: u64,
    /// Windows (one per event, ending at it) whose count exceeds the limit.
    pub over_limit: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ones(ts: &[u64]) -> Vec<(u64, u32)> {
        ts.iter().map(|&t| (t, 1)).collect()
    }

    #[test]
    fn empty_has_no_windows() {
        assert_eq!(scan(&[], 1000, Some(1.0)), WindowStats::default());
    }

    #[test]
    fn exactly_one_width_apart_is_another_window() {
        assert_eq!(scan(&ones(&[0, 1000]), 1000, None).max, 1);
        assert_eq!(scan(&ones(&[0, 999]), 1000, None).max, 2);
    }

    #[test]
    fn equal_timestamps_share_a_window() {
        assert_eq!(scan(&ones(&[5, 5, 5]), 1000, None).max, 3);
    }

    #[test]
    fn finds_the_densest_window_anywhere() {
        // 10 per second steadily, plus a burst of 5 at 2.5 s.
        let mut ts: Vec<u64> = (0..50).map(|i| i * 100).collect();
        ts.extend([2500, 2501, 2502, 2503, 2504]);
        ts.sort_unstable();
        let s = scan(&ones(&ts), 1000, Some(12.0));
        assert_eq!(s.max, 15);
        // Windows ending at 2500..=3400 hold the burst: 14 or 15 events each.
        assert!(s.over_limit > 0);
    }

    #[test]
    fn weights_count_units() {
        let s = scan(&[(0, 3), (500, 3), (1000, 1)], 1000, Some(5.0));
        assert_eq!(s.max, 6);
        assert_eq!(s.over_limit, 1);
    }
}
