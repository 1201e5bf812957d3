//! Secrets: argon2 password hashes, random session and API tokens, and the SHA-256 digests under which
//! tokens are stored (tokens carry 244 random bits, so a fast digest is as good as a slow one for them).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// Prefix of every API token, so leaked tokens are recognisable in logs and secret scanners.
pub const API_TOKEN_PREFIX: &str = "scrm_";
/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;

/// 64 random hex characters (two v4 UUIDs: 244 random bits).
pub fn random_hex() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// A fresh API token: `scrm_` and 64 random hex characters.
pub fn new_api_token() -> String {
    format!("{API_TOKEN_PREFIX}{}", random_hex())
}

/// The first characters of a token, kept to recognise it in lists.
pub fn token_prefix(token: &str) -> String {
    token.chars().take(API_TOKEN_PREFIX.len() + 4).collect()
}

/// The SHA-256 hex digest under which a token is stored.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Hashes a password with argon2id and a random salt, in PHC string format.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes()).expect("16 bytes make a valid salt");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any password").to_string()
}

/// Whether `password` matches the stored PHC `hash`; a malformed hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A readable one-time password for the first admin: 16 characters from an alphabet without look-alikes.
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = [uuid::Uuid::new_v4().into_bytes(), uuid::Uuid::new_v4().into_bytes()].concat();
    bytes.iter().take(16).map(|byte| ALPHABET[*byte as usize % ALPHABET.len()] as char).collect()
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(expected: &str, presented: &str) -> bool {
    let (expected, presented) = (expected.as_bytes(), presented.as_bytes());
    expected.len() == presented.len() && expected.iter().zip(presented).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let hash = hash_password("correct horse battery");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a hash"));
        assert_ne!(hash, hash_password("correct horse battery"), "every hash has its own salt");
    }

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let token = new_api_token();
        assert!(token.starts_with("scrm_") && token.len() == 69);
        assert_ne!(token, new_api_token());
        assert_eq!(token_prefix(&token).len(), 9);
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn one_time_passwords_are_long_enough() {
        let password = one_time_password();
        assert_eq!(password.chars().count(), 16);
        assert!(password.len() >= MIN_PASSWORD_LEN);
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
