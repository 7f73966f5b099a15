//! API keys: generated here for both the CLI and tests; only a SHA-256 of the whole key is stored.
//!
//! A key reads `fg_<prefix>_<secret>`. The prefix is public (it finds the row and names the key
//! in `floodgate key revoke`); the secret never leaves the process that printed it.

use rand::Rng;
use rand::distributions::Alphanumeric;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::{ApiKey, Store, StoreError};

/// Characters of the public prefix: lower-case and without look-alikes, so it can be read aloud.
const PREFIX_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
/// Length of the public prefix.
pub const PREFIX_LEN: usize = 8;
/// Length of the secret part: 40 alphanumerics, about 238 bits.
pub const SECRET_LEN: usize = 40;

/// A freshly generated key: `key` is shown once, `prefix` and `hash` are stored.
#[derive(Debug, Clone)]
pub struct GeneratedKey {
    pub key: String,
    pub prefix: String,
    pub hash: String,
}

/// Draws a new random key.
pub fn generate() -> GeneratedKey {
    let mut rng = rand::thread_rng();
    let prefix: String = (0..PREFIX_LEN)
        .map(|_| PREFIX_ALPHABET[rng.gen_range(0..PREFIX_ALPHABET.len())] as char)
        .collect();
    let secret: String = (0..SECRET_LEN)
        .map(|_| rng.sample(Alphanumeric) as char)
        .collect();
    let key = format!("fg_{prefix}_{secret}");
    let hash = hash(&key);
    GeneratedKey { key, prefix, hash }
}

/// Hex SHA-256 of the whole key: what the store keeps instead of the key.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The public prefix of a well-formed key, or `None` for anything that cannot be one of ours.
pub fn prefix_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("fg_")?;
    let (prefix, secret) = rest.split_once('_')?;
    let well_formed = prefix.len() == PREFIX_LEN
        && prefix.bytes().all(|b| PREFIX_ALPHABET.contains(&b))
        && secret.len() >= 32
        && secret.bytes().all(|b| b.is_ascii_alphanumeric());
    well_formed.then_some(prefix)
}

/// Compares in constant time, so response timing reveals nothing about the stored hash.
pub fn verify(key: &str, stored_hash: &str) -> bool {
    hash(key).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// Generates and stores a key for a community; returns the key (to print once) and its row.
pub async fn create(store: &Store, community_id: i64) -> Result<(String, ApiKey), StoreError> {
    let mut attempt = 0;
    loop {
        let generated = generate();
        match store
            .insert_api_key(community_id, &generated.prefix, &generated.hash)
            .await
        {
            Ok(row) => return Ok((generated.key, row)),
            // A prefix collision (1 in 10^12 per pair) hits the unique index: draw again.
            Err(StoreError::Database(e)) if attempt < 3 && is_unique_violation(&e) => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Revokes the key with this prefix; false when no key has it.
pub async fn revoke(store: &Store, prefix: &str) -> Result<bool, StoreError> {
    match store.api_key_by_prefix(prefix).await? {
        Some(key) => store.revoke_api_key(key.id).await,
        None => Ok(false),
    }
}

/// Whether a database error is a unique-constraint violation, on either backend.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_verify() {
        let k = generate();
        assert_eq!(prefix_of(&k.key), Some(k.prefix.as_str()));
        assert!(verify(&k.key, &k.hash));
        assert!(!verify(&format!("{}x", k.key), &k.hash));
        assert_ne!(generate().key, k.key);
    }

    #[test]
    fn malformed_keys_have_no_prefix() {
        for bad in [
            "",
            "fg_",
            "fg_abc_def",
            "xx_abcdefgh_0123456789012345678901234567890123",
            "fg_ABCDEFGH_01234567890123456789012345678901",
        ] {
            assert_eq!(prefix_of(bad), None, "{bad}");
        }
    }
}
