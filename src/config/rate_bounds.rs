//! The range every rate and burst must lie in, wherever it is set: a profile, an override,
//! `floodgate limits set`, `community create --rate`, `demo --rate`.

/// Slowest rate accepted, units per second (one per 1,000 s): anything slower is a typo.
pub const MIN_RATE_PER_SECOND: f64 = 0.001;
/// Fastest rate accepted: far above any carrier account (Twilio's is 2,000 MPS), and a token
/// period (1 µs) the bucket still keeps exactly.
pub const MAX_RATE_PER_SECOND: f64 = 1_000_000.0;
/// Largest burst accepted, in units.
pub const MAX_BURST: u32 = 1_000_000;

/// `Ok` for a rate in range; otherwise what is wrong, for the caller to prefix with its key.
pub fn check_rate(rate: f64) -> Result<(), String> {
    if (MIN_RATE_PER_SECOND..=MAX_RATE_PER_SECOND).contains(&rate) {
        Ok(())
    } else {
        Err(format!(
            "must be a number from {MIN_RATE_PER_SECOND} to {MAX_RATE_PER_SECOND} (per second), found {rate:?}"
        ))
    }
}

/// `Ok` for a burst in range; otherwise what is wrong.
pub fn check_burst(burst: u32) -> Result<(), String> {
    if (1..=MAX_BURST).contains(&burst) {
        Ok(())
    } else {
        Err(format!(
            "must be a whole number from 1 to {MAX_BURST}, found {burst}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_bursts_outside_the_range_are_refused() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300, 0.0001] {
            assert!(check_rate(rate).is_err(), "{rate}");
        }
        for rate in [0.001, 0.1, 1.0, 2_000.0, 1_000_000.0] {
            assert_eq!(check_rate(rate), Ok(()), "{rate}");
        }
        assert!(check_burst(0).is_err());
        assert!(check_burst(u32::MAX).is_err());
        assert_eq!(check_burst(1), Ok(()));
        assert_eq!(check_burst(MAX_BURST), Ok(()));
    }
}
