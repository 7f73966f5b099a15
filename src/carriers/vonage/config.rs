//! What the Vonage adapter needs from a profile to send.

use url::Url;

use crate::carriers::client::{ClientError, required_secret};
use crate::config::{CarrierProfile, Secret};

/// Key and secret travel as form fields (the SMS API's oldest and simplest auth); the signature
/// secret and method are only for verifying webhooks.
#[derive(Debug, Clone)]
pub struct Config {
    pub api_base: Url,
    pub api_key: String,
    pub api_secret: Secret,
}

impl Config {
    /// Reads `api_key` and `api_secret` from the profile's secrets.
    pub fn from_profile(profile: &CarrierProfile) -> Result<Self, ClientError> {
        Ok(Self {
            api_base: profile.api_base.clone(),
            api_key: required_secret(profile, "api_key")?.expose().to_owned(),
            api_secret: required_secret(profile, "api_secret")?,
        })
    }

    /// `{api_base}/sms/json`, keeping any base path.
    pub fn sms_url(&self) -> String {
        format!("{}/sms/json", self.api_base.as_str().trim_end_matches('/'))
    }
}
