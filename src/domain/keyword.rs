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

impl Keyword {
    /// Classifies a whole message; `join_keyword` is the community's own word (e.g. `JOIN`).
    pub fn classify(text: &str, join_keyword: &str) -> Option<Keyword> {
        let word: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase();
        let word = if word == "STOP ALL" {
            "STOPALL".to_owned()
        } else {
            word
        };
        if OPT_OUT.contains(&word.as_str()) {
            Some(Keyword::OptOut)
        } else if HELP.contains(&word.as_str()) {
            Some(Keyword::Help)
        } else if OPT_IN.contains(&word.as_str()) || word == join_keyword.trim().to_uppercase() {
            Some(Keyword::OptIn)
        } else {
            None
        }
    }
}
