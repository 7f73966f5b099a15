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
