//! The two primitives every signature scheme here needs: an HMAC and a constant-time compare.

use hmac::digest::core_api::BlockSizeUser;
use hmac::digest::{Digest, KeyInit};
use hmac::{Mac, SimpleHmac};
use subtle::ConstantTimeEq;

/// HMAC over `message`; generic so Vonage's four configurable digests share one path.
pub(crate) fn hmac<D: Digest + BlockSizeUser>(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC hashes long keys and pads short ones, so no key length is ever rejected.
    let mut mac =
        <SimpleHmac<D> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Equal bytes, in time that does not depend on where they differ (lengths may leak, they are public).
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}
