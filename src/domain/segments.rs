//! How carriers split a text into SMS parts (reference §8), because they bill and rate-limit per part.

use super::gsm7;
use super::message_body::Encoding;

/// GSM-7 septets in a lone SMS, and per part once concatenated (a 6-octet UDH takes the rest).
const GSM7: (usize, usize) = (160, 153);
/// UCS-2 code units in a lone SMS, and per part once concatenated.
const UCS2: (usize, usize) = (70, 67);

/// The encoding a carrier picks for `text`, and the parts it will send.
pub(crate) fn measure(text: &str) -> (Encoding, u32) {
    if text.chars().all(|c| gsm7::septets(c).is_some()) {
        (
            Encoding::Gsm7,
            pack(text.chars().filter_map(gsm7::septets), GSM7),
        )
    } else {
        let units = text.chars().map(|c| c.len_utf16() as u8);
        (Encoding::Ucs2, pack(units, UCS2))
    }
}

/// Greedy packing of per-character costs; a character never straddles two parts, so an ESC
/// pair or a surrogate pair that does not fit moves whole to the next part.
fn pack(costs: impl Iterator<Item = u8> + Clone, (single, per_part): (usize, usize)) -> u32 {
    let total: usize = costs.clone().map(usize::from).sum();
    if total <= single {
        return 1;
    }
    let (mut parts, mut used) = (1, 0);
    for cost in costs.map(usize::from) {
        if used + cost > per_part {
            parts += 1;
            used = 0;
        }
        used += cost;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn segments(text: &str) -> (Encoding, u32) {
        measure(text)
    }

    fn gsm(n: usize) -> String {
        "a".repeat(n)
    }

    fn ucs2(n: usize) -> String {
        "Ж".repeat(n)
    }

    #[test]
    fn reference_examples() {
        for (n, parts) in [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3)] {
            assert_eq!(segments(&gsm(n)), (Encoding::Gsm7, parts), "GSM-7 {n}");
        }
        for (n, parts) in [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3)] {
            assert_eq!(segments(&ucs2(n)), (Encoding::Ucs2, parts), "UCS-2 {n}");
        }
    }

    #[test]
    fn extension_chars_cost_two_septets() {
        assert_eq!(segments(&"{".repeat(80)), (Encoding::Gsm7, 1));
        assert_eq!(
            segments(&format!("{}a", "€".repeat(80))),
            (Encoding::Gsm7, 2)
        );
        assert_eq!(segments(&format!("{}[", gsm(158))), (Encoding::Gsm7, 1));
        assert_eq!(segments(&format!("{}[", gsm(159))), (Encoding::Gsm7, 2));
        // 76 pairs fill a part (152 septets): the 77th pair cannot use the last septet.
        assert_eq!(segments(&"€".repeat(153)), (Encoding::Gsm7, 3));
        assert_eq!(segments(&"€".repeat(152)), (Encoding::Gsm7, 2));
    }

    #[test]
    fn an_esc_pair_is_never_split() {
        // 306 septets would fit 2 parts, but the pair at septets 153-154 moves to part 2.
        let text = format!("{}€{}", gsm(152), gsm(152));
        assert_eq!(segments(&text), (Encoding::Gsm7, 3));
        let text = format!("{}€{}", gsm(151), gsm(153));
        assert_eq!(segments(&text), (Encoding::Gsm7, 2));
    }

    #[test]
    fn a_surrogate_pair_is_never_split() {
        assert_eq!(segments(&"😀".repeat(35)), (Encoding::Ucs2, 1));
        assert_eq!(segments(&"😀".repeat(36)), (Encoding::Ucs2, 2));
        let text = format!("{}😀{}", ucs2(66), ucs2(66));
        assert_eq!(segments(&text), (Encoding::Ucs2, 3));
        let text = format!("{}😀{}", ucs2(65), ucs2(67));
        assert_eq!(segments(&text), (Encoding::Ucs2, 2));
    }

    #[test]
    fn one_non_gsm_char_makes_the_whole_text_ucs2() {
        assert_eq!(segments(&format!("{}ç", gsm(69))), (Encoding::Ucs2, 1));
        assert_eq!(segments(&format!("{}`", gsm(70))), (Encoding::Ucs2, 2));
        assert_eq!(segments("ΔΦΓΛΩΠΨΣΘΞ Ç"), (Encoding::Gsm7, 1));
    }

    /// Reference packer: encode for real (ESC bytes, UTF-16 units), cut every `per_part`, and
    /// push a dangling ESC or high surrogate to the next part, as a modem would.
    fn brute_force(text: &str) -> u32 {
        let gsm = text.chars().all(|c| gsm7::septets(c).is_some());
        let encode_gsm = |c: char| match gsm7::EXTENSION.iter().find(|(e, _)| *e == c) {
            Some((_, code)) => vec![0x1B, u16::from(*code)],
            None => vec![
                gsm7::BASIC
                    .iter()
                    .position(|b| *b == c)
                    .map_or(0xFFFF, |p| p as u16),
            ],
        };
        let (units, (single, per_part)): (Vec<u16>, _) = if gsm {
            (text.chars().flat_map(encode_gsm).collect(), GSM7)
        } else {
            (text.encode_utf16().collect(), UCS2)
        };
        if units.len() <= single {
            return 1;
        }
        let (mut parts, mut rest) = (0, &units[..]);
        while !rest.is_empty() {
            let mut cut = per_part.min(rest.len());
            let last = rest[cut - 1];
            let splits_pair = if gsm {
                last == 0x1B
            } else {
                (0xD800..0xDC00).contains(&last)
            };
            if cut < rest.len() && splits_pair {
                cut -= 1;
            }
            rest = &rest[cut..];
            parts += 1;
        }
        parts
    }

    fn gsm_char() -> impl Strategy<Value = char> {
        let mut chars: Vec<char> = gsm7::BASIC
            .iter()
            .copied()
            .filter(|c| *c != '\u{1B}')
            .collect();
        chars.extend(gsm7::EXTENSION.iter().map(|(c, _)| *c));
        prop_oneof![4 => Just('a'), 1 => prop::sample::select(chars)]
    }

    fn any_char() -> impl Strategy<Value = char> {
        prop_oneof![3 => gsm_char(), 1 => Just('😀'), 1 => Just('ç'), 1 => any::<char>()]
    }

    proptest! {
        #[test]
        fn matches_the_brute_force_packer(chars in prop::collection::vec(any_char(), 0..700)) {
            let text: String = chars.into_iter().collect();
            prop_assert_eq!(measure(&text).1, brute_force(&text));
        }

        #[test]
        fn gsm_only_texts_match_the_brute_force_packer(chars in prop::collection::vec(gsm_char(), 0..1600)) {
            let text: String = chars.into_iter().collect();
            prop_assert_eq!(measure(&text), (Encoding::Gsm7, brute_force(&text)));
        }
    }
}
