//! `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + sorted `name value` pairs)), or,
//! when `X-Twilio-Webhooks-Signature-Settings` names one, the same string under HMAC-SHA256
//! keyed with the account's SharedKey secret (twilio-python 9.x `request_validator.py`).

use axum::http::Method;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::carriers::fields::form_pairs;
use crate::carriers::mac::{hmac, same};
use crate::carriers::webhook::{SignatureFailure, WebhookRequest};
use crate::config::Secret;

/// The header Twilio signs every webhook with.
pub const HEADER: &str = "x-twilio-signature";

/// Names the SharedKey and algorithm of a request signed with one: `key=<id>,algorithm=<name>`.
pub const SETTINGS_HEADER: &str = "x-twilio-webhooks-signature-settings";

/// How a webhook was signed; HMAC-SHA1 unless the settings header says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// The legacy Auth Token signature, and the default.
    #[default]
    HmacSha1,
    HmacSha256,
}

impl Algorithm {
    /// Twilio's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HmacSha1 => "HMAC_SHA1",
            Self::HmacSha256 => "HMAC_SHA256",
        }
    }

    /// Reads the settings header as twilio-python's `get_signature_algorithm` does: the value
    /// of the first `algorithm=` among comma-separated parts, compared case-insensitively;
    /// none (or no header) means HMAC-SHA1. `None`: a name we do not know, which the SDK
    /// refuses too.
    pub fn from_settings(header: Option<&str>) -> Option<Self> {
        let named = header.unwrap_or_default().split(',').find_map(|part| {
            let (name, value) = part.split_once('=')?;
            (name.trim() == "algorithm" && !value.trim().is_empty()).then(|| value.trim())
        });
        match named {
            None => Some(Self::HmacSha1),
            Some(name) if name.eq_ignore_ascii_case("HMAC_SHA1") => Some(Self::HmacSha1),
            Some(name) if name.eq_ignore_ascii_case("HMAC_SHA256") => Some(Self::HmacSha256),
            Some(_) => None,
        }
    }
}

/// The query parameter that marks a JSON body: its hex SHA-256, so the URL signature covers the body.
pub const BODY_SHA256_PARAM: &str = "bodySHA256";

/// Signs as Twilio does with the Auth Token (HMAC-SHA1).
pub fn sign<K: AsRef<str>, V: AsRef<str>>(url: &str, params: &[(K, V)], token: &str) -> String {
    sign_with(url, params, token, Algorithm::HmacSha1)
}

/// Signs as Twilio does; names sorted, a repeated name's values de-duplicated and sorted (twilio-python).
pub fn sign_with<K: AsRef<str>, V: AsRef<str>>(
    url: &str,
    params: &[(K, V)],
    key: &str,
    algorithm: Algorithm,
) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    // Sorting pairs sorts names, then each name's values: the SDKs' order, in O(n log n).
    pairs.sort_unstable();
    pairs.dedup();
    let mut signed = String::from(url);
    for (name, value) in pairs {
        signed.push_str(name);
        signed.push_str(value);
    }
    let mac = match algorithm {
        Algorithm::HmacSha1 => hmac::<Sha1>(key.as_bytes(), signed.as_bytes()),
        Algorithm::HmacSha256 => hmac::<Sha256>(key.as_bytes(), signed.as_bytes()),
    };
    STANDARD.encode(mac)
}

/// Hex SHA-256 of a raw JSON body, the value of [`BODY_SHA256_PARAM`].
pub fn body_sha256(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Checks the signature against every URL form Twilio may have signed (see [`url_variants`]),
/// with the algorithm the settings header names. A request with that header is signed with the
/// SharedKey secret (`shared_key`, when configured); the Auth Token is tried too, being ours.
pub fn verify(
    request: &WebhookRequest<'_>,
    token: &Secret,
    shared_key: Option<&Secret>,
) -> Result<(), SignatureFailure> {
    let given = request.signature_header(HEADER)?;
    let settings = match request.headers.get(SETTINGS_HEADER).map(|v| v.to_str()) {
        None => None,
        Some(Ok(text)) => Some(text),
        Some(Err(_)) => return Err(SignatureFailure::Invalid),
    };
    let algorithm = Algorithm::from_settings(settings).ok_or(SignatureFailure::Invalid)?;
    let keys: Vec<&Secret> = match settings {
        Some(_) => shared_key.into_iter().chain([token]).collect(),
        None => vec![token],
    };
    let query = form_pairs(request.query().as_bytes());
    let params = match query.iter().find(|(k, _)| k == BODY_SHA256_PARAM) {
        // JSON body: the URL alone is signed and the body is bound by its hash.
        Some((_, hash)) => {
            let actual = body_sha256(request.body);
            if !same(hash.to_ascii_lowercase().as_bytes(), actual.as_bytes()) {
                return Err(SignatureFailure::Invalid);
            }
            Vec::new()
        }
        // A GET carries its fields in the (already signed) query string.
        None if request.method == Method::GET => Vec::new(),
        None => form_pairs(request.body),
    };
    let mut matched = false;
    for key in keys {
        for url in url_variants(request.public_url) {
            matched |= same(
                sign_with(&url, &params, key.expose(), algorithm).as_bytes(),
                given.as_bytes(),
            );
        }
    }
    if matched {
        Ok(())
    } else {
        Err(SignatureFailure::Invalid)
    }
}

/// The URL as given, with its port stripped, or with `:443`/`:80` added: Twilio signs inconsistently
/// behind load balancers, and the SDKs accept all three (§1.4.5). `user:pass@` stays in.
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some(scheme_end) = url.find("://") else {
        return variants;
    };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let host_port = &authority[host_start..];
    // A colon inside `[...]` belongs to an IPv6 address, not to a port.
    let port_colon = host_port
        .rfind(':')
        .filter(|&colon| !host_port[colon..].contains(']'));
    let before = &url[..authority_start + host_start];
    let after = &url[authority_start + authority_len..];
    match port_colon {
        Some(colon) => variants.push(format!("{before}{}{after}", &host_port[..colon])),
        None => {
            let default_port = match url[..scheme_end].to_ascii_lowercase().as_str() {
                "https" => Some(443),
                "http" => Some(80),
                _ => None,
            };
            if let Some(port) = default_port {
                variants.push(format!("{before}{host_port}:{port}{after}"));
            }
        }
    }
    variants
}

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;
