//! Synthetic but plan-valid US numbers, so tests and load runs never need real people's numbers.

use super::PhoneNumber;

/// Long-assigned California area codes; each yields 8 million numbers (exchanges 200 to 999).
const AREA_CODES: [u16; 16] = [
    415, 628, 510, 650, 408, 209, 213, 310, 323, 530, 559, 562, 619, 626, 707, 714,
];
const PER_BLOCK: u32 = 1_000_000;

impl PhoneNumber {
    /// How many distinct numbers [`PhoneNumber::example`] yields before it repeats.
    pub const EXAMPLES: u32 = AREA_CODES.len() as u32 * 8 * PER_BLOCK;

    /// Deterministic synthetic valid US numbers for tests, demos and load tests, distinct for
    /// distinct `n` below [`PhoneNumber::EXAMPLES`] (128 million), repeating after.
    ///
    /// `n` below one million gives `+1 415 2xx xxxx` (`0` is `+14152000000`); each next million
    /// moves to the next area code, then to the next hundred of exchanges (`3xx`, ... `9xx`).
    pub fn example(n: u32) -> PhoneNumber {
        let block = (n / PER_BLOCK) % (Self::EXAMPLES / PER_BLOCK);
        let within = n % PER_BLOCK;
        let area = AREA_CODES[block as usize % AREA_CODES.len()];
        let exchange = (2 + block / AREA_CODES.len() as u32) * 100 + within / 10_000;
        let line = within % 10_000;
        PhoneNumber(format!("+1{area}{exchange:03}{line:04}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn starts_in_415_2xx() {
        assert_eq!(PhoneNumber::example(0).as_str(), "+14152000000");
        assert_eq!(PhoneNumber::example(999_999).as_str(), "+14152999999");
        assert_eq!(PhoneNumber::example(1_000_000).as_str(), "+16282000000");
        assert_eq!(PhoneNumber::example(16_000_000).as_str(), "+14153000000");
        assert_eq!(
            PhoneNumber::example(PhoneNumber::EXAMPLES),
            PhoneNumber::example(0)
        );
    }

    /// Every (area code, exchange) pair the helper can produce passes the numbering plan.
    #[test]
    fn every_block_and_exchange_is_valid() {
        for block in 0..PhoneNumber::EXAMPLES / PER_BLOCK {
            for hundred in 0..100 {
                let n =
                    block * PER_BLOCK + hundred * 10_000 + (block * 37 + hundred * 101) % 10_000;
                let p = PhoneNumber::example(n);
                assert_eq!(PhoneNumber::parse(p.as_str()), Ok(p.clone()), "n={n}");
            }
        }
    }

    #[test]
    fn injective_on_a_sample_of_the_first_ten_million_and_beyond() {
        let sample = (0..10_000_000u32)
            .step_by(997)
            .chain(PhoneNumber::EXAMPLES - 50_000..PhoneNumber::EXAMPLES);
        let mut seen = HashSet::new();
        for n in sample {
            assert!(seen.insert(PhoneNumber::example(n)), "duplicate at n={n}");
        }
    }

    proptest! {
        #[test]
        fn valid_and_distinct(a in 0..PhoneNumber::EXAMPLES, b in 0..PhoneNumber::EXAMPLES) {
            let (pa, pb) = (PhoneNumber::example(a), PhoneNumber::example(b));
            prop_assert_eq!(PhoneNumber::parse(pa.as_str()), Ok(pa.clone()));
            prop_assert_eq!(a == b, pa == pb);
        }
    }
}
