//! WeCom (企业微信) callback crypto for scrm, exactly as WeCom publishes it (加解密方案, the WXBizMsgCrypt
//! sample code), plus typed parsing of the callback events scrm consumes.
//!
//! - [`CallbackCrypto`]: signature (SHA1 over the sorted token, timestamp, nonce and ciphertext, compared in
//!   constant time), AES-256-CBC with the key from the 43-character EncodingAESKey (decoded leniently) and
//!   the IV from its first 16 bytes, 32-byte-block PKCS#7, and the receive-id check.
//!   [`CallbackCrypto::verify_url`] answers the GET URL verification, [`CallbackCrypto::decrypt_message`]
//!   opens a POST, [`CallbackCrypto::encrypt_message`] builds a passive reply and
//!   [`CallbackCrypto::seal_post`] builds a POST as WeCom sends it (for the simulator).
//! - [`envelope`]: the POST body and reply XML envelopes.
//! - [`event`]: [`CallbackEvent`] and its [`CallbackEvent::dedup_key`] for the inbox.
//! - [`pkcs7`]: the 32-byte-block padding.
//!
//! No input makes this crate panic: every malformed input is an [`Error`].
//!
//! ```
//! use scrm_wecom_crypto::{CallbackCrypto, CallbackEvent};
//!
//! let crypto = CallbackCrypto::new("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")?;
//! let inner = "<xml><ToUserName>wx5823bf96d3bd56c7</ToUserName><CreateTime>1</CreateTime>\
//!     <Event>change_external_chat</Event><ChangeType>dismiss</ChangeType><ChatId>c1</ChatId></xml>";
//! let post = crypto.seal_post(inner, "1409659813", "1372623149", Some("wx5823bf96d3bd56c7"), Some("218"))?;
//! let xml = crypto.decrypt_message(&post.msg_signature, &post.timestamp, &post.nonce, &post.body)?;
//! let event = CallbackEvent::parse(&xml)?;
//! assert_eq!(event.change_type(), Some("dismiss"));
//! # Ok::<(), scrm_wecom_crypto::Error>(())
//! ```

mod crypto;
pub mod envelope;
mod error;
pub mod event;
mod keyring;
pub mod pkcs7;
mod xml;

pub use crypto::{CallbackCrypto, ENCODING_AES_KEY_LEN, SealedPost, decode_encoding_aes_key, signature};
pub use envelope::{PostEnvelope, ReplyEnvelope};
pub use error::{Error, Result};
pub use event::{CallbackEvent, parse_event};
pub use keyring::{CallbackKeyring, GENERATED_TOKEN_LEN, generate_encoding_aes_key, generate_token};
