//! The callback keys in use, shared between the callback URL that verifies deliveries and the settings that
//! rotate the keys, so a rotation takes effect at once; and fresh keys in the shapes WeCom's console accepts.

use std::sync::{Arc, PoisonError, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rand::{Rng, RngCore};

use crate::crypto::CallbackCrypto;

/// Letters and digits of a generated callback Token.
const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Length of a generated callback Token (WeCom accepts 3 to 32 letters and digits).
pub const GENERATED_TOKEN_LEN: usize = 32;

/// Called with the new keys after every [`CallbackKeyring::replace`].
type Listener = Box<dyn Fn(Option<&CallbackCrypto>) + Send + Sync>;

/// The current callback keys (`None`: the callback is not configured). Clones share them.
#[derive(Clone, Default)]
pub struct CallbackKeyring {
    current: Arc<RwLock<Option<CallbackCrypto>>>,
    listeners: Arc<RwLock<Vec<Listener>>>,
}

impl std::fmt::Debug for CallbackKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackKeyring").field("current", &self.current()).finish()
    }
}

impl CallbackKeyring {
    /// A keyring holding `crypto`.
    pub fn new(crypto: Option<CallbackCrypto>) -> Self {
        CallbackKeyring { current: Arc::new(RwLock::new(crypto)), listeners: Arc::default() }
    }

    /// The keys in use now.
    pub fn current(&self) -> Option<CallbackCrypto> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Puts `crypto` in use for every clone, then tells the listeners.
    pub fn replace(&self, crypto: Option<CallbackCrypto>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = crypto.clone();
        for listener in self.listeners.read().unwrap_or_else(PoisonError::into_inner).iter() {
            listener(crypto.as_ref());
        }
    }

    /// Calls `listener` with the new keys after every [`replace`](Self::replace), e.g. to hand them to a
    /// simulated WeCom that signs its callbacks with them.
    pub fn on_replace(&self, listener: impl Fn(Option<&CallbackCrypto>) + Send + Sync + 'static) {
        self.listeners.write().unwrap_or_else(PoisonError::into_inner).push(Box::new(listener));
    }
}

/// A fresh callback Token: 32 random letters and digits.
pub fn generate_token() -> String {
    let mut rng = rand::rng();
    (0..GENERATED_TOKEN_LEN).map(|_| char::from(TOKEN_ALPHABET[rng.random_range(0..TOKEN_ALPHABET.len())])).collect()
}

/// A fresh EncodingAESKey: 32 random bytes as 43 characters of base64 without padding, as WeCom's console
/// generates them.
pub fn generate_encoding_aes_key() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    // Letters and digits only, as WeCom's console shows them: draw again while '+' or '/' appear.
    let encoded = STANDARD_NO_PAD.encode(key);
    if encoded.chars().all(|c| c.is_ascii_alphanumeric()) { encoded } else { generate_encoding_aes_key() }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::crypto::decode_encoding_aes_key;

    #[test]
    fn generated_keys_have_the_shapes_wecom_accepts() {
        let token = generate_token();
        assert_eq!(token.len(), GENERATED_TOKEN_LEN);
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric()));
        let key = generate_encoding_aes_key();
        assert_eq!(key.len(), 43);
        assert!(key.chars().all(|c| c.is_ascii_alphanumeric()), "{key}");
        assert!(decode_encoding_aes_key(&key).is_ok());
        let crypto = CallbackCrypto::new(token.clone(), &key, "wwcorp").unwrap();
        assert_eq!((crypto.token(), crypto.encoding_aes_key()), (token.as_str(), key.clone()));
        assert_ne!(generate_encoding_aes_key(), key, "each key is fresh");
    }

    #[test]
    fn a_replacement_reaches_every_clone_and_listener() {
        let keyring = CallbackKeyring::new(None);
        let clone = keyring.clone();
        let heard = Arc::new(AtomicUsize::new(0));
        let counter = heard.clone();
        keyring.on_replace(move |crypto| {
            assert!(crypto.is_some());
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let crypto = CallbackCrypto::new(generate_token(), &generate_encoding_aes_key(), "wwcorp").unwrap();
        keyring.replace(Some(crypto));
        assert!(clone.current().is_some());
        assert_eq!(heard.load(Ordering::SeqCst), 1);
    }
}
