//! Twilio's `X-Twilio-Signature` (carriers-reference §1.4).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The header Twilio puts the signature in.
pub const TWILIO_SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// Signs a form-encoded request the way Twilio does, so callbacks and inbound webhooks
/// from the simulator pass Floodgate's verification.
///
/// The signed string is the exact URL followed by every `name + value` pair sorted by
/// name, then value (byte order); identical repeated pairs are counted once.
pub fn twilio_signature<K, V>(auth_token: &str, url: &str, params: &[(K, V)]) -> String
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    STANDARD.encode(mac(auth_token, url, params).finalize().into_bytes())
}

/// Checks a signature in constant time, so tests verify what the simulator sent with the
/// same rules a receiver uses.
pub fn verify_twilio_signature<K, V>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
    signature: &str,
) -> bool
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let Ok(expected) = STANDARD.decode(signature) else {
        return false;
    };
    mac(auth_token, url, params).verify_slice(&expected).is_ok()
}

fn mac<K: AsRef<str>, V: AsRef<str>>(auth_token: &str, url: &str, params: &[(K, V)]) -> Hmac<Sha1> {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(url.as_bytes());
    for (name, value) in pairs {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const P: [(&str, &str); 5] = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ];

    #[test]
    fn matches_the_twilio_sdk_vector() {
        assert_eq!(
            twilio_signature("12345", URL, &P),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
    }

    #[test]
    fn order_of_params_does_not_matter() {
        let mut reversed = P;
        reversed.reverse();
        assert_eq!(
            twilio_signature("12345", URL, &reversed),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
    }

    #[test]
    fn the_port_is_part_of_the_signed_url() {
        let url = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert_eq!(
            twilio_signature("12345", url, &P),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );
    }

    #[test]
    fn repeated_names_are_sorted_and_deduplicated() {
        let params = [
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ];
        assert_eq!(
            twilio_signature("12345", URL, &params),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
    }

    #[test]
    fn verify_accepts_the_vector_and_rejects_tampering() {
        assert!(verify_twilio_signature(
            "12345",
            URL,
            &P,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!verify_twilio_signature(
            "12346",
            URL,
            &P,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!verify_twilio_signature("12345", URL, &P, "not base64!"));
    }
}
