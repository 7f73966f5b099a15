//! Sends one message through Vonage's REST API.

use super::{classify, config::Config, request};
use crate::carriers::client::ClientError;
use crate::carriers::outbound::{OutboundSms, SendOutcome};
use crate::carriers::transport::{Timeouts, build_client, execute};
use crate::config::CarrierProfile;

/// A Vonage account: its credentials and the one connection pool every send shares.
#[derive(Debug, Clone)]
pub struct Client {
    name: String,
    config: Config,
    /// Cheap to clone (an `Arc` inside); built once so connections are reused.
    http: reqwest::Client,
}

impl Client {
    /// Fails when a credential is missing, naming the environment variable.
    pub fn new(profile: &CarrierProfile, timeouts: Timeouts) -> Result<Self, ClientError> {
        let config = Config::from_profile(profile)?;
        let http = build_client(profile.limits.max_in_flight, timeouts)
            .map_err(|e| ClientError::http(profile, e))?;
        Ok(Self {
            name: profile.name.clone(),
            config,
            http,
        })
    }

    /// One attempt; classification follows §3.1 (see [`classify::classify`]).
    pub async fn send(&self, sms: &OutboundSms<'_>) -> SendOutcome {
        match execute(request::build(&self.http, &self.config, sms)).await {
            Ok(response) => classify::classify(&response),
            Err(outcome) => outcome,
        }
    }

    /// The profile name.
    pub fn name(&self) -> &str {
        &self.name
    }
}
