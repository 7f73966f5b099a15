//! A daily cap (e.g. T-Mobile's brand cap): at most `limit` units per calendar day in a time
//! zone, resetting at that zone's midnight.
//!
//! The count lives in memory at the instance that holds the carrier's lanes and is flushed to
//! the store on every lease renewal; a new holder starts from the stored count.

use std::sync::Mutex;

use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Units used today and not yet written to the store.
#[derive(Debug, Default)]
struct Day {
    day: String,
    used: u64,
    unflushed: u64,
}

/// One carrier account's daily cap.
#[derive(Debug)]
pub struct DailyCapCounter {
    limit: u64,
    zone: Tz,
    state: Mutex<Day>,
}

impl DailyCapCounter {
    /// A cap of `limit` units per day in `zone`, with nothing used yet.
    pub fn new(limit: u64, zone: Tz) -> Self {
        Self {
            limit,
            zone,
            state: Mutex::default(),
        }
    }

    /// The calendar day `now` falls on in the cap's zone, as `YYYY-MM-DD`.
    pub fn day_of(&self, now: DateTime<Utc>) -> String {
        now.with_timezone(&self.zone).date_naive().to_string()
    }

    /// When the day `now` falls on ends: the zone's next midnight, in UTC.
    pub fn next_reset(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let local = now.with_timezone(&self.zone).date_naive();
        let tomorrow = local.checked_add_days(Days::new(1)).unwrap_or(local);
        let midnight = tomorrow.and_time(NaiveTime::MIN);
        // A midnight skipped by a DST change: the first valid instant after it.
        (0..4)
            .find_map(|h| {
                self.zone
                    .from_local_datetime(&(midnight + chrono::Duration::hours(h)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now + chrono::Duration::hours(24))
    }

    /// Takes `units` from today's allowance, or says when the cap resets.
    pub fn try_take(&self, units: u64, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        let today = self.day_of(now);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.day != today {
            *state = Day {
                day: today,
                ..Day::default()
            };
        }
        if state.used + units > self.limit {
            return Err(self.next_reset(now));
        }
        state.used += units;
        state.unflushed += units;
        Ok(())
    }

    /// Units taken since the last flush, and the day they belong to; resets the tally.
    pub fn take_unflushed(&self) -> (String, u64) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let units = std::mem::take(&mut state.unflushed);
        (state.day.clone(), units)
    }

    /// Gives back units a failed flush took, so the next flush writes them.
    pub fn restore_unflushed(&self, units: u64) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.unflushed += units;
    }

    /// The store's total for `day` (including everything flushed): the count to go on from.
    pub fn seed(&self, day: &str, stored: u64) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.day != day {
            *state = Day {
                day: day.to_string(),
                ..Day::default()
            };
        }
        state.used = state.used.max(stored + state.unflushed);
    }

    /// Units still allowed today.
    pub fn remaining(&self, now: DateTime<Utc>) -> u64 {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.day != self.day_of(now) {
            return self.limit;
        }
        self.limit.saturating_sub(state.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_cap_holds_until_midnight_in_its_zone() {
        let cap = DailyCapCounter::new(3, chrono_tz::America::Los_Angeles);
        // 07:00 UTC on the 10th is 23:00 on the 9th in Los Angeles (PST, UTC-8).
        let now = at("2026-12-10T07:00:00Z");
        assert_eq!(cap.day_of(now), "2026-12-09");
        cap.try_take(2, now).unwrap();
        cap.try_take(1, now).unwrap();
        let reset = cap.try_take(1, now).unwrap_err();
        assert_eq!(reset, at("2026-12-10T08:00:00Z"), "midnight Pacific");
        cap.try_take(3, reset).expect("a new day, a new allowance");
    }

    #[test]
    fn a_dst_day_still_resets_at_local_midnight() {
        let cap = DailyCapCounter::new(1, chrono_tz::America::Los_Angeles);
        // The night after DST starts (8 March 2026), midnight is PDT, UTC-7.
        let reset = cap.next_reset(at("2026-03-08T12:00:00Z"));
        assert_eq!(reset, at("2026-03-09T07:00:00Z"));
    }

    #[test]
    fn the_stored_count_carries_over_to_a_new_holder() {
        let cap = DailyCapCounter::new(10, chrono_tz::UTC);
        let now = at("2026-11-22T12:00:00Z");
        cap.seed("2026-11-22", 9);
        assert_eq!(cap.remaining(now), 1);
        cap.try_take(1, now).unwrap();
        assert!(cap.try_take(1, now).is_err());
        assert_eq!(cap.take_unflushed(), ("2026-11-22".to_string(), 1));
        assert_eq!(cap.take_unflushed().1, 0);
    }
}
