//! One client per carrier profile, chosen by the profile's `adapter`.

use super::outbound::{OutboundSms, SendOutcome};
use super::transport::{RawResponse, Timeouts, build_client, execute};
use super::{telnyx, twilio, vonage};
use crate::config::{CarrierProfile, Secret};
use crate::telemetry::metrics::CARRIER_MISCONFIGURED_TOTAL;

/// Carries Floodgate's message id on every send request (see [`CarrierClient::send`]).
pub const MESSAGE_ID_HEADER: &str = "X-Floodgate-Message-Id";

/// Why a profile cannot become a client; names the profile so the operator knows which file.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("carrier profile `{profile}`: credential `{credential}` is missing; {fix}")]
    MissingCredential {
        profile: String,
        credential: &'static str,
        /// How to provide it: the environment variable to set, or the profile line to add.
        fix: String,
    },
    #[error("carrier profile `{profile}`: no adapter named `{adapter}`")]
    UnknownAdapter { profile: String, adapter: String },
    #[error("carrier profile `{profile}`: cannot build the HTTP client: {source}")]
    Http {
        profile: String,
        #[source]
        source: reqwest::Error,
    },
}

impl ClientError {
    /// The HTTP client could not be built (e.g. no TLS roots).
    pub(crate) fn http(profile: &CarrierProfile, source: reqwest::Error) -> Self {
        Self::Http {
            profile: profile.name.clone(),
            source,
        }
    }
}

/// A credential the adapter cannot work without, or an error naming the variable to set.
pub(crate) fn required_secret(
    profile: &CarrierProfile,
    credential: &'static str,
) -> Result<Secret, ClientError> {
    if let Some(secret) = profile.secret(credential) {
        return Ok(secret.clone());
    }
    let fix = match profile.credentials.get(credential) {
        Some(var) => format!("set the environment variable `{var}`"),
        None => format!("add `{credential} = \"ENV_VAR\"` under [credentials] and set ENV_VAR"),
    };
    Err(ClientError::MissingCredential {
        profile: profile.name.clone(),
        credential,
        fix,
    })
}

/// What differs between adapters: their credentials and wire format.
#[derive(Debug, Clone)]
enum Adapter {
    Twilio(twilio::config::Config),
    Telnyx(telnyx::config::Config),
    Vonage(vonage::config::Config),
}

/// The deliver stage's handle on one carrier account: its adapter and the one connection pool
/// every send shares (cheap to clone; built once so connections are reused).
#[derive(Debug, Clone)]
pub struct CarrierClient {
    name: String,
    adapter: Adapter,
    http: reqwest::Client,
}

impl CarrierClient {
    /// Builds the client (and its one connection pool) with production timeouts.
    pub fn from_profile(profile: &CarrierProfile) -> Result<Self, ClientError> {
        Self::from_profile_with(profile, Timeouts::default())
    }

    /// As [`CarrierClient::from_profile`] with chosen timeouts (tests, the simulator).
    pub fn from_profile_with(
        profile: &CarrierProfile,
        timeouts: Timeouts,
    ) -> Result<Self, ClientError> {
        let adapter = match profile.adapter.as_str() {
            "twilio" => Adapter::Twilio(twilio::config::Config::from_profile(profile)?),
            "telnyx" => Adapter::Telnyx(telnyx::config::Config::from_profile(profile)?),
            "vonage" => Adapter::Vonage(vonage::config::Config::from_profile(profile)?),
            other => {
                return Err(ClientError::UnknownAdapter {
                    profile: profile.name.clone(),
                    adapter: other.to_owned(),
                });
            }
        };
        let http = build_client(profile.limits.max_in_flight, timeouts)
            .map_err(|e| ClientError::http(profile, e))?;
        // Registered at 0, so the alert on its increase sees "none yet", not no data.
        metrics::counter!(CARRIER_MISCONFIGURED_TOTAL, "carrier" => profile.name.clone())
            .increment(0);
        Ok(Self {
            name: profile.name.clone(),
            adapter,
            http,
        })
    }

    /// One attempt; never panics and never errors: every failure is a [`SendOutcome`], classified
    /// per carrier (Twilio §1.1, Telnyx §2.1, Vonage §3.1 of the reference).
    pub async fn send(&self, sms: &OutboundSms<'_>) -> SendOutcome {
        let (request, classify): (_, fn(&RawResponse) -> SendOutcome) = match &self.adapter {
            Adapter::Twilio(c) => (
                twilio::request::build(&self.http, c, sms),
                twilio::classify::classify,
            ),
            Adapter::Telnyx(c) => (
                telnyx::request::build(&self.http, c, sms),
                telnyx::classify::classify,
            ),
            Adapter::Vonage(c) => (
                vonage::request::build(&self.http, c, sms),
                vonage::classify::classify,
            ),
        };
        // Our message id travels with the request: carriers ignore the header, while the
        // simulator (and any proxy's logs) can tell a resend of one message from two messages.
        let request = match sms.reference {
            Some(id) => request.header(MESSAGE_ID_HEADER, id),
            None => request,
        };
        let outcome = match execute(request).await {
            Ok(response) => classify(&response),
            Err(outcome) => outcome,
        };
        if outcome.is_misconfiguration() {
            metrics::counter!(CARRIER_MISCONFIGURED_TOTAL, "carrier" => self.name.clone())
                .increment(1);
        }
        outcome
    }

    /// The profile name, for metrics and logs.
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::{CarrierClient, ClientError};
    use crate::carriers::fixture_server::{profile, refused_base};

    #[test]
    fn a_missing_credential_names_the_profile_and_the_variable() {
        let mut twilio = profile(
            "twilio",
            &refused_base(),
            &[("account_sid", "AC1"), ("auth_token", "t")],
        );
        twilio.secrets.remove("auth_token");
        let err = CarrierClient::from_profile(&twilio).expect_err("missing token");
        assert_eq!(
            err.to_string(),
            "carrier profile `twilio-test`: credential `auth_token` is missing; \
             set the environment variable `TEST_AUTH_TOKEN`"
        );
        let telnyx = profile("telnyx", &refused_base(), &[]);
        let err = CarrierClient::from_profile(&telnyx).expect_err("missing key");
        assert_eq!(
            err.to_string(),
            "carrier profile `telnyx-test`: credential `api_key` is missing; \
             add `api_key = \"ENV_VAR\"` under [credentials] and set ENV_VAR"
        );
    }

    #[test]
    fn every_adapter_builds_and_keeps_the_profile_name() {
        for adapter in ["twilio", "telnyx", "vonage"] {
            let secrets = [
                ("account_sid", "AC1"),
                ("auth_token", "t"),
                ("api_key", "k"),
                ("api_secret", "s"),
            ];
            let client = CarrierClient::from_profile(&profile(adapter, &refused_base(), &secrets))
                .expect(adapter);
            assert_eq!(client.name(), format!("{adapter}-test"));
        }
        let err = CarrierClient::from_profile(&profile("plivo", &refused_base(), &[]))
            .expect_err("unknown");
        assert!(matches!(err, ClientError::UnknownAdapter { .. }), "{err}");
    }
}
