//! Whether a member currently receives broadcasts.

/// A member's subscription: only `Subscribed` members are texted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    Subscribed,
    Unsubscribed,
}

impl MemberStatus {
    /// The name stored in the database and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subscribed => "subscribed",
            Self::Unsubscribed => "unsubscribed",
        }
    }

    /// Reads a stored or requested status name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "subscribed" => Some(Self::Subscribed),
            "unsubscribed" => Some(Self::Unsubscribed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_store_and_json() {
        for status in [MemberStatus::Subscribed, MemberStatus::Unsubscribed] {
            assert_eq!(MemberStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).expect("serialize");
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(
                serde_json::from_str::<MemberStatus>(&json).ok(),
                Some(status)
            );
        }
    }

    #[test]
    fn unknown_names_are_rejected() {
        for text in ["", "Subscribed", "SUBSCRIBED", " subscribed", "opted_out"] {
            assert_eq!(MemberStatus::parse(text), None, "{text:?}");
        }
    }
}
