//! The words a member texts to join, leave or ask for help.

/// What a whole inbound message asks for, when it is a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    /// The community's join keyword or a carrier opt-in word (START, YES, UNSTOP).
    OptIn,
    /// A carrier opt-out word (STOP, END, ...): unsubscribe at once.
    OptOut,
    /// HELP or INFO.
    Help,
}

/// Twilio's list plus Telnyx's (a subset, and "STOP ALL" handled apart); CTIA's five are in both.
const OPT_OUT: &[&str] = &[
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
const OPT_IN: &[&str] = &["START", "YES", "UNSTOP"];
const HELP: &[&str] = &["HELP", "INFO"];

fn is_one_of(list: &[&str], word: &str) -> bool {
    list.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// A join keyword equal to one of these would make joining and leaving ambiguous.
pub(super) fn is_reserved(word: &str) -> bool {
    is_one_of(OPT_OUT, word) || is_one_of(HELP, word)
}

impl Keyword {
    /// Classifies a whole message; `join_keyword` is the community's own word (e.g. `JOIN`).
    ///
    /// Like the carriers: one word (or Telnyx's "STOP ALL"), any case, any whitespace around;
    /// "STOP please" is a conversation, not an opt-out. Opt-out wins over everything else.
    /// Case folding is ASCII only, so look-alikes such as `ſTOP` never match.
    pub fn classify(text: &str, join_keyword: &str) -> Option<Keyword> {
        let mut words = text.split_whitespace();
        let first = words.next()?;
        let word = match (words.next(), words.next()) {
            (None, _) => first,
            (Some(second), None)
                if first.eq_ignore_ascii_case("STOP") && second.eq_ignore_ascii_case("ALL") =>
            {
                return Some(Keyword::OptOut);
            }
            _ => return None,
        };
        if is_one_of(OPT_OUT, word) {
            Some(Keyword::OptOut)
        } else if is_one_of(HELP, word) {
            Some(Keyword::Help)
        } else if is_one_of(OPT_IN, word) || word.eq_ignore_ascii_case(join_keyword.trim()) {
            Some(Keyword::OptIn)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn classify(text: &str) -> Option<Keyword> {
        Keyword::classify(text, "JOIN")
    }

    #[test]
    fn every_carrier_word_is_recognised() {
        for word in OPT_OUT.iter().chain(["STOP ALL"].iter()) {
            assert_eq!(classify(word), Some(Keyword::OptOut), "{word}");
        }
        for word in OPT_IN {
            assert_eq!(classify(word), Some(Keyword::OptIn), "{word}");
        }
        for word in HELP {
            assert_eq!(classify(word), Some(Keyword::Help), "{word}");
        }
        assert_eq!(classify("JOIN"), Some(Keyword::OptIn));
    }

    #[test]
    fn case_and_whitespace_do_not_matter() {
        for text in [
            "stop",
            " Stop ",
            "\tsToP\n",
            "\r\nSTOP\r\n",
            "\u{A0}stop",
            "stop   all",
            "Stop\tAll\n",
        ] {
            assert_eq!(classify(text), Some(Keyword::OptOut), "{text:?}");
        }
        assert_eq!(classify("  join\n"), Some(Keyword::OptIn));
        assert_eq!(Keyword::classify("Rally", " rally "), Some(Keyword::OptIn));
    }

    #[test]
    fn only_the_whole_message_counts() {
        for text in [
            "STOP please",
            "please stop",
            "STOP ALL NOW",
            "ALL STOP",
            "help me",
            "JOIN JOIN",
        ] {
            assert_eq!(classify(text), None, "{text:?}");
        }
        for text in [
            "",
            "  \n",
            "STOP.",
            "STOP!",
            "STOPP",
            "stopall2",
            "ſtop",
            "ＳＴＯＰ",
        ] {
            assert_eq!(classify(text), None, "{text:?}");
        }
    }

    #[test]
    fn an_empty_join_keyword_matches_nothing() {
        assert_eq!(Keyword::classify("  ", ""), None);
        assert_eq!(Keyword::classify("hello", ""), None);
        assert_eq!(Keyword::classify("stop", ""), Some(Keyword::OptOut));
    }

    #[test]
    fn opt_out_and_help_win_over_a_clashing_join_keyword() {
        assert_eq!(Keyword::classify("stop", "STOP"), Some(Keyword::OptOut));
        assert_eq!(Keyword::classify("info", "INFO"), Some(Keyword::Help));
    }

    /// Every keyword with the class it must get, "JOIN" standing for the community's word.
    fn keyword() -> impl Strategy<Value = (String, Keyword)> {
        let mut all: Vec<(String, Keyword)> = vec![
            ("STOP ALL".into(), Keyword::OptOut),
            ("JOIN".into(), Keyword::OptIn),
        ];
        all.extend(OPT_OUT.iter().map(|w| (w.to_string(), Keyword::OptOut)));
        all.extend(OPT_IN.iter().map(|w| (w.to_string(), Keyword::OptIn)));
        all.extend(HELP.iter().map(|w| (w.to_string(), Keyword::Help)));
        prop::sample::select(all)
    }

    fn space() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![" ", "\t", "\n", "\r\n", "\u{A0}", "\u{2003}"]),
            1..4,
        )
        .prop_map(|v| v.concat())
    }

    /// Random casing, and any whitespace inside "STOP ALL" and around the message.
    fn disguise(word: &str, upper: &[bool], inner: &str, pad: (&str, &str)) -> String {
        let cased: String = word
            .chars()
            .zip(upper.iter().cycle())
            .map(|(c, up)| {
                if *up {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        format!("{}{}{}", pad.0, cased.replace(' ', inner), pad.1)
    }

    proptest! {
        #[test]
        fn casing_and_padding_never_change_the_class(
            (word, class) in keyword(),
            upper in prop::collection::vec(any::<bool>(), 1..12),
            inner in space(),
            before in prop::option::of(space()),
            after in prop::option::of(space()),
        ) {
            let text = disguise(&word, &upper, &inner, (&before.unwrap_or_default(), &after.unwrap_or_default()));
            prop_assert_eq!(classify(&text), Some(class), "{:?}", text);
        }

        #[test]
        fn a_second_word_makes_it_a_conversation(
            (word, _) in keyword(),
            other in "[A-Za-z0-9!?.]{1,10}",
            sep in space(),
            first in any::<bool>(),
        ) {
            let text = if first { format!("{other}{sep}{word}") } else { format!("{word}{sep}{other}") };
            let stop_all = !first && word == "STOP" && other.eq_ignore_ascii_case("ALL");
            let expected = if stop_all { Some(Keyword::OptOut) } else { None };
            prop_assert_eq!(classify(&text), expected, "{:?}", text);
        }

        #[test]
        fn classify_never_panics(text in any::<String>(), join in any::<String>()) {
            let _ = Keyword::classify(&text, &join);
        }
    }
}
