//! The GSM 03.38 alphabet, as carriers decide between GSM-7 and UCS-2 (reference §8).

/// The basic table in code order 0x00 to 0x7F; 0x1B is ESC (never a character of its own).
#[cfg(test)]
pub(crate) const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table: each is sent as ESC then this code, so it costs 2 septets.
#[cfg(test)]
pub(crate) const EXTENSION: [(char, u8); 10] = [
    ('\u{0C}', 0x0A),
    ('^', 0x14),
    ('{', 0x28),
    ('}', 0x29),
    ('\\', 0x2F),
    ('[', 0x3C),
    ('~', 0x3D),
    (']', 0x3E),
    ('|', 0x40),
    ('€', 0x65),
];

/// Septets `c` costs in GSM-7 (1 basic, 2 extension), or `None` when it forces UCS-2.
///
/// A `match` rather than a table lookup: it runs on every character of every broadcast.
pub(crate) fn septets(c: char) -> Option<u8> {
    match c {
        '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' | '\u{0C}' | '€' => Some(2),
        // Printable ASCII is basic except the backtick (and the extension chars above).
        '`' => None,
        ' '..='~' | '\n' | '\r' => Some(1),
        '£' | '¥' | 'è' | 'é' | 'ù' | 'ì' | 'ò' | 'Ç' | 'Ø' | 'ø' | 'Å' | 'å' => {
            Some(1)
        }
        'Δ' | 'Φ' | 'Γ' | 'Λ' | 'Ω' | 'Π' | 'Ψ' | 'Σ' | 'Θ' | 'Ξ' => Some(1),
        'Æ' | 'æ' | 'ß' | 'É' | '¤' | '¡' | 'Ä' | 'Ö' | 'Ñ' | 'Ü' | '§' => Some(1),
        '¿' | 'ä' | 'ö' | 'ñ' | 'ü' | 'à' => Some(1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn basic_table_costs_one_septet_except_esc() {
        for (code, c) in BASIC.iter().enumerate() {
            let expected = if code == 0x1B { None } else { Some(1) };
            assert_eq!(septets(*c), expected, "code {code:#04x} {c:?}");
        }
    }

    #[test]
    fn extension_table_costs_two_septets() {
        for (c, _) in EXTENSION {
            assert_eq!(septets(c), Some(2), "{c:?}");
        }
    }

    #[test]
    fn look_alikes_and_common_accents_are_not_gsm() {
        // Lower-case c-cedilla, backtick, Latin look-alikes of the Greek capitals, the Ohm
        // sign, smart quotes, tab, and accents a French or Portuguese text often has.
        for c in [
            'ç', '`', 'µ', '\u{2126}', '’', '“', '\t', 'ê', 'á', 'í', 'ó', 'ú', 'ã', 'õ', 'â',
        ] {
            assert_eq!(septets(c), None, "{c:?}");
        }
        assert_eq!(septets('Ω'), Some(1), "Greek capital omega U+03A9 is basic");
    }

    #[test]
    fn tables_are_complete_and_disjoint() {
        let basic = BASIC.iter().filter(|c| **c != '\u{1B}').count();
        assert_eq!(basic, 127);
        assert!(EXTENSION.iter().all(|(c, _)| !BASIC.contains(c)));
    }

    fn from_tables(c: char) -> Option<u8> {
        if c == '\u{1B}' {
            None
        } else if BASIC.contains(&c) {
            Some(1)
        } else if EXTENSION.iter().any(|(e, _)| *e == c) {
            Some(2)
        } else {
            None
        }
    }

    /// The fast `match` agrees with the tables on the whole Basic Multilingual Plane.
    #[test]
    fn septets_matches_the_tables_on_the_bmp() {
        for c in (0..=0xFFFF).filter_map(char::from_u32) {
            assert_eq!(septets(c), from_tables(c), "{c:?} U+{:04X}", c as u32);
        }
    }

    proptest! {
        #[test]
        fn septets_matches_the_tables(c in any::<char>()) {
            prop_assert_eq!(septets(c), from_tables(c));
        }
    }
}
