//! What the edge needs per carrier profile: its adapter and its webhook credentials.

use std::collections::HashMap;

use crate::carriers::vonage::SignatureMethod;
use crate::carriers::{CarrierKind, WebhookCredentials};
use crate::config::CarrierProfile;

/// The credential that names the Vonage signature method (its variable is in the profile).
const SIGNATURE_METHOD: &str = "signature_method";

/// A carrier profile as the webhook edge sees it.
#[derive(Debug, Clone)]
pub struct CarrierEdge {
    /// Which wire format and signature scheme the profile speaks.
    pub kind: CarrierKind,
    /// Secrets and keys to verify its webhooks; missing ones refuse every request.
    pub credentials: WebhookCredentials,
}

/// Why the webhook credentials of a profile cannot be used; the start stops on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EdgeError {
    /// A method Vonage does not offer would refuse every webhook (or, silently defaulted, accept
    /// the wrong digest), so it is refused before anything listens.
    #[error(
        "carrier profile `{profile}`: {variable}{shown} is not a Vonage signature method; use one of {allowed}"
    )]
    UnknownSignatureMethod {
        profile: String,
        /// The environment variable the profile reads the method from.
        variable: String,
        /// ` = "<value>"` when the value looks like a method name; empty when it might be a secret.
        shown: String,
        allowed: String,
    },
}

/// One edge per profile, keyed by profile name (the `{carrier}` in the route).
pub fn carrier_edges(
    profiles: &[CarrierProfile],
) -> Result<HashMap<String, CarrierEdge>, EdgeError> {
    let mut edges = HashMap::new();
    for p in profiles {
        let Some(kind) = CarrierKind::parse(&p.adapter) else {
            continue;
        };
        let method = match kind {
            CarrierKind::Vonage => signature_method(p)?,
            CarrierKind::Twilio | CarrierKind::Telnyx => SignatureMethod::default(),
        };
        let credentials = WebhookCredentials {
            twilio_auth_token: p.secret("auth_token").cloned(),
            twilio_shared_key: p.secret("webhook_shared_key").cloned(),
            telnyx_public_key: p.secret("public_key").map(|k| k.expose().to_owned()),
            vonage_signature_secret: p.secret("signature_secret").cloned(),
            vonage_signature_method: method,
        };
        edges.insert(p.name.clone(), CarrierEdge { kind, credentials });
    }
    Ok(edges)
}

/// The configured method; unset means the legacy `md5hash` (what the dashboard started with).
fn signature_method(profile: &CarrierProfile) -> Result<SignatureMethod, EdgeError> {
    let Some(configured) = profile.secret(SIGNATURE_METHOD) else {
        return Ok(SignatureMethod::default());
    };
    let value = configured.expose();
    SignatureMethod::parse(value).ok_or_else(|| {
        let variable = profile
            .credentials
            .get(SIGNATURE_METHOD)
            .cloned()
            .unwrap_or_else(|| SIGNATURE_METHOD.to_owned());
        // Credentials are read as secrets: echo the value only when it cannot be one.
        let looks_like_a_name = value.len() <= 12
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let shown = if looks_like_a_name {
            format!(" = \"{value}\"")
        } else {
            String::new()
        };
        let allowed = SignatureMethod::ALL.map(SignatureMethod::as_str).join(", ");
        EdgeError::UnknownSignatureMethod {
            profile: profile.name.clone(),
            variable,
            shown,
            allowed,
        }
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::{Limits, Secret};

    fn vonage(method: Option<&str>) -> CarrierProfile {
        let mut secrets = BTreeMap::new();
        if let Some(method) = method {
            secrets.insert(SIGNATURE_METHOD.to_owned(), Secret::new(method));
        }
        CarrierProfile {
            name: "vonage".into(),
            adapter: "vonage".into(),
            api_base: url::Url::parse("https://rest.nexmo.com").unwrap(),
            credentials: BTreeMap::from([(
                SIGNATURE_METHOD.to_owned(),
                "VONAGE_SIGNATURE_METHOD".to_owned(),
            )]),
            limits: Limits {
                rate_per_second: 30.0,
                burst: 1,
                max_in_flight: 30,
                unit: Default::default(),
                daily_cap: None,
            },
            senders: Vec::new(),
            sender_defaults: Default::default(),
            secrets,
        }
    }

    fn method_of(profile: CarrierProfile) -> Result<SignatureMethod, EdgeError> {
        let edges = carrier_edges(&[profile])?;
        Ok(edges["vonage"].credentials.vonage_signature_method)
    }

    #[test]
    fn a_known_method_is_used_and_unset_means_md5hash() {
        assert_eq!(
            method_of(vonage(Some("SHA256"))),
            Ok(SignatureMethod::Sha256)
        );
        assert_eq!(method_of(vonage(None)), Ok(SignatureMethod::Md5Hash));
    }

    #[test]
    fn an_unknown_method_names_the_variable_and_the_choices() {
        let Err(error) = method_of(vonage(Some("sha384"))) else {
            panic!("sha384 must be refused");
        };
        assert_eq!(
            error.to_string(),
            "carrier profile `vonage`: VONAGE_SIGNATURE_METHOD = \"sha384\" is not a Vonage \
             signature method; use one of md5hash, md5, sha1, sha256, sha512"
        );
    }

    #[test]
    fn a_value_that_could_be_a_secret_is_not_echoed() {
        let secret = "d41d8cd98f00b204e9800998ecf8427e";
        let Err(error) = method_of(vonage(Some(secret))) else {
            panic!("a secret is no method");
        };
        assert!(!error.to_string().contains(secret), "{error}");
        assert!(error.to_string().contains("VONAGE_SIGNATURE_METHOD is not"));
    }
}
