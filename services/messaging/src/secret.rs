//! Encryption at rest of robot webhook keys: AES-256-GCM under a 32-byte key from the service configuration
//! (by default a key file generated in the data directory on first run, readable by its owner only).
//!
//! A sealed value is `v1:` followed by the base64 of a fresh 12-byte nonce and the ciphertext with its tag.
//! Values without the prefix are plain keys stored before encryption; [`KeyCipher::is_sealed`] tells them apart
//! so they can be migrated.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Prefix of a sealed value.
const PREFIX: &str = "v1:";
/// Bytes of an AES-GCM nonce.
const NONCE_LEN: usize = 12;
/// Bytes of an AES-256 key.
const KEY_LEN: usize = 32;

/// Why a key could not be loaded or a value not opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The key file could not be read or created.
    #[error("robot key file {path}: {source}")]
    Io {
        /// The key file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The key file does not hold 32 bytes in hex (64 hex digits).
    #[error("robot key file {0} must hold 64 hex digits (a 32-byte AES-256 key)")]
    BadKey(String),
    /// A stored value is not one this key sealed.
    #[error("a stored webhook key cannot be decrypted with the configured key")]
    Undecryptable,
}

/// Seals and opens webhook keys with AES-256-GCM.
#[derive(Clone)]
pub struct KeyCipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for KeyCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCipher(<redacted>)")
    }
}

impl KeyCipher {
    /// A cipher over the 32-byte `key`.
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        KeyCipher { cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key)) }
    }

    /// A cipher under a fresh random key, for tests and throwaway deployments.
    pub fn random() -> Self {
        KeyCipher { cipher: Aes256Gcm::new(&Aes256Gcm::generate_key(OsRng)) }
    }

    /// The cipher under the key in `path` (64 hex digits); when the file does not exist, a random key is written
    /// there first, with mode 0600 on Unix.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretError> {
        let io = |source| SecretError::Io { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let key = decode_hex(text.trim()).ok_or_else(|| SecretError::BadKey(path.display().to_string()))?;
                Ok(KeyCipher::new(&key))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = Aes256Gcm::generate_key(OsRng);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(io)?;
                let hex: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
                file.write_all(hex.as_bytes()).map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok(KeyCipher { cipher: Aes256Gcm::new(&key) })
            }
            Err(error) => Err(io(error)),
        }
    }

    /// Whether `stored` is a sealed value rather than a plain key stored before encryption.
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }

    /// Seals `plain` under a fresh nonce.
    pub fn seal(&self, plain: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(OsRng);
        // Encryption fails only for inputs beyond AES-GCM's 64 GiB limit, far above any webhook key.
        let sealed = self.cipher.encrypt(&nonce, plain.as_bytes()).unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(bytes))
    }

    /// Opens a stored value: a sealed one is decrypted, a plain one (from before encryption) returned as is.
    pub fn open(&self, stored: &str) -> Result<String, SecretError> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else { return Ok(stored.to_owned()) };
        let bytes = STANDARD.decode(encoded).map_err(|_| SecretError::Undecryptable)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretError::Undecryptable)?;
        let plain = self.cipher.decrypt(&Nonce::from(nonce), sealed).map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Undecryptable)
    }
}

fn decode_hex(text: &str) -> Option<[u8; KEY_LEN]> {
    if text.len() != KEY_LEN * 2 || !text.is_ascii() {
        return None;
    }
    let mut key = [0_u8; KEY_LEN];
    for (index, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[index * 2..index * 2 + 2], 16).ok()?;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_round_trip_and_differ_per_seal() {
        let cipher = KeyCipher::random();
        let key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";
        let first = cipher.seal(key);
        let second = cipher.seal(key);
        assert!(KeyCipher::is_sealed(&first));
        assert_ne!(first, second, "every seal uses a fresh nonce");
        assert!(!first.contains(key));
        assert_eq!(cipher.open(&first).unwrap(), key);
        assert_eq!(cipher.open(&second).unwrap(), key);
    }

    #[test]
    fn plain_values_open_as_themselves_and_foreign_or_tampered_values_fail() {
        let cipher = KeyCipher::random();
        assert_eq!(cipher.open("plain-key").unwrap(), "plain-key");
        let sealed = cipher.seal("k");
        assert!(matches!(KeyCipher::random().open(&sealed), Err(SecretError::Undecryptable)));
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(cipher.open(&tampered).is_err());
        assert!(cipher.open("v1:not base64!").is_err());
    }

    #[test]
    fn the_key_file_is_created_once_with_mode_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("robot-webhook.key");
        let sealed = KeyCipher::load_or_create(&path).unwrap().seal("secret");
        let reloaded = KeyCipher::load_or_create(&path).unwrap();
        assert_eq!(reloaded.open(&sealed).unwrap(), "secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        assert!(matches!(KeyCipher::load_or_create(&path), Err(SecretError::BadKey(_))));
    }
}
