//! What the Twilio adapter needs from a profile to send.

use url::Url;

use crate::carriers::client::{ClientError, required_secret};
use crate::config::{CarrierProfile, Secret};

/// Account SID and auth token: the SID is both the Basic-auth user and part of the URL path.
#[derive(Debug, Clone)]
pub struct Config {
    pub api_base: Url,
    pub account_sid: String,
    pub auth_token: Secret,
}

impl Config {
    /// Reads `account_sid` and `auth_token` from the profile's secrets.
    pub fn from_profile(profile: &CarrierProfile) -> Result<Self, ClientError> {
        Ok(Self {
            api_base: profile.api_base.clone(),
            account_sid: required_secret(profile, "account_sid")?.expose().to_owned(),
            auth_token: required_secret(profile, "auth_token")?,
        })
    }

    /// `{api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, keeping any base path.
    pub fn messages_url(&self) -> String {
        let base = self.api_base.as_str().trim_end_matches('/');
        let sid =
            url::form_urlencoded::byte_serialize(self.account_sid.as_bytes()).collect::<String>();
        format!("{base}/2010-04-01/Accounts/{sid}/Messages.json")
    }
}
