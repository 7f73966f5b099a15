//! Kinds of sender number, which carriers throttle differently.

/// Long codes, toll-free numbers and short codes: carriers throttle each number at its kind's
/// rate (carriers-reference §6), which a profile's `[sender_defaults]` gives to every number of
/// that kind without a rate of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderKind {
    LongCode,
    TollFree,
    ShortCode,
}

impl SenderKind {
    /// The name used in profiles, the store and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LongCode => "long_code",
            Self::TollFree => "toll_free",
            Self::ShortCode => "short_code",
        }
    }

    /// Reads a stored or typed name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::LongCode, Self::TollFree, Self::ShortCode]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::SenderKind;

    #[test]
    fn names_round_trip() {
        for kind in [
            SenderKind::LongCode,
            SenderKind::TollFree,
            SenderKind::ShortCode,
        ] {
            assert_eq!(SenderKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(SenderKind::parse("landline"), None);
    }
}
