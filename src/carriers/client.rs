//! One client per carrier profile, chosen by the profile's `adapter`.

use super::outbound::{OutboundSms, SendOutcome};
use super::transport::Timeouts;
use super::{telnyx, twilio, vonage};
use crate::config::{CarrierProfile, Secret};

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

/// The deliver stage's handle on one carrier account; an enum because there are three, not a trait.
#[derive(Debug, Clone)]
pub enum CarrierClient {
    Twilio(twilio::Client),
    Telnyx(telnyx::Client),
    Vonage(vonage::Client),
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
        Ok(match profile.adapter.as_str() {
            "twilio" => Self::Twilio(twilio::Client::new(profile, timeouts)?),
            "telnyx" => Self::Telnyx(telnyx::Client::new(profile, timeouts)?),
            "vonage" => Self::Vonage(vonage::Client::new(profile, timeouts)?),
            other => {
                return Err(ClientError::UnknownAdapter {
                    profile: profile.name.clone(),
                    adapter: other.to_owned(),
                });
            }
        })
    }

    /// One attempt; never panics and never errors: every failure is a [`SendOutcome`].
    pub async fn send(&self, sms: &OutboundSms<'_>) -> SendOutcome {
        match self {
            Self::Twilio(c) => c.send(sms).await,
            Self::Telnyx(c) => c.send(sms).await,
            Self::Vonage(c) => c.send(sms).await,
        }
    }

    /// The profile name, for metrics and logs.
    pub fn name(&self) -> &str {
        match self {
            Self::Twilio(c) => c.name(),
            Self::Telnyx(c) => c.name(),
            Self::Vonage(c) => c.name(),
        }
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
