//! What the Telnyx adapter needs from a profile to send.

use url::Url;

use crate::carriers::client::{ClientError, required_secret};
use crate::config::{CarrierProfile, Secret};

/// The API key (a Bearer token); `public_key` is only for verifying webhooks.
#[derive(Debug, Clone)]
pub struct Config {
    pub api_base: Url,
    pub api_key: Secret,
}

impl Config {
    /// Reads `api_key` from the profile's secrets.
    pub fn from_profile(profile: &CarrierProfile) -> Result<Self, ClientError> {
        Ok(Self {
            api_base: profile.api_base.clone(),
            api_key: required_secret(profile, "api_key")?,
        })
    }

    /// `{api_base}/v2/messages`, keeping any base path.
    pub fn messages_url(&self) -> String {
        format!(
            "{}/v2/messages",
            self.api_base.as_str().trim_end_matches('/')
        )
    }
}
