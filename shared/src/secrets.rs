//! Secrets handed out once (refresh and email tokens, client and webhook secrets,
//! cart and order access tokens): high-entropy random strings, stored only as their
//! SHA-256 and compared in constant time. And the hex spelling every digest uses.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// The SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `length` random bytes, URL-safe base64 without padding.
pub fn random_token(length: usize) -> String {
    let mut bytes = vec![0u8; length];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new secret: 32 random bytes (256 bits), URL-safe base64 — 43 characters.
pub fn generate() -> String {
    random_token(32)
}

/// The stored form of a secret. Plain SHA-256 suffices: a generated secret has 256
/// bits of entropy, so there is nothing to brute-force.
pub fn hash(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

/// Whether two strings (hashes, signatures) are equal, compared in constant time.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// Whether `presented` is the secret stored as `stored_hash`.
pub fn matches(presented: &str, stored_hash: &str) -> bool {
    same(&hash(presented), stored_hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_spells_every_byte_in_two_digits() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn secrets_are_random_and_hashes_stable() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(random_token(24).len(), 32);
        assert!(matches(&a, &hash(&a)));
        assert!(!matches(&a, &hash(&b)));
        assert!(!same("abc", "abcd"));
    }
}
